//! Queueing plans and applies, and the gate an approval passes: the plan shown for the head
//! reviewed, ready.

use super::*;

/// What a plan is of: the pull request's head, and the folder run (the head's for a change,
/// the folder as last merged for a destroy).
pub(crate) struct PlanOrder<'a> {
    pub(crate) resource: &'a resources::Model,
    pub(crate) member: &'a workspace_resources::Model,
    pub(crate) pull_id: Option<i64>,
    pub(crate) mode: SyncKind,
    pub(crate) commit: String,
    pub(crate) code_commit: String,
}

/// Queues a plan; every earlier plan of the resource not yet applied is superseded (its
/// approval, if any, with it). The resource's folder follows the plan's job, so its page
/// streams the plan's log. Within the caller's transaction and audit event.
pub(crate) async fn enqueue_plan<C: ConnectionTrait>(
    db: &C,
    order: PlanOrder<'_>,
    actor: &Actor,
) -> AppResult<plans::Model> {
    supersede(
        db,
        order.resource.id,
        &[PlanPurpose::Change, PlanPurpose::Drift],
    )
    .await?;
    let plan = new_plan(&order, actor, PlanPurpose::Change);
    let plan = insert_with_job::<PlanJob, C>(db, plan, order.resource.id).await?;
    let mut member: workspace_resources::ActiveModel = order.member.clone().into();
    member.last_job_id = Set(Some(plan.job_id));
    member.status = Set(WorkspaceStatus::InProgress);
    member.status_message = Set(Some(format!("planning (plan #{})", plan.id)));
    member.update(db).await?;
    Ok(plan)
}

/// A plan's row as queued.
pub(crate) fn new_plan(
    order: &PlanOrder<'_>,
    actor: &Actor,
    purpose: PlanPurpose,
) -> plans::ActiveModel {
    let now = chrono::Utc::now();
    plans::ActiveModel {
        resource_id: Set(order.resource.id),
        pull_request_id: Set(order.pull_id),
        mode: Set(order.mode),
        commit: Set(order.commit.clone()),
        code_commit: Set(order.code_commit.clone()),
        folder: Set(order.member.folder.clone()),
        status: Set(PlanStatus::Queued),
        // Set by `insert_with_job`.
        job_id: Set(0),
        apply_job_id: Set(None),
        base_state_version_id: Set(None),
        summary: Set(None),
        adds: Set(0),
        changes: Set(0),
        destroys: Set(0),
        plan_file: Set(None),
        plan_json: Set(None),
        runtime: Set(Runtime::Terraform),
        runtime_version: Set(None),
        error: Set(None),
        approved_by: Set(None),
        approved_at: Set(None),
        requested_by: Set(actor.label.clone()),
        created_at: Set(now),
        finished_at: Set(None),
        applied_at: Set(None),
        purpose: Set(purpose),
        ..Default::default()
    }
}

pub(crate) async fn insert_with_job<J: JobKind<Payload = RunPayload>, C: ConnectionTrait>(
    db: &C,
    plan: plans::ActiveModel,
    resource_id: i64,
) -> AppResult<plans::Model> {
    // The job goes first (the plan's row references it); its payload is completed below.
    let job = jobs::enqueue_job::<J, _>(
        db,
        &RunPayload { plan_id: 0 },
        None,
        Some(&serial_key(resource_id)),
        ATTEMPTS,
    )
    .await?;
    let mut plan = plan;
    plan.job_id = Set(job.id);
    let plan = plan.insert(db).await?;
    set_payload(db, job.id, plan.id).await?;
    Ok(plan)
}

async fn set_payload<C: ConnectionTrait>(db: &C, job_id: i64, plan_id: i64) -> AppResult<()> {
    let payload = serde_json::to_string(&RunPayload { plan_id }).map_err(AppError::internal)?;
    job_rows::Entity::update_many()
        .col_expr(
            job_rows::Column::Payload,
            sea_orm::sea_query::Expr::value(payload),
        )
        .filter(job_rows::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every plan of the resource for one of `purposes` that is waiting, running, ready or failed
/// is superseded: only the newest plan can be approved or applied. (A stale plan stays stale:
/// that says why it ended.) A change supersedes drift checks too (their acceptance would undo
/// it); a drift check supersedes only older checks.
pub(crate) async fn supersede<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
    purposes: &[PlanPurpose],
) -> AppResult<()> {
    plans::Entity::update_many()
        .col_expr(
            plans::Column::Status,
            sea_orm::sea_query::Expr::value(PlanStatus::Superseded),
        )
        .filter(plans::Column::ResourceId.eq(resource_id))
        .filter(plans::Column::Purpose.is_in(purposes.iter().copied()))
        .filter(plans::Column::Status.is_in([
            PlanStatus::Queued,
            PlanStatus::Planning,
            PlanStatus::Ready,
            PlanStatus::Failed,
        ]))
        .exec(db)
        .await?;
    Ok(())
}

/// The plan an approval of `pull` at `head` covers: the newest plan of that pull request, made
/// for exactly that head, and ready. Refused, with the reason, while it is queued or running,
/// when it failed, or when it was made for another commit.
pub(crate) async fn approvable_plan<C: ConnectionTrait>(
    db: &C,
    pull: &pull_requests::Model,
    head: &str,
) -> AppResult<plans::Model> {
    let plan = plans::Entity::find()
        .filter(plans::Column::PullRequestId.eq(pull.id))
        .order_by_desc(plans::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "Pull request #{} has no plan yet: approve it once its plan is shown.",
                pull.number
            ))
        })?;
    gate(&plan, pull.number, head)?;
    Ok(plan)
}

/// The rule itself: a plan may be approved when it is ready and made for `head`.
pub(crate) fn gate(plan: &plans::Model, number: i64, head: &str) -> AppResult<()> {
    let short = crate::server::workspaces::short;
    if plan.commit != head {
        return Err(AppError::Conflict(format!(
            "Plan #{} was made for {}, not for the head {} of pull request #{number}: wait for the plan of the new head.",
            plan.id,
            short(&plan.commit),
            short(head)
        )));
    }
    match plan.status {
        PlanStatus::Ready => match crate::server::policies::blocked(plan) {
            None => Ok(()),
            Some(why) => Err(AppError::Conflict(format!(
                "Plan #{} of pull request #{number} is denied by policy: {why}.",
                plan.id
            ))),
        },
        PlanStatus::Queued | PlanStatus::Planning => Err(AppError::Conflict(format!(
            "Plan #{} of pull request #{number} is still {}: approve it once it is shown.",
            plan.id,
            plan.status.label()
        ))),
        PlanStatus::Failed => Err(AppError::Conflict(format!(
            "Plan #{} of pull request #{number} failed: a change that does not plan cannot be approved. Fix it and sync again, or retry the plan.",
            plan.id
        ))),
        other => Err(AppError::Conflict(format!(
            "Plan #{} of pull request #{number} is {}: it can no longer be approved.",
            plan.id,
            other.label()
        ))),
    }
}

/// Records who approved the plan (the approval of its pull request).
pub(crate) async fn mark_approved<C: ConnectionTrait>(
    db: &C,
    plan: &plans::Model,
    actor: &Actor,
) -> AppResult<()> {
    let mut active: plans::ActiveModel = plan.clone().into();
    active.approved_by = Set(Some(actor.label.clone()));
    active.approved_at = Set(Some(chrono::Utc::now()));
    active.update(db).await?;
    Ok(())
}

/// After the merge: queues the apply of the approved plan; the resource stays in progress and
/// its folder follows the apply's job.
pub(crate) async fn enqueue_apply<C: ConnectionTrait>(
    db: &C,
    plan_id: i64,
    member: &workspace_resources::Model,
) -> AppResult<job_rows::Model> {
    let plan = plan_by_id(db, plan_id).await?;
    let job = jobs::enqueue_job::<ApplyJob, _>(
        db,
        &RunPayload { plan_id },
        Some(&format!("apply:{plan_id}")),
        Some(&serial_key(plan.resource_id)),
        ATTEMPTS,
    )
    .await?;
    let mut active: plans::ActiveModel = plan.into();
    active.apply_job_id = Set(Some(job.id));
    active.status = Set(PlanStatus::Applying);
    active.update(db).await?;
    let mut member: workspace_resources::ActiveModel = member.clone().into();
    member.last_job_id = Set(Some(job.id));
    member.status = Set(WorkspaceStatus::InProgress);
    member.status_message = Set(Some(format!("applying plan #{plan_id}")));
    member.update(db).await?;
    Ok(job)
}

/// A plan made after the merge (the first one went stale) is approved on the resource page:
/// by someone who may review, who wrote none of the change, for exactly the plan shown.
pub async fn approve_apply(
    ctx: &AppCtx,
    actor: &Actor,
    resource_slug: &str,
    plan_id: i64,
) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let resource = crate::server::resources::resource_by_slug(txn, resource_slug).await?;
        let plan = plan_by_id(txn, plan_id).await?;
        if plan.resource_id != resource.id {
            return Err(AppError::not_found(format_args!(
                "Plan #{plan_id} of {resource_slug}"
            )));
        }
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!("resource {resource_slug} is not in a workspace"))
            })?;
        if plan.purpose != PlanPurpose::Change {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is a drift check: accept the drift instead."
            )));
        }
        if member.merged_commit.as_deref() != Some(plan.commit.as_str()) {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is not of the code merged for {resource_slug}: approve its pull request instead."
            )));
        }
        let newest = plans::Entity::find()
            .filter(plans::Column::ResourceId.eq(resource.id))
            .filter(plans::Column::Purpose.eq(PlanPurpose::Change))
            .order_by_desc(plans::Column::Id)
            .one(txn)
            .await?;
        if newest.map(|p| p.id) != Some(plan_id) {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is not the newest plan of {resource_slug}: review the newest."
            )));
        }
        if plan.status != PlanStatus::Ready {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is {}: only a plan ready for review can be approved.",
                plan.status.label()
            )));
        }
        if let Some(why) = crate::server::policies::blocked(&plan) {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is denied by policy: {why}."
            )));
        }
        let authors = plan_authors(txn, &plan).await?;
        if authors.contains(&actor.label) {
            return Err(AppError::Forbidden(format!(
                "Plan #{plan_id} applies your change: someone else must approve it."
            )));
        }
        mark_approved(txn, &plan, actor).await?;
        let job = enqueue_apply(txn, plan_id, &member).await?;
        let mut active: resources::ActiveModel = resource.clone().into();
        active.status = Set(ResourceStatus::InProgress);
        active.update(txn).await?;
        let change = Change::new("resource.approve_apply", "resource", resource.id)
            .after(&serde_json::json!({ "plan": plan_id, "commit": plan.commit, "job": job.id }));
        Ok(((), change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// Everyone whose change the plan carries: the authors of its pull request, and whoever
/// asked for the plan.
pub(crate) async fn plan_authors<C: ConnectionTrait>(
    db: &C,
    plan: &plans::Model,
) -> AppResult<Vec<String>> {
    let mut authors = vec![plan.requested_by.clone()];
    if let Some(pull_id) = plan.pull_request_id {
        if let Some(pull) = pull_requests::Entity::find_by_id(pull_id).one(db).await? {
            authors.extend(crate::server::workspaces::pull_authors(&pull));
        }
    }
    Ok(authors)
}

/// Retry of a failed plan or apply: the same plan row, a new job with its attempts afresh. A
/// failed apply may have changed the state: its retry finds the plan stale and plans again.
pub(crate) async fn requeue<C: ConnectionTrait>(
    db: &C,
    failed: &job_rows::Model,
) -> AppResult<job_rows::Model> {
    let payload: RunPayload = serde_json::from_str(&failed.payload).map_err(AppError::internal)?;
    let plan = plan_by_id(db, payload.plan_id).await?;
    let apply = failed.kind == APPLY_JOB;
    let job = jobs::enqueue(
        db,
        &failed.kind,
        &serde_json::json!({ "plan_id": plan.id }),
        None,
        Some(&serial_key(plan.resource_id)),
        ATTEMPTS,
    )
    .await?;
    let mut active: plans::ActiveModel = plan.into();
    if apply {
        active.apply_job_id = Set(Some(job.id));
        active.status = Set(PlanStatus::Applying);
    } else {
        active.job_id = Set(job.id);
        active.status = Set(PlanStatus::Queued);
    }
    active.error = Set(None);
    active.update(db).await?;
    Ok(job)
}

/// Plans a provisioned resource's merged code again (a parent's outputs changed, say): the
/// plan waits for an approval by someone other than who asked for it, then is applied.
pub async fn replan(ctx: &AppCtx, actor: &Actor, resource_slug: &str) -> AppResult<i64> {
    let plan_id = audit::audited(&ctx.db, actor, async |txn| {
        let resource = crate::server::workspaces::idle_resource(txn, resource_slug).await?;
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!("resource {resource_slug} is not in a workspace"))
            })?;
        let merged = match (resource.state, member.merged_commit.clone()) {
            (ResourceState::Provisioned, Some(merged)) => merged,
            _ => {
                return Err(AppError::Conflict(format!(
                    "only a provisioned resource is planned again; {resource_slug} is {}",
                    resource.state
                )))
            }
        };
        let order = PlanOrder {
            resource: &resource,
            member: &member,
            pull_id: None,
            mode: SyncKind::Update,
            commit: merged.clone(),
            code_commit: merged,
        };
        let plan = enqueue_plan(txn, order, actor).await?;
        let mut active: resources::ActiveModel = resource.clone().into();
        active.status = Set(ResourceStatus::InProgress);
        active.update(txn).await?;
        let change = Change::new("resource.replan", "resource", resource.id)
            .after(&serde_json::json!({ "plan": plan.id, "commit": plan.commit }));
        Ok((plan.id, change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(plan_id)
}

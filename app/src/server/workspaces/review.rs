//! Review commands: queueing syncs and reviews, approving, rejecting, retrying, recreating.

use super::*;

/// Puts a new resource's code in `workspace`: its folder is fixed now, from its name (seed
/// "Folder Layout"), and must be free in that workspace.
pub async fn attach<C: ConnectionTrait>(
    db: &C,
    workspace: &str,
    resource: &resources::Model,
    template_key: &str,
) -> AppResult<workspace_resources::Model> {
    let model = workspaces::Entity::find()
        .filter(workspaces::Column::Slug.eq(workspace.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid("workspace", format!("no workspace is named {workspace:?}"))
        })?;
    let slug = folder_slug(&resource.name).map_err(|m| AppError::invalid("name", m))?;
    let folder = resource_folder(template_key, &slug).map_err(|m| AppError::invalid("name", m))?;
    if let Some(taken) = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .filter(workspace_resources::Column::Folder.eq(&folder))
        .one(db)
        .await?
    {
        let other = resources::Entity::find_by_id(taken.resource_id)
            .one(db)
            .await?
            .map(|r| r.slug)
            .unwrap_or_default();
        return Err(AppError::invalid(
            "name",
            format!(
                "the folder {folder}/ in workspace {} already holds resource {other}; \
                 choose a name that gives another folder",
                model.slug
            ),
        ));
    }
    Ok(workspace_resources::ActiveModel {
        resource_id: Set(resource.id),
        workspace_id: Set(model.id),
        folder: Set(folder),
        folder_slug: Set(slug),
        status: Set(WorkspaceStatus::Done),
        status_message: Set(None),
        merged_commit: Set(None),
        merged_revision: Set(None),
        last_job_id: Set(None),
    }
    .insert(db)
    .await?)
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SyncPayload {
    pub(crate) resource_id: i64,
    pub(crate) kind: SyncKind,
    /// Recreate: merge the pull request as soon as it is open (a review job chained on).
    #[serde(default)]
    pub(crate) merge: bool,
    pub(crate) revision: i32,
    pub(crate) initiator_id: Option<i64>,
    pub(crate) initiator: String,
    /// A drift's reconcile: an empty commit on its own branch, so the code as merged is planned,
    /// reviewed and applied again.
    #[serde(default)]
    pub(crate) reconcile: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ReviewPayload {
    pub(crate) resource_id: i64,
    pub(crate) pull_id: i64,
    pub(crate) approve: bool,
    /// Approving: the head commit approved, the only one the merge may take. (Absent in jobs
    /// queued before approvals bound to commits: such a merge is refused.)
    #[serde(default)]
    pub(crate) commit: Option<String>,
    /// Approving: the plan approved with the commit, applied after the merge.
    #[serde(default)]
    pub(crate) plan_id: Option<i64>,
    /// Delete the resource once its pull request is closed (a never-provisioned resource
    /// deleted while its code awaited review).
    #[serde(default)]
    pub(crate) delete_resource: bool,
    pub(crate) initiator_id: Option<i64>,
    pub(crate) initiator: String,
}

/// Marks the resource, its folder and the workspace in progress (within the caller's
/// transaction, whose audit event covers it).
pub(crate) async fn mark_in_progress<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    member: &workspace_resources::Model,
    job_id: i64,
) -> AppResult<()> {
    let mut active: workspace_resources::ActiveModel = member.clone().into();
    active.last_job_id = Set(Some(job_id));
    active.status = Set(WorkspaceStatus::InProgress);
    active.status_message = Set(None);
    active.update(db).await?;
    let mut active: resources::ActiveModel = resource.clone().into();
    active.status = Set(ResourceStatus::InProgress);
    active.update(db).await?;
    workspaces::Entity::update_many()
        .col_expr(
            workspaces::Column::Status,
            sea_orm::sea_query::Expr::value(WorkspaceStatus::InProgress),
        )
        .filter(workspaces::Column::Id.eq(member.workspace_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Queues the sync (or delete) of a resource's folder, if the resource is in a workspace.
/// Returns whether a job was queued; the caller wakes the worker after committing.
pub async fn enqueue_sync<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    kind: SyncKind,
    actor: &Actor,
) -> AppResult<bool> {
    enqueue_sync_job(db, resource, kind, false, actor).await
}

pub(crate) async fn enqueue_sync_job<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    kind: SyncKind,
    merge: bool,
    actor: &Actor,
) -> AppResult<bool> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let payload = SyncPayload {
        resource_id: resource.id,
        kind,
        merge,
        revision: resource.revision,
        initiator_id: actor.user_id,
        initiator: actor.label.clone(),
        reconcile: false,
    };
    enqueue_payload(db, resource, &member, &payload).await
}

/// Queues a drift's reconcile of a resource in a workspace: its code as merged, through a pull
/// request of its own (see [`SyncPayload::reconcile`]).
pub(crate) async fn enqueue_reconcile<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    member: &workspace_resources::Model,
    actor: &Actor,
) -> AppResult<bool> {
    let payload = SyncPayload {
        resource_id: resource.id,
        kind: SyncKind::Update,
        merge: false,
        revision: resource.revision,
        initiator_id: actor.user_id,
        initiator: actor.label.clone(),
        reconcile: true,
    };
    enqueue_payload(db, resource, member, &payload).await
}

async fn enqueue_payload<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    member: &workspace_resources::Model,
    payload: &SyncPayload,
) -> AppResult<bool> {
    let job = jobs::enqueue_job::<SyncJob, _>(
        db,
        payload,
        None,
        Some(&serial_key(member.workspace_id)),
        ATTEMPTS,
    )
    .await?;
    mark_in_progress(db, resource, member, job.id).await?;
    Ok(true)
}

/// The resource, if no work on it is under way.
pub(crate) async fn idle_resource<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> AppResult<resources::Model> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {slug:?}")))?;
    if resource.status == ResourceStatus::InProgress {
        return Err(AppError::Conflict(
            "work on this resource is in progress; wait for it to finish".into(),
        ));
    }
    Ok(resource)
}

/// What a review job is to do with a recorded pull request.
pub(crate) struct ReviewOrder {
    pub(crate) resource_id: i64,
    pub(crate) workspace_id: i64,
    pub(crate) pull_id: i64,
    /// `Some(head)`: merge exactly the commit approved; `None`: close it unmerged.
    pub(crate) merge: Option<String>,
    /// The plan approved with the head: applied once merged.
    pub(crate) plan_id: Option<i64>,
    /// Delete the resource itself once the pull request is closed (its creation was never
    /// merged).
    pub(crate) delete_resource: bool,
}

/// Queues a review on the workspace's serial key, so it runs after the workspace's earlier jobs.
pub(crate) async fn enqueue_review<C: ConnectionTrait>(
    db: &C,
    order: ReviewOrder,
    actor: &Actor,
) -> AppResult<job_rows::Model> {
    let payload = ReviewPayload {
        resource_id: order.resource_id,
        pull_id: order.pull_id,
        approve: order.merge.is_some(),
        commit: order.merge,
        plan_id: order.plan_id,
        delete_resource: order.delete_resource,
        initiator_id: actor.user_id,
        initiator: actor.label.clone(),
    };
    jobs::enqueue_job::<ReviewJob, _>(
        db,
        &payload,
        None,
        Some(&serial_key(order.workspace_id)),
        ATTEMPTS,
    )
    .await
}

/// Recreate: writes a provisioned resource's code to its folder again and merges it, as one
/// flow (a sync job whose end queues the merge). For code changed or lost on the default
/// branch outside Slipway.
pub async fn recreate(ctx: &AppCtx, actor: &Actor, resource_slug: &str) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let resource = idle_resource(txn, resource_slug).await?;
        if resource.state != ResourceState::Provisioned {
            return Err(AppError::Conflict(format!(
                "only a provisioned resource can be recreated; {resource_slug} is {}",
                resource.state
            )));
        }
        // Recreate merges on the initiator's word alone, so it may only write back code someone
        // else approved: the revision last merged. A change since (an edit whose pull request was
        // rejected, say) goes through review like any other.
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?;
        if let Some(member) = &member {
            if member.merged_revision != Some(resource.revision) {
                return Err(AppError::Conflict(format!(
                    "resource {resource_slug} changed since its code was last approved ({}; now revision {}): recreate writes back approved code only; sync it and have someone else approve the pull request",
                    member
                        .merged_revision
                        .map_or("no approved revision on record".to_string(), |r| format!("revision {r} was merged")),
                    resource.revision
                )));
            }
        }
        if !enqueue_sync_job(txn, &resource, SyncKind::Update, true, actor).await? {
            return Err(AppError::Conflict(format!(
                "resource {resource_slug} is not in a workspace"
            )));
        }
        let change = Change::new("resource.recreate", "resource", resource.id)
            .after(&serde_json::json!({ "revision": resource.revision }));
        Ok(((), Some(change)))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The resource's last job, when it failed: what a Retry would run again.
pub async fn failed_job<C: ConnectionTrait>(
    db: &C,
    resource_slug: &str,
) -> AppResult<Option<job_rows::Model>> {
    Ok(failed(db, resource_slug).await?.map(|(_, _, job)| job))
}

/// The resource, its place in a workspace and its last job, when that job failed.
pub(crate) async fn failed<C: ConnectionTrait>(
    db: &C,
    resource_slug: &str,
) -> AppResult<
    Option<(
        resources::Model,
        workspace_resources::Model,
        job_rows::Model,
    )>,
> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(resource_slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {resource_slug:?}")))?;
    if resource.status != ResourceStatus::Error {
        return Ok(None);
    }
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let job = match member.last_job_id {
        Some(id) => job_rows::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(job
        .filter(|job| job.status == JobStatus::Failed)
        .map(|job| (resource, member, job)))
}

/// Retry: runs the resource's failed job again, as a new job with its attempts afresh. A sync
/// is written by whoever retries it (they become its author); a review keeps its reviewer and
/// the commit they approved.
pub async fn retry(ctx: &AppCtx, actor: &Actor, resource_slug: &str) -> AppResult<i64> {
    let value = audit::audited(&ctx.db, actor, async |txn| {
        let (resource, member, failed) = failed(txn, resource_slug).await?.ok_or_else(|| {
            AppError::Conflict(format!(
                "the last job of {resource_slug} did not fail: there is nothing to retry"
            ))
        })?;
        if failed.kind == crate::server::plans::PLAN_JOB
            || failed.kind == crate::server::plans::APPLY_JOB
        {
            let job = crate::server::plans::requeue(txn, &failed).await?;
            mark_in_progress(txn, &resource, &member, job.id).await?;
            let change = Change::new("workspace.job_retried", "resource", resource.id).after(
                &serde_json::json!({ "failed_job": failed.id, "job": job.id, "kind": failed.kind }),
            );
            return Ok((job.id, Some(change)));
        }
        let mut payload: serde_json::Value =
            serde_json::from_str(&failed.payload).map_err(AppError::internal)?;
        if failed.kind == SYNC_JOB {
            payload["revision"] = resource.revision.into();
            payload["initiator_id"] = actor.user_id.into();
            payload["initiator"] = actor.label.clone().into();
        }
        let job = jobs::enqueue(
            txn,
            &failed.kind,
            &payload,
            None,
            Some(&serial_key(member.workspace_id)),
            ATTEMPTS,
        )
        .await?;
        mark_in_progress(txn, &resource, &member, job.id).await?;
        let change = Change::new("workspace.job_retried", "resource", resource.id).after(
            &serde_json::json!({
                "failed_job": failed.id,
                "job": job.id,
                "kind": failed.kind,
            }),
        );
        Ok((job.id, Some(change)))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(value)
}

/// Asks for the resource's open pull request to be merged (approve) or closed (reject).
/// Approving names the head commit the reviewer saw: the merge takes exactly that commit, and
/// nobody whose change is in the pull request may approve it.
pub async fn review(
    ctx: &AppCtx,
    actor: &Actor,
    resource_slug: &str,
    approve: bool,
    commit: &str,
) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let resource = idle_resource(txn, resource_slug).await?;
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!("resource {resource_slug} is not in a workspace"))
            })?;
        let pull = pull_requests::Entity::find()
            .filter(pull_requests::Column::ResourceId.eq(resource.id))
            .filter(pull_requests::Column::State.eq(PullState::Open))
            .order_by_desc(pull_requests::Column::Id)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "resource {resource_slug} has no open pull request to {}",
                    if approve { "approve" } else { "reject" }
                ))
            })?;
        let (approved, plan_id) = if approve {
            let head = approvable(&pull, actor, commit)?;
            // The plan shown for that head, ready: the approval covers it, and it is what the
            // merge applies.
            let plan = crate::server::plans::approvable_plan(txn, &pull, &head).await?;
            crate::server::plans::mark_approved(txn, &plan, actor).await?;
            (Some(head), Some(plan.id))
        } else {
            (None, None)
        };
        let order = ReviewOrder {
            resource_id: resource.id,
            workspace_id: member.workspace_id,
            pull_id: pull.id,
            merge: approved,
            plan_id,
            delete_resource: false,
        };
        let job = enqueue_review(txn, order, actor).await?;
        mark_in_progress(txn, &resource, &member, job.id).await?;
        let change = Change::new(
            if approve {
                "resource.approve"
            } else {
                "resource.reject"
            },
            "resource",
            resource.id,
        )
        .after(&serde_json::json!({ "pull_request": pull.number, "branch": pull.head_branch, "commit": pull.head_commit, "plan": plan_id }));
        Ok(((), Some(change)))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The commit `actor` may approve in `pull`: the head they reviewed, if it is still the head and
/// none of the change is theirs.
pub(crate) fn approvable(
    pull: &pull_requests::Model,
    actor: &Actor,
    reviewed: &str,
) -> AppResult<String> {
    if pull_authors(pull).contains(&actor.label) {
        return Err(AppError::Forbidden(format!(
            "Pull request #{} holds your change: someone else must approve it.",
            pull.number
        )));
    }
    let head = pull.head_commit.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "Pull request #{} has no recorded head commit; sync the resource again.",
            pull.number
        ))
    })?;
    still_the_head(pull.number, &head, reviewed)?;
    Ok(head)
}

/// Refuses an approval of pull request `number` unless `reviewed` (what the page showed) is its
/// `head` now: an approval covers exactly the commit reviewed. Workspace and governed pull
/// requests alike.
pub(crate) fn still_the_head(number: i64, head: &str, reviewed: &str) -> AppResult<()> {
    let reviewed = reviewed.trim();
    if reviewed.is_empty() {
        return Err(AppError::invalid(
            "commit",
            "name the head commit you reviewed: an approval covers exactly that commit",
        ));
    }
    if reviewed != head {
        return Err(AppError::Conflict(format!(
            "Pull request #{number} changed since you reviewed it: its head is now {}, you reviewed {}. Review the new commits.",
            short(head),
            short(reviewed)
        )));
    }
    Ok(())
}

pub(crate) fn short(commit: &str) -> &str {
    &commit[..12.min(commit.len())]
}

/// Deleting a never-provisioned resource whose code awaits review: its open pull request is
/// closed first, by a job on the workspace's queue, and the resource is deleted when that job
/// ends (in its transaction). Returns the pull request's number when that is how the delete
/// goes; `None` when there is nothing open and the caller deletes at once.
pub async fn close_then_delete<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    actor: &Actor,
) -> AppResult<Option<i64>> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Asked again after the close failed for good (the forge lost the pull request, say):
    // the person has seen why, and the resource goes at once.
    if let Some(last) = member.last_job_id {
        if let Some(job) = job_rows::Entity::find_by_id(last).one(db).await? {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            if job.kind == REVIEW_JOB
                && payload["delete_resource"] == true
                && job.status == JobStatus::Failed
            {
                return Ok(None);
            }
        }
    }
    let Some(pull) = pull_requests::Entity::find()
        .filter(pull_requests::Column::ResourceId.eq(resource.id))
        .filter(pull_requests::Column::State.eq(PullState::Open))
        .order_by_desc(pull_requests::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let order = ReviewOrder {
        resource_id: resource.id,
        workspace_id: member.workspace_id,
        pull_id: pull.id,
        merge: None,
        plan_id: None,
        delete_resource: true,
    };
    let job = enqueue_review(db, order, actor).await?;
    mark_in_progress(db, resource, &member, job.id).await?;
    Ok(Some(pull.number))
}

//! Drift: a refresh-only plan of a provisioned resource's merged code, on its workspace's
//! schedule or when someone asks, finds what changed outside the code. What it finds is a drift
//! record: open, then acknowledged (who, why), then resolved — reconciled (a pull request that
//! changes no file brings the code to review and apply again), accepted (the check's own
//! refresh-only plan applied, approved by a reviewer: the state records the world as it is),
//! or cleared (a later check found nothing).
//!
//! Who may do what: checking, acknowledging, asking for a reconcile and proposing to accept are
//! changes to the resource (`resource:update`, and `workspace:update` for its workspace);
//! accepting is an approval (`resource:approve` and `workspace:approve`) by someone other than
//! who proposed it — it writes the state without a change anyone wrote. A scheduled check is
//! Slipway's own.

use super::*;
use crate::domain::drift::{DriftStatus, Resolution};
use crate::server::entities::{drifts, workspaces as workspace_rows};
use crate::wire::drift::{DriftCheck, DriftList, DriftRow, ResourceDrift};

/// How many resolved drifts the Drift page lists.
const RESOLVED_LISTED: u64 = 50;
/// How many current drifts the Drift page lists at most.
const CURRENT_LISTED: u64 = 500;

/// The label a scheduled check is requested as.
const SCHEDULE: &str = "slipway (drift schedule)";

/// Queues a drift check of `resource` (provisioned, its code merged): a refresh-only plan of
/// the merged code. Older checks still waiting or ready are superseded; a check already queued
/// or running is the answer instead of a second one. Changes nothing else: the resource's
/// status and folder stay as they are.
pub(crate) async fn enqueue_check<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    member: &workspace_resources::Model,
    actor: &Actor,
) -> AppResult<plans::Model> {
    if let Some(running) = plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(resource.id))
        .filter(plans::Column::Purpose.eq(PlanPurpose::Drift))
        .filter(plans::Column::Status.is_in([PlanStatus::Queued, PlanStatus::Planning]))
        .one(db)
        .await?
    {
        return Ok(running);
    }
    let merged = checkable(resource, member)?;
    supersede(db, resource.id, &[PlanPurpose::Drift]).await?;
    let order = PlanOrder {
        resource,
        member,
        pull_id: None,
        mode: SyncKind::Update,
        commit: merged.clone(),
        code_commit: merged,
    };
    let plan = new_plan(&order, actor, PlanPurpose::Drift);
    insert_with_job::<PlanJob, C>(db, plan, resource.id).await
}

/// The merged commit a check plans, or why the resource cannot be checked.
fn checkable(
    resource: &resources::Model,
    member: &workspace_resources::Model,
) -> AppResult<String> {
    match (resource.state, &member.merged_commit) {
        (ResourceState::Provisioned, Some(merged)) => Ok(merged.clone()),
        _ => Err(AppError::Conflict(format!(
            "only a provisioned resource whose code is merged can be checked for drift; {} is {}",
            resource.slug, resource.state
        ))),
    }
}

/// The resource and its workspace folder, for the actions below.
async fn member_of<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> AppResult<(resources::Model, workspace_resources::Model)> {
    let resource = crate::server::resources::resource_by_slug(db, slug).await?;
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("resource {slug} is not in a workspace")))?;
    Ok((resource, member))
}

/// "Check now" on a resource.
pub async fn check_now(ctx: &AppCtx, actor: &Actor, slug: &str) -> AppResult<i64> {
    let id = audit::audited(&ctx.db, actor, async |txn| {
        let (resource, member) = member_of(txn, slug).await?;
        let plan = enqueue_check(txn, &resource, &member, actor).await?;
        let change = Change::new("resource.drift_check", "resource", resource.id)
            .after(&serde_json::json!({ "plan": plan.id, "job": plan.job_id }));
        Ok((plan.id, change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(id)
}

/// "Check now" on a workspace: every provisioned resource in it. Answers how many checks were
/// queued.
pub async fn check_workspace_now(ctx: &AppCtx, actor: &Actor, workspace: &str) -> AppResult<u64> {
    let queued = audit::audited(&ctx.db, actor, async |txn| {
        let workspace = crate::server::workspaces::by_slug(txn, workspace).await?;
        let queued = check_all(txn, &workspace, actor).await?;
        let change = Change::new("workspace.drift_check", "workspace", workspace.id)
            .after(&serde_json::json!({ "checks": queued }));
        Ok((queued, change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(queued)
}

/// Queues a check of every provisioned resource of the workspace.
async fn check_all<C: ConnectionTrait>(
    db: &C,
    workspace: &workspace_rows::Model,
    actor: &Actor,
) -> AppResult<u64> {
    let members = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(workspace.id))
        .filter(workspace_resources::Column::MergedCommit.is_not_null())
        .all(db)
        .await?;
    let ids: Vec<i64> = members.iter().map(|m| m.resource_id).collect();
    let resources: BTreeMap<i64, resources::Model> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(ids))
        .filter(resources::Column::State.eq(ResourceState::Provisioned))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut queued = 0;
    for member in &members {
        if let Some(resource) = resources.get(&member.resource_id) {
            enqueue_check(db, resource, member, actor).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The scheduler's tick: every workspace whose next check is due gets its resources checked
/// and its next time set, in one transaction. The next time is moved with a compare-and-set,
/// so of several replicas ticking at once exactly one queues the checks. A workspace never
/// looked at before is first due one interval from now. Answers how many checks were queued.
pub async fn enqueue_due(ctx: &AppCtx) -> AppResult<u64> {
    let now = chrono::Utc::now();
    let candidates = workspace_rows::Entity::find()
        .filter(workspace_rows::Column::DriftIntervalMinutes.gt(0))
        .filter(
            sea_orm::Condition::any()
                .add(workspace_rows::Column::DriftNextAt.is_null())
                .add(workspace_rows::Column::DriftNextAt.lte(now)),
        )
        .all(&ctx.db)
        .await?;
    let mut queued = 0;
    for workspace in candidates {
        let next = now + chrono::Duration::minutes(i64::from(workspace.drift_interval_minutes));
        let actor = Actor::system(SCHEDULE);
        queued += audit::audited(&ctx.db, &actor, async |txn| {
            let mut claim = workspace_rows::Entity::update_many()
                .col_expr(
                    workspace_rows::Column::DriftNextAt,
                    sea_orm::sea_query::Expr::value(next),
                )
                .filter(workspace_rows::Column::Id.eq(workspace.id));
            claim = match workspace.drift_next_at {
                Some(at) => claim.filter(workspace_rows::Column::DriftNextAt.eq(at)),
                None => claim.filter(workspace_rows::Column::DriftNextAt.is_null()),
            };
            if claim.exec(txn).await?.rows_affected != 1 {
                return Ok((0, None));
            }
            if workspace.drift_next_at.is_none() {
                return Ok((0, None));
            }
            let queued = check_all(txn, &workspace, &actor).await?;
            let change = Change::new("workspace.drift_check", "workspace", workspace.id).after(
                &serde_json::json!({ "checks": queued, "scheduled": true, "next": when(&next) }),
            );
            Ok((queued, Some(change)))
        })
        .await?;
    }
    if queued > 0 {
        ctx.jobs_wake.notify_one();
    }
    Ok(queued)
}

/// Sets how often the workspace's resources are checked (0: never on a schedule); the next
/// check is one interval from now.
pub async fn set_schedule(
    db: &DatabaseConnection,
    actor: &Actor,
    workspace: &str,
    minutes: &str,
) -> AppResult<()> {
    let minutes = crate::domain::drift::parse_interval(minutes)
        .map_err(|e| AppError::invalid("minutes", e))?;
    audit::audited(db, actor, async |txn| {
        let row = crate::server::workspaces::by_slug(txn, workspace).await?;
        let before = row.drift_interval_minutes;
        let mut active: workspace_rows::ActiveModel = row.clone().into();
        active.drift_interval_minutes = Set(minutes);
        active.drift_next_at = Set((minutes > 0)
            .then(|| chrono::Utc::now() + chrono::Duration::minutes(i64::from(minutes))));
        active.update(txn).await?;
        let change = Change::new("workspace.drift_schedule", "workspace", row.id)
            .before(&serde_json::json!({ "minutes": before }))
            .after(&serde_json::json!({ "minutes": minutes }));
        Ok(((), change))
    })
    .await
}

/// The resource's drift that is not resolved yet.
async fn current_drift<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Option<drifts::Model>> {
    Ok(drifts::Entity::find()
        .filter(drifts::Column::ResourceId.eq(resource_id))
        .filter(drifts::Column::Status.ne(DriftStatus::Resolved))
        .order_by_desc(drifts::Column::Id)
        .one(db)
        .await?)
}

fn no_drift(slug: &str) -> AppError {
    AppError::Conflict(format!(
        "{slug} has no open drift (a newer check may have cleared it)"
    ))
}

/// Acknowledges the resource's open drift: known, and left as it is for now, for `reason`.
pub async fn acknowledge(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    reason: &str,
) -> AppResult<()> {
    let reason =
        crate::domain::drift::check_reason(reason).map_err(|e| AppError::invalid("reason", e))?;
    audit::audited(db, actor, async |txn| {
        let resource = crate::server::resources::resource_by_slug(txn, slug).await?;
        let drift = current_drift(txn, resource.id)
            .await?
            .ok_or_else(|| no_drift(slug))?;
        let mut active: drifts::ActiveModel = drift.clone().into();
        active.status = Set(DriftStatus::Acknowledged);
        active.acknowledged_by = Set(Some(actor.label.clone()));
        active.acknowledged_at = Set(Some(chrono::Utc::now()));
        active.reason = Set(Some(reason.clone()));
        active.update(txn).await?;
        let change = Change::new("resource.drift_acknowledged", "resource", resource.id)
            .after(&serde_json::json!({ "drift": drift.id, "reason": reason }));
        Ok(((), change))
    })
    .await
}

/// Reconciles the resource's drift through a pull request that changes no file: the code as
/// merged is planned (the plan shows what it undoes), approved by someone else, merged and
/// applied; that apply resolves the drift.
pub async fn reconcile(ctx: &AppCtx, actor: &Actor, slug: &str) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let resource = crate::server::workspaces::idle_resource(txn, slug).await?;
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::Conflict(format!("resource {slug} is not in a workspace")))?;
        checkable(&resource, &member)?;
        let drift = current_drift(txn, resource.id)
            .await?
            .ok_or_else(|| no_drift(slug))?;
        if pull_requests::Entity::find()
            .filter(pull_requests::Column::ResourceId.eq(resource.id))
            .filter(pull_requests::Column::State.eq(crate::domain::workspaces::PullState::Open))
            .one(txn)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "{slug} has a pull request open: review or reject it first (its plan, once applied, reconciles the drift too)"
            )));
        }
        crate::server::workspaces::enqueue_reconcile(txn, &resource, &member, actor).await?;
        let mut active: drifts::ActiveModel = drift.clone().into();
        active.reconcile_by = Set(Some(actor.label.clone()));
        active.reconcile_at = Set(Some(chrono::Utc::now()));
        active.update(txn).await?;
        let change = Change::new("resource.drift_reconcile", "resource", resource.id)
            .after(&serde_json::json!({ "drift": drift.id }));
        Ok(((), change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The drift and the check whose finding `plan_id` is, when that check is the newest finding
/// and ready to apply.
async fn finding<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    plan_id: i64,
) -> AppResult<(
    resources::Model,
    workspace_resources::Model,
    drifts::Model,
    plans::Model,
)> {
    let (resource, member) = member_of(db, slug).await?;
    if resource.status == ResourceStatus::InProgress {
        return Err(AppError::Conflict(
            "work on this resource is in progress; wait for it to finish".into(),
        ));
    }
    let drift = current_drift(db, resource.id)
        .await?
        .ok_or_else(|| no_drift(slug))?;
    let plan = plan_by_id(db, plan_id).await?;
    if plan.resource_id != resource.id || plan.purpose != PlanPurpose::Drift {
        return Err(AppError::not_found(format_args!(
            "Drift check #{plan_id} of {slug}"
        )));
    }
    if drift.plan_id != Some(plan_id) || plan.status != PlanStatus::Ready {
        return Err(AppError::Conflict(format!(
            "Drift check #{plan_id} is not the newest finding of {slug} ({}): accept what the newest check shows.",
            plan.status.label()
        )));
    }
    Ok((resource, member, drift, plan))
}

/// Proposes accepting the world as the newest check found it; someone else approves.
pub async fn propose_accept(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    plan_id: i64,
) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let (resource, _, drift, _) = finding(txn, slug, plan_id).await?;
        let mut active: drifts::ActiveModel = drift.clone().into();
        active.accept_by = Set(Some(actor.label.clone()));
        active.accept_at = Set(Some(chrono::Utc::now()));
        active.accept_plan_id = Set(Some(plan_id));
        active.update(txn).await?;
        let change = Change::new("resource.drift_accept_proposed", "resource", resource.id)
            .after(&serde_json::json!({ "drift": drift.id, "plan": plan_id }));
        Ok(((), change))
    })
    .await
}

/// Approves accepting the world as it is: applies the proposed check's own refresh-only plan,
/// exactly as shown (`plan_id`), so the state records what the check found. Never by whoever
/// proposed it. The apply is refused later, and the resource checked again, when the state
/// moved since the check.
pub async fn accept(ctx: &AppCtx, actor: &Actor, slug: &str, plan_id: i64) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let (resource, member, drift, plan) = finding(txn, slug, plan_id).await?;
        if drift.accept_plan_id != Some(plan_id) {
            return Err(AppError::Conflict(format!(
                "Accepting drift check #{plan_id} was not proposed: propose it first; someone else approves."
            )));
        }
        if drift.accept_by.as_deref() == Some(actor.label.as_str()) {
            return Err(AppError::Forbidden(
                "You proposed accepting this drift: someone else must approve it.".into(),
            ));
        }
        mark_approved(txn, &plan, actor).await?;
        let job = enqueue_apply(txn, plan_id, &member).await?;
        let mut active: resources::ActiveModel = resource.clone().into();
        active.status = Set(ResourceStatus::InProgress);
        active.update(txn).await?;
        let change = Change::new("resource.drift_accept", "resource", resource.id)
            .after(&serde_json::json!({ "drift": drift.id, "plan": plan_id, "job": job.id }));
        Ok(((), change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// A check's end, within the job's transaction: the plan ready or failed, and the drift record
/// opened, updated or cleared. The resource and its folder are left as they are.
pub(crate) async fn checked<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    plan: plans::Model,
    status: JobStatus,
    outcome: &Outcome,
    end: &RunEnd,
) -> AppResult<Change<'static>> {
    let now = chrono::Utc::now();
    let superseded = plan.status == PlanStatus::Superseded;
    let mut active = record::ended(&plan, end, now);
    let summary = match (status, &end.show_json, end.drifted) {
        (JobStatus::Succeeded, Some(json), Some(_)) => crate::domain::plans::summarize(json)
            .map_err(|e| format!("the check's JSON does not read: {e}")),
        (JobStatus::Succeeded, _, _) => Err("the check left no plan to read".to_string()),
        _ => Err(record::error_text(outcome, end)),
    };
    let summary = match summary {
        Ok(summary) => summary,
        Err(error) => {
            active.error = Set(Some(error.clone()));
            if !superseded {
                active.status = Set(PlanStatus::Failed);
            }
            let plan = active.update(db).await?;
            return Ok(
                Change::new("resource.drift_check_failed", "resource", plan.resource_id)
                    .after(&serde_json::json!({ "plan": plan.id, "error": error })),
            );
        }
    };
    let drifted = end.drifted == Some(true);
    active.summary = Set(Some(
        serde_json::to_string(&summary).map_err(AppError::internal)?,
    ));
    if drifted {
        if let (Some(file), Some(json)) = (&end.plan_file, &end.show_json) {
            record::seal_plan(ctx, &mut active, plan.id, file, json);
        }
    }
    if !superseded {
        active.status = Set(PlanStatus::Ready);
    }
    let plan = active.update(db).await?;
    let current = current_drift(db, plan.resource_id).await?;
    let (action, drift_id) = match (drifted, current) {
        (true, Some(drift)) => {
            let mut active: drifts::ActiveModel = drift.clone().into();
            active.plan_id = Set(Some(plan.id));
            active.last_seen_at = Set(now);
            active.summary = Set(serde_json::to_string(&summary).map_err(AppError::internal)?);
            active.objects = Set(objects(&summary));
            active.update(db).await?;
            ("resource.drift_seen", Some(drift.id))
        }
        (true, None) => {
            let member = workspace_resources::Entity::find_by_id(plan.resource_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::Conflict("the resource left its workspace".into()))?;
            let drift = drifts::ActiveModel {
                resource_id: Set(plan.resource_id),
                workspace_id: Set(member.workspace_id),
                status: Set(DriftStatus::Open),
                detected_at: Set(now),
                plan_id: Set(Some(plan.id)),
                last_seen_at: Set(now),
                summary: Set(serde_json::to_string(&summary).map_err(AppError::internal)?),
                objects: Set(objects(&summary)),
                ..Default::default()
            }
            .insert(db)
            .await?;
            ("resource.drift_detected", Some(drift.id))
        }
        (false, Some(drift)) => {
            resolve(db, &drift, Resolution::Cleared, SCHEDULE, plan.id).await?;
            ("resource.drift_cleared", Some(drift.id))
        }
        (false, None) => ("resource.drift_checked", None),
    };
    Ok(
        Change::new(action, "resource", plan.resource_id).after(&serde_json::json!({
            "plan": plan.id,
            "drift": drift_id,
            "objects": summary.drift.len(),
        })),
    )
}

/// How many objects a check found drifted (outputs that moved count when nothing else did).
fn objects(summary: &PlanSummary) -> i32 {
    let objects = summary
        .drift
        .len()
        .max(usize::from(!summary.outputs.is_empty()));
    i32::try_from(objects).unwrap_or(i32::MAX)
}

async fn resolve<C: ConnectionTrait>(
    db: &C,
    drift: &drifts::Model,
    resolution: Resolution,
    by: &str,
    plan_id: i64,
) -> AppResult<()> {
    let mut active: drifts::ActiveModel = drift.clone().into();
    active.status = Set(DriftStatus::Resolved);
    active.resolution = Set(Some(resolution));
    active.resolved_by = Set(Some(by.to_string()));
    active.resolved_at = Set(Some(chrono::Utc::now()));
    active.resolution_plan_id = Set(Some(plan_id));
    active.update(db).await?;
    Ok(())
}

/// After an apply succeeded: the drift is resolved by it — accepted when the plan was that
/// drift's check; reconciled when it was a change queued after the drift was found (its plan
/// refreshed after the world moved, and a plan converges the world to the code). Answers the
/// drift resolved.
pub(crate) async fn resolve_by_apply<C: ConnectionTrait>(
    db: &C,
    plan: &plans::Model,
) -> AppResult<Option<i64>> {
    let Some(drift) = current_drift(db, plan.resource_id).await? else {
        return Ok(None);
    };
    let resolution = match plan.purpose {
        PlanPurpose::Drift if drift.accept_plan_id == Some(plan.id) => Resolution::Accepted,
        PlanPurpose::Change if drift.detected_at <= plan.created_at => Resolution::Reconciled,
        _ => return Ok(None),
    };
    let by = plan
        .approved_by
        .clone()
        .unwrap_or_else(|| plan.requested_by.clone());
    resolve(db, &drift, resolution, &by, plan.id).await?;
    Ok(Some(drift.id))
}

// ---- What the pages show.

/// How long ago, in the largest whole unit ("moments" under a minute).
fn age(since: &chrono::DateTime<chrono::Utc>) -> String {
    let minutes = (chrono::Utc::now() - *since).num_minutes().max(0);
    if minutes == 0 {
        return "moments".into();
    }
    let (n, unit) = match minutes {
        m if m < 60 => (m, "minute"),
        m if m < 60 * 48 => (m / 60, "hour"),
        m => (m / 1440, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

async fn rows<C: ConnectionTrait>(db: &C, drifts: Vec<drifts::Model>) -> AppResult<Vec<DriftRow>> {
    let resource_ids: Vec<i64> = drifts.iter().map(|d| d.resource_id).collect();
    let workspace_ids: Vec<i64> = drifts.iter().map(|d| d.workspace_id).collect();
    let resources: BTreeMap<i64, resources::Model> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(resource_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let workspaces: BTreeMap<i64, String> = workspace_rows::Entity::find()
        .filter(workspace_rows::Column::Id.is_in(workspace_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, w.slug))
        .collect();
    Ok(drifts
        .into_iter()
        .map(|d| {
            let resource = resources.get(&d.resource_id);
            DriftRow {
                id: d.id,
                resource: resource.map(|r| r.slug.clone()).unwrap_or_default(),
                resource_name: resource.map(|r| r.name.clone()).unwrap_or_default(),
                workspace: workspaces.get(&d.workspace_id).cloned().unwrap_or_default(),
                owner: resource.map(|r| r.created_by.clone()).unwrap_or_default(),
                status: d.status,
                detected_at: when(&d.detected_at),
                age: age(&d.detected_at),
                last_seen_at: when(&d.last_seen_at),
                objects: d.objects,
                acknowledged_by: d.acknowledged_by,
                reason: d.reason,
                resolution: d.resolution,
                resolved_by: d.resolved_by,
                resolved_at: d.resolved_at.as_ref().map(when),
                reconcile_by: d.reconcile_by,
                accept_by: d.accept_by,
            }
        })
        .collect())
}

/// The Drift page: current drifts (oldest first), the latest resolved, and checks under way.
/// `only`: the resources (slugs) a caller without a right on every resource may read — the
/// lists are limited in the query, so such a caller's drifts are never cut off by others'.
pub async fn drift_list(db: &DatabaseConnection, only: Option<&[String]>) -> AppResult<DriftList> {
    let scope = match only {
        None => sea_orm::Condition::all(),
        Some(slugs) => {
            let ids: Vec<i64> = resources::Entity::find()
                .filter(resources::Column::Slug.is_in(slugs.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
            sea_orm::Condition::all().add(drifts::Column::ResourceId.is_in(ids))
        }
    };
    let current = drifts::Entity::find()
        .filter(scope.clone())
        .filter(drifts::Column::Status.ne(DriftStatus::Resolved))
        .order_by_asc(drifts::Column::DetectedAt)
        .limit(CURRENT_LISTED)
        .all(db)
        .await?;
    let resolved = drifts::Entity::find()
        .filter(scope)
        .filter(drifts::Column::Status.eq(DriftStatus::Resolved))
        .order_by_desc(drifts::Column::ResolvedAt)
        .limit(RESOLVED_LISTED)
        .all(db)
        .await?;
    let checks_running = sea_orm::PaginatorTrait::count(
        plans::Entity::find()
            .filter(plans::Column::Purpose.eq(PlanPurpose::Drift))
            .filter(plans::Column::Status.is_in([PlanStatus::Queued, PlanStatus::Planning])),
        db,
    )
    .await?;
    Ok(DriftList {
        current: rows(db, current).await?,
        resolved: rows(db, resolved).await?,
        checks_running,
    })
}

/// A resource's drift, its last check and its schedule.
pub async fn resource_drift(db: &DatabaseConnection, slug: &str) -> AppResult<ResourceDrift> {
    let resource = crate::server::resources::resource_by_slug(db, slug).await?;
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?;
    let workspace = match &member {
        Some(m) => {
            workspace_rows::Entity::find_by_id(m.workspace_id)
                .one(db)
                .await?
        }
        None => None,
    };
    let current = current_drift(db, resource.id).await?;
    let last = plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(resource.id))
        .filter(plans::Column::Purpose.eq(PlanPurpose::Drift))
        .order_by_desc(plans::Column::Id)
        .one(db)
        .await?;
    let summary = current
        .as_ref()
        .and_then(|d| serde_json::from_str::<PlanSummary>(&d.summary).ok());
    let acceptable_plan = match (&current, &last) {
        (Some(drift), Some(plan))
            if drift.plan_id == Some(plan.id) && plan.status == PlanStatus::Ready =>
        {
            Some(plan.id)
        }
        _ => None,
    };
    let last_check = last.map(|plan| DriftCheck {
        plan_id: plan.id,
        job_id: plan.job_id,
        state: match plan.status {
            PlanStatus::Ready | PlanStatus::Superseded | PlanStatus::Applied => {
                if plan.plan_file.is_some() {
                    "drift found".into()
                } else {
                    "no drift".into()
                }
            }
            other => other.label().to_string(),
        },
        running: plan.status.is_running(),
        drifted: plan.plan_file.is_some(),
        error: plan
            .error
            .as_deref()
            .map(|e| e.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        requested_by: plan.requested_by.clone(),
        at: when(plan.finished_at.as_ref().unwrap_or(&plan.created_at)),
    });
    let proposed_plan = current
        .as_ref()
        .and_then(|d| d.accept_plan_id)
        .filter(|id| Some(*id) == acceptable_plan);
    let checkable = member
        .as_ref()
        .is_some_and(|m| checkable(&resource, m).is_ok());
    let current = match current {
        Some(drift) => rows(db, vec![drift]).await?.pop(),
        None => None,
    };
    Ok(ResourceDrift {
        current,
        summary,
        acceptable_plan,
        proposed_plan,
        last_check,
        schedule: workspace
            .as_ref()
            .map(|w| crate::domain::drift::interval_label(w.drift_interval_minutes))
            .unwrap_or_else(|| "off".into()),
        next_check: workspace
            .as_ref()
            .filter(|w| w.drift_interval_minutes > 0)
            .and_then(|w| w.drift_next_at.as_ref())
            .map(when),
        checkable,
    })
}

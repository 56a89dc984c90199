//! Recording how a plan or an apply ended: the plan row, the resource, its folder, its
//! outputs and the audit event, in one transaction with the job's end.

use super::*;

/// How an attempt ended, as the worker saw it.
#[derive(Default)]
pub struct RunEnd {
    pub outcome: Option<Outcome>,
    pub runtime: Option<Runtime>,
    pub runtime_version: Option<String>,
    /// A plan: `show -json` of the saved plan, and the plan file.
    pub show_json: Option<String>,
    pub plan_file: Option<Vec<u8>>,
    /// An apply: `output -json` after it.
    pub outputs_json: Option<String>,
    /// A drift check: whether the refresh-only plan found the world changed (its detailed
    /// exit code 2) or not (0).
    pub drifted: Option<bool>,
    /// What the runtime wrote to its standard error (the last lines).
    pub stderr: Vec<String>,
}

/// One output as the `outputs` column keeps it: a sensitive one without its value (that is in
/// `sealed_outputs`).
#[derive(Serialize, Deserialize)]
struct StoredOutput {
    #[serde(default)]
    sensitive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<serde_json::Value>,
}

/// The resource's outputs as its page shows them.
pub(crate) fn output_rows(outputs: &str) -> Vec<OutputRow> {
    let stored: BTreeMap<String, StoredOutput> = serde_json::from_str(outputs).unwrap_or_default();
    stored
        .into_iter()
        .map(|(name, output)| OutputRow {
            name,
            value: if output.sensitive {
                None
            } else {
                output.value.map(|v| v.to_string())
            },
            sensitive: output.sensitive,
        })
        .collect()
}

/// `output -json` split: what anyone may read, and the whole (to seal).
fn split_outputs(json: &str) -> AppResult<String> {
    let parsed: BTreeMap<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| AppError::internal(format!("output -json does not read: {e}")))?;
    let public: BTreeMap<String, StoredOutput> = parsed
        .into_iter()
        .map(|(name, output)| {
            let sensitive = output["sensitive"].as_bool() == Some(true);
            let value = (!sensitive).then(|| output["value"].clone());
            (name, StoredOutput { sensitive, value })
        })
        .collect();
    serde_json::to_string(&public).map_err(AppError::internal)
}

/// An attempt that ran nothing (see [`Start::Skip`]): its job ends.
pub async fn record_skip(ctx: &AppCtx, worker: &str, job_id: i64) -> AppResult<()> {
    record_outcome(ctx, worker, job_id, &Outcome::Succeeded).await
}

/// An attempt that ran nothing and ends as `outcome` (succeeded, or waiting for a freeze).
pub async fn record_outcome(
    ctx: &AppCtx,
    worker: &str,
    job_id: i64,
    outcome: &Outcome,
) -> AppResult<()> {
    let txn = crate::server::begin_write(&ctx.db).await?;
    jobs::finish(&txn, job_id, worker, outcome).await?;
    txn.commit().await?;
    Ok(())
}

/// An attempt that could not start (its plan unreadable, the resource gone): its job ends as
/// the error says, and a plan's row with it.
pub async fn record_unstarted(
    ctx: &AppCtx,
    worker: &str,
    job: &job_rows::Model,
    error: &AppError,
) -> AppResult<()> {
    let outcome = Outcome::of_error(&error.clone().into());
    record_end(
        ctx,
        worker,
        job,
        RunEnd {
            outcome: Some(outcome),
            stderr: vec![error.to_string()],
            ..RunEnd::default()
        },
    )
    .await
}

/// Records the end of a plan or apply attempt.
pub async fn record_end(
    ctx: &AppCtx,
    worker: &str,
    job: &job_rows::Model,
    end: RunEnd,
) -> AppResult<()> {
    let outcome = end.outcome.clone().unwrap_or(Outcome::Succeeded);
    let apply = job.kind == APPLY_JOB;
    let actor = Actor::system(&format!("worker:{worker}"));
    audit::audited(&ctx.db, &actor, async |txn| {
        let status = jobs::finish(txn, job.id, worker, &outcome).await?;
        let payload: RunPayload = serde_json::from_str(&job.payload).map_err(AppError::internal)?;
        let Some(plan) = plans::Entity::find_by_id(payload.plan_id).one(txn).await? else {
            return Ok(((), None));
        };
        let change = match (status, apply) {
            (JobStatus::Queued | JobStatus::Running, _) => None,
            (_, false) if plan.purpose == PlanPurpose::Drift => {
                Some(super::drift::checked(ctx, txn, plan, status, &outcome, &end).await?)
            }
            (_, false) => Some(planned(ctx, txn, plan, status, &outcome, &end).await?),
            (_, true) => Some(applied(ctx, txn, plan, status, &outcome, &end).await?),
        };
        Ok(((), change))
    })
    .await
}

pub(super) fn error_text(outcome: &Outcome, end: &RunEnd) -> String {
    let lines = crate::domain::plans::error_lines(&end.stderr.join("\n"));
    let mut text = outcome.error().unwrap_or_default().to_string();
    for line in lines {
        if !text.contains(&line) {
            text.push('\n');
            text.push_str(&line);
        }
    }
    text
}

/// A plan or check row as its run ended: when, and with which runtime.
pub(super) fn ended(
    plan: &plans::Model,
    end: &RunEnd,
    now: chrono::DateTime<chrono::Utc>,
) -> plans::ActiveModel {
    let mut active: plans::ActiveModel = plan.clone().into();
    active.finished_at = Set(Some(now));
    if let Some(runtime) = end.runtime {
        active.runtime = Set(runtime);
    }
    active.runtime_version = Set(end.runtime_version.clone());
    active
}

/// A plan's end: ready with its summary and sealed plan file, or failed with its error lines.
async fn planned<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    plan: plans::Model,
    status: JobStatus,
    outcome: &Outcome,
    end: &RunEnd,
) -> AppResult<Change<'static>> {
    let now = chrono::Utc::now();
    let superseded = plan.status == PlanStatus::Superseded;
    let mut active = ended(&plan, end, now);
    let summary = match (status, &end.show_json) {
        (JobStatus::Succeeded, Some(json)) => crate::domain::plans::summarize(json)
            .map_err(|e| format!("the plan's JSON does not read: {e}")),
        (JobStatus::Succeeded, None) => Err("the plan left no JSON to read".to_string()),
        _ => Err(error_text(outcome, end)),
    };
    let (next, message) = match &summary {
        Ok(summary) => {
            active.summary = Set(Some(
                serde_json::to_string(summary).map_err(AppError::internal)?,
            ));
            active.adds = Set(summary.counts.add as i32);
            active.changes = Set(summary.counts.change as i32);
            active.destroys = Set(summary.counts.destroy as i32);
            let mut denied = Vec::new();
            if let (Some(file), Some(json)) = (&end.plan_file, &end.show_json) {
                seal_plan(ctx, &mut active, plan.id, file, json);
                let results = policies_of(db, &plan, json).await?;
                denied = results
                    .iter()
                    .filter(|r| !r.denials.is_empty())
                    .map(|r| r.policy.clone())
                    .collect();
                if !results.is_empty() {
                    active.policy = Set(Some(
                        serde_json::to_string(&results).map_err(AppError::internal)?,
                    ));
                }
            }
            (
                PlanStatus::Ready,
                if denied.is_empty() {
                    format!(
                        "plan #{} ready ({}): awaits approval",
                        plan.id,
                        summary.counts.label()
                    )
                } else {
                    format!(
                        "plan #{} ready ({}): denied by policy {}",
                        plan.id,
                        summary.counts.label(),
                        denied.join(", ")
                    )
                },
            )
        }
        Err(error) => {
            active.error = Set(Some(error.clone()));
            (
                PlanStatus::Failed,
                format!(
                    "plan #{} failed: {}",
                    plan.id,
                    error.lines().next().unwrap_or_default()
                ),
            )
        }
    };
    if !superseded {
        active.status = Set(next);
        let status = if next == PlanStatus::Failed {
            ResourceStatus::Error
        } else {
            ResourceStatus::Ready
        };
        settle_member(db, plan.resource_id, status, &message).await?;
    }
    let plan = active.update(db).await?;
    if !superseded {
        enqueue_comment(db, &plan).await?;
    }
    let after = match &summary {
        Ok(s) => {
            serde_json::json!({ "plan": plan.id, "commit": plan.commit, "counts": s.counts.label(), "superseded": superseded })
        }
        Err(e) => {
            serde_json::json!({ "plan": plan.id, "commit": plan.commit, "error": e, "superseded": superseded })
        }
    };
    Ok(Change::new(
        if summary.is_ok() {
            "resource.planned"
        } else {
            "resource.plan_failed"
        },
        "resource",
        plan.resource_id,
    )
    .after(&after))
}

/// What the policies say of a plan of a change.
async fn policies_of<C: ConnectionTrait>(
    db: &C,
    plan: &plans::Model,
    show_json: &str,
) -> AppResult<Vec<crate::domain::policies::PolicyResult>> {
    let Some(resource) = resources::Entity::find_by_id(plan.resource_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let workspace = match workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    {
        Some(member) => {
            crate::server::entities::workspaces::Entity::find_by_id(member.workspace_id)
                .one(db)
                .await?
                .map(|w| w.slug)
                .unwrap_or_default()
        }
        None => String::new(),
    };
    let destroy = plan.mode == crate::domain::workspaces::SyncKind::Delete;
    crate::server::policies::evaluate(db, &resource, &workspace, destroy, show_json).await
}

/// Keeps the saved plan and its JSON, sealed.
pub(super) fn seal_plan(
    ctx: &AppCtx,
    active: &mut plans::ActiveModel,
    plan_id: i64,
    file: &[u8],
    json: &str,
) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    active.plan_file = Set(Some(
        ctx.secrets.seal(&plan_file_purpose(plan_id), &encoded),
    ));
    active.plan_json = Set(Some(ctx.secrets.seal(&plan_json_purpose(plan_id), json)));
}

/// The folder's status after a run, and the resource's `status` (an error makes Retry
/// possible).
pub(super) async fn settle_member<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
    status: ResourceStatus,
    message: &str,
) -> AppResult<()> {
    let failed = status == ResourceStatus::Error;
    if let Some(member) = workspace_resources::Entity::find_by_id(resource_id)
        .one(db)
        .await?
    {
        let mut active: workspace_resources::ActiveModel = member.into();
        active.status = Set(if failed {
            WorkspaceStatus::Error
        } else {
            WorkspaceStatus::Done
        });
        active.status_message = Set(Some(message.to_string()));
        active.update(db).await?;
    }
    if let Some(resource) = resources::Entity::find_by_id(resource_id).one(db).await? {
        let mut active: resources::ActiveModel = resource.into();
        active.status = Set(status);
        active.updated_at = Set(chrono::Utc::now());
        active.update(db).await?;
    }
    Ok(())
}

/// An apply's end: the resource provisioned (or destroyed) with its outputs, or in error with
/// the apply's error lines.
async fn applied<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    plan: plans::Model,
    status: JobStatus,
    outcome: &Outcome,
    end: &RunEnd,
) -> AppResult<Change<'static>> {
    let now = chrono::Utc::now();
    let resource = resources::Entity::find_by_id(plan.resource_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The plan's resource"))?;
    let mut active: plans::ActiveModel = plan.clone().into();
    if status != JobStatus::Succeeded {
        let error = error_text(outcome, end);
        active.status = Set(PlanStatus::ApplyFailed);
        active.error = Set(Some(error.clone()));
        active.update(db).await?;
        let first = error.lines().next().unwrap_or_default().to_string();
        settle_member(
            db,
            resource.id,
            ResourceStatus::Error,
            &format!("applying plan #{} failed: {first}", plan.id),
        )
        .await?;
        return Ok(
            Change::new("resource.apply_failed", "resource", resource.id)
                .after(&serde_json::json!({ "plan": plan.id, "error": error })),
        );
    }
    active.status = Set(PlanStatus::Applied);
    active.applied_at = Set(Some(now));
    active.update(db).await?;
    let destroyed = plan.mode == SyncKind::Delete;
    let mut resource_active: resources::ActiveModel = resource.clone().into();
    resource_active.status = Set(ResourceStatus::Done);
    resource_active.updated_at = Set(now);
    if destroyed {
        resource_active.state = Set(ResourceState::Destroyed);
        resource_active.outputs = Set("{}".into());
        resource_active.sealed_outputs = Set(None);
    } else {
        resource_active.state = Set(ResourceState::Provisioned);
        resource_active.parent_changed = Set(None);
        if let Some(json) = &end.outputs_json {
            resource_active.outputs = Set(split_outputs(json)?);
            resource_active.sealed_outputs =
                Set(Some(ctx.secrets.seal(&outputs_purpose(resource.id), json)));
            if outputs_changed(ctx, &resource, json) {
                mark_children(db, &resource, plan.id).await?;
            }
        }
    }
    resource_active.update(db).await?;
    let resolved = super::drift::resolve_by_apply(db, &plan).await?;
    let message = format!(
        "{} #{} applied ({})",
        if plan.purpose == PlanPurpose::Drift {
            "drift accepted: check"
        } else {
            "plan"
        },
        plan.id,
        crate::domain::plans::Counts {
            add: plan.adds as u32,
            change: plan.changes as u32,
            destroy: plan.destroys as u32
        }
        .label()
    );
    if destroyed {
        // The folder is gone from the default branch and the resource from the world: its
        // name is free again.
        workspace_resources::Entity::delete_by_id(resource.id)
            .exec(db)
            .await?;
    } else {
        settle_member(db, resource.id, ResourceStatus::Done, &message).await?;
    }
    Ok(Change::new("resource.applied", "resource", resource.id).after(
        &serde_json::json!({ "plan": plan.id, "commit": plan.commit, "state": if destroyed { "destroyed" } else { "provisioned" }, "purpose": plan.purpose.as_str(), "drift_resolved": resolved }),
    ))
}

/// Whether `json` (a new `output -json`) holds other values than the resource's last apply.
fn outputs_changed(ctx: &AppCtx, resource: &resources::Model, json: &str) -> bool {
    let values = |text: &str| -> BTreeMap<String, serde_json::Value> {
        serde_json::from_str::<BTreeMap<String, serde_json::Value>>(text)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, output)| (name, output["value"].clone()))
            .collect()
    };
    let before = resource
        .sealed_outputs
        .as_deref()
        .and_then(|sealed| ctx.secrets.open(&outputs_purpose(resource.id), sealed).ok())
        .map(|text| values(&text))
        .unwrap_or_default();
    before != values(json)
}

/// The children that take one of `parent`'s outputs are told to plan again.
async fn mark_children<C: ConnectionTrait>(
    db: &C,
    parent: &resources::Model,
    plan_id: i64,
) -> AppResult<()> {
    let ids = crate::server::resources::children_of(db, parent.id).await?;
    for child in resources::Entity::find()
        .filter(resources::Column::Id.is_in(ids))
        .all(db)
        .await?
    {
        let stored: crate::server::resources::StoredValues =
            serde_json::from_str(&child.variables).unwrap_or_default();
        let taken: Vec<String> = stored
            .bound
            .iter()
            .filter(|(_, (p, _))| p == &parent.slug)
            .map(|(variable, (_, output))| format!("{variable} ← {output}"))
            .collect();
        if taken.is_empty() {
            continue;
        }
        let mut active: resources::ActiveModel = child.into();
        active.parent_changed = Set(Some(format!(
            "{}'s outputs changed when plan #{plan_id} was applied ({}): plan this resource again to take them",
            parent.slug,
            taken.join(", ")
        )));
        active.update(db).await?;
    }
    Ok(())
}

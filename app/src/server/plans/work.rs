//! What a worker needs to run a plan or an apply, read when an attempt starts.

use super::*;
use crate::domain::resource_code::{module_source, ModuleSource};
use crate::server::entities::{resource_integrations, source_code_versions, source_codes};
use crate::server::ports::{ForgeRepo, RepoAccess};

/// The module a resource's code calls, fetched by Slipway (with the source's credentials, which
/// never enter the run) at the commit its version pinned.
pub struct ModuleFetch {
    pub access: RepoAccess,
    pub git_ref: String,
    /// The commit the template version pinned: a tag that moved since is refused.
    pub pinned: String,
    pub module_path: String,
    /// The `source` the generated `main.tf` gives the module call.
    pub source: String,
    /// The module call's name (the resource's slug).
    pub call: String,
}

/// One attempt's work.
pub struct RunWork {
    pub plan: plans::Model,
    pub resource: resources::Model,
    pub apply: bool,
    pub repo: ForgeRepo,
    pub config: crate::domain::workspaces::RepoConfig,
    pub module: Option<ModuleFetch>,
    /// `TF_VAR_<name>` for each sensitive variable (never written to the code).
    pub variables: Vec<(String, String)>,
    /// `TF_VAR_<name>` for each variable taken from a parent's output, and whether that output
    /// is sensitive (then masked in the log). A plan's only: a saved plan holds its values.
    pub bound: Vec<(String, String, bool)>,
    pub integration_ids: Vec<i64>,
    /// The saved plan to apply (opened).
    pub plan_file: Option<Vec<u8>>,
    /// The lock holder this run's state lock is taken as.
    pub holder: String,
}

/// How an attempt begins.
pub enum Start {
    Work(Box<RunWork>),
    /// Nothing to run; the job ends with this line (a plan superseded before it ran, an apply
    /// whose plan went stale and was planned again).
    Skip(String),
    /// Not now: a freeze holds the resource's workspace ("frozen until … because …"); the job
    /// waits without using an attempt and carries on when the freeze ends.
    Wait(crate::server::ports::ExternalError),
}

/// Reads the run's plan and everything it needs, and marks it planning or applying. An apply
/// whose plan went stale (the state moved since the plan was made: another run, or an earlier
/// attempt of this one killed half-way) applies nothing: the resource is planned again and
/// that plan waits for a new approval.
pub async fn start_run(ctx: &AppCtx, job: &job_rows::Model) -> AppResult<Start> {
    let payload: RunPayload = serde_json::from_str(&job.payload).map_err(AppError::internal)?;
    let apply = job.kind == APPLY_JOB;
    let db = &ctx.db;
    let plan = plan_by_id(db, payload.plan_id).await?;
    let resource = resources::Entity::find_by_id(plan.resource_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The plan's resource"))?;
    let holder = format!("job #{} ({})", job.id, if apply { "apply" } else { "plan" });
    // An earlier attempt of this job that died holding the lock: the lease says it is gone.
    state_locks::Entity::delete_many()
        .filter(state_locks::Column::ResourceId.eq(resource.id))
        .filter(state_locks::Column::Holder.eq(&holder))
        .exec(db)
        .await?;
    if !apply && plan.status == PlanStatus::Superseded {
        return Ok(Start::Skip(format!(
            "plan #{} was superseded by a newer change before it ran; nothing to plan",
            plan.id
        )));
    }
    if apply {
        if plan.approved_by.is_none() {
            return Err(AppError::Forbidden(format!(
                "plan #{} was never approved: Slipway applies approved plans only",
                plan.id
            )));
        }
        let workspace = crate::server::freezes::workspace_slug(db, resource.id).await?;
        if let Some(slug) = &workspace {
            let target = [crate::domain::freezes::Target::Workspace(slug)];
            if let Err(wait) =
                crate::server::freezes::hold(db, &target, &format!("plan:{}", plan.id)).await
            {
                return Ok(Start::Wait(wait));
            }
        }
        if let Some(replanned) = stale(ctx, &plan, &resource).await? {
            return Ok(Start::Skip(replanned));
        }
    }
    let mut work = gather(ctx, plan, resource, apply, holder).await?;
    let mut active: plans::ActiveModel = work.plan.clone().into();
    if !apply {
        let (bound, inputs) = resolve_bindings(ctx, &work.resource).await?;
        work.bound = bound;
        active.inputs = Set(Some(
            serde_json::to_string(&inputs).map_err(AppError::internal)?,
        ));
        active.status = Set(PlanStatus::Planning);
        active.base_state_version_id = Set(latest_state_id(db, work.resource.id).await?);
    }
    active.update(db).await?;
    Ok(Start::Work(Box::new(work)))
}

/// When the state moved since `plan` was made: the plan is marked stale, a new plan of the
/// same code is queued (it needs its own approval), and the line saying so is returned.
async fn stale(
    ctx: &AppCtx,
    plan: &plans::Model,
    resource: &resources::Model,
) -> AppResult<Option<String>> {
    let latest = latest_state_id(&ctx.db, resource.id).await?;
    if latest == plan.base_state_version_id {
        return Ok(None);
    }
    let actor = Actor::system("slipway");
    audit::audited(&ctx.db, &actor, async |txn| {
        let member = workspace_resources::Entity::find_by_id(resource.id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::Conflict("the resource left its workspace".into()))?;
        let mut active: plans::ActiveModel = plan.clone().into();
        active.status = Set(PlanStatus::Stale);
        active.update(txn).await?;
        if plan.purpose == PlanPurpose::Drift {
            // Accepting a finding the state has moved past would record a world nobody saw:
            // the resource is checked again instead, and its finding accepted anew if wanted.
            let mut requested = actor.clone();
            requested.label = plan.requested_by.clone();
            let new = super::drift::enqueue_check(txn, resource, &member, &requested).await?;
            settle_member(
                txn,
                resource.id,
                ResourceStatus::Done,
                &format!("drift check #{} went stale; checking again (#{})", plan.id, new.id),
            )
            .await?;
            let line = format!(
                "the state changed since drift check #{} (state version {} then, {} now): nothing accepted; checking again as #{}",
                plan.id,
                plan.base_state_version_id.map_or("none".to_string(), |v| format!("#{v}")),
                latest.map_or("none".to_string(), |v| format!("#{v}")),
                new.id
            );
            let change = Change::new("resource.plan_stale", "resource", resource.id).after(
                &serde_json::json!({ "plan": plan.id, "new_check": new.id, "state_version": latest }),
            );
            return Ok((line, change));
        }
        // The code is merged now: the new plan is of the merged commit.
        let merged = member
            .merged_commit
            .clone()
            .unwrap_or_else(|| plan.commit.clone());
        let order = PlanOrder {
            resource,
            member: &member,
            pull_id: None,
            mode: plan.mode,
            commit: merged.clone(),
            code_commit: if plan.mode == SyncKind::Delete {
                plan.code_commit.clone()
            } else {
                merged
            },
        };
        let mut requested = actor.clone();
        requested.label = plan.requested_by.clone();
        let new = enqueue_plan(txn, order, &requested).await?;
        let mut active: resources::ActiveModel = resource.clone().into();
        active.status = Set(ResourceStatus::InProgress);
        active.update(txn).await?;
        let line = format!(
            "the state changed since plan #{} was made (state version {} then, {} now): nothing applied; planned again as plan #{}, which needs its own approval",
            plan.id,
            plan.base_state_version_id.map_or("none".to_string(), |v| format!("#{v}")),
            latest.map_or("none".to_string(), |v| format!("#{v}")),
            new.id
        );
        let change = Change::new("resource.plan_stale", "resource", resource.id).after(
            &serde_json::json!({ "plan": plan.id, "new_plan": new.id, "state_version": latest }),
        );
        Ok((line, change))
    })
    .await
    .map(Some)
}

async fn gather(
    ctx: &AppCtx,
    plan: plans::Model,
    resource: resources::Model,
    apply: bool,
    holder: String,
) -> AppResult<RunWork> {
    let db = &ctx.db;
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Conflict("the resource is no longer in a workspace".into()))?;
    let workspace = crate::server::entities::workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The resource's workspace"))?;
    let (config, repo) = crate::server::workspaces::reach(ctx, db, &workspace).await?;
    let module = module_fetch(ctx, &resource).await?;
    let integration_ids = resource_integrations::Entity::find()
        .filter(resource_integrations::Column::ResourceId.eq(resource.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.integration_id)
        .collect();
    let plan_file = match (&plan.plan_file, apply) {
        (Some(sealed), true) => Some(open_plan_file(ctx, plan.id, sealed)?),
        (None, true) => {
            return Err(AppError::Conflict(format!(
                "plan #{} kept no saved plan to apply",
                plan.id
            )))
        }
        _ => None,
    };
    Ok(RunWork {
        variables: sensitive_variables(ctx, &resource)?,
        bound: Vec::new(),
        plan,
        resource,
        apply,
        repo,
        config,
        module,
        integration_ids,
        plan_file,
        holder,
    })
}

fn open_plan_file(ctx: &AppCtx, plan_id: i64, sealed: &str) -> AppResult<Vec<u8>> {
    use base64::Engine;
    let encoded = ctx
        .secrets
        .open(&plan_file_purpose(plan_id), sealed)
        .map_err(|e| AppError::internal(format!("plan #{plan_id}: {e}")))?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| AppError::internal(format!("plan #{plan_id}: {e}")))
}

/// The module the resource's version pins, and how Slipway fetches it.
async fn module_fetch(ctx: &AppCtx, resource: &resources::Model) -> AppResult<Option<ModuleFetch>> {
    let db = &ctx.db;
    let Some(version) = source_code_versions::Entity::find_by_id(resource.source_code_version_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let source = source_codes::Entity::find_by_id(version.source_code_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The template version's source code"))?;
    let text = module_source(&ModuleSource {
        repository_url: source.url.clone(),
        module_path: version.module_path.clone(),
        git_ref: version.git_ref.clone(),
    })
    .map_err(|e| AppError::invalid(e.field, e.message))?;
    Ok(Some(ModuleFetch {
        access: crate::server::sources::access(ctx, db, &source.url, source.integration_id).await?,
        git_ref: version.git_ref,
        pinned: version.commit,
        module_path: version.module_path,
        source: text,
        call: resource.slug.clone(),
    }))
}

/// The resource's sensitive values as `TF_VAR_<name>`: strings as they are, others as JSON
/// (which the runtime reads as HCL).
fn sensitive_variables(
    ctx: &AppCtx,
    resource: &resources::Model,
) -> AppResult<Vec<(String, String)>> {
    let stored: crate::server::resources::StoredValues =
        serde_json::from_str(&resource.variables).map_err(AppError::internal)?;
    let mut out = Vec::new();
    for (name, sealed) in &stored.sealed {
        let json = ctx
            .secrets
            .open(
                &crate::server::resources::sealed_purpose(&resource.slug, name),
                sealed,
            )
            .map_err(|e| AppError::internal(format!("variable {name}: {e}")))?;
        let value: serde_json::Value = serde_json::from_str(&json).map_err(AppError::internal)?;
        let text = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out.push((format!("TF_VAR_{name}"), text));
    }
    Ok(out)
}

/// The values of the variables the resource takes from its parents' outputs, as its parents'
/// last applies recorded them: `TF_VAR_<name>` (with whether it is sensitive) and what the plan
/// records of them. A parent not applied yet, or without that output, fails the plan saying so.
async fn resolve_bindings(
    ctx: &AppCtx,
    resource: &resources::Model,
) -> AppResult<(
    Vec<(String, String, bool)>,
    Vec<crate::wire::plans::PlanInput>,
)> {
    let stored: crate::server::resources::StoredValues =
        serde_json::from_str(&resource.variables).map_err(AppError::internal)?;
    let mut env = Vec::new();
    let mut inputs = Vec::new();
    for (variable, (parent, output)) in &stored.bound {
        let takes = format!("{variable} takes its output {output}");
        let row = resources::Entity::find()
            .filter(resources::Column::Slug.eq(parent.as_str()))
            .one(&ctx.db)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!("the parent {parent} no longer exists ({takes})"))
            })?;
        let Some(sealed) = &row.sealed_outputs else {
            return Err(AppError::Conflict(format!(
                "the parent {parent} has no outputs yet: apply it first ({takes})"
            )));
        };
        let opened = ctx
            .secrets
            .open(&outputs_purpose(row.id), sealed)
            .map_err(|e| AppError::internal(format!("outputs of {parent}: {e}")))?;
        let outputs: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&opened).map_err(AppError::internal)?;
        let Some(entry) = outputs.get(output) else {
            return Err(AppError::Conflict(format!(
                "the parent {parent} has no output {output} since its last apply ({variable} takes it)"
            )));
        };
        let sensitive = entry["sensitive"].as_bool() == Some(true);
        let value = &entry["value"];
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        env.push((format!("TF_VAR_{variable}"), text, sensitive));
        inputs.push(crate::wire::plans::PlanInput {
            variable: variable.clone(),
            from: format!("{parent}.{output}"),
            value: (!sensitive).then(|| value.to_string()),
        });
    }
    Ok((env, inputs))
}

//! An executor's runs: queued one at a time, handed to a worker, and recorded when they end.

use super::{active_run, by_slug, run_row, tf_state_purpose, Actor, RUN_ATTEMPTS, RUN_JOB};
use crate::domain::executors::{RunAction, Runtime};
use crate::domain::jobs::JobStatus;
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{executor_integrations, executor_runs, executors, source_codes};
use crate::server::jobs::{self, Outcome};
use crate::server::secrets::SecretBox;
use crate::wire::executors::{RunLog, RunRow};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use std::collections::BTreeMap;

/// Queues a run. One run at a time per executor: a second request while one is queued or
/// running is refused, so a double click cannot apply twice.
pub async fn run(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    action: &str,
) -> AppResult<RunRow> {
    let action = RunAction::parse(action)
        .ok_or_else(|| AppError::invalid("action", "choose plan or apply"))?;
    audit::audited(db, actor, async |txn| {
        let model = by_slug(txn, slug).await?;
        if let Some(running) = active_run(txn, model.id).await? {
            return Err(AppError::Conflict(format!(
                "run #{} of {} is {}; wait for it to end",
                running.id, model.slug, running.status
            )));
        }
        let job = jobs::enqueue(
            txn,
            RUN_JOB,
            &serde_json::json!({ "executor": model.slug, "action": action.as_str() }),
            None,
            None,
            RUN_ATTEMPTS,
        )
        .await?;
        let now = chrono::Utc::now();
        let run = executor_runs::ActiveModel {
            executor_id: Set(model.id),
            job_id: Set(job.id),
            action: Set(action),
            status: Set(JobStatus::Queued),
            exit_code: Set(None),
            commit: Set(None),
            outputs: Set("{}".into()),
            error: Set(None),
            requested_by: Set(actor.label.clone()),
            created_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut active: executors::ActiveModel = model.clone().into();
        active.status = Set(ResourceStatus::InProgress);
        active.updated_at = Set(now);
        active.update(txn).await?;
        let row = run_row(txn, &run).await?;
        let change = Change::new("executor.run", "executor", model.id)
            .after(&serde_json::json!({ "run": run.id, "job": job.id, "action": action.as_str() }));
        Ok((row, change))
    })
    .await
}

pub async fn run_log(
    db: &DatabaseConnection,
    slug: &str,
    run_id: i64,
    after: i32,
) -> AppResult<RunLog> {
    let model = by_slug(db, slug).await?;
    let run = executor_runs::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .filter(|r| r.executor_id == model.id)
        .ok_or_else(|| AppError::not_found(format_args!("Run #{run_id} of {slug}")))?;
    let lines = jobs::log_after(db, run.job_id, after, 2000).await?;
    let row = run_row(db, &run).await?;
    Ok(RunLog {
        done: row.status.is_done(),
        run: row,
        lines,
    })
}

/// Everything a worker needs to perform a run.
pub struct RunPlan {
    pub run_id: i64,
    pub action: RunAction,
    pub executor: executors::Model,
    pub runtime: Runtime,
    pub arguments: Vec<String>,
    pub source_url: String,
    pub source_integration: i64,
    pub integration_ids: Vec<i64>,
    /// The state file of the last apply, opened.
    pub tf_state: Option<String>,
}

pub async fn plan_for_job(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    job_id: i64,
) -> AppResult<RunPlan> {
    let run = executor_runs::Entity::find()
        .filter(executor_runs::Column::JobId.eq(job_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The run of job #{job_id}")))?;
    let executor = executors::Entity::find_by_id(run.executor_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The executor of run #{}", run.id)))?;
    let source = source_codes::Entity::find_by_id(executor.source_code_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The executor's source code"))?;
    let integration_ids = executor_integrations::Entity::find()
        .filter(executor_integrations::Column::ExecutorId.eq(executor.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.integration_id)
        .collect();
    let tf_state = match &executor.tf_state {
        Some(sealed) => Some(
            secrets
                .open(&tf_state_purpose(&executor.slug), sealed)
                .map_err(|e| AppError::internal(format!("executor {}: {e}", executor.slug)))?,
        ),
        None => None,
    };
    let mut active: executor_runs::ActiveModel = run.clone().into();
    active.status = Set(JobStatus::Running);
    active.update(db).await?;
    Ok(RunPlan {
        run_id: run.id,
        action: run.action,
        runtime: executor.runtime,
        arguments: serde_json::from_str(&executor.arguments).map_err(AppError::internal)?,
        source_url: source.url,
        source_integration: source.integration_id,
        integration_ids,
        executor,
        tf_state,
    })
}

/// How a run ended, as the worker saw it.
pub struct RunResult {
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub commit: Option<String>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// The state file after an apply (sealed before it is stored).
    pub tf_state: Option<String>,
}

/// Records the end of an attempt: the job, the run, the executor and the audit event commit
/// together. A retry leaves the run queued for its next attempt.
pub async fn finish_run(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    job_id: i64,
    worker: &str,
    result: &RunResult,
) -> AppResult<()> {
    audit::audited(
        db,
        &Actor::system(&format!("worker:{worker}")),
        async |txn| {
            let status = jobs::finish(txn, job_id, worker, &result.outcome).await?;
            let run = executor_runs::Entity::find()
                .filter(executor_runs::Column::JobId.eq(job_id))
                .one(txn)
                .await?
                .ok_or_else(|| AppError::not_found(format_args!("The run of job #{job_id}")))?;
            let executor = executors::Entity::find_by_id(run.executor_id)
                .one(txn)
                .await?
                .ok_or_else(|| AppError::not_found("The executor"))?;
            let now = chrono::Utc::now();
            let error = result.outcome.error().map(str::to_string);
            let mut run_active: executor_runs::ActiveModel = run.clone().into();
            run_active.status = Set(status);
            run_active.exit_code = Set(result.exit_code);
            run_active.commit = Set(result.commit.clone());
            run_active.outputs =
                Set(serde_json::to_string(&result.outputs).map_err(AppError::internal)?);
            run_active.error = Set(error.clone());
            if status != JobStatus::Queued {
                run_active.finished_at = Set(Some(now));
            }
            run_active.update(txn).await?;
            let mut active: executors::ActiveModel = executor.clone().into();
            active.updated_at = Set(now);
            match status {
                JobStatus::Succeeded => {
                    active.status = Set(ResourceStatus::Done);
                    if run.action == RunAction::Apply {
                        active.state = Set(ResourceState::Provisioned);
                        active.outputs =
                            Set(serde_json::to_string(&result.outputs)
                                .map_err(AppError::internal)?);
                    }
                }
                JobStatus::Failed => active.status = Set(ResourceStatus::Error),
                JobStatus::Queued | JobStatus::Running => {}
            }
            if let Some(state) = &result.tf_state {
                active.tf_state = Set(Some(secrets.seal(&tf_state_purpose(&executor.slug), state)));
            }
            active.update(txn).await?;
            let change = Change::new("executor.run_finished", "executor", executor.id).after(
                &serde_json::json!({
                    "run": run.id,
                    "status": status,
                    "exit_code": result.exit_code,
                    "commit": result.commit,
                    "error": error,
                }),
            );
            Ok(((), change))
        },
    )
    .await
}

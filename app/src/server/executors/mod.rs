//! Executor services: the executor rows and their views, deleting one; saving in `save`, and
//! runs in `runs` (queuing one with its job and audit event, reading its log, handing it to a
//! worker and recording its end with the sealed state file in one transaction).

mod runs;
mod save;

pub use runs::{finish_run, plan_for_job, run, run_log, RunPlan, RunResult};
pub use save::save;

use super::audit::{self, Change};
use super::entities::{
    executor_integrations, executor_runs, executors, integrations, jobs as job_rows, source_codes,
};
use super::Actor;
use crate::domain::jobs::JobStatus;
use crate::domain::resource_code::validate_module_path;
use crate::error::{AppError, AppResult};
use crate::wire::executors::{ExecutorDetail, ExecutorInput, ExecutorRow, ExecutorsView, RunRow};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// The job kind of an executor run.
pub const RUN_JOB: &str = "executor.run";
/// Attempts per run: a run that fails for a retryable reason (the repository unreachable, the
/// worker stopped) is tried again with backoff; a failed plan or apply is not.
pub const RUN_ATTEMPTS: i32 = 3;

fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn tf_state_purpose(slug: &str) -> String {
    format!("executor:{slug}:tfstate")
}

/// Joins arguments back into one line the splitter reads the same way.
fn command_line(arguments: &[String]) -> String {
    arguments
        .iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn row<C: ConnectionTrait>(db: &C, model: &executors::Model) -> AppResult<ExecutorRow> {
    let source = source_codes::Entity::find_by_id(model.source_code_id)
        .one(db)
        .await?
        .map(|s| s.url)
        .unwrap_or_default();
    let ids: Vec<i64> = executor_integrations::Entity::find()
        .filter(executor_integrations::Column::ExecutorId.eq(model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.integration_id)
        .collect();
    let integrations =
        super::integrations::choices(db, integrations::Column::Id.is_in(ids)).await?;
    let arguments: Vec<String> =
        serde_json::from_str(&model.arguments).map_err(AppError::internal)?;
    Ok(ExecutorRow {
        slug: model.slug.clone(),
        name: model.name.clone(),
        description: model.description.clone(),
        runtime: model.runtime,
        command: command_line(&arguments),
        arguments,
        source_id: model.source_code_id,
        source_url: source,
        git_ref: model.git_ref.clone(),
        module_path: model.module_path.clone(),
        state: model.state,
        status: model.status,
        integrations,
        outputs: serde_json::from_str(&model.outputs).map_err(AppError::internal)?,
        updated_at: when(&model.updated_at),
    })
}

async fn run_row<C: ConnectionTrait>(db: &C, run: &executor_runs::Model) -> AppResult<RunRow> {
    let attempts = job_rows::Entity::find_by_id(run.job_id)
        .one(db)
        .await?
        .map(|j| j.attempts)
        .unwrap_or_default();
    Ok(RunRow {
        id: run.id,
        job_id: run.job_id,
        action: run.action,
        status: run.status,
        attempts,
        exit_code: run.exit_code,
        commit: run.commit.clone(),
        outputs: serde_json::from_str(&run.outputs).map_err(AppError::internal)?,
        error: run.error.clone(),
        requested_by: run.requested_by.clone(),
        created_at: when(&run.created_at),
        finished_at: run.finished_at.as_ref().map(when),
    })
}

async fn by_slug<C: ConnectionTrait>(db: &C, slug: &str) -> AppResult<executors::Model> {
    executors::Entity::find()
        .filter(executors::Column::Slug.eq(slug.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The executor {:?}", slug.trim())))
}

pub async fn list(db: &DatabaseConnection) -> AppResult<ExecutorsView> {
    let mut rows = Vec::new();
    for model in executors::Entity::find()
        .order_by_asc(executors::Column::Slug)
        .all(db)
        .await?
    {
        rows.push(row(db, &model).await?);
    }
    Ok(ExecutorsView {
        executors: rows,
        sources: source_codes::Entity::find()
            .order_by_asc(source_codes::Column::Url)
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.url))
            .collect(),
        integrations: super::integrations::choices(db, integrations::Column::Kind.ne("auth"))
            .await?,
        can_create: false,
    })
}

pub async fn detail(db: &DatabaseConnection, slug: &str) -> AppResult<ExecutorDetail> {
    let model = by_slug(db, slug).await?;
    let mut runs = Vec::new();
    for run in executor_runs::Entity::find()
        .filter(executor_runs::Column::ExecutorId.eq(model.id))
        .order_by_desc(executor_runs::Column::Id)
        .limit(50)
        .all(db)
        .await?
    {
        runs.push(run_row(db, &run).await?);
    }
    Ok(ExecutorDetail {
        executor: row(db, &model).await?,
        runs,
        can_run: false,
        apply_refused: None,
        can_delete: false,
    })
}

async fn active_run<C: ConnectionTrait>(
    db: &C,
    executor_id: i64,
) -> AppResult<Option<executor_runs::Model>> {
    Ok(executor_runs::Entity::find()
        .filter(executor_runs::Column::ExecutorId.eq(executor_id))
        .filter(executor_runs::Column::Status.is_in(JobStatus::ACTIVE))
        .one(db)
        .await?)
}

/// Whether saving `input` would point an executor that holds a state (what it applied, with
/// its secrets) at other code: another source, ref or module path. That code would be handed
/// the state on its next run, so it takes more than updating the executor.
pub async fn moves_state(db: &DatabaseConnection, input: &ExecutorInput) -> AppResult<bool> {
    let Some(existing) = executors::Entity::find()
        .filter(executors::Column::Slug.eq(input.slug.trim()))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let same_code = input.source_id.trim() == existing.source_code_id.to_string()
        && input.git_ref.trim() == existing.git_ref
        && validate_module_path(&input.module_path).ok().as_deref()
            == Some(existing.module_path.as_str());
    Ok(existing.tf_state.is_some() && !same_code)
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, slug: &str) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let model = by_slug(txn, slug).await?;
        if active_run(txn, model.id).await?.is_some() {
            return Err(AppError::Conflict(format!(
                "{} has a run queued or in progress; wait for it to end",
                model.slug
            )));
        }
        let before = row(txn, &model).await?;
        executor_runs::Entity::delete_many()
            .filter(executor_runs::Column::ExecutorId.eq(model.id))
            .exec(txn)
            .await?;
        executors::Entity::delete_by_id(model.id).exec(txn).await?;
        let change = Change::new("executor.delete", "executor", model.id).before(&before);
        Ok(((), change))
    })
    .await
}

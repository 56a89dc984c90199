//! Executor services: the executor rows, queuing a run (the job, the run row and the audit
//! event commit together), reading a run's log, and recording a run's end (job, run, executor,
//! sealed state file and audit event in one transaction).

use super::audit::{self, Change};
use super::entities::{
    executor_integrations, executor_runs, executors, integrations, jobs as job_rows, source_codes,
};
use super::jobs::{self, Outcome};
use super::secrets::SecretBox;
use super::Actor;
use crate::domain::executors::{check_arguments, split_arguments, RunAction, Runtime};
use crate::domain::names::{validate_slug, validate_text};
use crate::domain::resource_code::{validate_git_ref, validate_module_path};
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::error::{AppError, AppResult};
use crate::wire::executors::{
    ExecutorDetail, ExecutorInput, ExecutorRow, ExecutorsView, RunLog, RunRow,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;

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
        runtime: Runtime::parse(&model.runtime)
            .ok_or_else(|| AppError::internal("unknown runtime stored"))?,
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
        action: run.action.clone(),
        status: run.status.clone(),
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

/// An executor form with every field checked.
struct Checked {
    slug: String,
    name: String,
    description: String,
    runtime: Runtime,
    arguments: Vec<String>,
    git_ref: String,
    module_path: String,
    source_id: i64,
}

/// Checks every field of the form and reports every problem at once.
fn checked(input: &ExecutorInput) -> AppResult<Checked> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut problem = |field: &str, message: String| problems.push((field.to_string(), message));
    let slug = input.slug.trim().to_string();
    if let Err(m) = validate_slug(&slug) {
        problem("slug", m.to_string());
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problem("name", "must not be empty".into());
    } else if let Err(m) = validate_text(&name, 200) {
        problem("name", m.to_string());
    }
    let description = input.description.trim().to_string();
    if let Err(m) = validate_text(&description, 2000) {
        problem("description", m.to_string());
    }
    let runtime = Runtime::parse(input.runtime.trim());
    if runtime.is_none() {
        problem("runtime", "choose opentofu or terraform".into());
    }
    let arguments = match split_arguments(&input.command)
        .and_then(|arguments| check_arguments(&arguments).map(|()| arguments))
    {
        Ok(arguments) => arguments,
        Err(m) => {
            problem("command", m.to_string());
            Vec::new()
        }
    };
    let git_ref = input.git_ref.trim().to_string();
    if let Err(m) = validate_git_ref(&git_ref) {
        problem("git_ref", m.to_string());
    }
    let module_path = validate_module_path(&input.module_path).unwrap_or_else(|m| {
        problem("module_path", m.to_string());
        String::new()
    });
    let source_id: Option<i64> = input.source_id.trim().parse().ok();
    if source_id.is_none() {
        problem("source_id", "choose a source code repository".into());
    }
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let (Some(runtime), Some(source_id)) = (runtime, source_id) else {
        return Err(AppError::internal("checked fields missing"));
    };
    Ok(Checked {
        slug,
        name,
        description,
        runtime,
        arguments,
        git_ref,
        module_path,
        source_id,
    })
}

/// The ticked integrations' ids: cloud and git integrations only (a run never signs anyone in).
async fn chosen_integrations<C: ConnectionTrait>(
    txn: &C,
    input: &ExecutorInput,
) -> AppResult<Vec<i64>> {
    let mut chosen = Vec::new();
    for integration in input.integrations.keys() {
        let found = integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(integration.as_str()))
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "integrations",
                    format!("no integration is named {integration:?}"),
                )
            })?;
        if found.kind == "auth" {
            return Err(AppError::invalid(
                "integrations",
                format!(
                    "{} is a sign-in integration; runs use cloud and git integrations",
                    found.slug
                ),
            ));
        }
        chosen.push(found.id);
    }
    Ok(chosen)
}

/// Creates (`new`) or changes an executor. Everything is checked before anything is written.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ExecutorInput,
    new: bool,
) -> AppResult<ExecutorRow> {
    let form = checked(input)?;
    let txn = super::begin_write(db).await?;
    source_codes::Entity::find_by_id(form.source_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("source_id", "choose a source code repository"))?;
    let chosen = chosen_integrations(&txn, input).await?;
    let existing = executors::Entity::find()
        .filter(executors::Column::Slug.eq(&form.slug))
        .one(&txn)
        .await?;
    let now = chrono::Utc::now();
    let arguments = serde_json::to_string(&form.arguments).map_err(AppError::internal)?;
    let (saved, before) = match (new, existing) {
        (true, Some(_)) => {
            return Err(AppError::invalid(
                "slug",
                format!("an executor named {:?} already exists", form.slug),
            ));
        }
        (false, None) => {
            return Err(AppError::not_found(format_args!(
                "The executor {:?}",
                form.slug
            )))
        }
        (true, None) => (
            executors::ActiveModel {
                slug: Set(form.slug),
                name: Set(form.name),
                description: Set(form.description),
                runtime: Set(form.runtime.as_str().into()),
                arguments: Set(arguments),
                source_code_id: Set(form.source_id),
                git_ref: Set(form.git_ref),
                module_path: Set(form.module_path),
                state: Set(ResourceState::Provision),
                status: Set(ResourceStatus::Ready),
                tf_state: Set(None),
                outputs: Set("{}".into()),
                created_by: Set(actor.label.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
            None,
        ),
        (false, Some(model)) => {
            let before = row(&txn, &model).await?;
            let mut active: executors::ActiveModel = model.into();
            active.name = Set(form.name);
            active.description = Set(form.description);
            active.runtime = Set(form.runtime.as_str().into());
            active.arguments = Set(arguments);
            active.source_code_id = Set(form.source_id);
            active.git_ref = Set(form.git_ref);
            active.module_path = Set(form.module_path);
            active.updated_at = Set(now);
            (active.update(&txn).await?, Some(before))
        }
    };
    executor_integrations::Entity::delete_many()
        .filter(executor_integrations::Column::ExecutorId.eq(saved.id))
        .exec(&txn)
        .await?;
    for integration_id in chosen {
        executor_integrations::ActiveModel {
            executor_id: Set(saved.id),
            integration_id: Set(integration_id),
        }
        .insert(&txn)
        .await?;
    }
    let after = row(&txn, &saved).await?;
    let change = Change::new(
        if new {
            "executor.create"
        } else {
            "executor.update"
        },
        "executor",
        saved.id,
    );
    let change = match &before {
        Some(before) => change.before(before),
        None => change,
    };
    audit::record(&txn, actor, change.after(&after)).await?;
    txn.commit().await?;
    Ok(after)
}

async fn active_run<C: ConnectionTrait>(
    db: &C,
    executor_id: i64,
) -> AppResult<Option<executor_runs::Model>> {
    Ok(executor_runs::Entity::find()
        .filter(executor_runs::Column::ExecutorId.eq(executor_id))
        .filter(executor_runs::Column::Status.is_in([jobs::QUEUED, jobs::RUNNING]))
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
            action: Set(action.as_str().into()),
            status: Set(jobs::QUEUED.into()),
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
        done: row.status == jobs::SUCCEEDED || row.status == jobs::FAILED,
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
    active.status = Set(jobs::RUNNING.into());
    active.update(db).await?;
    Ok(RunPlan {
        run_id: run.id,
        action: RunAction::parse(&run.action).unwrap_or(RunAction::Plan),
        runtime: Runtime::parse(&executor.runtime).unwrap_or(Runtime::Opentofu),
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
            run_active.status = Set(status.clone());
            run_active.exit_code = Set(result.exit_code);
            run_active.commit = Set(result.commit.clone());
            run_active.outputs =
                Set(serde_json::to_string(&result.outputs).map_err(AppError::internal)?);
            run_active.error = Set(error.clone());
            if status != jobs::QUEUED {
                run_active.finished_at = Set(Some(now));
            }
            run_active.update(txn).await?;
            let mut active: executors::ActiveModel = executor.clone().into();
            active.updated_at = Set(now);
            match status.as_str() {
                jobs::SUCCEEDED => {
                    active.status = Set(ResourceStatus::Done);
                    if run.action == RunAction::Apply.as_str() {
                        active.state = Set(ResourceState::Provisioned);
                        active.outputs =
                            Set(serde_json::to_string(&result.outputs)
                                .map_err(AppError::internal)?);
                    }
                }
                jobs::FAILED => active.status = Set(ResourceStatus::Error),
                _ => {}
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

//! Executors: modules run directly (not templated) for one-off tasks. Each run is a durable job
//! whose output streams to the page. Executors are checked as resources: read to see them,
//! create / update / delete to change them, update to run them.

use super::sources::IntegrationChoice;
use crate::domain::executors::Runtime;
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: i64,
    pub job_id: i64,
    pub action: String,
    /// queued | running | succeeded | failed
    pub status: String,
    pub attempts: i32,
    pub exit_code: Option<i32>,
    pub commit: Option<String>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub runtime: Runtime,
    /// The arguments as split, each one argv element.
    pub arguments: Vec<String>,
    /// The arguments as typed back into the form.
    pub command: String,
    pub source_id: i64,
    pub source_url: String,
    pub git_ref: String,
    pub module_path: String,
    pub state: ResourceState,
    pub status: ResourceStatus,
    pub integrations: Vec<IntegrationChoice>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorsView {
    pub executors: Vec<ExecutorRow>,
    /// (id, url) of each source code repository.
    pub sources: Vec<(i64, String)>,
    pub integrations: Vec<IntegrationChoice>,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorDetail {
    pub executor: ExecutorRow,
    pub runs: Vec<RunRow>,
    pub can_run: bool,
    /// An apply runs with the attached integrations' full rights: it takes administer on each
    /// of them (planning takes use). Why the caller may not, when they may not.
    pub apply_refused: Option<String>,
    pub can_delete: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub runtime: String,
    /// Arguments for plan / apply, split into words (quotes respected; nothing else is special).
    #[serde(default)]
    pub command: String,
    pub source_id: String,
    pub git_ref: String,
    #[serde(default)]
    pub module_path: String,
    #[serde(default)]
    pub integrations: BTreeMap<String, String>,
}

/// One line of a job's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: i32,
    pub attempt: i32,
    /// `out`, `err` or `slipway` (lines Slipway itself writes).
    pub stream: String,
    pub line: String,
}

/// A run and the lines of its log after the ones the page already has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLog {
    pub run: RunRow,
    pub lines: Vec<LogLine>,
    /// The run has ended: no more lines will come.
    pub done: bool,
}

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::executors;
    pub use crate::server::request::{ctx, require, respond};

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Resource)
    }

    pub fn one(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Resource, format!("executor:{}", slug.trim()))
    }
}

#[server(endpoint = "get_executors")]
pub async fn get_executors() -> Result<ExecutorsView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let mut view = executors::list(&ctx()?.db).await?;
            view.can_create = caller.may(Action::Create, &all());
            Ok(view)
        }
        .await,
    )
}

#[server(endpoint = "get_executor")]
pub async fn get_executor(slug: String) -> Result<ExecutorDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&slug)).await?;
            let mut detail = executors::detail(&ctx()?.db, &slug).await?;
            detail.can_run = caller.may(Action::Update, &one(&slug))
                && caller
                    .check_integrations(
                        Action::Use,
                        detail.executor.integrations.iter().map(|i| i.slug.as_str()),
                    )
                    .is_ok();
            detail.apply_refused = caller
                .check_integrations(
                    Action::Administer,
                    detail.executor.integrations.iter().map(|i| i.slug.as_str()),
                )
                .err()
                .map(|e| e.to_string());
            detail.can_delete = caller.may(Action::Delete, &one(&slug));
            Ok(detail)
        }
        .await,
    )
}

#[server(endpoint = "create_executor")]
pub async fn create_executor(input: ExecutorInput) -> Result<ExecutorRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, all()).await?;
            caller
                .check_integrations(Action::Use, input.integrations.keys().map(String::as_str))?;
            executors::save(&ctx()?.db, &caller.actor(), &input, true).await
        }
        .await,
    )
}

#[server(endpoint = "update_executor")]
pub async fn update_executor(input: ExecutorInput) -> Result<ExecutorRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&input.slug)).await?;
            caller
                .check_integrations(Action::Use, input.integrations.keys().map(String::as_str))?;
            let db = ctx()?.db;
            if executors::moves_state(&db, &input).await? {
                caller.check(Action::Administer, &one(&input.slug)).map_err(|_| {
                    AppError::Forbidden(format!(
                        "Executor {} holds the state of what it applied: pointing it at other code (source, ref or module path) would hand that state to the new code. That takes the admin role on the executor.",
                        input.slug.trim()
                    ))
                })?;
            }
            executors::save(&db, &caller.actor(), &input, false).await
        }
        .await,
    )
}

#[server(endpoint = "delete_executor")]
pub async fn delete_executor(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Delete, one(&slug)).await?;
            executors::delete(&ctx()?.db, &caller.actor(), &slug).await
        }
        .await,
    )
}

/// Queues a `plan` or `apply` run; the answer is the queued run, whose log the page follows.
#[server(endpoint = "run_executor")]
pub async fn run_executor(slug: String, action: String) -> Result<RunRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&slug)).await?;
            let ctx = ctx()?;
            // Checked again at the click, against the integrations attached now: a binding
            // removed since the executor was saved stops its runs.
            let attached = executors::detail(&ctx.db, &slug)
                .await?
                .executor
                .integrations;
            let needed = if action.trim() == "apply" {
                Action::Administer
            } else {
                Action::Use
            };
            caller.check_integrations(needed, attached.iter().map(|i| i.slug.as_str()))?;
            let run = executors::run(&ctx.db, &caller.actor(), &slug, &action).await?;
            ctx.jobs_wake.notify_one();
            Ok(run)
        }
        .await,
    )
}

#[server(endpoint = "get_run_log")]
pub async fn get_run_log(slug: String, run: i64, after: i32) -> Result<RunLog, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, one(&slug)).await?;
            executors::run_log(&ctx()?.db, &slug, run, after).await
        }
        .await,
    )
}

//! Executors: modules run directly (not templated) for one-off tasks. Each run is a durable job
//! whose output streams to the page. Executors are checked as resources: read to see them,
//! create / update / delete to change them, update to run them.

use crate::error::AppError;
pub use crate::wire::executors::*;
use leptos::prelude::*;

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

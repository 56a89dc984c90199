//! Governed repositories: their manifests (stored with revisions, edited in the portal with the
//! same validation the CLI runs) and the plan Slipway computes from them.

use crate::error::AppError;
pub use crate::wire::repositories::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::repositories;
    pub use crate::server::request::{ctx, require, respond};

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Repository)
    }

    pub fn one(name: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Repository, name.trim().to_string())
    }

    pub use crate::server::governance::reviewer_needs;

    /// A governed pull request as `caller` sees it: whether they may review it, and whether
    /// they opened it (and so may not approve it).
    pub async fn pull_for(
        ctx: &crate::server::AppCtx,
        caller: &crate::server::request::Caller,
        name: &str,
        number: i64,
        managed: bool,
    ) -> crate::error::AppResult<super::GovernedPull> {
        let mut pull = crate::server::governance::pull(ctx, name.trim(), number, managed).await?;
        let (action, target) = reviewer_needs(name, managed);
        pull.can_review = caller.may(action, &target);
        pull.is_author = pull.row.author == caller.actor().label;
        Ok(pull)
    }
}

#[server(endpoint = "get_repositories")]
pub async fn get_repositories() -> Result<RepositoriesView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            Ok(RepositoriesView {
                repositories: repositories::list(&ctx()?.db).await?,
                can_create: caller.may(Action::Create, &all()),
            })
        }
        .await,
    )
}

#[server(endpoint = "get_repository")]
pub async fn get_repository(name: String) -> Result<RepositoryDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&name)).await?;
            let mut detail = repositories::detail(&ctx()?.db, name.trim()).await?;
            detail.can_edit = caller.may(Action::Update, &one(&name));
            Ok(detail)
        }
        .await,
    )
}

/// Makes a new build secret for the repository (replacing any other) and returns it, once: it
/// goes into the repository's CI secret `SLIPWAY_WEBHOOK_SECRET`.
#[server(endpoint = "rotate_build_secret")]
pub async fn rotate_build_secret(name: String) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            // The secret lets CI deploy the repository's applications: administer, not update.
            let caller = require(Action::Administer, one(&name)).await?;
            crate::server::deployments::rotate_build_secret(&ctx()?, &caller.actor(), name.trim())
                .await
        }
        .await,
    )
}

/// Saves a repository's manifests as a new revision: `name` empty creates the repository the
/// text names; otherwise `revision` must be the one the text was edited from (a newer one
/// means someone else saved meanwhile: 409, nothing written).
#[server(endpoint = "save_repository")]
pub async fn save_repository(
    name: String,
    revision: i32,
    source: String,
) -> Result<RepositoryRow, AppError> {
    use guard::*;
    respond(
        async {
            let name = name.trim();
            let caller = if name.is_empty() {
                require(Action::Create, all()).await?
            } else {
                require(Action::Update, one(name)).await?
            };
            repositories::save(
                &ctx()?.db,
                &caller.actor(),
                (!name.is_empty()).then_some(name),
                revision,
                &source,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "get_provisioning")]
pub async fn get_provisioning(name: String) -> Result<ProvisionView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&name)).await?;
            let mut view = crate::server::governance::provisioning(&ctx()?, name.trim()).await?;
            view.can_apply = caller.may(Action::Update, &one(&name));
            for file in &mut view.files {
                if file.lines.len() > FOLD_LINES {
                    file.folded = file.lines.len();
                    file.lines.clear();
                }
            }
            Ok(view)
        }
        .await,
    )
}

/// The diff of one planned file against what is in place (a folded one, opened).
#[server(endpoint = "get_planned_diff")]
pub async fn get_planned_diff(
    name: String,
    repository: String,
    path: String,
) -> Result<Vec<crate::domain::resources::DiffLine>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, one(&name)).await?;
            let view = crate::server::governance::provisioning(&ctx()?, name.trim()).await?;
            view.files
                .into_iter()
                .find(|f| f.repository == repository && f.path == path)
                .map(|f| f.lines)
                .ok_or_else(|| AppError::not_found(format!("{path} in the plan of {repository}")))
        }
        .await,
    )
}

/// The text of one generated file of the plan (a folded one, opened).
#[server(endpoint = "get_generated_file")]
pub async fn get_generated_file(
    name: String,
    repository: String,
    path: String,
) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, one(&name)).await?;
            repositories::generated_file(&ctx()?.db, name.trim(), &repository, &path).await
        }
        .await,
    )
}

/// Applies the current revision: a pull request with the files on the repository and one on
/// the managed-workflows repository, and the rulesets. An unchanged plan changes nothing.
#[server(endpoint = "provision_repository")]
pub async fn provision_repository(name: String) -> Result<ProvisionView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&name)).await?;
            let ctx = ctx()?;
            crate::server::governance::provision(&ctx, &caller.actor(), name.trim()).await?;
            let mut view = crate::server::governance::provisioning(&ctx, name.trim()).await?;
            view.can_apply = true;
            Ok(view)
        }
        .await,
    )
}

#[server(endpoint = "open_pull_request")]
pub async fn open_pull_request(
    name: String,
    head: String,
    base: String,
    title: String,
) -> Result<GovernedPullRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, one(&name)).await?;
            crate::server::governance::open_pull(
                &ctx()?,
                &caller.actor(),
                name.trim(),
                head.trim(),
                base.trim(),
                &title,
            )
            .await
        }
        .await,
    )
}

/// `number` of the repository, or with `managed` of its managed-workflows repository.
#[server(endpoint = "get_governed_pull")]
pub async fn get_governed_pull(
    name: String,
    number: i64,
    managed: bool,
) -> Result<GovernedPull, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&name)).await?;
            pull_for(&ctx()?, &caller, &name, number, managed).await
        }
        .await,
    )
}

#[server(endpoint = "approve_pull_request")]
pub async fn approve_pull_request(
    name: String,
    number: i64,
    managed: bool,
    /// The head commit reviewed: the approval covers exactly it.
    commit: String,
) -> Result<GovernedPull, AppError> {
    use guard::*;
    respond(
        async {
            let (action, target) = reviewer_needs(&name, managed);
            let caller = require(action, target).await?;
            let ctx = ctx()?;
            crate::server::governance::approve(
                &ctx,
                &caller.actor(),
                name.trim(),
                number,
                managed,
                &commit,
            )
            .await?;
            pull_for(&ctx, &caller, &name, number, managed).await
        }
        .await,
    )
}

/// Merges when Merge Authorized passes; otherwise 409 with every failing rule's reason.
#[server(endpoint = "merge_pull_request")]
pub async fn merge_pull_request(
    name: String,
    number: i64,
    managed: bool,
    method: String,
) -> Result<GovernedPull, AppError> {
    use guard::*;
    respond(
        async {
            let (action, target) = reviewer_needs(&name, managed);
            let caller = require(action, target).await?;
            let method = crate::domain::branching::MergeMethod::parse(method.trim())
                .ok_or_else(|| AppError::invalid("method", "must be merge, squash or rebase"))?;
            let ctx = ctx()?;
            crate::server::governance::merge(
                &ctx,
                &caller.actor(),
                name.trim(),
                number,
                managed,
                method,
            )
            .await?;
            pull_for(&ctx, &caller, &name, number, managed).await
        }
        .await,
    )
}

//! Workspaces: Git repositories holding resources' generated code, changed through pull requests
//! that a person approves (merge) or rejects (close). Permissions follow seed 000: any signed-in
//! user views; creating needs create on workspaces; editing needs update on the workspace;
//! deleting needs admin on it; approving or rejecting needs approve (member) on both the resource
//! and its workspace.

use crate::domain::workspaces::RepoConfig;
use crate::error::AppError;
pub use crate::wire::workspaces::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, require_signed_in, respond};
    pub use crate::server::workspaces;

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Workspace)
    }

    pub fn one(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Workspace, slug.trim().to_string())
    }

    pub fn resource(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Resource, slug.trim().to_string())
    }
}

#[server(endpoint = "get_workspaces")]
pub async fn get_workspaces() -> Result<WorkspacesView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            let ctx = ctx()?;
            // Each workspace is listed to those who may read it (a binding on one workspace
            // shows that one).
            let mut listed = workspaces::list(&ctx.db).await?;
            listed.retain(|w| caller.may(Action::Read, &one(&w.slug)));
            Ok(WorkspacesView {
                workspaces: listed,
                integrations: workspaces::git_integrations(&ctx.db).await?,
                can_create: caller.may(Action::Create, &all()),
            })
        }
        .await,
    )
}

#[server(endpoint = "get_workspace")]
pub async fn get_workspace(slug: String) -> Result<WorkspaceDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&slug)).await?;
            let ctx = ctx()?;
            let mut detail = workspaces::detail(&ctx.db, slug.trim()).await?;
            detail.can_edit = caller.may(Action::Update, &one(&slug));
            detail.can_delete = caller.may(Action::Administer, &one(&slug));
            Ok(detail)
        }
        .await,
    )
}

#[server(endpoint = "register_workspace")]
pub async fn register_workspace(input: NewWorkspace) -> Result<WorkspaceRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, all()).await?;
            // Its credentials push the workspace's code: use on the integration.
            caller.check_integrations(Action::Use, [input.integration.as_str()])?;
            workspaces::register(&ctx()?, &caller.actor(), &input).await
        }
        .await,
    )
}

/// A new repository in the local forge (`ORG/NAME`), for teams with no Git host of their own.
#[server(endpoint = "create_local_repository")]
pub async fn create_local_repository(repository: String) -> Result<RepoConfig, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, all()).await?;
            workspaces::create_local_repository(&ctx()?, &caller.actor(), &repository).await
        }
        .await,
    )
}

#[server(endpoint = "update_workspace")]
pub async fn update_workspace(
    slug: String,
    description: String,
    labels: String,
) -> Result<WorkspaceRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&slug)).await?;
            workspaces::update(
                &ctx()?.db,
                &caller.actor(),
                slug.trim(),
                &description,
                &labels,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "delete_workspace")]
pub async fn delete_workspace(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, one(&slug)).await?;
            workspaces::delete(&ctx()?.db, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

/// A pull request of the local forge (`ORG/NAME`, number) with its diff.
#[server(endpoint = "get_pull_request")]
pub async fn get_pull_request(repository: String, number: i64) -> Result<PullDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            let ctx = ctx()?;
            let workspace = workspaces::workspace_of_repository(&ctx.db, repository.trim()).await?;
            caller.check(Action::Read, &one(&workspace))?;
            workspaces::pull_detail(&ctx, repository.trim(), number).await
        }
        .await,
    )
}

/// A local-forge repository: files on the default branch, pull requests.
#[server(endpoint = "get_forge_repository")]
pub async fn get_forge_repository(repository: String) -> Result<ForgeRepository, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            let ctx = ctx()?;
            let workspace = workspaces::workspace_of_repository(&ctx.db, repository.trim()).await?;
            caller.check(Action::Read, &one(&workspace))?;
            workspaces::forge_repository(&ctx, repository.trim()).await
        }
        .await,
    )
}

/// The resource's workspace panel (None when the resource is in no workspace).
#[server(endpoint = "get_resource_workspace")]
pub async fn get_resource_workspace(
    slug: String,
    after: i32,
) -> Result<Option<ResourceWorkspace>, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, resource(&slug)).await?;
            let ctx = ctx()?;
            let mut view = workspaces::resource_workspace(&ctx.db, slug.trim(), after).await?;
            if let Some(view) = &mut view {
                view.can_review = caller.may(Action::Approve, &resource(&slug))
                    && caller.may(Action::Approve, &one(&view.workspace));
                if let Some(failed) = workspaces::failed_job(&ctx.db, slug.trim()).await? {
                    // Running a review or an apply again is a reviewer's; a sync or plan an editor's.
                    let action = if failed.kind == workspaces::REVIEW_JOB
                        || failed.kind == crate::server::plans::APPLY_JOB
                    {
                        Action::Approve
                    } else {
                        Action::Update
                    };
                    view.can_retry = caller.may(action, &resource(&slug))
                        && caller.may(action, &one(&view.workspace));
                }
                let me = caller.actor().label;
                view.is_author = view
                    .open_pull
                    .as_ref()
                    .is_some_and(|p| p.authors.contains(&me));
            }
            Ok(view)
        }
        .await,
    )
}

/// Recreate: sync the resource's code again and merge it at once (needs approve, like a review).
#[server(endpoint = "recreate_resource")]
pub async fn recreate_resource(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Approve, resource(&slug)).await?;
            let ctx = ctx()?;
            let workspace = workspaces::workspace_of_resource(&ctx.db, slug.trim()).await?;
            require(Action::Approve, one(&workspace)).await?;
            workspaces::recreate(&ctx, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

/// Retry: run the resource's failed job again. A sync takes update on the resource and its
/// workspace, as writing it did; a review (merge or close) takes approve, as reviewing did.
#[server(endpoint = "retry_resource_job")]
pub async fn retry_resource_job(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let slug = slug.trim().to_string();
            let caller = require(Action::Update, resource(&slug)).await?;
            let ctx = ctx()?;
            let workspace = workspaces::workspace_of_resource(&ctx.db, &slug).await?;
            require(Action::Update, one(&workspace)).await?;
            let failed = workspaces::failed_job(&ctx.db, &slug).await?;
            if failed.is_some_and(|job| {
                job.kind == workspaces::REVIEW_JOB || job.kind == crate::server::plans::APPLY_JOB
            }) {
                require(Action::Approve, resource(&slug)).await?;
                require(Action::Approve, one(&workspace)).await?;
            }
            workspaces::retry(&ctx, &caller.actor(), &slug)
                .await
                .map(|_| ())
        }
        .await,
    )
}

/// Approve (merge) or reject (close) the open pull request of a resource.
#[server(endpoint = "review_resource")]
pub async fn review_resource(
    slug: String,
    approve: bool,
    /// Approving: the head commit reviewed, the only one the merge may take.
    commit: String,
) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Approve, resource(&slug)).await?;
            let ctx = ctx()?;
            let workspace = workspaces::workspace_of_resource(&ctx.db, slug.trim()).await?;
            require(Action::Approve, one(&workspace)).await?;
            workspaces::review(&ctx, &caller.actor(), slug.trim(), approve, &commit).await
        }
        .await,
    )
}

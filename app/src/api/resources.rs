//! Resources: instances of concrete templates at one of their source code versions, with
//! variables, parents, cloud integrations, generated code and revisions. Reading needs read on
//! resources; creating, editing and lifecycle actions need create / update / delete.

use crate::error::AppError;
pub use crate::wire::resources::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};
    pub use crate::server::resources;

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Resource)
    }

    pub fn one(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Resource, slug.trim().to_string())
    }

    /// A resource's code is written into its workspace's repository: changing the resource
    /// needs update on that workspace as well.
    pub fn require_workspace_write(
        caller: &crate::server::request::Caller,
        workspace: Option<&str>,
    ) -> crate::error::AppResult<()> {
        match workspace.map(str::trim).filter(|w| !w.is_empty()) {
            Some(workspace) => caller.check(
                Action::Update,
                &ResourceRef::entity(EntityType::Workspace, workspace.to_string()),
            ),
            None => Ok(()),
        }
    }

    pub async fn require_resource_workspace_write(
        caller: &crate::server::request::Caller,
        slug: &str,
    ) -> crate::error::AppResult<()> {
        let ctx = ctx()?;
        let workspace =
            crate::server::workspaces::workspace_of_resource_if_any(&ctx.db, slug.trim()).await?;
        require_workspace_write(caller, workspace.as_deref())
    }
}

/// One page of resources, newest change first, with the total count.
#[server(endpoint = "get_resources")]
pub async fn get_resources(page: u64) -> Result<ResourcePage, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let ctx = ctx()?;
            let pages = &ctx.cache.resource_pages;
            let mut listed = match pages.get(&page, caller.version) {
                Some(listed) => listed,
                None => {
                    let listed = resources::list(&ctx.db, page).await?;
                    pages.put(page, caller.version, listed.clone());
                    listed
                }
            };
            listed.can_create = caller.may(Action::Create, &all());
            Ok(listed)
        }
        .await,
    )
}

#[server(endpoint = "get_resource")]
pub async fn get_resource(slug: String) -> Result<ResourceDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&slug)).await?;
            let ctx = ctx()?;
            let mut detail = resources::detail(&ctx, &slug).await?;
            detail.can_edit = caller.may(Action::Update, &one(&slug));
            detail.can_delete = caller.may(Action::Delete, &one(&slug));
            Ok(detail)
        }
        .await,
    )
}

/// The form for a new resource of `template` (empty: only the template picker), or for editing
/// `resource`.
#[server(endpoint = "get_resource_form")]
pub async fn get_resource_form(
    template: String,
    resource: Option<String>,
) -> Result<ResourceForm, AppError> {
    use guard::*;
    respond(
        async {
            match &resource {
                Some(slug) => require(Action::Update, one(slug)).await?,
                None => require(Action::Create, all()).await?,
            };
            resources::form(&ctx()?, &template, resource.as_deref()).await
        }
        .await,
    )
}

#[server(endpoint = "create_resource")]
pub async fn create_resource(input: ResourceInput) -> Result<ResourceListRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, all()).await?;
            require_workspace_write(&caller, Some(&input.workspace))?;
            caller
                .check_integrations(Action::Use, input.integrations.keys().map(String::as_str))?;
            resources::create(&ctx()?, &caller.actor(), &input).await
        }
        .await,
    )
}

/// Saves an edit as a new revision of the resource named by `input.slug`.
#[server(endpoint = "update_resource")]
pub async fn update_resource(input: ResourceInput) -> Result<ResourceListRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&input.slug)).await?;
            require_resource_workspace_write(&caller, &input.slug).await?;
            caller
                .check_integrations(Action::Use, input.integrations.keys().map(String::as_str))?;
            resources::update(&ctx()?, &caller.actor(), &input).await
        }
        .await,
    )
}

/// `destroy`, `cancel_destroy` or `delete`.
#[server(endpoint = "resource_action")]
pub async fn resource_action(slug: String, action: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let needed = if action == "delete" || action == "destroy" {
                Action::Delete
            } else {
                Action::Update
            };
            let caller = require(needed, one(&slug)).await?;
            require_resource_workspace_write(&caller, &slug).await?;
            let ctx = ctx()?;
            resources::act(&ctx.db, &caller.actor(), &slug, &action).await?;
            // Destroy queues a sync, and deleting a resource under review queues a close.
            ctx.jobs_wake.notify_one();
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "get_revision_diff")]
pub async fn get_revision_diff(slug: String, from: i32, to: i32) -> Result<RevisionDiff, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, one(&slug)).await?;
            resources::diff(&ctx()?.db, &slug, from, to).await
        }
        .await,
    )
}

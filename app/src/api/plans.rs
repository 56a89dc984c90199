//! A resource's runs: its plans, outputs and state versions (anyone who may read the resource;
//! no sensitive value is ever in them), and the approval of a plan made after a merge (approve
//! on both the resource and its workspace, never by an author of the change).

use crate::error::AppError;
pub use crate::wire::plans::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};
    pub use crate::server::{plans, workspaces};

    pub fn resource(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Resource, slug.trim().to_string())
    }

    pub fn workspace(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Workspace, slug.trim().to_string())
    }
}

#[server(endpoint = "get_resource_runs")]
pub async fn get_resource_runs(slug: String) -> Result<ResourceRuns, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, resource(&slug)).await?;
            let db = &ctx()?.db;
            let groups = crate::server::directory::groups_of(db, caller.user.id).await?;
            let me = caller.actor().label;
            plans::resource_runs(db, slug.trim(), (&me, &groups)).await
        }
        .await,
    )
}

#[server(endpoint = "compare_state_versions")]
pub async fn compare_state_versions(
    slug: String,
    from: i64,
    to: i64,
) -> Result<StateDiff, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, resource(&slug)).await?;
            plans::state_diff(&ctx()?, slug.trim(), from, to).await
        }
        .await,
    )
}

/// Approves a plan made after its change was merged (the first plan went stale): it is
/// applied as shown.
#[server(endpoint = "approve_plan")]
pub async fn approve_plan(slug: String, plan: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Approve, resource(&slug)).await?;
            let ctx = ctx()?;
            let owner = workspaces::workspace_of_resource(&ctx.db, slug.trim()).await?;
            require(Action::Approve, workspace(&owner)).await?;
            plans::approve_apply(&ctx, &caller.actor(), slug.trim(), plan).await
        }
        .await,
    )
}

/// Plans a provisioned resource's merged code again (after a parent's outputs changed): the
/// plan then waits for someone else's approval.
#[server(endpoint = "replan_resource")]
pub async fn replan_resource(slug: String) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, resource(&slug)).await?;
            let ctx = ctx()?;
            let owner = workspaces::workspace_of_resource(&ctx.db, slug.trim()).await?;
            require(Action::Update, workspace(&owner)).await?;
            plans::replan(&ctx, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

/// Overrides a policy's denial of a plan: a member of the policy's override group, who wrote
/// none of the change, with a reason (the group is the policy's permission; reading the
/// resource is the portal's).
#[server(endpoint = "override_policy")]
pub async fn override_policy(
    slug: String,
    plan: i64,
    policy: String,
    reason: String,
) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, resource(&slug)).await?;
            crate::server::policies::override_denial(
                &ctx()?,
                &caller.actor(),
                slug.trim(),
                plan,
                policy.trim(),
                &reason,
            )
            .await
        }
        .await,
    )
}

//! Drift: the list of drifted resources and each resource's drift (anyone who may read them),
//! checks asked for now, acknowledgements and reconciles (changes to the resource and its
//! workspace), accepting the world as it is (an approval on both), and a workspace's schedule
//! (a change to the workspace).

use crate::error::AppError;
pub use crate::wire::drift::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};
    pub use crate::server::{plans, workspaces};

    pub fn resource(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Resource, slug.trim().to_string())
    }

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Resource)
    }

    pub fn workspace(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Workspace, slug.trim().to_string())
    }

    /// `action` on the resource and on the workspace that holds it; answers the caller.
    pub async fn on_both(
        action: Action,
        slug: &str,
    ) -> Result<crate::server::request::Caller, crate::error::AppError> {
        let caller = require(action, resource(slug)).await?;
        let owner = workspaces::workspace_of_resource(&ctx()?.db, slug.trim()).await?;
        require(action, workspace(&owner)).await?;
        Ok(caller)
    }
}

/// The Drift page: each drift is listed to those who may read its resource.
#[server(endpoint = "get_drifts")]
pub async fn get_drifts() -> Result<DriftList, AppError> {
    use guard::*;
    respond(
        async {
            let caller = crate::server::request::require_signed_in().await?;
            // Who may not read every resource sees the drift of those granted to them by name.
            let only =
                (!caller.may(Action::Read, &all())).then(|| caller.granted(EntityType::Resource));
            let mut list = plans::drift_list(&ctx()?.db, only.as_deref()).await?;
            list.current
                .retain(|d| caller.may(Action::Read, &resource(&d.resource)));
            list.resolved
                .retain(|d| caller.may(Action::Read, &resource(&d.resource)));
            Ok(list)
        }
        .await,
    )
}

#[server(endpoint = "get_resource_drift")]
pub async fn get_resource_drift(slug: String) -> Result<ResourceDrift, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, resource(&slug)).await?;
            plans::resource_drift(&ctx()?.db, slug.trim()).await
        }
        .await,
    )
}

/// Checks one resource for drift now.
#[server(endpoint = "check_drift")]
pub async fn check_drift(slug: String) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = on_both(Action::Update, &slug).await?;
            plans::check_now(&ctx()?, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

/// Checks every provisioned resource of a workspace now.
#[server(endpoint = "check_workspace_drift")]
pub async fn check_workspace_drift(slug: String) -> Result<u64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, workspace(&slug)).await?;
            plans::check_workspace_now(&ctx()?, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

#[server(endpoint = "set_drift_schedule")]
pub async fn set_drift_schedule(slug: String, minutes: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, workspace(&slug)).await?;
            plans::set_schedule(&ctx()?.db, &caller.actor(), slug.trim(), &minutes).await
        }
        .await,
    )
}

#[server(endpoint = "acknowledge_drift")]
pub async fn acknowledge_drift(slug: String, reason: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = on_both(Action::Update, &slug).await?;
            plans::acknowledge(&ctx()?.db, &caller.actor(), slug.trim(), &reason).await
        }
        .await,
    )
}

/// Opens the reconcile pull request of a resource's drift.
#[server(endpoint = "reconcile_drift")]
pub async fn reconcile_drift(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = on_both(Action::Update, &slug).await?;
            plans::reconcile(&ctx()?, &caller.actor(), slug.trim()).await
        }
        .await,
    )
}

/// Proposes accepting the world as the newest check found it (someone else approves).
#[server(endpoint = "propose_accept_drift")]
pub async fn propose_accept_drift(slug: String, plan: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = on_both(Action::Update, &slug).await?;
            plans::propose_accept(&ctx()?.db, &caller.actor(), slug.trim(), plan).await
        }
        .await,
    )
}

/// Approves accepting the world as the newest check found it: applies that check's
/// refresh-only plan.
#[server(endpoint = "accept_drift")]
pub async fn accept_drift(slug: String, plan: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = on_both(Action::Approve, &slug).await?;
            plans::accept(&ctx()?, &caller.actor(), slug.trim(), plan).await
        }
        .await,
    )
}

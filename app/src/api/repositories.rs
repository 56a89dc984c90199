//! Governed repositories: their manifests (stored with revisions, edited in the portal with the
//! same validation the CLI runs) and the plan Slipway computes from them.

use crate::domain::repositories::RepositoryPlan;
use crate::domain::versioning::Strategy;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRow {
    pub name: String,
    pub strategy: Strategy,
    /// The BuildDefinitions' names and types (`my-service · GOLANG`).
    pub builds: Vec<(String, String)>,
    pub revision: i32,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoriesView {
    pub repositories: Vec<RepositoryRow>,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub revision: i32,
    pub author: String,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryDetail {
    pub row: RepositoryRow,
    pub source: String,
    pub revisions: Vec<RevisionRow>,
    pub plan: RepositoryPlan,
    pub can_edit: bool,
}

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

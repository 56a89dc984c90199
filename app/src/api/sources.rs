//! Source code (module repositories) and source code versions (a template's module at a tag or
//! branch, with the interface discovered there). Both belong to the catalog: reading needs read
//! on templates, changing needs create / delete on templates.

use crate::error::AppError;
pub use crate::wire::sources::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};
    pub use crate::server::sources;

    pub fn catalog() -> ResourceRef {
        ResourceRef::of_type(EntityType::Template)
    }
}

#[server(endpoint = "get_sources")]
pub async fn get_sources() -> Result<SourcesView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, catalog()).await?;
            let db = ctx()?.db;
            Ok(SourcesView {
                sources: sources::list(&db).await?,
                git_integrations: sources::git_integrations(&db).await?,
                can_create: caller.may(Action::Create, &catalog()),
            })
        }
        .await,
    )
}

/// Registers a repository. Slipway fetches it first; a repository it cannot reach is refused
/// with the reason, and nothing is saved.
#[server(endpoint = "create_source")]
pub async fn create_source(source: NewSource) -> Result<SourceCodeRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, catalog()).await?;
            // Its credentials fetch the repository: use on the integration.
            caller.check_integrations(Action::Use, [source.integration.as_str()])?;
            sources::create(&ctx()?, &caller.actor(), &source).await
        }
        .await,
    )
}

/// Fetches the repository again and lists its tags, branches and module folders.
#[server(endpoint = "refresh_source")]
pub async fn refresh_source(id: i64) -> Result<SourceCodeRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, catalog()).await?;
            sources::refresh(&ctx()?, &caller.actor(), id).await
        }
        .await,
    )
}

#[server(endpoint = "delete_source")]
pub async fn delete_source(id: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Delete, catalog()).await?;
            sources::delete(&ctx()?.db, &caller.actor(), id).await
        }
        .await,
    )
}

#[server(endpoint = "get_template_versions")]
pub async fn get_template_versions(template: String) -> Result<Vec<VersionRow>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, catalog()).await?;
            sources::versions_of(&ctx()?.db, &template).await
        }
        .await,
    )
}

/// Reads the module at the ref and path and records its interface as a version of the template.
#[server(endpoint = "create_version")]
pub async fn create_version(version: NewVersion) -> Result<VersionRow, AppError> {
    use guard::*;
    respond(
        async {
            let resource =
                ResourceRef::entity(EntityType::Template, version.template.trim().to_string());
            let caller = require(Action::Update, resource).await?;
            sources::create_version(&ctx()?, &caller.actor(), &version).await
        }
        .await,
    )
}

#[server(endpoint = "delete_version")]
pub async fn delete_version(id: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Delete, catalog()).await?;
            sources::delete_version(&ctx()?.db, &caller.actor(), id).await
        }
        .await,
    )
}

//! Integrations: credentials and settings for clouds, git hosts and sign-in providers. Anyone
//! with read on integrations sees them (never their secrets); creating, changing and deleting
//! take a global admin or a binding on integrations (see `EntityType::guards_writes`).

#[cfg(feature = "ssr")]
use crate::domain::integrations::IntegrationKind;
use crate::error::AppError;
pub use crate::wire::integrations::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::integrations;
    pub use crate::server::request::{ctx, require, respond};

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Integration)
    }

    pub fn one(slug: &str) -> ResourceRef {
        ResourceRef::entity(EntityType::Integration, slug.trim().to_string())
    }
}

#[server(endpoint = "get_integrations")]
pub async fn get_integrations() -> Result<IntegrationsView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            Ok(IntegrationsView {
                integrations: integrations::list(&ctx()?.db).await?,
                can_create: caller.may(Action::Create, &all()),
            })
        }
        .await,
    )
}

#[server(endpoint = "get_integration")]
pub async fn get_integration(slug: String) -> Result<IntegrationDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, one(&slug)).await?;
            let db = ctx()?.db;
            let integration = integrations::find(&db, &slug).await?;
            Ok(IntegrationDetail {
                used_by: integrations::used_by(&db, integration.id).await?,
                integration,
                can_edit: caller.may(Action::Update, &one(&slug)),
            })
        }
        .await,
    )
}

#[server(endpoint = "create_integration")]
pub async fn create_integration(input: IntegrationInput) -> Result<IntegrationRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, all()).await?;
            let ctx = ctx()?;
            integrations::create(&ctx.db, &ctx.secrets, &caller.actor(), &input).await
        }
        .await,
    )
}

/// Changes the integration named by `input.slug`; its slug and provider never change.
#[server(endpoint = "update_integration")]
pub async fn update_integration(input: IntegrationInput) -> Result<IntegrationRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, one(&input.slug)).await?;
            let ctx = ctx()?;
            integrations::update(&ctx.db, &ctx.secrets, &caller.actor(), &input).await
        }
        .await,
    )
}

#[server(endpoint = "delete_integration")]
pub async fn delete_integration(slug: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Delete, one(&slug)).await?;
            integrations::delete(&ctx()?.db, &caller.actor(), &slug).await
        }
        .await,
    )
}

/// Tries a git integration's credentials against its host; the answer says as whom, or why not.
#[server(endpoint = "test_integration")]
pub async fn test_integration(slug: String) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, one(&slug)).await?;
            let ctx = ctx()?;
            let integration = integrations::find(&ctx.db, &slug).await?;
            let secrets = integrations::open_secrets(&ctx.db, &ctx.secrets, integration.id).await?;
            if integration.kind != IntegrationKind::Git {
                return Err(AppError::invalid(
                    "slug",
                    "only git integrations have a connection test",
                ));
            }
            ctx.repos
                .test_connection(integration.provider, &integration.settings, &secrets)
                .await
                .map_err(|reason| AppError::Conflict(format!("The connection failed: {reason}.")))
        }
        .await,
    )
}

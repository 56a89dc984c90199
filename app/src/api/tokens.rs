//! Personal access tokens: what a person's git client sends to the local forge's smart HTTP
//! endpoint (`/git/<org>/<name>.git`). Each person manages only their own.

use crate::error::AppError;
pub use crate::wire::tokens::*;
use leptos::prelude::*;

#[server(endpoint = "get_account")]
pub async fn get_account() -> Result<AccountView, AppError> {
    use crate::server::request::{ctx, require_signed_in, respond};
    respond(
        async {
            use crate::domain::integrations::Provider;
            use crate::domain::rbac::{Action, EntityType, ResourceRef};
            let caller = require_signed_in().await?;
            let db = ctx()?.db;
            let tokens = crate::server::tokens::list(&db, caller.user.id).await?;
            let repositories = crate::server::workspaces::list(&db)
                .await?
                .into_iter()
                .filter(|w| {
                    w.provider == Provider::LocalGit
                        && caller.may(
                            Action::Read,
                            &ResourceRef::entity(EntityType::Workspace, w.slug.clone()),
                        )
                })
                .map(|w| (w.repository, w.config.https_url))
                .collect();
            Ok(AccountView {
                repositories,
                login: caller.user.login,
                name: caller.user.name,
                email: caller.user.email,
                tokens,
            })
        }
        .await,
    )
}

#[server(endpoint = "create_access_token")]
pub async fn create_access_token(
    name: String,
    /// `read` (the default) or `write`.
    scope: Option<String>,
    /// Days until it expires: 7, 30, 90 (the default) or 365.
    days: Option<i64>,
) -> Result<CreatedToken, AppError> {
    use crate::server::request::{ctx, require_signed_in, respond};
    respond(
        async {
            let caller = require_signed_in().await?;
            crate::server::tokens::create(
                &ctx()?.db,
                &caller.actor(),
                &name,
                scope.as_deref().unwrap_or("read"),
                days.unwrap_or(90),
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "revoke_access_token")]
pub async fn revoke_access_token(id: i64) -> Result<AccessTokenRow, AppError> {
    use crate::server::request::{ctx, require_signed_in, respond};
    respond(
        async {
            let caller = require_signed_in().await?;
            crate::server::tokens::revoke(&ctx()?.db, &caller.actor(), id).await
        }
        .await,
    )
}

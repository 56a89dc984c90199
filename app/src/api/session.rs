//! Who is signed in, and how one signs in.

use crate::error::AppError;
pub use crate::wire::session::*;
use leptos::prelude::*;

/// Public: the shell asks on every page whether anyone is signed in.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    use crate::domain::rbac::{Action, EntityType, ResourceRef};
    use crate::server::request::{caller, respond};
    respond(
        async {
            let Some(caller) = caller().await? else {
                return Ok(None);
            };
            let ctx = crate::server::request::ctx()?;
            let groups = crate::server::directory::groups_of(&ctx.db, caller.user.id).await?;
            Ok(Some(CurrentUser {
                id: caller.user.id,
                grants: caller
                    .subject
                    .grants
                    .iter()
                    .map(|g| format!("{} on {}", g.role, g.scope.describe()))
                    .collect(),
                groups,
                can_admin: caller.may(Action::Read, &ResourceRef::of_type(EntityType::Access)),
                can_audit: caller.may(Action::Read, &ResourceRef::of_type(EntityType::Audit)),
                login: caller.user.login,
                name: caller.user.name,
                email: caller.user.email,
            }))
        }
        .await,
    )
}

/// Public: the sign-in page's choices.
#[server(endpoint = "sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    use crate::server::request::{ctx, respond};
    respond(ctx().map(|ctx| SignInOptions {
        methods: ctx.portal.sign_in_methods.clone(),
        demo: ctx.portal.demo,
    }))
}

/// Public under `--demo`; without it the demo does not exist (404).
#[server(endpoint = "demo_users")]
pub async fn demo_users() -> Result<Vec<DemoUser>, AppError> {
    use crate::server::request::{ctx, respond};
    respond(
        async {
            let ctx = ctx()?;
            if !ctx.portal.demo {
                return Err(AppError::NotFound(
                    "Demo sign-in is only available when Slipway runs with --demo.".into(),
                ));
            }
            crate::server::directory::demo_users(&ctx.db).await
        }
        .await,
    )
}

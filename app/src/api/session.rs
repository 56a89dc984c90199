//! Who is signed in, and how one signs in.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A way to sign in, as the sign-in page offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethod {
    /// `github`, `microsoft` or `oidc`.
    pub id: String,
    pub label: String,
    /// Where the button goes: the server route that starts the flow.
    pub href: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub methods: Vec<SignInMethod>,
    pub demo: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    /// The caller's grants in words, for the user menu and the home page.
    pub grants: Vec<String>,
    pub groups: Vec<String>,
    pub can_admin: bool,
    pub can_audit: bool,
}

impl CurrentUser {
    pub fn initials(&self) -> String {
        let mut letters = self
            .name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>();
        if letters.is_empty() {
            letters = self.login.chars().take(1).collect();
        }
        letters.to_uppercase()
    }
}

/// One of the seeded users the demo sign-in page offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub login: String,
    pub name: String,
    pub groups: Vec<String>,
    pub grants: Vec<String>,
}

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

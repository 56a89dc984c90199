//! What a server function needs from the request it serves: the context, the session, the
//! signed-in caller, and the one place where a refusal becomes an HTTP status.

use super::entities::users;
use super::{access, Actor, AppCtx};
use crate::domain::rbac::{authorize, Action, Decision, ResourceRef, Subject};
use crate::error::{AppError, AppResult};
use leptos::prelude::*;
use sea_orm::EntityTrait;
use tower_sessions::Session;

/// The session key holding the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";

pub fn ctx() -> AppResult<AppCtx> {
    use_context::<AppCtx>()
        .ok_or_else(|| AppError::internal("AppCtx missing from the request context"))
}

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal(format!("session layer missing: {e}")))
}

/// The signed-in user and their grants.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: users::Model,
    pub subject: Subject,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.login)
    }

    pub fn may(&self, action: Action, resource: &ResourceRef) -> bool {
        authorize(&self.subject, action, resource).is_allowed()
    }
}

pub async fn caller() -> AppResult<Option<Caller>> {
    let ctx = ctx()?;
    let session = session().await?;
    let user_id: Option<i64> = session
        .get(SESSION_USER_KEY)
        .await
        .map_err(AppError::internal)?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let Some(user) = users::Entity::find_by_id(user_id).one(&ctx.db).await? else {
        // The user was removed while signed in: the session no longer stands for anyone.
        session.flush().await.map_err(AppError::internal)?;
        return Ok(None);
    };
    let subject = access::subject_for_user(&ctx.db, user.id).await?;
    Ok(Some(Caller { user, subject }))
}

/// The caller, if the policy lets them perform `action` on `resource`.
pub async fn require(action: Action, resource: ResourceRef) -> AppResult<Caller> {
    let caller = caller().await?.ok_or(AppError::Unauthorized)?;
    match authorize(&caller.subject, action, &resource) {
        Decision::Allow => Ok(caller),
        Decision::Unauthenticated => Err(AppError::Unauthorized),
        Decision::Deny(reason) => Err(AppError::Forbidden(reason)),
    }
}

/// Any signed-in caller.
pub async fn require_signed_in() -> AppResult<Caller> {
    caller().await?.ok_or(AppError::Unauthorized)
}

/// Every server function ends with this: an error sets the response's HTTP status, for a fetch
/// from the browser and for the page being rendered on the server alike.
pub fn respond<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(error) = &result {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
                options.set_status(status);
            }
        }
    }
    result
}

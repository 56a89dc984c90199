//! What a server function needs from the request it serves: the context, the session, the
//! signed-in caller, and the one place where a refusal becomes an HTTP status.

use super::entities::{sessions, users};
use super::{access, cache, Actor, AppCtx};
use crate::domain::rbac::{authorize, Action, Decision, ResourceRef, Subject};
use crate::error::{AppError, AppResult};
use leptos::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tower_sessions::Session;

/// The session key holding the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";

/// The application's context. Missing only when a request's reactive owner is gone (a
/// server-side render the browser abandoned, say): the log names the caller, so such a case
/// can be told from a route that forgot to provide it.
#[track_caller]
pub fn ctx() -> AppResult<AppCtx> {
    let caller = std::panic::Location::caller();
    use_context::<AppCtx>().ok_or_else(|| {
        AppError::internal(format!(
            "AppCtx missing from the request context (asked at {}:{})",
            caller.file(),
            caller.line()
        ))
    })
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
    /// The database's version read before the caller was resolved; what this request computes
    /// may be cached under it (`server::cache`).
    pub version: i64,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.login)
    }

    pub fn may(&self, action: Action, resource: &ResourceRef) -> bool {
        authorize(&self.subject, action, resource).is_allowed()
    }

    /// The entities of one type granted to the caller by name (any role), for lists that
    /// a caller without a right on the whole type sees a part of.
    pub fn granted(&self, entity_type: crate::domain::rbac::EntityType) -> Vec<String> {
        use crate::domain::rbac::Scope;
        self.subject
            .grants
            .iter()
            .filter_map(|grant| match &grant.scope {
                Scope::Entity {
                    entity_type: t,
                    entity_id,
                } if *t == entity_type => Some(entity_id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Attaching integrations to something, or running with them: `action` (use; administer
    /// for an apply) on each of them.
    pub fn check_integrations<'a>(
        &self,
        action: Action,
        slugs: impl IntoIterator<Item = &'a str>,
    ) -> AppResult<()> {
        use crate::domain::rbac::EntityType;
        for slug in slugs {
            let slug = slug.trim();
            if slug.is_empty() {
                continue;
            }
            self.check(
                action,
                &ResourceRef::entity(EntityType::Integration, slug.to_string()),
            )?;
        }
        Ok(())
    }

    /// A second check on the same request (the workspace a resource writes into, say): the
    /// refusal says which role on what was needed.
    pub fn check(&self, action: Action, resource: &ResourceRef) -> AppResult<()> {
        match authorize(&self.subject, action, resource) {
            Decision::Allow => Ok(()),
            Decision::Unauthenticated => Err(AppError::Unauthorized),
            Decision::Deny(reason) => Err(AppError::Forbidden(reason)),
        }
    }
}

/// The signed-in caller, or `None` for an anonymous request. Served from the replica's cache
/// while the database's version (the audit head) is unchanged: a warm request costs one
/// primary-key read instead of four (session, user, groups, bindings).
pub async fn caller() -> AppResult<Option<Caller>> {
    caller_of(&ctx()?, &session().await?).await
}

/// [`caller`] for a route outside the server functions, with its context and session.
pub async fn caller_of(ctx: &AppCtx, session: &Session) -> AppResult<Option<Caller>> {
    let Some(id) = session.id() else {
        // No session cookie: anonymous, and no database read at all.
        return Ok(None);
    };
    let key = id.to_string();
    let version = cache::version(&ctx.db).await?;
    let now = chrono::Utc::now().timestamp();
    if let Some(hit) = ctx.cache.callers.get(&key, version) {
        if hit.expires_at > now {
            return Ok(Some(hit.caller));
        }
        ctx.cache.callers.remove(&key);
    }
    let Some(row) = sessions::Entity::find_by_id(key.clone())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let data: std::collections::HashMap<String, serde_json::Value> =
        serde_json::from_str(&row.data).map_err(AppError::internal)?;
    let Some(user_id) = data.get(SESSION_USER_KEY).and_then(|v| v.as_i64()) else {
        return Ok(None);
    };
    let Some(user) = users::Entity::find_by_id(user_id).one(&ctx.db).await? else {
        // The user was removed while signed in: the session no longer stands for anyone.
        session.flush().await.map_err(AppError::internal)?;
        return Ok(None);
    };
    let subject = access::subject_for_user(&ctx.db, user.id).await?;
    let caller = Caller {
        user,
        subject,
        version,
    };
    ctx.cache.callers.put(
        key,
        version,
        cache::SessionCaller {
            caller: caller.clone(),
            expires_at: row.expires_at,
        },
    );
    Ok(Some(caller))
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

/// Whether the request being answered is a browser's own form submission (it accepts HTML),
/// rather than the wasm bundle's fetch of a server function (which asks for JSON).
fn is_plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.method == axum::http::Method::POST
            && parts.uri.path().starts_with("/api/")
            && parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Any signed-in caller.
pub async fn require_signed_in() -> AppResult<Caller> {
    caller().await?.ok_or(AppError::Unauthorized)
}

/// Every server function ends with this: an error sets the response's HTTP status, for a fetch
/// from the browser and for the page being rendered on the server alike — except for a plain
/// HTML form's post (no wasm yet, or none at all): that one is answered with a redirect back to
/// its page, the error carried in the address for the page to show beside the form, and a
/// status would turn the redirect into a page of raw JSON.
pub fn respond<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(error) = &result {
        if is_plain_form_post() {
            return result;
        }
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
                options.set_status(status);
            }
        }
    }
    result
}

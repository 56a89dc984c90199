//! Sign-in and sign-out routes. Starting a sign-in stores nothing on the server: the flow's
//! state, nonce and PKCE verifier travel in a cookie sealed with the server's key (readable and
//! forgeable by nobody else), bound to the provider and good for ten minutes. The callback
//! consumes it, so a wrong or replayed `state` never yields a session: it gets a 400 page and an
//! audit event. A session is written only once the provider vouched for someone; its id is
//! rotated at sign-in and destroyed at sign-out.

use super::plain_page;
use crate::adapters::identity::{IdentityProvider, PendingFlow};
use crate::router::ServerState;
use app::error::AppError;
use app::server::directory::{self, VerifiedSignIn, DEMO_PROVIDER};
use app::server::request::SESSION_USER_KEY;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

/// The cookie that carries a sign-in in progress, scoped to the sign-in routes.
const FLOW_COOKIE: &str = "slipway_sign_in";
/// What the sealed cookie is for: a value sealed for anything else does not open as a flow.
const FLOW_PURPOSE: &str = "sign-in flow";

fn flow_cookie(state: &ServerState, value: &str, max_age: i64) -> String {
    format!(
        "{FLOW_COOKIE}={value}; Path=/auth; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if state.https { "; Secure" } else { "" }
    )
}

/// The flow the browser brought back, if its cookie opens under our key.
fn returned_flow(state: &ServerState, headers: &HeaderMap) -> Option<PendingFlow> {
    let sealed = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(FLOW_COOKIE)?.strip_prefix('='))?;
    let json = state.ctx.secrets.open(FLOW_PURPOSE, sealed).ok()?;
    serde_json::from_str(&json).ok()
}

pub async fn start(state: ServerState, provider: &'static str) -> Response {
    let Some(provider) = state.providers.get(provider).cloned() else {
        return plain_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This sign-in method is not configured.",
        );
    };
    let flow = PendingFlow::start(provider.id());
    match provider.authorization_url(&flow).await {
        Ok(url) => {
            let json = serde_json::to_string(&flow).expect("a flow serializes");
            let sealed = state.ctx.secrets.seal(FLOW_PURPOSE, &json);
            let cookie = flow_cookie(
                &state,
                &sealed,
                crate::adapters::identity::FLOW_LIFETIME_SECS,
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response()
        }
        Err(error) => {
            tracing::warn!(provider = provider.id(), "sign-in could not start: {error}");
            Redirect::to("/auth/signin?error=unavailable").into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    state: ServerState,
    provider: &'static str,
    session: Session,
    headers: HeaderMap,
    params: CallbackParams,
) -> Response {
    let Some(provider) = state.providers.get(provider).cloned() else {
        return plain_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This sign-in method is not configured.",
        );
    };
    // Cleared whatever happens next: each state is good for exactly one callback.
    let pending = returned_flow(&state, &headers);
    let mut response = callback_with(state.clone(), provider, session, params, pending).await;
    if let Ok(clear) = flow_cookie(&state, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

async fn callback_with(
    state: ServerState,
    provider: Arc<dyn IdentityProvider>,
    session: Session,
    params: CallbackParams,
    pending: Option<PendingFlow>,
) -> Response {
    let now = chrono::Utc::now().timestamp();
    let received = params.state.as_deref().unwrap_or_default();
    let flow = match pending {
        Some(flow)
            if flow.provider == provider.id()
                && !flow.is_expired(now)
                && constant_time_eq(&flow.state, received) =>
        {
            flow
        }
        pending => {
            let reason = match pending {
                None => "no sign-in was in progress in this browser (replayed or forged callback)",
                Some(flow) if flow.is_expired(now) => "the sign-in took too long",
                Some(_) => "the state does not match the sign-in in progress",
            };
            reject(&state, provider.id(), reason).await;
            return plain_page(
                StatusCode::BAD_REQUEST,
                "Sign-in refused",
                "This sign-in link is not valid for this browser session. Start again from the sign-in page.",
            );
        }
    };
    if let Some(error) = params.error {
        tracing::info!(
            provider = provider.id(),
            "the provider refused sign-in: {error}"
        );
        return Redirect::to("/auth/signin?error=denied").into_response();
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        reject(&state, provider.id(), "the callback carried no code").await;
        return plain_page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The provider sent no authorization code.",
        );
    };
    let claims = match provider.complete(&code, &flow).await {
        Ok(claims) => claims,
        Err(error) => {
            tracing::warn!(provider = provider.id(), "sign-in failed: {error}");
            reject(&state, provider.id(), &error.to_string()).await;
            return Redirect::to("/auth/signin?error=failed").into_response();
        }
    };
    finish_sign_in(&state, &session, &claims).await
}

/// Links or finds the user, rotates the session id and stores the user in the session.
async fn finish_sign_in(
    state: &ServerState,
    session: &Session,
    claims: &VerifiedSignIn,
) -> Response {
    let already: Option<i64> = session.get(SESSION_USER_KEY).await.ok().flatten();
    let user =
        match directory::sign_in(&state.ctx.db, claims, already, &state.ctx.portal.admins).await {
            Ok(user) => user,
            Err(AppError::Conflict(_)) => {
                return Redirect::to("/auth/signin?error=linked").into_response()
            }
            Err(error) => {
                tracing::error!("sign-in could not be recorded: {error}");
                return plain_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sign-in failed",
                    &error.to_string(),
                );
            }
        };
    if let Err(error) = session.cycle_id().await {
        tracing::error!("cannot rotate the session id: {error}");
        return plain_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The session could not be stored.",
        );
    }
    if let Err(error) = session.insert(SESSION_USER_KEY, user.id).await {
        tracing::error!("cannot store the session: {error}");
        return plain_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The session could not be stored.",
        );
    }
    Redirect::to("/").into_response()
}

async fn reject(state: &ServerState, provider: &str, reason: &str) {
    tracing::warn!(provider, "sign-in refused: {reason}");
    if let Err(error) = directory::record_refused_sign_in(&state.ctx.db, provider, reason).await {
        tracing::error!("cannot audit the refused sign-in: {error}");
    }
}

/// Compares the returned `state` without leaking through timing how much of it matched.
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `POST /auth/demo/{login}`: only under `--demo`; signs in a seeded user.
pub async fn demo_sign_in(
    State(state): State<ServerState>,
    Path(login): Path<String>,
    session: Session,
) -> Response {
    if !state.ctx.portal.demo {
        return plain_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "Demo sign-in is only available when Slipway runs with --demo.",
        );
    }
    match directory::find_demo_user(&state.ctx.db, &login).await {
        Ok(Some(user)) => {
            let claims = VerifiedSignIn {
                provider: DEMO_PROVIDER.into(),
                subject: user.login.clone(),
                login_hint: user.login.clone(),
                email: user.email.clone(),
                email_verified: false,
                name: user.name.clone(),
            };
            // A demo sign-in never links to whoever was signed in before.
            if session.id().is_some() {
                let _ = session.flush().await;
            }
            finish_sign_in(&state, &session, &claims).await
        }
        Ok(None) => plain_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no demo user with that login.",
        ),
        Err(error) => plain_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &error.to_string(),
        ),
    }
}

/// `POST /auth/logout`: records the sign-out and destroys the session (row and cookie).
pub async fn sign_out(State(state): State<ServerState>, session: Session) -> Response {
    let user_id = session.get::<i64>(SESSION_USER_KEY).await.ok().flatten();
    // The row goes before the audit event: the event moves the database's version, which is what
    // retires this session in every replica's caller cache (`app::server::cache`).
    if let Some(id) = session.id() {
        state.ctx.cache.callers.remove(&id.to_string());
        if let Err(error) = session.flush().await {
            tracing::error!("cannot destroy the session: {error}");
        }
    }
    if let Some(user_id) = user_id {
        if let Err(error) = directory::record_sign_out(&state.ctx.db, user_id).await {
            tracing::error!("cannot audit the sign-out: {error}");
        }
    }
    Redirect::to("/").into_response()
}

pub type Providers = std::collections::BTreeMap<&'static str, Arc<dyn IdentityProvider>>;

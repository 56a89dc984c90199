//! The state backend one run talks to: Terraform's and OpenTofu's `backend "http"` protocol
//! (GET the state, POST a new version, LOCK and UNLOCK), served on 127.0.0.1 for the length of
//! one run, behind a password made for that run alone. What it serves and keeps is the
//! resource's state in the database (`app::server::plans`): sealed, every version kept, the
//! lock shared by every replica. A plan's credential reads and locks; only an apply's writes,
//! so code nobody approved cannot change the state.

use app::server::plans::{self, StateRefusal};
use app::server::{Actor, AppCtx};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// What one run may do with one resource's state.
#[derive(Clone)]
struct Grant {
    ctx: AppCtx,
    resource_id: i64,
    /// The apply that writes; `None`: a plan, which may only read and lock.
    writes_for: Option<i64>,
    holder: String,
    password: String,
}

/// The running backend; stops when dropped.
pub struct StateServer {
    /// `http://127.0.0.1:<port>/state`
    pub address: String,
    pub password: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StateServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StateServer {
    pub async fn start(
        ctx: AppCtx,
        resource_id: i64,
        writes_for: Option<i64>,
        holder: String,
    ) -> std::io::Result<StateServer> {
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let password = hex::encode(bytes);
        let grant = Grant {
            ctx,
            resource_id,
            writes_for,
            holder,
            password: password.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = format!("http://{}/state", listener.local_addr()?);
        let app = axum::Router::new()
            .route("/state", axum::routing::any(serve))
            .layer(axum::extract::DefaultBodyLimit::max(plans::MAX_STATE_BYTES))
            .with_state(grant);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StateServer {
            address,
            password,
            task,
        })
    }

    /// The runtime's settings for this backend, as environment variables.
    pub fn environment(&self) -> Vec<(String, String)> {
        [
            ("TF_HTTP_ADDRESS", self.address.as_str()),
            ("TF_HTTP_LOCK_ADDRESS", self.address.as_str()),
            ("TF_HTTP_UNLOCK_ADDRESS", self.address.as_str()),
            ("TF_HTTP_USERNAME", "slipway"),
            ("TF_HTTP_PASSWORD", self.password.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

fn authorized(headers: &HeaderMap, password: &str) -> bool {
    use base64::Engine;
    let Some(encoded) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("slipway:{password}");
    decoded.len() == expected.len()
        && decoded
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, body.into()).into_response()
}

fn refused(refusal: StateRefusal) -> Response {
    match refusal {
        // The runtime reads the holder's lock info from a 423's body and names them.
        StateRefusal::Locked(info) => (
            StatusCode::LOCKED,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            info,
        )
            .into_response(),
        StateRefusal::Invalid(message) => text(StatusCode::BAD_REQUEST, message),
    }
}

async fn serve(
    State(grant): State<Grant>,
    method: Method,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if !authorized(&headers, &grant.password) {
        return text(
            StatusCode::UNAUTHORIZED,
            "this run's credential is required",
        );
    }
    let failed = |e: app::error::AppError| text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    match method.as_str() {
        "GET" => match plans::current_state(&grant.ctx, grant.resource_id).await {
            Ok(Some(state)) => (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                state,
            )
                .into_response(),
            Ok(None) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => failed(e),
        },
        "POST" => {
            let Some(plan_id) = grant.writes_for else {
                return text(
                    StatusCode::FORBIDDEN,
                    "a plan may not write the state: only an approved apply does",
                );
            };
            let Ok(body) = std::str::from_utf8(&body) else {
                return text(StatusCode::BAD_REQUEST, "the state is not UTF-8");
            };
            let actor = Actor::system(&grant.holder);
            let lock_id = query.get("ID").map(String::as_str);
            match plans::save_state(
                &grant.ctx,
                grant.resource_id,
                Some(plan_id),
                lock_id,
                body,
                &actor,
            )
            .await
            {
                Ok(Ok(_)) => StatusCode::OK.into_response(),
                Ok(Err(refusal)) => refused(refusal),
                Err(e) => failed(e),
            }
        }
        "LOCK" => {
            let Ok(info) = std::str::from_utf8(&body) else {
                return text(StatusCode::BAD_REQUEST, "the lock info is not UTF-8");
            };
            match plans::lock_state(&grant.ctx, grant.resource_id, info, &grant.holder).await {
                Ok(Ok(())) => StatusCode::OK.into_response(),
                Ok(Err(refusal)) => refused(refusal),
                Err(e) => failed(e),
            }
        }
        "UNLOCK" => {
            let id = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["ID"].as_str().map(str::to_string))
                .unwrap_or_default();
            match plans::unlock_state(&grant.ctx, grant.resource_id, &id).await {
                Ok(true) => StatusCode::OK.into_response(),
                Ok(false) => text(StatusCode::CONFLICT, "this run does not hold that lock"),
                Err(e) => failed(e),
            }
        }
        other => text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{other} is not part of the state protocol here"),
        ),
    }
}

//! Webhooks from forges and CI. Build completed: a governed repository's CI, signed with its
//! build secret; an accepted build is deployed to the pre-release environments by a job. GitHub: an organization webhook (pull_request and pull_request_review
//! events, JSON) signed with the GitHub integration's webhook secret; each relevant delivery
//! queues the Merge Authorized check of its pull request and is answered 202 at once.

use crate::router::ServerState;
use app::server::governance::{queue_github_check, webhook_integration, PullEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

pub async fn github(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (event, delivery, signature) = (
        header("x-github-event"),
        header("x-github-delivery"),
        header("x-hub-signature-256"),
    );
    // The signature is checked on the raw body before anything reads it: an unsigned body is
    // never parsed.
    let (integration, organization) = match webhook_integration(&state.ctx, &body, &signature).await
    {
        Ok(Some(found)) => found,
        Ok(None) => {
            let event: String = event.chars().take(100).collect();
            let delivery: String = delivery.chars().take(100).collect();
            tracing::warn!(
                event = ?event,
                delivery = ?delivery,
                "refused a GitHub webhook delivery: bad or missing signature"
            );
            return answer(
                StatusCode::UNAUTHORIZED,
                json!({ "error": "the signature matches no GitHub integration's webhook secret" }),
            );
        }
        Err(error) => {
            tracing::error!("checking a GitHub webhook signature: {error}");
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "try again later" }),
            );
        }
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({ "error": "the body is not JSON" }),
        );
    };
    let owner = payload
        .pointer("/repository/owner/login")
        .or_else(|| payload.pointer("/organization/login"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !owner.eq_ignore_ascii_case(&organization) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "the delivery is signed for another organization" }),
        );
    }
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let relevant = match event.as_str() {
        "ping" => return answer(StatusCode::OK, json!({ "ok": "pong" })),
        "pull_request" => matches!(
            action,
            "opened" | "edited" | "synchronize" | "reopened" | "ready_for_review"
        ),
        "pull_request_review" => matches!(action, "submitted" | "edited" | "dismissed"),
        _ => false,
    };
    if !relevant {
        return answer(
            StatusCode::ACCEPTED,
            json!({ "ignored": format!("{event} {action}") }),
        );
    }
    let repository = payload
        .pointer("/repository/full_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let number = payload
        .pointer("/pull_request/number")
        .and_then(Value::as_i64);
    let delivery_ok = !delivery.is_empty()
        && delivery.len() <= 100
        && delivery
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = repository.split('/').count() == 2
        && repository.len() <= 200
        && repository
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    let (Some(number), true, true) = (number, delivery_ok, name_ok) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({ "error": "a pull request event needs repository.full_name, pull_request.number and X-GitHub-Delivery" }),
        );
    };
    let event = PullEvent {
        integration,
        repository: repository.to_string(),
        number,
    };
    match queue_github_check(&state.ctx, &event, &delivery).await {
        Ok(job) => answer(StatusCode::ACCEPTED, json!({ "queued": job })),
        Err(error) => {
            tracing::error!("queueing a Merge Authorized check: {error}");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "try again later" }),
            )
        }
    }
}

/// `POST /hooks/build-completed`: `X-Slipway-Timestamp` and `X-Slipway-Signature` (`sha256=`
/// HMAC of `<timestamp>.<body>` with the repository's build secret). 202 with the build and its
/// deployment job; 200 for a build already received; 400, 401 or 409 (a replay) otherwise.
pub async fn build_completed(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use app::server::deployments::{receive_build, Received};
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let now = chrono::Utc::now().timestamp();
    match receive_build(
        &state.ctx,
        &header("x-slipway-timestamp"),
        &header("x-slipway-signature"),
        &body,
        now,
    )
    .await
    {
        Ok(Received::Accepted { build, job }) => answer(
            StatusCode::ACCEPTED,
            json!({ "build": build, "queued": job }),
        ),
        Ok(Received::Known { build }) => {
            answer(StatusCode::OK, json!({ "build": build, "known": true }))
        }
        Ok(Received::Refused { status, reason }) => answer(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            json!({ "error": reason }),
        ),
        Err(error) => {
            tracing::error!("recording a build-completed notification: {error}");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "try again later" }),
            )
        }
    }
}

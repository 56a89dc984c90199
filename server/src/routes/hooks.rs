//! Webhooks from CI and forges, answered as JSON (`error` names why a delivery was refused).
//!
//! * Build completed: a governed repository's CI, signed with its build secret; an accepted
//!   build is deployed to the pre-release environments by a job.
//! * GitHub: an organization webhook (`pull_request` and `pull_request_review` events) signed
//!   with the GitHub integration's webhook secret; each relevant delivery queues the Merge
//!   Authorized check of its pull request and is answered 202 at once.

use crate::router::ServerState;
use app::server::governance::{queue_github_check, webhook_integration, PullEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// What a hook answers: what it did, or why it refused (`error`).
#[derive(Serialize, Default)]
struct Answer {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queued: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    known: bool,
}

fn answer(status: StatusCode, body: Answer) -> Response {
    (status, Json(body)).into_response()
}

fn refused(status: StatusCode, error: impl Into<String>) -> Response {
    answer(
        status,
        Answer {
            error: Some(error.into()),
            ..Answer::default()
        },
    )
}

/// The parts of a GitHub delivery the check reads (GitHub's webhook payloads for `ping`,
/// `pull_request` and `pull_request_review`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Delivery {
    action: String,
    repository: Option<Repository>,
    organization: Option<Account>,
    pull_request: Option<PullRequest>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Repository {
    full_name: String,
    owner: Option<Account>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct PullRequest {
    number: i64,
}

impl Delivery {
    /// The organization the delivery is about.
    fn owner(&self) -> &str {
        self.repository
            .as_ref()
            .and_then(|r| r.owner.as_ref())
            .or(self.organization.as_ref())
            .map_or("", |a| a.login.as_str())
    }

    /// Whether the event can change a pull request's Merge Authorized verdict.
    fn relevant(&self, event: &str) -> bool {
        match event {
            "pull_request" => matches!(
                self.action.as_str(),
                "opened" | "edited" | "synchronize" | "reopened" | "ready_for_review"
            ),
            "pull_request_review" => {
                matches!(self.action.as_str(), "submitted" | "edited" | "dismissed")
            }
            _ => false,
        }
    }
}

/// A delivery id and a repository name as GitHub makes them (they go into a job's key and
/// payload).
fn well_formed(delivery: &str, repository: &str) -> bool {
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
    delivery_ok && name_ok
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub async fn github(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let (event, delivery, signature) = (
        header(&headers, "x-github-event"),
        header(&headers, "x-github-delivery"),
        header(&headers, "x-hub-signature-256"),
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
            return refused(
                StatusCode::UNAUTHORIZED,
                "the signature matches no GitHub integration's webhook secret",
            );
        }
        Err(error) => return error.into_response(),
    };
    let Ok(payload) = serde_json::from_slice::<Delivery>(&body) else {
        return refused(StatusCode::BAD_REQUEST, "the body is not a GitHub event");
    };
    if !payload.owner().eq_ignore_ascii_case(&organization) {
        return refused(
            StatusCode::UNAUTHORIZED,
            "the delivery is signed for another organization",
        );
    }
    if event == "ping" {
        return answer(
            StatusCode::OK,
            Answer {
                ok: Some("pong"),
                ..Answer::default()
            },
        );
    }
    if !payload.relevant(&event) {
        return answer(
            StatusCode::ACCEPTED,
            Answer {
                ignored: Some(format!("{event} {}", payload.action)),
                ..Answer::default()
            },
        );
    }
    let repository = payload.repository.map(|r| r.full_name).unwrap_or_default();
    let (Some(number), true) = (
        payload.pull_request.map(|p| p.number),
        well_formed(&delivery, &repository),
    ) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "a pull request event needs repository.full_name, pull_request.number and X-GitHub-Delivery",
        );
    };
    let event = PullEvent {
        integration,
        repository,
        number,
    };
    match queue_github_check(&state.ctx, &event, &delivery).await {
        Ok(job) => answer(
            StatusCode::ACCEPTED,
            Answer {
                queued: Some(job),
                ..Answer::default()
            },
        ),
        Err(error) => error.into_response(),
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
    let now = chrono::Utc::now().timestamp();
    match receive_build(
        &state.ctx,
        &header(&headers, "x-slipway-timestamp"),
        &header(&headers, "x-slipway-signature"),
        &body,
        now,
    )
    .await
    {
        Ok(Received::Accepted { build, job }) => answer(
            StatusCode::ACCEPTED,
            Answer {
                build: Some(build),
                queued: Some(job),
                ..Answer::default()
            },
        ),
        Ok(Received::Known { build }) => answer(
            StatusCode::OK,
            Answer {
                build: Some(build),
                known: true,
                ..Answer::default()
            },
        ),
        Ok(Received::Refused { status, reason }) => refused(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            reason,
        ),
        Err(error) => error.into_response(),
    }
}

/// `POST /hooks/stage-verified`: the environment's tests or monitoring report on a release
/// stage that asks for verification (`{release, stage, result: passed|failed, details, url}`),
/// signed as the build hook is, with the track's verification secret. 200 when recorded;
/// 400, 401, 404 or 409 (a stage verified already, or not deployed) otherwise.
pub async fn stage_verified(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use app::server::releases::{receive_verification, Verified};
    let now = chrono::Utc::now().timestamp();
    match receive_verification(
        &state.ctx,
        &header(&headers, "x-slipway-timestamp"),
        &header(&headers, "x-slipway-signature"),
        &body,
        now,
    )
    .await
    {
        Ok(Verified::Recorded { .. }) => answer(
            StatusCode::OK,
            Answer {
                ok: Some("recorded"),
                ..Answer::default()
            },
        ),
        Ok(Verified::Refused { status, reason }) => refused(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            reason,
        ),
        Err(error) => error.into_response(),
    }
}

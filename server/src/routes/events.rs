//! `GET /api/events?topics=release,repository:shop`: server-sent events telling an open page
//! that something it shows changed (`event: change`, `data: release:v1.4.0-rc.1`, or `*` when
//! too much changed at once), so that it reads it again through its server functions. Only the
//! name of what changed is sent, and only for topics the caller may read; a stream ends after
//! [`STREAM_LIFETIME`] and the browser's `EventSource` reconnects, authorized afresh.

use crate::router::ServerState;
use app::server::live::topics_for;
use app::server::request::caller_of;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

/// How long one stream lasts before the browser reconnects (and is authorized again).
pub const STREAM_LIFETIME: Duration = Duration::from_secs(10 * 60);

#[derive(serde::Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    topics: String,
}

pub async fn events(
    State(state): State<ServerState>,
    session: Session,
    Query(query): Query<EventsQuery>,
) -> Response {
    let caller = match caller_of(&state.ctx, &session).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return app::error::AppError::Unauthorized.into_response(),
        Err(error) => return error.into_response(),
    };
    let topics = match topics_for(&query.topics, |action, resource| {
        caller.may(action, resource)
    }) {
        Ok(topics) => topics,
        Err(error) => return error.into_response(),
    };
    let receiver = state.ctx.live.subscribe(&state.ctx.db);
    let until = tokio::time::Instant::now() + STREAM_LIFETIME;
    let changes = futures_util::stream::unfold(
        (receiver, topics),
        move |(mut receiver, topics)| async move {
            loop {
                let next = tokio::time::timeout_at(until, receiver.recv()).await;
                let changed = match next {
                    Err(_) | Ok(Err(RecvError::Closed)) => return None,
                    // Fell behind: whatever it missed may concern it.
                    Ok(Err(RecvError::Lagged(_))) => "*".into(),
                    Ok(Ok(changed)) => changed,
                };
                if topics.iter().any(|t| t.covers(&changed)) {
                    let event = Event::default().event("change").data(&*changed);
                    return Some((Ok::<_, Infallible>(event), (receiver, topics)));
                }
            }
        },
    );
    let mut response = Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response();
    // Not cached, and not buffered by a proxy in front.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

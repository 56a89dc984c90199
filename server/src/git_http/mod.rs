//! The local forge's repositories over Git's smart HTTP protocol, at
//! `/git/<org>/<name>.git/{info/refs, git-upload-pack, git-receive-pack}`, served by running
//! `git http-backend` as a CGI program with the request streamed in and its answer streamed out.
//!
//! A git client authenticates with HTTP basic auth: any user name, and a personal access token
//! (made on the account page) as the password. Who may fetch and push follows from what the
//! repository belongs to (`app::server::forge_access`). A push's ref updates are read from the
//! start of its request and checked before `git http-backend` sees any of it: a push touching a
//! guarded branch (a workspace's default branch, a governed repository's protected branches,
//! the environments and managed-workflows repositories' main) or moving a tag is refused whole,
//! each ref reported as git reports a declined hook, and audited. A push that goes through is
//! audited with the refs it moved.

mod backend;
mod push;

pub use backend::{run_backend, Bounds};
use push::{checked_push, moved, refs};

use crate::router::ServerState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::BTreeMap;

/// What a request asks of a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    UploadPack,
    ReceivePack,
}

/// `org/name.git/<rest>` → (`org/name`, rest, service), for the smart protocol's three
/// endpoints only.
fn route(path: &str, query: &str, method: &Method) -> Option<(String, String, Service)> {
    let (repository, rest) = path.split_once(".git/")?;
    let service = match (method, rest) {
        (&Method::GET, "info/refs") => match query {
            "service=git-upload-pack" => Service::UploadPack,
            "service=git-receive-pack" => Service::ReceivePack,
            _ => return None,
        },
        (&Method::POST, "git-upload-pack") => Service::UploadPack,
        (&Method::POST, "git-receive-pack") => Service::ReceivePack,
        _ => return None,
    };
    // The name itself is checked by `local_forge::repository_path`, the one rule for both.
    Some((repository.to_string(), rest.to_string(), service))
}

/// The password of a basic `Authorization` header.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Slipway\", charset=\"UTF-8\""),
        );
    }
    response
}

pub async fn serve(State(state): State<ServerState>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches("/git/").to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let Some((repository, rest, service)) = route(&path, &query, request.method()) else {
        return refuse(StatusCode::NOT_FOUND, "not a smart HTTP git endpoint");
    };
    let root = state.git_root.to_path_buf();
    let Ok(on_disk) = crate::adapters::local_forge::repository_path(&root, &repository) else {
        return refuse(StatusCode::NOT_FOUND, "no such repository");
    };
    let push = service == Service::ReceivePack;
    let (user, guarded) = match authorize(&state, request.headers(), &repository, push).await {
        Ok(allowed) => allowed,
        Err(refusal) => return refusal,
    };
    if !on_disk.join("HEAD").exists() {
        return refuse(StatusCode::NOT_FOUND, "no such repository");
    }
    // A slot for the whole request, held until `git http-backend` is done: a replica runs at
    // most SLIPWAY_GIT_CONCURRENCY at once and turns the rest away rather than queueing them.
    let Ok(slot) = state.git_slots.clone().try_acquire_owned() else {
        return busy();
    };
    let limits = &state.git_limits;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let pushing = push && rest == "git-receive-pack";
    let actor = app::server::Actor::user(user.id, &user.login);
    let db = &state.ctx.db;
    let refs_before = if pushing {
        refs(&on_disk)
    } else {
        BTreeMap::new()
    };
    let request = if pushing {
        let checked = checked_push(db, &actor, &repository, &guarded, request);
        match tokio::time::timeout_at(deadline, checked).await {
            Ok(Ok(request)) => request,
            Ok(Err(refusal)) => return refusal,
            Err(_) => {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "the push did not arrive in time",
                )
            }
        }
    } else {
        request
    };
    let path_info = format!("/{repository}.git/{rest}");
    let bounds = Bounds {
        // receive-pack counts the pack alone; the commands before it are bounded apart.
        max_body: pushing.then_some(limits.max_push_bytes),
        deadline,
        slot,
    };
    let (response, finished) = run_backend(&root, &path_info, &user.login, request, bounds).await;
    if pushing {
        let db = db.clone();
        tokio::spawn(async move {
            if finished.await.is_ok() {
                record_push(&db, &actor, &repository, &refs_before, &on_disk).await;
            }
        });
    }
    response
}

/// The token's user, if the token may do this (`push`) to this repository, with the refs a push
/// may not move; else the refusal to answer.
async fn authorize(
    state: &ServerState,
    headers: &HeaderMap,
    repository: &str,
    push: bool,
) -> Result<
    (
        app::server::entities::users::Model,
        app::domain::pushes::Guarded,
    ),
    Response,
> {
    let Some(token) = basic_password(headers) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "sign in with a personal access token from your Slipway account page",
        ));
    };
    let db = &state.ctx.db;
    let user = match app::server::tokens::authenticate(db, &token).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "the access token is unknown, revoked or expired",
            ))
        }
        Err(error) => {
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                &error.to_string(),
            ))
        }
    };
    if push && !user.may_write {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "this access token is read-only: make one with the write scope on your account page to push",
        ));
    }
    let user = user.user;
    match app::server::forge_access::authorize_git(db, user.id, repository, push).await {
        Ok(guarded) => Ok((user, guarded)),
        Err(app::error::AppError::Forbidden(reason)) => Err(refuse(StatusCode::FORBIDDEN, &reason)),
        Err(error) => Err(refuse(
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &error.to_string(),
        )),
    }
}

/// Every slot is taken: come back in a moment.
fn busy() -> Response {
    let mut busy = refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "the git server is busy with other pushes and fetches: try again in a moment",
    );
    busy.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    busy
}

/// Audits the refs a finished push moved.
async fn record_push(
    db: &sea_orm::DatabaseConnection,
    actor: &app::server::Actor,
    repository: &str,
    before: &BTreeMap<String, String>,
    on_disk: &std::path::Path,
) {
    let changed = moved(before, &refs(on_disk));
    if let Err(error) = app::server::workspaces::record_push(db, actor, repository, &changed).await
    {
        tracing::error!(%repository, %error, "recording a push in the audit log failed");
    }
}

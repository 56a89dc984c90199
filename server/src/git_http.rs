//! The local forge's repositories over Git's smart HTTP protocol, at
//! `/git/<org>/<name>.git/{info/refs, git-upload-pack, git-receive-pack}`, served by running
//! `git http-backend` as a CGI program with the request streamed in and its answer streamed out.
//!
//! A git client authenticates with HTTP basic auth: any user name, and a personal access token
//! (made on the account page) as the password. Fetching needs read on the repository's
//! workspace; pushing needs update (members). A push is audited with the refs it moved.

use crate::router::ServerState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

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
    let Some(token) = basic_password(request.headers()) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign in with a personal access token from your Slipway account page",
        );
    };
    let db = &state.ctx.db;
    let user = match app::server::tokens::authenticate(db, &token).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "the access token is unknown or revoked",
            )
        }
        Err(error) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    let push = service == Service::ReceivePack;
    match app::server::workspaces::authorize_git(db, user.id, &repository, push).await {
        Ok(_) => {}
        Err(app::error::AppError::Forbidden(reason)) => {
            return refuse(StatusCode::FORBIDDEN, &reason)
        }
        Err(error) => {
            return refuse(
                StatusCode::from_u16(error.status_code())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &error.to_string(),
            )
        }
    }
    if !on_disk.join("HEAD").exists() {
        return refuse(StatusCode::NOT_FOUND, "no such repository");
    }
    let pushing = push && rest == "git-receive-pack";
    let refs_before = if pushing {
        refs(&on_disk)
    } else {
        BTreeMap::new()
    };
    let path_info = format!("/{repository}.git/{rest}");
    let (response, finished) = run_backend(&root, &path_info, &user.login, request).await;
    if pushing {
        let actor = app::server::Actor::user(user.id, &user.login);
        let db = db.clone();
        tokio::spawn(async move {
            if finished.await.is_ok() {
                let after = refs(&on_disk);
                let changed = moved(&refs_before, &after);
                if let Err(error) =
                    app::server::workspaces::record_push(&db, &actor, &repository, &changed).await
                {
                    tracing::error!(%repository, %error, "recording a push in the audit log failed");
                }
            }
        });
    }
    response
}

/// Every ref and the commit it names.
fn refs(repository: &Path) -> BTreeMap<String, String> {
    let Ok(git) = git2::Repository::open_bare(repository) else {
        return BTreeMap::new();
    };
    let Ok(references) = git.references() else {
        return BTreeMap::new();
    };
    references
        .flatten()
        .filter_map(|r| Some((r.name()?.to_string(), r.target()?.to_string())))
        .collect()
}

fn moved(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> BTreeMap<String, (Option<String>, Option<String>)> {
    before
        .keys()
        .chain(after.keys())
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| {
            (
                name.clone(),
                (before.get(name).cloned(), after.get(name).cloned()),
            )
        })
        .collect()
}

/// Runs `git http-backend` for one request below `project_root` and streams its answer. The
/// receiver resolves when the program has exited successfully. Also used by the test suite to
/// put a real git server behind the fake GitHub, Bitbucket and Azure DevOps APIs.
pub async fn run_backend(
    project_root: &Path,
    path_info: &str,
    remote_user: &str,
    request: Request,
) -> (Response, tokio::sync::oneshot::Receiver<()>) {
    let (done, finished) = tokio::sync::oneshot::channel();
    let (parts, body) = request.into_parts();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut command = tokio::process::Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", path_info)
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header(header::CONTENT_TYPE))
        .env("REMOTE_USER", remote_user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let length = header(header::CONTENT_LENGTH);
    if !length.is_empty() {
        command.env("CONTENT_LENGTH", length);
    }
    let encoding = header(header::CONTENT_ENCODING);
    if !encoding.is_empty() {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = parts
        .headers
        .get("git-protocol")
        .and_then(|v| v.to_str().ok())
    {
        command.env("HTTP_GIT_PROTOCOL", protocol);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::error!(%error, "cannot start git http-backend");
            return (
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the git server is not available",
                ),
                finished,
            );
        }
    };
    let mut stdin = child.stdin.take().expect("piped");
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut stderr = child.stderr.take().expect("piped");
    let mut builder = Response::builder().status(StatusCode::OK);
    let mut line = String::new();
    loop {
        line.clear();
        match stdout.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("Status") {
            let code = value.split(' ').next().and_then(|c| c.parse().ok());
            builder = builder.status(code.unwrap_or(500));
        } else if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            builder = builder.header(name, value);
        }
    }
    tokio::spawn(async move {
        let mut errors = String::new();
        let _ = stderr.read_to_string(&mut errors).await;
        match child.wait().await {
            Ok(status) if status.success() => {
                let _ = done.send(());
            }
            Ok(status) => {
                tracing::warn!(%status, errors = errors.trim(), "git http-backend failed")
            }
            Err(error) => tracing::warn!(%error, "git http-backend did not finish"),
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(stdout));
    (
        builder
            .body(body)
            .unwrap_or_else(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "bad CGI answer")),
        finished,
    )
}

//! `git http-backend` as a CGI program: the request streamed in, its answer streamed out, within
//! the request's bounds (body size, deadline, a concurrency slot).

use super::push::MAX_COMMANDS;
use super::refuse;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// What one smart HTTP request may use: its body's bytes (pushes), its time, and the slot it
/// holds until the backend is done.
pub struct Bounds {
    pub max_body: Option<u64>,
    pub deadline: tokio::time::Instant,
    pub slot: tokio::sync::OwnedSemaphorePermit,
}

impl Bounds {
    /// No body limit, an hour, a slot of its own: for a git server that is not the portal's
    /// (the fake forges tests stand up).
    pub fn unbounded() -> Bounds {
        Bounds {
            max_body: None,
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(3600),
            slot: Arc::new(tokio::sync::Semaphore::new(1))
                .try_acquire_owned()
                .expect("a new semaphore has a permit"),
        }
    }
}

/// Runs `git http-backend` for one request below `project_root` and streams its answer. The
/// receiver resolves when the program has exited successfully. Also used by the test suite to
/// put a real git server behind the fake GitHub, Bitbucket and Azure DevOps APIs.
pub async fn run_backend(
    project_root: &Path,
    path_info: &str,
    remote_user: &str,
    request: Request,
    bounds: Bounds,
) -> (Response, tokio::sync::oneshot::Receiver<()>) {
    let (done, finished) = tokio::sync::oneshot::channel();
    let (parts, body) = request.into_parts();
    let mut command = cgi_command(
        project_root,
        path_info,
        remote_user,
        &parts,
        bounds.max_body,
    );
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
    let stdin = child.stdin.take().expect("piped");
    // receive-pack's limit counts the pack alone; the commands before it are bounded apart.
    let max_body = bounds
        .max_body
        .map(|max| max.saturating_add(MAX_COMMANDS as u64));
    let too_big = feed(body, stdin, max_body);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let stderr = child.stderr.take().expect("piped");
    let builder = cgi_head(&mut stdout).await;
    let Bounds { deadline, slot, .. } = bounds;
    let path_info = path_info.to_string();
    tokio::spawn(async move {
        let _slot = slot;
        if watch(child, stderr, deadline, too_big, &path_info).await {
            let _ = done.send(());
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

/// `git http-backend` with the CGI environment of this request and nothing else of ours.
fn cgi_command(
    project_root: &Path,
    path_info: &str,
    remote_user: &str,
    parts: &axum::http::request::Parts,
    max_body: Option<u64>,
) -> tokio::process::Command {
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
        // receive-pack refuses a bigger pack itself, with a message the pusher sees.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "receive.maxInputSize")
        .env("GIT_CONFIG_VALUE_0", max_body.unwrap_or(0).to_string())
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
    command
}

/// Streams the request body into the backend. A body past `max_body` (however it is framed) is
/// cut off, and the returned signal fires so the backend is stopped.
fn feed(
    body: Body,
    mut stdin: tokio::process::ChildStdin,
    max_body: Option<u64>,
) -> Arc<tokio::sync::Notify> {
    let too_big = Arc::new(tokio::sync::Notify::new());
    let cut = too_big.clone();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut taken: u64 = 0;
        while let Some(Ok(chunk)) = stream.next().await {
            taken += chunk.len() as u64;
            if max_body.is_some_and(|max| taken > max) {
                cut.notify_one();
                break;
            }
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    too_big
}

/// The CGI answer's header lines (up to the blank line) as the response's status and headers.
async fn cgi_head(
    stdout: &mut BufReader<tokio::process::ChildStdout>,
) -> axum::http::response::Builder {
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
    builder
}

/// Waits for the backend to end, stopping it at the deadline or when its body ran past the
/// limit. True when it exited successfully.
async fn watch(
    mut child: tokio::process::Child,
    mut stderr: tokio::process::ChildStderr,
    deadline: tokio::time::Instant,
    too_big: Arc<tokio::sync::Notify>,
    path_info: &str,
) -> bool {
    let mut errors = String::new();
    let outcome = tokio::select! {
        outcome = async {
            let _ = stderr.read_to_string(&mut errors).await;
            child.wait().await
        } => Some(outcome),
        _ = tokio::time::sleep_until(deadline) => {
            tracing::warn!(%path_info, "git http-backend ran past SLIPWAY_GIT_TIMEOUT_SECONDS: stopped");
            None
        }
        _ = too_big.notified() => {
            tracing::warn!(%path_info, "a push went past SLIPWAY_GIT_MAX_PUSH_MB: stopped");
            None
        }
    };
    match outcome {
        Some(Ok(status)) if status.success() => return true,
        Some(Ok(status)) => {
            tracing::warn!(%status, errors = ?errors.trim(), "git http-backend failed")
        }
        Some(Err(error)) => tracing::warn!(%error, "git http-backend did not finish"),
        None => {
            let _ = child.kill().await;
        }
    }
    false
}

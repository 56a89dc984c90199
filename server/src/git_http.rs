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
use std::sync::Arc;
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
                "the access token is unknown, revoked or expired",
            )
        }
        Err(error) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    let push = service == Service::ReceivePack;
    if push && !user.may_write {
        return refuse(
            StatusCode::FORBIDDEN,
            "this access token is read-only: make one with the write scope on your account page to push",
        );
    }
    let user = user.user;
    let guarded =
        match app::server::forge_access::authorize_git(db, user.id, &repository, push).await {
            Ok(guarded) => guarded,
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
        };
    if !on_disk.join("HEAD").exists() {
        return refuse(StatusCode::NOT_FOUND, "no such repository");
    }
    // A slot for the whole request, held until `git http-backend` is done: a replica runs at
    // most SLIPWAY_GIT_CONCURRENCY at once and turns the rest away rather than queueing them.
    let Ok(slot) = state.git_slots.clone().try_acquire_owned() else {
        let mut busy = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the git server is busy with other pushes and fetches: try again in a moment",
        );
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return busy;
    };
    let limits = &state.git_limits;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let pushing = push && rest == "git-receive-pack";
    let refs_before = if pushing {
        refs(&on_disk)
    } else {
        BTreeMap::new()
    };
    let actor = app::server::Actor::user(user.id, &user.login);
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

/// The most bytes the commands at the start of a push may take (each is one ref update).
const MAX_COMMANDS: usize = 1 << 20;

/// Reads a push's ref updates from the start of its body and checks them. Refused: the whole
/// push is answered with each ref declined (nothing reaches `git http-backend`). Allowed: the
/// request, its body whole again, to hand on.
async fn checked_push(
    db: &sea_orm::DatabaseConnection,
    actor: &app::server::Actor,
    repository: &str,
    guarded: &app::domain::pushes::Guarded,
    request: Request,
) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    if !encoding.eq_ignore_ascii_case("identity") {
        // git sends pushes uncompressed; a compressed one would hide its ref updates.
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the push uncompressed",
        ));
    }
    let mut stream = body.into_data_stream();
    let mut head: Vec<u8> = Vec::new();
    let (updates, capabilities) = loop {
        match receive_commands(&head) {
            Ok(Some(parsed)) => break parsed,
            Ok(None) if head.len() > MAX_COMMANDS => {
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too many ref updates in one push",
                ))
            }
            Ok(None) => {}
            Err(reason) => return Err(refuse(StatusCode::BAD_REQUEST, &reason)),
        }
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) | None => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "the push ended before its ref updates",
                ))
            }
        }
    };
    let refused =
        match app::server::forge_access::check_push(db, actor, repository, guarded, &updates).await
        {
            Ok(refused) => refused,
            Err(error) => {
                return Err(refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &error.to_string(),
                ))
            }
        };
    if refused.is_empty() {
        let rest = futures_util::stream::once(async move {
            Ok::<_, axum::Error>(axum::body::Bytes::from(head))
        })
        .chain(stream);
        return Ok(Request::from_parts(parts, Body::from_stream(rest)));
    }
    // The client sends its pack whole before it reads the answer: take it (for at most 30 s)
    // and throw it away, so that it hears the refusal rather than a broken connection.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    // Git 2.29 and later ask for report-status-v2; its refusals read as in the first version.
    let reported = capabilities
        .iter()
        .any(|c| c == "report-status" || c == "report-status-v2");
    if !reported {
        let reasons: Vec<String> = refused
            .iter()
            .map(|(r, why)| format!("{r}: {why}"))
            .collect();
        return Err(refuse(StatusCode::FORBIDDEN, &reasons.join("\n")));
    }
    let sideband = capabilities.iter().any(|c| c == "side-band-64k");
    Err((
        [
            (
                header::CONTENT_TYPE,
                "application/x-git-receive-pack-result",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        push_report(&updates, &refused, sideband),
    )
        .into_response())
}

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

/// The ref updates and capabilities at the start of a receive-pack request (pkt-lines up to a
/// flush): `None` while more bytes are needed.
#[allow(clippy::type_complexity)]
fn receive_commands(
    buf: &[u8],
) -> Result<Option<(Vec<app::domain::pushes::RefUpdate>, Vec<String>)>, String> {
    let mut updates = Vec::new();
    let mut capabilities = Vec::new();
    let mut at = 0;
    while at + 4 <= buf.len() {
        let length = std::str::from_utf8(&buf[at..at + 4])
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or("not a git push (a pkt-line length is not hex)")?;
        if length == 0 {
            return Ok(Some((updates, capabilities)));
        }
        if length < 4 {
            return Err("not a git push (a pkt-line is shorter than its length)".into());
        }
        if at + length > buf.len() {
            return Ok(None);
        }
        let line = &buf[at + 4..at + length];
        at += length;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if line.starts_with(b"shallow ") {
            continue;
        }
        if line.starts_with(b"push-cert") {
            return Err("signed pushes (push certificates) are not taken".into());
        }
        let (command, caps) = match line.iter().position(|b| *b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(caps) = caps {
            capabilities = String::from_utf8_lossy(caps)
                .split(' ')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
        }
        let command = std::str::from_utf8(command).map_err(|_| "a ref update is not text")?;
        let mut fields = command.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "not a ref update: {:?}",
                command.chars().take(200).collect::<String>()
            ));
        };
        updates.push(app::domain::pushes::RefUpdate {
            old: old.into(),
            new: new.into(),
            name: name.into(),
        });
    }
    Ok(None)
}

fn pkt(data: &[u8]) -> Vec<u8> {
    let mut line = format!("{:04x}", data.len() + 4).into_bytes();
    line.extend_from_slice(data);
    line
}

/// The answer git expects when a pre-receive hook declines a push: the pack unpacked (it was
/// read), every ref "ng" with its reason, optionally wrapped in side-band packets with the
/// reasons also shown as `remote:` lines.
fn push_report(
    updates: &[app::domain::pushes::RefUpdate],
    refused: &[(String, String)],
    sideband: bool,
) -> Vec<u8> {
    let mut report = pkt(b"unpack ok\n");
    for update in updates {
        let reason = refused.iter().find(|(r, _)| *r == update.name).map_or(
            "the push was refused whole (see the other refs)",
            |(_, why)| why.as_str(),
        );
        report.extend(pkt(format!("ng {} {reason}\n", update.name).as_bytes()));
    }
    report.extend_from_slice(b"0000");
    if !sideband {
        return report;
    }
    let mut out = Vec::new();
    for (name, why) in refused {
        let mut progress = vec![2u8];
        progress.extend_from_slice(format!("Slipway refused {name}: {why}\n").as_bytes());
        out.extend(pkt(&progress));
    }
    for chunk in report.chunks(65515) {
        let mut data = vec![1u8];
        data.extend_from_slice(chunk);
        out.extend(pkt(&data));
    }
    out.extend_from_slice(b"0000");
    out
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
    bounds: Bounds,
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
        // receive-pack refuses a bigger pack itself, with a message the pusher sees.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "receive.maxInputSize")
        .env(
            "GIT_CONFIG_VALUE_0",
            bounds.max_body.unwrap_or(0).to_string(),
        )
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
    // A body past the limit (however it is framed) is cut off and the backend stopped.
    let too_big = Arc::new(tokio::sync::Notify::new());
    let cut = too_big.clone();
    let max_body = bounds
        .max_body
        .map(|max| max.saturating_add(MAX_COMMANDS as u64));
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
    let Bounds { deadline, slot, .. } = bounds;
    let path_info = path_info.to_string();
    tokio::spawn(async move {
        let _slot = slot;
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
            Some(Ok(status)) if status.success() => {
                let _ = done.send(());
            }
            Some(Ok(status)) => {
                tracing::warn!(%status, errors = ?errors.trim(), "git http-backend failed")
            }
            Some(Err(error)) => tracing::warn!(%error, "git http-backend did not finish"),
            None => {
                let _ = child.kill().await;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn command(old: char, new: char, name: &str, caps: Option<&str>) -> Vec<u8> {
        let mut line = format!(
            "{} {} {name}",
            old.to_string().repeat(40),
            new.to_string().repeat(40)
        )
        .into_bytes();
        if let Some(caps) = caps {
            line.push(0);
            line.extend_from_slice(caps.as_bytes());
        }
        line.push(b'\n');
        pkt(&line)
    }

    #[test]
    fn a_push_s_commands_are_read_up_to_the_flush_whatever_follows() {
        let mut body = pkt(b"shallow 1111111111111111111111111111111111111111\n");
        body.extend(command(
            'a',
            'b',
            "refs/heads/main",
            Some("report-status side-band-64k agent=git/2.47"),
        ));
        body.extend(command('0', 'c', "refs/tags/v1.0.0", None));
        let flush_at = body.len();
        body.extend_from_slice(b"0000PACK\x00\x00\x00\x02garbage");
        for cut in 0..flush_at + 4 {
            assert_eq!(
                receive_commands(&body[..cut]),
                Ok(None),
                "{cut} bytes are not enough"
            );
        }
        let (updates, caps) = receive_commands(&body).unwrap().unwrap();
        assert_eq!(updates.len(), 2);
        assert_eq!(
            (updates[0].name.as_str(), updates[1].old.as_str()),
            ("refs/heads/main", app::domain::pushes::ZERO)
        );
        assert!(
            caps.contains(&"report-status".to_string())
                && caps.contains(&"side-band-64k".to_string())
        );
        assert!(receive_commands(b"zzzz").is_err());
        assert!(receive_commands(b"0003").is_err());
        let mut signed = pkt(b"push-cert\0report-status\n");
        signed.extend_from_slice(b"0000");
        assert!(receive_commands(&signed)
            .unwrap_err()
            .contains("push certificates"));
    }

    #[test]
    fn a_refused_push_is_reported_as_git_reports_a_declined_hook() {
        let updates = vec![
            app::domain::pushes::RefUpdate {
                old: "a".repeat(40),
                new: "b".repeat(40),
                name: "refs/heads/main".into(),
            },
            app::domain::pushes::RefUpdate {
                old: "a".repeat(40),
                new: "b".repeat(40),
                name: "refs/heads/feat".into(),
            },
        ];
        let refused = vec![(
            "refs/heads/main".to_string(),
            "main is protected".to_string(),
        )];
        let plain = String::from_utf8(push_report(&updates, &refused, false)).unwrap();
        assert_eq!(plain, "000eunpack ok\n0029ng refs/heads/main main is protected\n0047ng refs/heads/feat the push was refused whole (see the other refs)\n0000");
        let banded = push_report(&updates, &refused, true);
        assert!(banded.ends_with(b"0000"));
        let text = String::from_utf8_lossy(&banded);
        assert!(
            text.contains("\u{2}Slipway refused refs/heads/main: main is protected")
                && text.contains("\u{1}000eunpack ok"),
            "{text}"
        );
    }
}

//! The workspace flow on GitHub (Enterprise base URL), Bitbucket Cloud and Azure DevOps, each
//! against an in-test fake of its REST API that checks every request the way the provider's
//! reference defines it (method, path, query, headers, auth, JSON body) and answers with its
//! documented shapes, with a real git server (`git http-backend`, credentials checked) behind
//! the pushes. Then the errors: 401 and 404 on register, a 429 with Retry-After that delays the
//! retry, a 5xx that is retried, and a pull request that already exists (422) being reused.
//! Tokens appear in no job log, audit event or error.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, git, ServerOptions, TestServer};
use crate::workspaces::{bucket_form, deleted, job_log, settled};
use app::domain::integrations::Provider;
use app::server::entities::{
    audit_events, jobs as job_rows, resources as resource_rows, workspaces as workspace_rows,
};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const GH_TOKEN: &str = "ghp_FakeForgeToken0123456789";
const BB_USER: &str = "robot";
const BB_PASSWORD: &str = "AppPassword0123456789";
const AZ_TOKEN: &str = "azdoPat0123456789abcdefXYZ";

struct Pull {
    id: i64,
    head: String,
    base: String,
    title: String,
    /// open, merged, closed
    state: &'static str,
    merge_commit: Option<String>,
}

#[derive(Default)]
struct FakeState {
    pulls: Vec<Pull>,
    /// Requests that broke the provider's contract; the test asserts there are none.
    violations: Vec<String>,
    /// Answers to give instead, the first time a request's "METHOD path" starts with the key.
    inject: VecDeque<(String, u16, Vec<(&'static str, String)>, Value)>,
    /// A request whose "METHOD path" starts with the key is carried out, then never answered:
    /// the notify fires and the caller waits until it gives up (or is killed).
    stall: Option<(String, Arc<tokio::sync::Notify>)>,
    /// The repository's SSH clone URL in its metadata, when a test serves it over SSH.
    ssh_url: Option<String>,
    /// Pull request comments (Azure DevOps: one thread each): (pull, id, body).
    comments: Vec<(i64, i64, String)>,
}

#[derive(Clone)]
pub(crate) struct Fake {
    kind: Provider,
    pub(crate) base: String,
    root: PathBuf,
    state: Arc<Mutex<FakeState>>,
}

impl Fake {
    pub(crate) async fn start(kind: Provider, root: PathBuf) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = Fake {
            kind,
            base,
            root,
            state: Arc::default(),
        };
        // The repository, with a first commit on main, where the fake's git server keeps it.
        let path = fake.root.join(fake.git_path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let seed = fake.root.join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "-q", "-b", "main"]);
        std::fs::write(seed.join("README.md"), "# live\n").unwrap();
        git(&seed, &["add", "README.md"]);
        git(
            &seed,
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@x",
                "commit",
                "-q",
                "-m",
                "first",
            ],
        );
        git(
            &fake.root,
            &["clone", "-q", "--bare", "seed", path.to_str().unwrap()],
        );
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Where the repository lives below the git server's root (and its URL path).
    fn git_path(&self) -> &'static str {
        match self.kind {
            Provider::AzureDevops => "acme/infra/_git/live",
            _ => "acme/live.git",
        }
    }

    pub(crate) fn bare(&self) -> PathBuf {
        self.root.join(self.git_path())
    }

    fn inject(&self, key: &str, status: u16, headers: Vec<(&'static str, String)>, body: Value) {
        self.state
            .lock()
            .unwrap()
            .inject
            .push_back((key.into(), status, headers, body));
    }

    /// Carries out the next request matching `key`, then hangs instead of answering; the
    /// returned notify fires when that happens.
    pub(crate) fn stall(&self, key: &str) -> Arc<tokio::sync::Notify> {
        let notify = Arc::new(tokio::sync::Notify::new());
        self.state.lock().unwrap().stall = Some((key.into(), notify.clone()));
        notify
    }

    /// Serves `url` as the repository's SSH clone URL from now on.
    pub(crate) fn set_ssh_url(&self, url: &str) {
        self.state.lock().unwrap().ssh_url = Some(url.into());
    }

    /// (head branch, state) of every pull request on the fake, in creation order.
    pub(crate) fn pulls(&self) -> Vec<(String, &'static str)> {
        self.state
            .lock()
            .unwrap()
            .pulls
            .iter()
            .map(|p| (p.head.clone(), p.state))
            .collect()
    }

    /// (pull request, body) of every comment on the fake, in creation order.
    pub(crate) fn comments(&self) -> Vec<(i64, String)> {
        self.state
            .lock()
            .unwrap()
            .comments
            .iter()
            .map(|(pull, _, body)| (*pull, body.clone()))
            .collect()
    }

    pub(crate) fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    /// (slug, provider, settings, secrets) of the integration pointing here.
    pub(crate) fn integration_form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("input[slug]", "forge".to_string()),
            ("input[name]", "Forge".to_string()),
        ];
        match self.kind {
            Provider::Github => form.extend([
                ("input[provider]", "github".to_string()),
                ("input[settings][api_url]", format!("{}/api/v3", self.base)),
                ("input[settings][organization]", "acme".to_string()),
                ("input[secrets][token]", GH_TOKEN.to_string()),
            ]),
            Provider::Bitbucket => form.extend([
                ("input[provider]", "bitbucket".to_string()),
                ("input[settings][api_url]", format!("{}/2.0", self.base)),
                ("input[settings][workspace]", "acme".to_string()),
                ("input[settings][username]", BB_USER.to_string()),
                ("input[secrets][app_password]", BB_PASSWORD.to_string()),
            ]),
            _ => form.extend([
                ("input[provider]", "azure_devops".to_string()),
                (
                    "input[settings][organization_url]",
                    format!("{}/acme", self.base),
                ),
                ("input[settings][project]", "infra".to_string()),
                ("input[secrets][token]", AZ_TOKEN.to_string()),
            ]),
        }
        form
    }

    pub(crate) fn repository(&self) -> &'static str {
        match self.kind {
            Provider::AzureDevops => "acme/infra/live",
            _ => "acme/live",
        }
    }

    pub(crate) fn head_of(&self, branch: &str) -> Option<String> {
        let git = git2::Repository::open_bare(self.bare()).ok()?;
        let reference = git.find_reference(&format!("refs/heads/{branch}")).ok()?;
        reference.target().map(|o| o.to_string())
    }

    fn pull_json(&self, pull: &Pull) -> Value {
        let sha = self.head_of(&pull.head).unwrap_or_default();
        match self.kind {
            Provider::Github => json!({
                "number": pull.id,
                "html_url": format!("{}/acme/live/pull/{}", self.base, pull.id),
                "state": if pull.state == "open" { "open" } else { "closed" },
                "title": pull.title,
                "merged_at": if pull.state == "merged" { json!("2026-11-23T10:00:00Z") } else { Value::Null },
                "merge_commit_sha": pull.merge_commit,
                "head": { "ref": pull.head, "sha": sha },
                "base": { "ref": pull.base },
            }),
            Provider::Bitbucket => json!({
                "type": "pullrequest",
                "id": pull.id,
                "title": pull.title,
                "state": match pull.state { "open" => "OPEN", "merged" => "MERGED", _ => "DECLINED" },
                "links": { "html": { "href": format!("{}/acme/live/pull-requests/{}", self.base, pull.id) } },
                // Bitbucket Cloud abbreviates commit hashes to 12 digits in pull requests.
                "source": { "branch": { "name": pull.head }, "commit": { "hash": sha.get(..12).unwrap_or_default() } },
                "destination": { "branch": { "name": pull.base } },
                "merge_commit": pull.merge_commit.as_ref().map(|h| json!({ "hash": h })),
            }),
            _ => json!({
                "pullRequestId": pull.id,
                "title": pull.title,
                "status": match pull.state { "open" => "active", "merged" => "completed", _ => "abandoned" },
                "sourceRefName": format!("refs/heads/{}", pull.head),
                "targetRefName": format!("refs/heads/{}", pull.base),
                "lastMergeSourceCommit": { "commitId": sha },
                "lastMergeCommit": pull.merge_commit.as_ref().map(|c| json!({ "commitId": c })),
                "repository": { "webUrl": format!("{}/acme/infra/_git/live", self.base) },
            }),
        }
    }

    fn repository_json(&self) -> Value {
        let clone = format!("{}/git/{}", self.base, self.git_path());
        let ssh = self.state.lock().unwrap().ssh_url.clone();
        match self.kind {
            Provider::Github => json!({
                "name": "live", "full_name": "acme/live", "owner": { "login": "acme" },
                "html_url": format!("{}/acme/live", self.base),
                "clone_url": clone, "ssh_url": ssh.unwrap_or_else(|| "git@github.example.com:acme/live.git".into()),
                "default_branch": "main",
            }),
            Provider::Bitbucket => json!({
                "type": "repository", "name": "live", "full_name": "acme/live",
                "workspace": { "slug": "acme" }, "mainbranch": { "type": "branch", "name": "main" },
                "links": {
                    "html": { "href": format!("{}/acme/live", self.base) },
                    "clone": [
                        { "name": "https", "href": clone.replace("http://", &format!("http://{BB_USER}@")) },
                        { "name": "ssh", "href": "git@bitbucket.org:acme/live.git" },
                    ],
                },
            }),
            _ => json!({
                "id": "5febef5a-833d-4e14-b9c0-14cb638f91e6", "name": "live",
                "project": { "name": "infra" }, "defaultBranch": "refs/heads/main",
                "remoteUrl": clone.replace("http://", "http://acme@"),
                "sshUrl": "git@ssh.dev.azure.com:v3/acme/infra/live",
                "webUrl": format!("{}/acme/infra/_git/live", self.base),
            }),
        }
    }

    /// The provider's error body for `message`.
    fn error(&self, status: u16, message: &str) -> Response {
        let body = match self.kind {
            Provider::Bitbucket => json!({ "type": "error", "error": { "message": message } }),
            Provider::AzureDevops => {
                json!({ "$id": "1", "message": message, "typeKey": "GitException", "errorCode": 0 })
            }
            _ => json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        };
        (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
    }
}

fn basic(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?,
    )
    .ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let key = format!("{} {}", request.method(), request.uri().path());
    let response = answer(fake.clone(), request).await;
    let stalled = {
        let mut state = fake.state.lock().unwrap();
        match &state.stall {
            Some((k, _)) if key.starts_with(k.as_str()) => state.stall.take().map(|(_, n)| n),
            _ => None,
        }
    };
    if let Some(notify) = stalled {
        notify.notify_one();
        std::future::pending::<()>().await;
    }
    response
}

async fn answer(fake: Fake, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let method = request.method().as_str().to_string();
    let headers = request.headers().clone();

    // The git server behind the pushes, with each provider's git credentials.
    if let Some(rest) = path.strip_prefix("/git") {
        let allowed = match (fake.kind, basic(&headers)) {
            (Provider::Github, Some((_, p))) => p == GH_TOKEN,
            (Provider::Bitbucket, Some((u, p))) => u == BB_USER && p == BB_PASSWORD,
            (Provider::AzureDevops, Some((_, p))) => p == AZ_TOKEN,
            _ => false,
        };
        if !allowed {
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"git\"")],
                "",
            )
                .into_response();
        }
        let root = fake.root.clone();
        return server::git_http::run_backend(
            &root,
            rest,
            "fake",
            request,
            server::git_http::Bounds::unbounded(),
        )
        .await
        .0;
    }

    let key = format!("{method} {path}");
    {
        let mut state = fake.state.lock().unwrap();
        if let Some(i) = state
            .inject
            .iter()
            .position(|(k, ..)| key.starts_with(k.as_str()))
        {
            let (_, status, extra, body) = state.inject.remove(i).unwrap();
            let mut response =
                (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
            for (name, value) in extra {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            return response;
        }
    }
    // Authentication and the headers each reference asks for.
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let violation = |what: String| {
        fake.state
            .lock()
            .unwrap()
            .violations
            .push(format!("{key}: {what}"))
    };
    let authenticated = match fake.kind {
        Provider::Github => {
            if header("accept") != "application/vnd.github+json" {
                violation(format!("Accept {:?}", header("accept")));
            }
            if header("x-github-api-version") != "2022-11-28" {
                violation("no X-GitHub-Api-Version".into());
            }
            if header("user-agent").is_empty() {
                violation("GitHub requires a User-Agent".into());
            }
            header("authorization") == format!("Bearer {GH_TOKEN}")
        }
        Provider::Bitbucket => basic(&headers) == Some((BB_USER.into(), BB_PASSWORD.into())),
        _ => {
            if !query.split('&').any(|p| p == "api-version=7.1") {
                violation("no api-version=7.1".into());
            }
            basic(&headers).is_some_and(|(_, p)| p == AZ_TOKEN)
        }
    };
    if !authenticated {
        return fake.error(401, "Bad credentials");
    }
    let body: Value = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    if matches!(method.as_str(), "POST" | "PUT" | "PATCH")
        && body.is_null()
        && !path.ends_with("/decline")
    {
        violation("a JSON body was expected".into());
    }
    let prefix = match fake.kind {
        Provider::Github => "/api/v3/repos/acme/live",
        Provider::Bitbucket => "/2.0/repositories/acme/live",
        _ => "/acme/infra/_apis/git/repositories/live",
    };
    let Some(rest) = path.strip_prefix(prefix) else {
        violation("unknown path".into());
        return fake.error(404, "Not Found");
    };
    let pulls = match fake.kind {
        Provider::Github => "/pulls",
        _ => "/pullrequests",
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let number: Option<i64> = rest
        .strip_prefix(pulls)
        .and_then(|r| r.trim_start_matches('/').split('/').next()?.parse().ok());
    let action = rest.rsplit('/').next().unwrap_or("");
    if let Some(response) = comment_endpoint(&fake, &method, rest, &body, &violation) {
        return response;
    }

    match (method.as_str(), rest, number) {
        ("GET", "", None) => axum::Json(fake.repository_json()).into_response(),
        ("GET", r, None) if r == pulls => {
            let head = match fake.kind {
                Provider::Github => {
                    param("head").and_then(|h| h.strip_prefix("acme:").map(str::to_string))
                }
                Provider::Bitbucket => param("q").and_then(|q| {
                    q.strip_prefix("source.branch.name = \"")?
                        .strip_suffix('"')
                        .map(str::to_string)
                }),
                _ => param("searchCriteria.sourceRefName")
                    .and_then(|r| r.strip_prefix("refs/heads/").map(str::to_string)),
            };
            let open_param = match fake.kind {
                Provider::Github => param("state").as_deref() == Some("open"),
                Provider::Bitbucket => param("state").as_deref() == Some("OPEN"),
                _ => param("searchCriteria.status").as_deref() == Some("active"),
            };
            if head.is_none() || !open_param {
                violation(format!("list filters {query:?}"));
            }
            let state = fake.state.lock().unwrap();
            let found: Vec<Value> = state
                .pulls
                .iter()
                .filter(|p| p.state == "open" && Some(&p.head) == head.as_ref())
                .map(|p| fake.pull_json(p))
                .collect();
            match fake.kind {
                Provider::Github => axum::Json(json!(found)).into_response(),
                Provider::Bitbucket => axum::Json(
                    json!({ "values": found, "pagelen": 10, "size": found.len(), "page": 1 }),
                )
                .into_response(),
                _ => axum::Json(json!({ "value": found, "count": found.len() })).into_response(),
            }
        }
        ("POST", r, None) if r == pulls => {
            let (head, base, title) = match fake.kind {
                Provider::Github => (
                    body["head"].as_str(),
                    body["base"].as_str(),
                    body["title"].as_str(),
                ),
                Provider::Bitbucket => (
                    body.pointer("/source/branch/name").and_then(Value::as_str),
                    body.pointer("/destination/branch/name")
                        .and_then(Value::as_str),
                    body["title"].as_str(),
                ),
                _ => (
                    body["sourceRefName"]
                        .as_str()
                        .and_then(|r| r.strip_prefix("refs/heads/")),
                    body["targetRefName"]
                        .as_str()
                        .and_then(|r| r.strip_prefix("refs/heads/")),
                    body["title"].as_str(),
                ),
            };
            let (Some(head), Some(base), Some(title)) = (head, base, title) else {
                violation(format!("pull request body {body}"));
                return fake.error(400, "Invalid request body");
            };
            if fake.head_of(head).is_none() {
                return fake.error(422, &format!("No commits between {base} and {head}"));
            }
            let mut state = fake.state.lock().unwrap();
            if state
                .pulls
                .iter()
                .any(|p| p.state == "open" && p.head == head)
            {
                drop(state);
                return match fake.kind {
                    Provider::Github => fake.error(422, &format!("A pull request already exists for acme:{head}.")),
                    Provider::Bitbucket => fake.error(400, "Only one pull request may be open for a given source and target branch"),
                    _ => fake.error(409, "TF401179: An active pull request for the source and target branch already exists."),
                };
            }
            let id = state.pulls.len() as i64 + 1;
            state.pulls.push(Pull {
                id,
                head: head.into(),
                base: base.into(),
                title: title.into(),
                state: "open",
                merge_commit: None,
            });
            let json = fake.pull_json(state.pulls.last().unwrap());
            (StatusCode::CREATED, axum::Json(json)).into_response()
        }
        (_, _, Some(id)) => {
            let mut state = fake.state.lock().unwrap();
            let Some(index) = state.pulls.iter().position(|p| p.id == id) else {
                drop(state);
                return fake.error(404, "Not Found");
            };
            let merge = match (fake.kind, method.as_str(), action) {
                (Provider::Github, "PUT", "merge") => {
                    // `sha`: the head the merge must match; GitHub answers 409 otherwise.
                    let head = fake.head_of(&state.pulls[index].head);
                    if body["sha"].as_str() != head.as_deref() {
                        drop(state);
                        if body["sha"].is_null() {
                            violation(format!("merge without sha {body}"));
                        }
                        return fake.error(
                            409,
                            "Head branch was modified. Review and try the merge again.",
                        );
                    }
                    body["merge_method"] == "merge" || {
                        violation(format!("merge body {body}"));
                        false
                    }
                }
                (Provider::Bitbucket, "POST", "merge") => {
                    body["merge_strategy"] == "merge_commit" || {
                        violation(format!("merge body {body}"));
                        false
                    }
                }
                (Provider::AzureDevops, "PATCH", _) if body["status"] == "completed" => {
                    let expected = fake.head_of(&state.pulls[index].head);
                    if body
                        .pointer("/lastMergeSourceCommit/commitId")
                        .and_then(Value::as_str)
                        != expected.as_deref()
                    {
                        drop(state);
                        return fake.error(409, "TF401192: the source commit is not the latest");
                    }
                    true
                }
                _ => false,
            };
            let close = matches!((fake.kind, method.as_str(), action), (Provider::Github, "PATCH", _) if body["state"] == "closed")
                || matches!(
                    (fake.kind, method.as_str(), action),
                    (Provider::Bitbucket, "POST", "decline")
                )
                || matches!((fake.kind, method.as_str()), (Provider::AzureDevops, "PATCH") if body["status"] == "abandoned");
            if merge {
                if state.pulls[index].state != "open" {
                    drop(state);
                    return fake.error(405, "Pull Request is not mergeable");
                }
                let git = git2::Repository::open_bare(fake.bare()).unwrap();
                let (base, head) = (
                    state.pulls[index].base.clone(),
                    state.pulls[index].head.clone(),
                );
                let (_, _, merged) = server::adapters::local_forge::merge_branches(
                    &git, &base, &head, "Merge", false, None,
                )
                .unwrap();
                state.pulls[index].state = "merged";
                state.pulls[index].merge_commit = Some(merged.to_string());
                if fake.kind == Provider::Github {
                    return axum::Json(json!({ "sha": merged.to_string(), "merged": true, "message": "Pull Request successfully merged" })).into_response();
                }
            } else if close {
                state.pulls[index].state = "closed";
            } else if method != "GET" {
                violation(format!("unexpected change {body}"));
            }
            axum::Json(fake.pull_json(&state.pulls[index])).into_response()
        }
        _ => {
            violation("unknown endpoint".into());
            fake.error(404, "Not Found")
        }
    }
}

/// The comment endpoints of each provider's reference: GitHub's issue comments (list with
/// per_page/page, create, update by id), Bitbucket's pull request comments (`content.raw`), and
/// Azure DevOps' pull request threads (a thread per comment; comments updated in their thread).
fn comment_endpoint(
    fake: &Fake,
    method: &str,
    rest: &str,
    body: &Value,
    violation: &dyn Fn(String),
) -> Option<Response> {
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let text = match fake.kind {
        Provider::Github => body["body"].as_str(),
        Provider::Bitbucket => body.pointer("/content/raw").and_then(Value::as_str),
        _ => body["content"]
            .as_str()
            .or_else(|| body.pointer("/comments/0/content").and_then(Value::as_str)),
    }
    .map(str::to_string);
    let mut state = fake.state.lock().unwrap();
    let listed = |state: &FakeState, pull: i64| -> Vec<Value> {
        state
            .comments
            .iter()
            .filter(|(p, ..)| *p == pull)
            .map(|(_, id, body)| match fake.kind {
                Provider::Github => json!({ "id": id, "body": body, "user": { "login": "slipway-bot" } }),
                Provider::Bitbucket => json!({ "type": "pullrequest_comment", "id": id, "content": { "raw": body, "markup": "markdown" } }),
                _ => json!({ "id": id, "status": "active", "comments": [{ "id": 1, "parentCommentId": 0, "content": body, "commentType": "text" }] }),
            })
            .collect()
    };
    let next_id = state.comments.len() as i64 + 1;
    let shape = |kind: Provider, parts: &[&str]| -> Option<(&'static str, i64, Option<i64>)> {
        match (kind, parts) {
            (Provider::Github, ["issues", "comments", id]) => Some(("one", 0, id.parse().ok())),
            (Provider::Github, ["issues", n, "comments"]) => Some(("all", n.parse().ok()?, None)),
            (Provider::Bitbucket, ["pullrequests", n, "comments"]) => {
                Some(("all", n.parse().ok()?, None))
            }
            (Provider::Bitbucket, ["pullrequests", n, "comments", id]) => {
                Some(("one", n.parse().ok()?, id.parse().ok()))
            }
            (Provider::AzureDevops, ["pullRequests", n, "threads"]) => {
                Some(("all", n.parse().ok()?, None))
            }
            (Provider::AzureDevops, ["pullRequests", n, "threads", id, "comments", "1"]) => {
                Some(("one", n.parse().ok()?, id.parse().ok()))
            }
            _ => None,
        }
    };
    let (which, pull, id) = shape(fake.kind, &parts)?;
    let update = match fake.kind {
        Provider::Github => "PATCH",
        Provider::Bitbucket => "PUT",
        _ => "PATCH",
    };
    Some(match (which, method) {
        ("all", "GET") => {
            let all = listed(&state, pull);
            match fake.kind {
                Provider::Github => axum::Json(json!(all)).into_response(),
                Provider::Bitbucket => axum::Json(
                    json!({ "values": all, "pagelen": 100, "size": all.len(), "page": 1 }),
                )
                .into_response(),
                _ => axum::Json(json!({ "value": all, "count": all.len() })).into_response(),
            }
        }
        ("all", "POST") => {
            let Some(text) = text else {
                violation(format!("comment body {body}"));
                return Some(fake.error(400, "Invalid request body"));
            };
            if fake.kind == Provider::AzureDevops
                && (body.pointer("/comments/0/commentType") != Some(&json!(1))
                    || body["status"] != json!(1))
            {
                violation(format!("thread body {body}"));
            }
            if !state.pulls.iter().any(|p| p.id == pull) {
                return Some(fake.error(404, "Not Found"));
            }
            state.comments.push((pull, next_id, text.clone()));
            drop(state);
            (StatusCode::CREATED, axum::Json(json!({ "id": next_id }))).into_response()
        }
        ("one", m) if m == update => {
            let Some(text) = text else {
                violation(format!("comment body {body}"));
                return Some(fake.error(400, "Invalid request body"));
            };
            let Some(comment) = state
                .comments
                .iter_mut()
                .find(|(p, i, _)| Some(*i) == id && (pull == 0 || *p == pull))
            else {
                return Some(fake.error(404, "Not Found"));
            };
            comment.2 = text;
            axum::Json(json!({ "id": id })).into_response()
        }
        _ => {
            violation("unknown comment endpoint".into());
            fake.error(405, "Method Not Allowed")
        }
    })
}

/// The fake's comments once `done` holds of them (waits up to 30 s: the comment is a job of its
/// own, queued when the plan ends).
async fn comments_settled(
    fake: &Fake,
    done: impl Fn(&[(i64, String)]) -> bool,
) -> Vec<(i64, String)> {
    for _ in 0..300 {
        let comments = fake.comments();
        if done(&comments) {
            return comments;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the plan comment did not arrive: {:?}", fake.comments());
}

async fn flow(db: crate::support::TestDb, kind: Provider) {
    let server = TestServer::start(
        &db,
        ServerOptions {
            worker: true,
            ..ServerOptions::default()
        },
    )
    .await;
    let fake = Fake::start(kind, server.data_dir.join("fake-forge")).await;
    let admin = client();
    demo_sign_in(&admin, &server, "ada").await;
    let member = client();
    demo_sign_in(&member, &server, "dev").await;
    let form = fake.integration_form();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = call(&admin, &server, "create_integration", &form).await;
    assert_eq!(status, 200, "{body}");

    // Register: 401 and 404 from the forge are clear errors, and nothing is registered.
    let register = [
        ("input[integration]", "forge"),
        ("input[repository]", fake.repository()),
    ];
    let repo_path = match kind {
        Provider::Github => "GET /api/v3/repos/",
        Provider::Bitbucket => "GET /2.0/repositories/",
        _ => "GET /acme/infra/_apis",
    };
    fake.inject(
        repo_path,
        401,
        vec![],
        json!({ "message": "Bad credentials" }),
    );
    let (status, body) = call(&member, &server, "register_workspace", &register).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("refused the integration's credentials (401)"),
        "{body}"
    );
    fake.inject(repo_path, 404, vec![], json!({ "message": "Not Found" }));
    let (status, body) = call(&member, &server, "register_workspace", &register).await;
    assert!(status == 422 && body.contains("(404)"), "{body}");
    assert_eq!(
        workspace_rows::Entity::find()
            .count(&server.ctx.db)
            .await
            .unwrap(),
        0
    );
    let (status, body) = call(&member, &server, "register_workspace", &register).await;
    assert_eq!(status, 200, "{body}");
    let workspace: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(workspace["slug"], "acme-live");
    assert_eq!(workspace["config"]["default_branch"], "main");
    assert_eq!(
        workspace["config"]["https_url"],
        format!("{}/git/{}", fake.base, fake.git_path()),
        "user name stripped"
    );

    // Create: pushed over HTTP with the integration's credentials; the pull request is opened
    // after one rate-limited attempt, whose Retry-After delays the retry.
    let pulls_path = match kind {
        Provider::Github => "POST /api/v3/repos/acme/live/pulls",
        Provider::Bitbucket => "POST /2.0/repositories/acme/live/pullrequests",
        _ => "POST /acme/infra/_apis/git/repositories/live/pullrequests",
    };
    fake.inject(
        pulls_path,
        429,
        vec![("retry-after", "7".into())],
        json!({ "message": "API rate limit exceeded" }),
    );
    let started = std::time::Instant::now();
    let (status, body) = call(
        &member,
        &server,
        "create_resource",
        &bucket_form("logs", "Audit Logs", "acme-audit-logs"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        settled(&server, "logs").await,
        ("provision".into(), "ready".into())
    );
    assert!(
        started.elapsed().as_secs() >= 6,
        "the retry waited for Retry-After"
    );
    assert!(job_log(&server)
        .await
        .contains("rate-limiting Slipway (429)"));
    let bare = fake.bare();
    assert!(git(
        &bare,
        &[
            "show",
            "update_audit_logs:s3-bucket/audit_logs/variables.tf"
        ]
    )
    .contains("acme-audit-logs"));
    assert_eq!(fake.state.lock().unwrap().pulls.len(), 1);
    // Its plan is posted on the pull request as one comment.
    let first = comments_settled(&fake, |c| c.len() == 1).await;
    assert_eq!(first[0].0, 1);
    assert!(
        first[0].1.contains("Slipway plan #")
            && first[0].1.contains("`logs`")
            && first[0].1.contains(app::server::plans::COMMENT_MARKER),
        "{first:?}"
    );

    // Edit after a "lost" pull request: the list answers empty once, creating answers "already
    // exists", and the existing pull request is reused rather than duplicated.
    let list_path = pulls_path.replace("POST", "GET");
    let empty = match kind {
        Provider::Github => json!([]),
        Provider::Bitbucket => json!({ "values": [], "pagelen": 10, "size": 0, "page": 1 }),
        _ => json!({ "value": [], "count": 0 }),
    };
    fake.inject(&list_path, 200, vec![], empty);
    let (status, body) = call(
        &member,
        &server,
        "update_resource",
        &bucket_form("logs", "Audit Logs", "acme-audit-logs-eu"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        settled(&server, "logs").await,
        ("provision".into(), "ready".into())
    );
    assert_eq!(
        fake.state.lock().unwrap().pulls.len(),
        1,
        "no duplicate pull request"
    );
    // Planned again: the same comment, edited in place with the new plan.
    let edited = comments_settled(&fake, |c| c.len() == 1 && c[0].1 != first[0].1).await;
    assert!(
        edited[0].1.contains("acme-audit-logs-eu") || edited[0].1.contains("Slipway plan #"),
        "{edited:?}"
    );

    // Approve, through one 502: retried, then merged on the forge; the code is on main.
    let merge_path = match kind {
        Provider::Github => "PUT /api/v3/repos/acme/live/pulls/1/merge",
        Provider::Bitbucket => "POST /2.0/repositories/acme/live/pullrequests/1/merge",
        _ => "PATCH /acme/infra/_apis/git/repositories/live/pullrequests/1",
    };
    fake.inject(merge_path, 502, vec![], json!({ "message": "Bad Gateway" }));
    let (status, body) = crate::support::review(&admin, &server, "logs", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        settled(&server, "logs").await,
        ("provisioned".into(), "done".into())
    );
    assert!(
        git(&bare, &["show", "main:s3-bucket/audit_logs/variables.tf"])
            .contains("acme-audit-logs-eu")
    );

    // Destroy; reject (closed on the forge), destroy again, approve: the folder is gone.
    assert_eq!(
        call(
            &member,
            &server,
            "resource_action",
            &[("slug", "logs"), ("action", "destroy")]
        )
        .await
        .0,
        200
    );
    settled(&server, "logs").await;
    assert_eq!(
        crate::support::review(&member, &server, "logs", false)
            .await
            .0,
        200
    );
    settled(&server, "logs").await;
    assert_eq!(fake.state.lock().unwrap().pulls[1].state, "closed");
    assert_eq!(
        call(
            &member,
            &server,
            "resource_action",
            &[("slug", "logs"), ("action", "cancel_destroy")]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &member,
            &server,
            "resource_action",
            &[("slug", "logs"), ("action", "destroy")]
        )
        .await
        .0,
        200
    );
    settled(&server, "logs").await;
    let (status, body) = crate::support::review(&admin, &server, "logs", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        settled(&server, "logs").await,
        ("destroyed".into(), "done".into())
    );
    assert_eq!(
        git(&bare, &["ls-tree", "-r", "--name-only", "main"]),
        "README.md"
    );

    // Deleting a never-provisioned resource closes its pull request on the forge, then deletes
    // it. When the forge has lost the pull request (404) the close fails with the reason, and
    // deleting again deletes at once.
    let delete = |slug: &'static str| {
        let (member, server) = (member.clone(), &server);
        async move {
            call(
                &member,
                server,
                "resource_action",
                &[("slug", slug), ("action", "delete")],
            )
            .await
        }
    };
    for (slug, name) in [("draft", "Draft Bucket"), ("draft-two", "Draft Two")] {
        let (status, body) = call(
            &member,
            &server,
            "create_resource",
            &bucket_form(slug, name, &format!("acme-{slug}")),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            settled(&server, slug).await,
            ("provision".into(), "ready".into())
        );
    }
    assert_eq!(delete("draft").await.0, 200);
    deleted(&server, "draft").await;
    assert_eq!(
        fake.pulls()[3],
        ("update_draft_bucket".to_string(), "closed")
    );
    let close_path = match kind {
        Provider::Github => "PATCH /api/v3/repos/acme/live/pulls/5",
        Provider::Bitbucket => "POST /2.0/repositories/acme/live/pullrequests/5/decline",
        _ => "PATCH /acme/infra/_apis/git/repositories/live/pullrequests/5",
    };
    fake.inject(close_path, 404, vec![], json!({ "message": "Not Found" }));
    assert_eq!(delete("draft-two").await.0, 200);
    assert_eq!(
        settled(&server, "draft-two").await,
        ("provision".into(), "error".into())
    );
    assert!(job_log(&server).await.contains("(404)"));
    assert_eq!(delete("draft-two").await.0, 200);
    assert!(resource_rows::Entity::find()
        .filter(resource_rows::Column::Slug.eq("draft-two"))
        .one(&server.ctx.db)
        .await
        .unwrap()
        .is_none());

    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "every request met the provider's contract"
    );
    // No secret anywhere a person or a log could read it.
    let secret = match kind {
        Provider::Github => GH_TOKEN,
        Provider::Bitbucket => BB_PASSWORD,
        _ => AZ_TOKEN,
    };
    assert!(!job_log(&server).await.contains(secret));
    for event in audit_events::Entity::find()
        .all(&server.ctx.db)
        .await
        .unwrap()
    {
        assert!(!format!("{event:?}").contains(secret), "{}", event.action);
    }
    for job in job_rows::Entity::find().all(&server.ctx.db).await.unwrap() {
        assert!(!format!("{job:?}").contains(secret));
    }
}

db_test! {
    async fn the_workspace_flow_on_github(db: TestDb) {
        flow(db, Provider::Github).await;
    }
}

db_test! {
    async fn the_workspace_flow_on_bitbucket(db: TestDb) {
        flow(db, Provider::Bitbucket).await;
    }
}

db_test! {
    async fn the_workspace_flow_on_azure_devops(db: TestDb) {
        flow(db, Provider::AzureDevops).await;
    }
}

//! Provisioning a governed repository on GitHub, on both databases, against an in-test fake of
//! GitHub's REST API that holds two repositories (the repository and `managed-workflows-private`)
//! with their pull requests, rulesets and webhooks, checks each request the way the API
//! reference defines it, and answers the way GitHub does (its own fields added to a stored
//! ruleset, rules reordered, a webhook's secret masked) — with a real git server behind the
//! pushes. Refused without a webhook secret (nothing written); then applied: develop created for
//! Git Flow, the files on `chore/slipway-provision` with everything else kept, a pull request on
//! each repository, the rulesets created (each body passing GitHub's request schema), a stale
//! Slipway ruleset removed and people's own left alone, the webhook created. Applying again
//! writes nothing; a ruleset changed on GitHub is put back with one write.

use crate::db_test;
use crate::support::*;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "ghp_ProvisionToken0123456789";
const WEBHOOK_SECRET: &str = "whsec-provision-0123456789";
const REPOSITORIES: [&str; 2] = ["shop", "managed-workflows-private"];

#[derive(Default)]
struct Repo {
    /// (number, head, base, title, open)
    pulls: Vec<(i64, String, String, String, bool)>,
    rulesets: BTreeMap<i64, Value>,
    hooks: BTreeMap<i64, Value>,
}

#[derive(Default)]
struct GitHubState {
    repos: BTreeMap<String, Repo>,
    next_id: i64,
    /// "METHOD path" of every request that changed something.
    writes: Vec<String>,
    /// Every ruleset body Slipway sent.
    ruleset_bodies: Vec<Value>,
    violations: Vec<String>,
}

#[derive(Clone)]
struct FakeGitHub {
    base: String,
    root: PathBuf,
    state: Arc<Mutex<GitHubState>>,
}

impl FakeGitHub {
    async fn start(root: PathBuf) -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeGitHub {
            base: format!("http://{}", listener.local_addr().unwrap()),
            root,
            state: Arc::default(),
        };
        for name in REPOSITORIES {
            let seed = fake.root.join(format!("seed-{name}"));
            std::fs::create_dir_all(&seed).unwrap();
            git(&seed, &["init", "-q", "-b", "main"]);
            std::fs::write(seed.join("README.md"), format!("# {name}\n")).unwrap();
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
                    "docs: first",
                ],
            );
            let bare = fake.bare(name);
            git(
                &fake.root,
                &[
                    "clone",
                    "-q",
                    "--bare",
                    seed.to_str().unwrap(),
                    bare.to_str().unwrap(),
                ],
            );
            fake.state
                .lock()
                .unwrap()
                .repos
                .insert(name.into(), Repo::default());
        }
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    fn bare(&self, name: &str) -> PathBuf {
        self.root.join("acme").join(format!("{name}.git"))
    }

    fn head_of(&self, repo: &str, branch: &str) -> Option<git2::Oid> {
        let git = git2::Repository::open_bare(self.bare(repo)).ok()?;
        let reference = git.find_reference(&format!("refs/heads/{branch}")).ok()?;
        reference.target()
    }

    /// A ruleset as GitHub answers `GET .../rulesets/ID`: the stored body with its own fields,
    /// the rules in another order, a parameter GitHub added since, no bypass actors shown.
    fn ruleset_json(&self, repo: &str, id: i64, stored: &Value) -> Value {
        let mut answer = stored.clone();
        answer["id"] = id.into();
        answer["source_type"] = "Repository".into();
        answer["source"] = format!("acme/{repo}").into();
        answer["node_id"] = format!("RRS_{id}").into();
        answer["created_at"] = "2026-11-23T10:00:00Z".into();
        answer["updated_at"] = "2026-11-23T10:00:00Z".into();
        answer["current_user_can_bypass"] = "never".into();
        answer["_links"] = json!({ "self": { "href": format!("{}/api/v3/repos/acme/{repo}/rulesets/{id}", self.base) } });
        answer.as_object_mut().unwrap().remove("bypass_actors");
        if let Some(rules) = answer["rules"].as_array_mut() {
            rules.reverse();
            for rule in rules {
                if rule["type"] == "pull_request" {
                    rule["parameters"]["automatic_copilot_code_review_enabled"] = false.into();
                }
            }
        }
        answer
    }

    fn error(status: u16, message: &str) -> Response {
        (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(
                json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
            ),
        )
            .into_response()
    }

    fn writes(&self) -> Vec<String> {
        self.state.lock().unwrap().writes.clone()
    }

    /// A ruleset someone made on GitHub, or one changed there.
    fn put_ruleset(&self, repo: &str, id: Option<i64>, body: Value) -> i64 {
        let mut state = self.state.lock().unwrap();
        let id = id.unwrap_or_else(|| {
            state.next_id += 1;
            state.next_id
        });
        state.repos.get_mut(repo).unwrap().rulesets.insert(id, body);
        id
    }
}

fn bearer_ok(headers: &axum::http::HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn basic_password(headers: &axum::http::HeaderMap) -> Option<String> {
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
    Some(text.split_once(':')?.1.to_string())
}

async fn handle(State(fake): State<FakeGitHub>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let method = request.method().as_str().to_string();
    let headers = request.headers().clone();
    if let Some(rest) = path.strip_prefix("/git") {
        if basic_password(&headers).as_deref() != Some(TOKEN) {
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"git\"")],
                "",
            )
                .into_response();
        }
        return server::git_http::run_backend(
            &fake.root,
            rest,
            "fake",
            request,
            server::git_http::Bounds::unbounded(),
        )
        .await
        .0;
    }
    let key = format!("{method} {path}");
    let violation = |what: String| {
        fake.state
            .lock()
            .unwrap()
            .violations
            .push(format!("{key}: {what}"))
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if header("accept") != "application/vnd.github+json" {
        violation(format!("Accept {:?}", header("accept")));
    }
    if header("x-github-api-version") != "2022-11-28" {
        violation("no X-GitHub-Api-Version".into());
    }
    if header("user-agent").is_empty() {
        violation("GitHub requires a User-Agent".into());
    }
    if !bearer_ok(&headers) {
        return FakeGitHub::error(401, "Bad credentials");
    }
    let body: Value = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    if matches!(method.as_str(), "POST" | "PUT" | "PATCH") && !body.is_object() {
        violation("a JSON object body was expected".into());
    }
    let Some(rest) = path.strip_prefix("/api/v3/repos/acme/") else {
        violation("unknown path".into());
        return FakeGitHub::error(404, "Not Found");
    };
    let (repo, rest) = match rest.split_once('/') {
        Some((repo, rest)) => (repo.to_string(), format!("/{rest}")),
        None => (rest.to_string(), String::new()),
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
    let segments: Vec<&str> = rest.split('/').skip(1).collect();
    let id: Option<i64> = segments.get(1).and_then(|s| s.parse().ok());
    let mut state = fake.state.lock().unwrap();
    if !state.repos.contains_key(&repo) {
        return FakeGitHub::error(404, "Not Found");
    }
    if method != "GET" {
        state.writes.push(key.clone());
    }
    let violation =
        |state: &mut GitHubState, what: String| state.violations.push(format!("{key}: {what}"));
    match (method.as_str(), segments.as_slice()) {
        ("GET", []) => axum::Json(json!({
            "name": repo, "full_name": format!("acme/{repo}"), "owner": { "login": "acme" },
            "html_url": format!("{}/acme/{repo}", fake.base),
            "clone_url": format!("{}/git/acme/{repo}.git", fake.base),
            "ssh_url": format!("git@github.example.com:acme/{repo}.git"),
            "default_branch": "main",
        }))
        .into_response(),
        ("GET", ["pulls"]) => {
            let head = param("head").and_then(|h| h.strip_prefix("acme:").map(str::to_string));
            if head.is_none() || param("state").as_deref() != Some("open") {
                violation(&mut state, format!("list filters {query:?}"));
            }
            let found: Vec<Value> = state.repos[&repo]
                .pulls
                .iter()
                .filter(|p| p.4 && Some(&p.1) == head.as_ref())
                .map(|p| pull_json(&fake, &repo, p))
                .collect();
            axum::Json(json!(found)).into_response()
        }
        ("POST", ["pulls"]) => {
            let (Some(head), Some(base), Some(title)) = (
                body["head"].as_str(),
                body["base"].as_str(),
                body["title"].as_str(),
            ) else {
                violation(&mut state, format!("pull request body {body}"));
                return FakeGitHub::error(422, "Validation Failed");
            };
            if fake.head_of(&repo, head).is_none() || fake.head_of(&repo, base).is_none() {
                return FakeGitHub::error(422, &format!("No commits between {base} and {head}"));
            }
            let pulls = &mut state.repos.get_mut(&repo).unwrap().pulls;
            if pulls.iter().any(|p| p.4 && p.1 == head) {
                return FakeGitHub::error(
                    422,
                    &format!("A pull request already exists for acme:{head}."),
                );
            }
            let pull = (
                pulls.len() as i64 + 1,
                head.to_string(),
                base.to_string(),
                title.to_string(),
                true,
            );
            pulls.push(pull.clone());
            (
                StatusCode::CREATED,
                axum::Json(pull_json(&fake, &repo, &pull)),
            )
                .into_response()
        }
        ("GET", ["rulesets"]) => {
            if param("includes_parents").as_deref() != Some("false") {
                violation(
                    &mut state,
                    "the organization's rulesets are not the repository's: includes_parents=false"
                        .into(),
                );
            }
            let per_page: usize = param("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
            if per_page > 100 {
                violation(
                    &mut state,
                    format!("per_page {per_page} is above GitHub's 100"),
                );
            }
            let listed: Vec<Value> = state.repos[&repo]
                .rulesets
                .iter()
                .map(|(id, r)| json!({
                    "id": id, "name": r["name"], "target": r["target"], "source_type": "Repository",
                    "source": format!("acme/{repo}"), "enforcement": r["enforcement"],
                }))
                .collect();
            axum::Json(json!(listed)).into_response()
        }
        ("GET", ["rulesets", _]) => match id.and_then(|id| state.repos[&repo].rulesets.get(&id)) {
            Some(stored) => {
                axum::Json(fake.ruleset_json(&repo, id.unwrap(), stored)).into_response()
            }
            None => FakeGitHub::error(404, "Not Found"),
        },
        ("POST", ["rulesets"]) | ("PUT", ["rulesets", _]) => {
            if body["name"].as_str().is_none() || body["enforcement"].as_str().is_none() {
                violation(
                    &mut state,
                    format!("a ruleset needs a name and an enforcement: {body}"),
                );
                return FakeGitHub::error(422, "Validation Failed");
            }
            state.ruleset_bodies.push(body.clone());
            let clash = state.repos[&repo]
                .rulesets
                .iter()
                .any(|(other, r)| Some(*other) != id && r["name"] == body["name"]);
            if clash {
                return FakeGitHub::error(422, "Validation Failed: Name must be unique");
            }
            let id = match (method.as_str(), id) {
                ("PUT", Some(id)) if state.repos[&repo].rulesets.contains_key(&id) => id,
                ("PUT", _) => return FakeGitHub::error(404, "Not Found"),
                _ => {
                    state.next_id += 1;
                    state.next_id
                }
            };
            state
                .repos
                .get_mut(&repo)
                .unwrap()
                .rulesets
                .insert(id, body.clone());
            let answer = fake.ruleset_json(&repo, id, &body);
            let status = if method == "POST" {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(answer)).into_response()
        }
        ("DELETE", ["rulesets", _]) => {
            match id.and_then(|id| state.repos.get_mut(&repo).unwrap().rulesets.remove(&id)) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => FakeGitHub::error(404, "Not Found"),
            }
        }
        ("GET", ["hooks"]) => {
            let listed: Vec<Value> = state.repos[&repo]
                .hooks
                .iter()
                .map(|(id, h)| {
                    let mut h = h.clone();
                    h["id"] = (*id).into();
                    h["type"] = "Repository".into();
                    // GitHub never shows a secret back.
                    if h["config"].get("secret").is_some() {
                        h["config"]["secret"] = "********".into();
                    }
                    h
                })
                .collect();
            axum::Json(json!(listed)).into_response()
        }
        ("POST", ["hooks"]) | ("PATCH", ["hooks", _]) => {
            let config = &body["config"];
            if method == "POST" && body["name"] != "web" {
                violation(
                    &mut state,
                    format!("a repository webhook is named \"web\": {body}"),
                );
            }
            if config["url"].as_str().is_none()
                || !matches!(config["content_type"].as_str(), Some("json" | "form"))
                || !matches!(config["insecure_ssl"].as_str(), Some("0" | "1"))
                || !body["events"]
                    .as_array()
                    .is_some_and(|e| e.iter().all(Value::is_string))
                || !body["active"].is_boolean()
            {
                violation(&mut state, format!("webhook body {body}"));
                return FakeGitHub::error(422, "Validation Failed");
            }
            let stored = json!({ "name": "web", "active": body["active"], "events": body["events"], "config": config });
            let id = match id {
                Some(id) => id,
                None => {
                    state.next_id += 1;
                    state.next_id
                }
            };
            state
                .repos
                .get_mut(&repo)
                .unwrap()
                .hooks
                .insert(id, stored.clone());
            (
                if method == "POST" {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                axum::Json(stored),
            )
                .into_response()
        }
        _ => {
            violation(&mut state, "unknown endpoint".into());
            FakeGitHub::error(404, "Not Found")
        }
    }
}

fn pull_json(fake: &FakeGitHub, repo: &str, pull: &(i64, String, String, String, bool)) -> Value {
    json!({
        "number": pull.0,
        "html_url": format!("{}/acme/{repo}/pull/{}", fake.base, pull.0),
        "state": if pull.4 { "open" } else { "closed" },
        "title": pull.3,
        "merged_at": null,
        "head": { "ref": pull.1, "sha": fake.head_of(repo, &pull.1).map(|o| o.to_string()) },
        "base": { "ref": pull.2 },
    })
}

const SHOP: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: shop
  github-connection: acme-gh
spec:
  strategy: GIT_FLOW
---
apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: shop-api
  parent: GithubRepository/shop
spec:
  type: GOLANG
  stages: [analysis, test, build]
";

async fn view(
    admin: &reqwest::Client,
    server: &TestServer,
) -> app::api::repositories::ProvisionView {
    let (status, body) = call(admin, server, "get_provisioning", &[("name", "shop")]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn provisions(db: &TestDb) -> u64 {
    app::server::entities::audit_events::Entity::find()
        .filter(app::server::entities::audit_events::Column::Action.eq("repository.provision"))
        .count(&db.conn)
        .await
        .unwrap()
}

db_test! {
    async fn a_plan_is_applied_to_github_through_pull_requests_rulesets_and_a_webhook(db: TestDb) {
        let github = FakeGitHub::start(db.dir.join("github")).await;
        // A ruleset people made, and one Slipway made for a branch the strategy no longer has.
        let theirs = github.put_ruleset("shop", None, json!({ "name": "protect-tags", "target": "tag", "enforcement": "active", "rules": [{ "type": "deletion" }] }));
        github.put_ruleset("shop", None, json!({ "name": "slipway-trunk", "target": "branch", "enforcement": "active", "rules": [] }));
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let api = format!("{}/api/v3", github.base);
        let integration = |with_secret: bool| {
            let mut form = vec![
                ("input[slug]", "acme-gh".to_string()), ("input[name]", "Acme on GitHub".to_string()), ("input[provider]", "github".to_string()),
                ("input[settings][api_url]", api.clone()), ("input[settings][organization]", "acme".to_string()),
                ("input[secrets][token]", TOKEN.to_string()),
            ];
            if with_secret {
                form.push(("input[secrets][webhook_secret]", WEBHOOK_SECRET.to_string()));
            }
            form
        };
        let form = integration(false);
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "create_integration", &fields).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&admin, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", SHOP)]).await;
        assert_eq!(status, 200, "{body}");

        // Without a webhook secret nothing could ever pass Merge Authorized: refused, nothing written.
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("has no webhook secret"), "{body}");
        assert_eq!(github.writes(), Vec::<String>::new());
        assert_eq!(provisions(&db).await, 0);
        let form = integration(true);
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "update_integration", &fields).await;
        assert_eq!(status, 200, "{body}");

        // The plan against GitHub: every file to add, the rulesets to create, the stale one to remove.
        let before = view(&admin, &server).await;
        assert!(before.on_github);
        assert_eq!(before.forge, "GitHub (integration acme-gh)");
        assert_eq!((before.forge_repository.as_str(), before.managed_repository.as_str()), ("acme/shop", "acme/managed-workflows-private"));
        assert!(!before.files.is_empty() && before.files.iter().all(|f| f.change == "added"), "{:?}", before.files);
        assert!(before.files.iter().any(|f| f.repository == "acme/managed-workflows-private"));
        let plan_rulesets = before.rulesets_changed.clone();
        assert!(plan_rulesets.contains(&"slipway-develop-branch".to_string()) && plan_rulesets.contains(&"slipway-primary-branch".to_string()), "{plan_rulesets:?}");
        assert_eq!(before.rulesets_removed, vec!["slipway-trunk".to_string()]);

        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        // Git Flow takes changes on develop, made from main; the files come on their own branch
        // from it, with everything else in the repository kept.
        let main = github.head_of("shop", "main").unwrap();
        assert_eq!(github.head_of("shop", "develop"), Some(main));
        {
            let shop = git2::Repository::open_bare(github.bare("shop")).unwrap();
            let provision = shop.find_commit(github.head_of("shop", "chore/slipway-provision").unwrap()).unwrap();
            assert_eq!(provision.parent_ids().collect::<Vec<_>>(), vec![main]);
            assert!(provision.summary().unwrap().starts_with("chore(slipway): provision shop revision 1"));
            let tree = provision.tree().unwrap();
            assert!(tree.get_path(std::path::Path::new("README.md")).is_ok(), "other files stay");
            for file in before.files.iter().filter(|f| f.repository == "acme/shop") {
                assert!(tree.get_path(std::path::Path::new(&file.path)).is_ok(), "{} is written", file.path);
            }
        }
        {
            let state = github.state.lock().unwrap();
            let shop = &state.repos["shop"];
            assert_eq!(shop.pulls.iter().map(|p| (p.1.as_str(), p.2.as_str(), p.4)).collect::<Vec<_>>(), vec![("chore/slipway-provision", "develop", true)]);
            let managed = &state.repos["managed-workflows-private"];
            assert_eq!(managed.pulls.iter().map(|p| (p.1.as_str(), p.2.as_str(), p.4)).collect::<Vec<_>>(), vec![("chore/slipway-provision-shop", "main", true)]);
            // The rulesets: Slipway's as planned, the stale one gone, people's own kept.
            let mut names: Vec<String> = shop.rulesets.values().map(|r| r["name"].as_str().unwrap().to_string()).collect();
            names.sort();
            let mut wanted = plan_rulesets.clone();
            wanted.push("protect-tags".into());
            wanted.sort();
            assert_eq!(names, wanted);
            assert!(shop.rulesets.contains_key(&theirs));
            assert!(managed.rulesets.is_empty() && managed.hooks.is_empty(), "the managed-workflows repository gets files only");
            // The webhook Merge Authorized needs, signed with the integration's secret.
            let hooks: Vec<&Value> = shop.hooks.values().collect();
            assert_eq!(hooks.len(), 1);
            let url = hooks[0]["config"]["url"].as_str().unwrap();
            assert!(url.starts_with(&format!("{}/hooks/github?key=", server.base)) && url.len() == server.base.len() + "/hooks/github?key=".len() + 12, "{url}");
            assert!(!url.contains(WEBHOOK_SECRET));
            assert_eq!(hooks[0]["config"]["secret"], WEBHOOK_SECRET);
            assert_eq!(hooks[0]["config"]["content_type"], "json");
            assert_eq!(hooks[0]["events"], json!(["pull_request", "pull_request_review"]));
            assert_eq!(state.violations, Vec::<String>::new());
        }
        let writes = github.writes();
        assert_eq!(writes.iter().filter(|w| w.starts_with("DELETE ")).count(), 1, "{writes:?}");
        // The webhook is in place before any pull request, so each gets its status.
        let hook = writes.iter().position(|w| w.starts_with("POST /api/v3/repos/acme/shop/hooks")).unwrap();
        assert!(writes.iter().position(|w| w.ends_with("/pulls")).unwrap() > hook, "{writes:?}");
        assert_eq!(provisions(&db).await, 1);

        // Applied: the rulesets are in place; the files wait in the pull requests, linked to GitHub.
        let after = view(&admin, &server).await;
        assert!(after.rulesets_changed.is_empty() && after.rulesets_removed.is_empty(), "{after:?}");
        assert_eq!(after.applied_revision, Some(1));
        assert_eq!(after.pulls.len(), 2);
        assert!(after.pulls.iter().all(|p| p.url.as_deref().is_some_and(|u| u.starts_with(&github.base)) && p.state.as_str() == "open"), "{:?}", after.pulls);
        assert!(after.pulls[0].title.starts_with("chore(slipway): provision shop revision 1"));

        // Again: nothing to write — no push, no pull request, no API write, no audit event.
        let head = github.head_of("shop", "chore/slipway-provision");
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(github.writes(), writes);
        assert_eq!(github.head_of("shop", "chore/slipway-provision"), head);
        assert_eq!(provisions(&db).await, 1);

        let url_before_rotation = github.state.lock().unwrap().repos["shop"].hooks.values().next().unwrap()["config"]["url"].as_str().unwrap().to_string();
        // Someone lowers the approvals of a Slipway ruleset on GitHub: the plan shows it, and
        // applying puts it back with one write.
        let (id, mut changed) = {
            let state = github.state.lock().unwrap();
            let (id, ruleset) = state.repos["shop"].rulesets.iter().find(|(_, r)| r["name"] == "slipway-develop-branch").unwrap();
            (*id, ruleset.clone())
        };
        for rule in changed["rules"].as_array_mut().unwrap() {
            if rule["type"] == "pull_request" {
                rule["parameters"]["required_approving_review_count"] = 0.into();
            }
        }
        github.put_ruleset("shop", Some(id), changed);
        assert_eq!(view(&admin, &server).await.rulesets_changed, vec!["slipway-develop-branch".to_string()]);
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        let now = github.writes();
        assert_eq!(now[writes.len()..].to_vec(), vec![format!("PUT /api/v3/repos/acme/shop/rulesets/{id}")]);
        assert_eq!(provisions(&db).await, 2);

        // The integration's webhook secret is rotated: the next apply rewrites the hook (one
        // PATCH, the same hook), and GitHub then signs with the new secret.
        let rotated = "whsec-rotated-9876543210";
        let mut form = integration(true);
        form.retain(|(k, _)| *k != "input[secrets][webhook_secret]");
        form.push(("input[secrets][webhook_secret]", rotated.to_string()));
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "update_integration", &fields).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        let after_rotation = github.writes();
        let hook_id = *github.state.lock().unwrap().repos["shop"].hooks.keys().next().unwrap();
        assert_eq!(after_rotation[now.len()..].to_vec(), vec![format!("PATCH /api/v3/repos/acme/shop/hooks/{hook_id}")]);
        {
            let state = github.state.lock().unwrap();
            let hooks: Vec<&Value> = state.repos["shop"].hooks.values().collect();
            assert_eq!(hooks.len(), 1);
            assert_eq!(hooks[0]["config"]["secret"], rotated);
            assert_ne!(hooks[0]["config"]["url"].as_str().unwrap(), url_before_rotation);
        }
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(github.writes(), after_rotation, "in place: nothing to write");

        // Merged on GitHub: the plan is in place.
        for repo in REPOSITORIES {
            let git = git2::Repository::open_bare(github.bare(repo)).unwrap();
            let (base, branch) = if repo == "shop" { ("develop", "chore/slipway-provision") } else { ("main", "chore/slipway-provision-shop") };
            server::adapters::local_forge::merge_branches(&git, base, branch, "Merge", false, None).unwrap();
        }
        let merged = view(&admin, &server).await;
        assert!(merged.files.iter().all(|f| f.change == "unchanged"), "{:?}", merged.files);
        assert!(merged.up_to_date());

        // Pull requests of a GitHub repository are GitHub's: Slipway's local ones are refused.
        let (status, body) = call(&admin, &server, "open_pull_request", &[("name", "shop"), ("head", "feat/x"), ("base", "develop"), ("title", "feat: x")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("opened, reviewed and merged there"), "{body}");

        // Every ruleset body Slipway sent passes GitHub's request schema.
        let bodies = github.state.lock().unwrap().ruleset_bodies.clone();
        let dir = db.dir.join("ruleset-bodies");
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let file = dir.join(format!("ruleset-{i}.json"));
            std::fs::write(&file, body.to_string()).unwrap();
            files.push(file);
        }
        let schema = repo_root().join("server/tests/schemas/github-create-repo-ruleset.schema.json");
        let output = std::process::Command::new(repo_root().join(".venv/bin/check-jsonschema"))
            .arg("--schemafile").arg(&schema).args(&files).output().unwrap();
        assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // The token and the webhook secret reach no audit event.
        let events = app::server::entities::audit_events::Entity::find().all(&db.conn).await.unwrap();
        let text = format!("{events:?}");
        assert!(!text.contains(TOKEN) && !text.contains(WEBHOOK_SECRET) && !text.contains("whsec-rotated"));
    }
}

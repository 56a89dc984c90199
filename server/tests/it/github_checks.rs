//! Merge Authorized on GitHub, on both databases: a signed organization webhook delivery
//! queues a durable check; the check reads the pull request, its commits and reviews from
//! GitHub's REST API (an in-test fake that checks each request as the API reference defines it)
//! and posts the verdict as the head commit's status (checked against GitHub's request schema).
//! Unsigned or wrongly signed deliveries are refused; a redelivery queues nothing new.

use crate::db_test;
use crate::support::*;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "ghp_fake0123456789abcdef";
const WEBHOOK_SECRET: &str = "whsec-0123456789abcdef";
const HEAD: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

#[derive(Default)]
struct GitHub {
    commits: Vec<Value>,
    reviews: Vec<Value>,
    statuses: Vec<(String, Value)>,
    violations: Vec<String>,
}

type Shared = Arc<Mutex<GitHub>>;

fn check_headers(state: &Shared, headers: &HeaderMap, what: &str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut found = Vec::new();
    if header("authorization") != format!("Bearer {TOKEN}") {
        found.push(format!(
            "{what}: Authorization is not the integration's bearer token"
        ));
    }
    if header("accept") != "application/vnd.github+json" {
        found.push(format!("{what}: Accept {:?}", header("accept")));
    }
    if header("x-github-api-version") != "2022-11-28" {
        found.push(format!(
            "{what}: X-GitHub-Api-Version {:?}",
            header("x-github-api-version")
        ));
    }
    state.lock().unwrap().violations.extend(found);
}

async fn fake_github() -> (String, Shared) {
    let state: Shared = Arc::default();
    let pull = |State(state): State<Shared>,
                headers: HeaderMap,
                Path((owner, repo, number)): Path<(String, String, i64)>| async move {
        check_headers(&state, &headers, "GET pull");
        assert_eq!((owner.as_str(), repo.as_str(), number), ("acme", "shop", 7));
        Json(json!({
            "number": 7, "state": "open", "title": "feat(auth): sign in with passkeys",
            "html_url": "https://github.example/acme/shop/pull/7",
            "user": { "login": "octodev" },
            "head": { "ref": "feat/passkeys", "sha": HEAD },
            "base": { "ref": "main", "sha": "0000000000000000000000000000000000000001" },
            "merged": false, "merged_at": null,
        }))
    };
    let commits = |State(state): State<Shared>,
                   headers: HeaderMap,
                   Query(query): Query<HashMap<String, String>>| async move {
        check_headers(&state, &headers, "GET commits");
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let per_page: usize = query
            .get("per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(30);
        if per_page > 100 {
            state
                .lock()
                .unwrap()
                .violations
                .push(format!("per_page {per_page} is above GitHub's 100"));
        }
        let all = state.lock().unwrap().commits.clone();
        Json(Value::Array(
            all.into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect(),
        ))
    };
    let reviews = |State(state): State<Shared>, headers: HeaderMap| async move {
        check_headers(&state, &headers, "GET reviews");
        Json(Value::Array(state.lock().unwrap().reviews.clone()))
    };
    let status = |State(state): State<Shared>,
                  headers: HeaderMap,
                  Path((_, _, sha)): Path<(String, String, String)>,
                  Json(body): Json<Value>| async move {
        check_headers(&state, &headers, "POST status");
        state.lock().unwrap().statuses.push((sha, body.clone()));
        (
            axum::http::StatusCode::CREATED,
            Json(json!({ "id": 1, "state": body["state"] })),
        )
    };
    let app = Router::new()
        .route("/api/v3/repos/{owner}/{repo}/pulls/{number}", get(pull))
        .route(
            "/api/v3/repos/{owner}/{repo}/pulls/{number}/commits",
            get(commits),
        )
        .route(
            "/api/v3/repos/{owner}/{repo}/pulls/{number}/reviews",
            get(reviews),
        )
        .route("/api/v3/repos/{owner}/{repo}/statuses/{sha}", post(status))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

fn commit(sha: &str, message: &str, parents: usize) -> Value {
    json!({
        "sha": sha,
        "commit": { "message": message },
        "parents": (0..parents).map(|i| json!({ "sha": format!("{i:040}") })).collect::<Vec<_>>(),
    })
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliver(
    server: &TestServer,
    event: &str,
    delivery: &str,
    body: &Value,
    secret: Option<&str>,
) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut request = reqwest::Client::new()
        .post(server.url("/hooks/github"))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery);
    if let Some(secret) = secret {
        request = request.header("X-Hub-Signature-256", sign(secret, &bytes));
    }
    let response = request.body(bytes).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn pull_event(action: &str) -> Value {
    json!({
        "action": action,
        "number": 7,
        "pull_request": { "number": 7, "head": { "sha": HEAD } },
        "repository": { "full_name": "acme/shop", "owner": { "login": "acme" } },
    })
}

async fn statuses_after(state: &Shared, count: usize) -> Vec<(String, Value)> {
    for _ in 0..200 {
        let statuses = state.lock().unwrap().statuses.clone();
        if statuses.len() >= count {
            return statuses;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no status {count} was posted");
}

const SHOP: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: shop
  github-connection: acme-gh
spec:
  strategy: GITHUB_FLOW
";

db_test! {
    async fn github_pull_requests_get_merge_authorized_from_signed_webhooks(db: TestDb) {
        let (base, github) = fake_github().await;
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let api = format!("{base}/api/v3");
        let (status, body) = call(&admin, &server, "create_integration", &[
            ("input[slug]", "acme-gh"), ("input[name]", "Acme on GitHub"), ("input[provider]", "github"),
            ("input[settings][api_url]", &api), ("input[settings][organization]", "acme"),
            ("input[secrets][token]", TOKEN), ("input[secrets][webhook_secret]", WEBHOOK_SECRET),
        ]).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains(WEBHOOK_SECRET), "the secret never goes back to the browser");
        let (status, body) = call(&admin, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", SHOP)]).await;
        assert_eq!(status, 200, "{body}");
        // Teams and the managed workflows belong to the integration's organization.
        let (_, body) = call(&admin, &server, "get_repository", &[("name", "shop")]).await;
        let detail: app::api::repositories::RepositoryDetail = serde_json::from_str(&body).unwrap();
        assert_eq!(detail.plan.org, "acme");
        // Provisioning needs the repositories on GitHub (this fake serves only pull requests):
        // refused with the reason, not done on the local forge instead.
        let (status, body) = call(&admin, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("acme/shop on GitHub cannot be read"), "{body}");

        {
            let mut gh = github.lock().unwrap();
            gh.commits = vec![
                commit("1111111111111111111111111111111111111111", "feat(auth): passkeys", 1),
                commit("2222222222222222222222222222222222222222", "wip", 1),
                commit("3333333333333333333333333333333333333333", "Merge branch 'main' into feat/passkeys", 2),
            ];
            gh.reviews = vec![
                json!({ "user": { "login": "octodev" }, "state": "APPROVED" }),
                json!({ "user": { "login": "reviewer" }, "state": "COMMENTED" }),
            ];
        }

        // Refused: no signature, a wrong one, not JSON.
        assert_eq!(deliver(&server, "pull_request", "d-0", &pull_event("opened"), None).await.0, 401);
        assert_eq!(deliver(&server, "pull_request", "d-0", &pull_event("opened"), Some("not-the-secret-at-all")).await.0, 401);
        // An unsigned body is never parsed (401, not a parse error); a signed one that is not
        // JSON is a 400; a delivery signed with acme's secret naming another organization, 401.
        let response = reqwest::Client::new().post(server.url("/hooks/github")).header("X-GitHub-Event", "ping").body("{").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let response = reqwest::Client::new().post(server.url("/hooks/github")).header("X-GitHub-Event", "ping").header("X-Hub-Signature-256", sign(WEBHOOK_SECRET, b"{")).body("{").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let mut elsewhere = pull_event("opened");
        elsewhere["repository"]["owner"]["login"] = json!("evil-corp");
        elsewhere["organization"] = json!({ "login": "evil-corp" });
        assert_eq!(deliver(&server, "pull_request", "d-elsewhere", &elsewhere, Some(WEBHOOK_SECRET)).await.0, 401);
        assert_eq!(deliver(&server, "ping", "d-ping", &json!({ "zen": "hi", "organization": { "login": "acme" } }), Some(WEBHOOK_SECRET)).await.0, 200);
        assert_eq!(deliver(&server, "pull_request", "d-closed", &pull_event("closed"), Some(WEBHOOK_SECRET)).await.0, 202);

        // Opened: a commit message that is not conventional and only the author's approval.
        let (status, queued) = deliver(&server, "pull_request", "d-1", &pull_event("opened"), Some(WEBHOOK_SECRET)).await;
        assert_eq!(status, 202, "{queued}");
        let statuses = statuses_after(&github, 1).await;
        let (sha, first) = &statuses[0];
        assert_eq!(sha, HEAD);
        assert_eq!(first["state"], "failure");
        assert_eq!(first["context"], "Merge Authorized");
        assert!(first["description"].as_str().unwrap().starts_with("1 commit message is not Conventional Commits: 2222222"), "{first}");
        assert!(first["description"].as_str().unwrap().contains("(and 1 more)"), "the missing approval too: {first}");
        assert_eq!(first["target_url"], format!("{}/repositories/shop", server.base));
        // A redelivery is the same job.
        let (_, again) = deliver(&server, "pull_request", "d-1", &pull_event("opened"), Some(WEBHOOK_SECRET)).await;
        assert_eq!(again["queued"], queued["queued"]);

        // Fixed and approved by someone else: success.
        {
            let mut gh = github.lock().unwrap();
            gh.commits.remove(1);
            gh.reviews.push(json!({ "user": { "login": "reviewer" }, "state": "APPROVED" }));
        }
        assert_eq!(deliver(&server, "pull_request_review", "d-2", &pull_event("submitted"), Some(WEBHOOK_SECRET)).await.0, 202);
        let statuses = statuses_after(&github, 2).await;
        assert_eq!(statuses[1].1["state"], "success", "{}", statuses[1].1);
        assert_eq!(statuses[1].1["description"], "All rules of the branching strategy pass");
        // A later review dismissing the approval turns it back to failure.
        github.lock().unwrap().reviews.push(json!({ "user": { "login": "reviewer" }, "state": "DISMISSED" }));
        assert_eq!(deliver(&server, "pull_request_review", "d-3", &pull_event("dismissed"), Some(WEBHOOK_SECRET)).await.0, 202);
        let statuses = statuses_after(&github, 3).await;
        assert_eq!(statuses[2].1["state"], "failure");
        assert!(statuses[2].1["description"].as_str().unwrap().contains("needs 1 approval"), "{}", statuses[2].1);

        assert_eq!(github.lock().unwrap().violations, Vec::<String>::new());
        // Every posted body passes GitHub's request schema for commit statuses.
        let dir = std::env::temp_dir().join(format!("slipway-statuses-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for (i, (_, body)) in statuses.iter().enumerate() {
            let file = dir.join(format!("status-{i}.json"));
            std::fs::write(&file, body.to_string()).unwrap();
            files.push(file);
        }
        let schema = repo_root().join("server/tests/schemas/github-create-commit-status.schema.json");
        let output = std::process::Command::new(repo_root().join(".venv/bin/check-jsonschema"))
            .arg("--schemafile").arg(&schema).args(&files).output().unwrap();
        assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let requested = app::server::entities::audit_events::Entity::find()
            .filter(app::server::entities::audit_events::Column::Action.eq("pull_request.check_requested"))
            .count(&db.conn).await.unwrap();
        assert_eq!(requested, 3, "one per delivery, not per redelivery");
    }
}

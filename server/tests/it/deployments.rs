//! Build-completed notifications and pre-release deployments, on both databases: a
//! notification signed with the repository's build secret deploys its application to the
//! pre-release environments of its track — one commit per deployment on the environment
//! configuration repository, writing a DeploymentConfig that loads — once, however often it is
//! sent again; unsigned, wrongly signed, stale and replayed notifications are refused and
//! audited; a hotfix build is left to the hotfix stages.

use crate::db_test;
use crate::support::*;
use app::api::releases::ReleaseManifestsView;
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

pub(crate) const TRACK: &str = "apiVersion: lowops.manifests.v1\nkind: ReleaseTrack\nmetadata:\n  name: shop-track\nspec:\n  preReleaseStages:\n  - environments: [development, preview]\n  releaseStages:\n  - environments: [staging]\n  - environments: [production]\n  hotfixStages:\n  - environments: [staging, production]\n";
pub(crate) const APP: &str = "apiVersion: lowops.manifests.v1\nkind: Application\nmetadata:\n  name: checkout-api\nspec:\n  team: developers\n  image: registry.example.com/acme/checkout-api\n  repository: checkout\n";
pub(crate) const SET: &str = "apiVersion: lowops.manifests.v1\nkind: ApplicationSet\nmetadata:\n  name: shop\nspec:\n  applications: [checkout-api]\n  releaseTrack: shop-track\n";
pub(crate) const REPOSITORY: &str = "apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: checkout\nspec:\n  strategy: GITHUB_FLOW\n";

pub(crate) fn digest(seed: u8) -> String {
    format!("sha256:{}", hex::encode([seed; 32]))
}

pub(crate) fn notification(version: &str, seed: u8) -> Vec<u8> {
    json!({
        "repository": "acme/checkout", "application": "checkout-api", "version": version,
        "commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
        "run": "https://github.example/acme/checkout/actions/runs/7",
        "images": [{ "name": "checkout-api", "digest": digest(seed) }],
    })
    .to_string()
    .into_bytes()
}

pub(crate) fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub(crate) async fn send(
    server: &TestServer,
    timestamp: i64,
    signature: &str,
    body: &[u8],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/hooks/build-completed"))
        .header("Content-Type", "application/json")
        .header("X-Slipway-Timestamp", timestamp.to_string())
        .header("X-Slipway-Signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn count(db: &TestDb, action: &str) -> u64 {
    app::server::entities::audit_events::Entity::find()
        .filter(app::server::entities::audit_events::Column::Action.eq(action))
        .count(&db.conn)
        .await
        .unwrap()
}

async fn deployments(db: &TestDb, count: usize) -> Vec<app::server::entities::deployments::Model> {
    for _ in 0..300 {
        let rows = app::server::entities::deployments::Entity::find()
            .all(&db.conn)
            .await
            .unwrap();
        if rows.len() >= count {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} deployments were made");
}

/// (summary, file contents at that commit) of the environments repository's commits, newest first.
pub(crate) fn history(server: &TestServer, path: &str) -> Vec<(String, Option<String>)> {
    let git =
        git2::Repository::open_bare(server.data_dir.join("git/local/environments.git")).unwrap();
    let mut walk = git.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    walk.map(|id| {
        let commit = git.find_commit(id.unwrap()).unwrap();
        let contents = commit
            .tree()
            .unwrap()
            .get_path(std::path::Path::new(path))
            .ok()
            .map(|e| String::from_utf8(git.find_blob(e.id()).unwrap().content().to_vec()).unwrap());
        (commit.summary().unwrap_or_default().to_string(), contents)
    })
    .collect()
}

db_test! {
    async fn a_signed_build_deploys_its_application_to_the_pre_release_environments_once(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        for (endpoint, fields) in [
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", TRACK)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", APP)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", SET)]),
            ("save_repository", vec![("name", ""), ("revision", "0"), ("source", REPOSITORY)]),
        ] {
            let (status, body) = call(&ada, &server, endpoint, &fields).await;
            assert_eq!(status, 200, "{endpoint}: {body}");
        }
        let now = chrono::Utc::now().timestamp();
        let first = notification("v2.4.13", 1);
        // No secret yet: refused.
        assert_eq!(send(&server, now, "sha256=00", &first).await.0, 401);
        let (status, body) = call(&ada, &server, "rotate_build_secret", &[("name", "checkout")]).await;
        assert_eq!(status, 200, "{body}");
        let secret: String = serde_json::from_str(&body).unwrap();
        assert!(secret.starts_with("slw_") && secret.len() == 68);
        let (_, body) = call(&ada, &server, "get_repository", &[("name", "checkout")]).await;
        assert!(!body.contains(&secret), "the secret is shown once, never again");
        assert!(body.contains("\"has_build_secret\":true"), "{body}");

        // Unsigned, wrongly signed, stale, not a notification: refused, nothing recorded.
        assert_eq!(send(&server, now, "", &first).await.0, 401);
        assert_eq!(send(&server, now, &sign("slw_not-the-secret", now, &first), &first).await.0, 401);
        let stale = now - 3600;
        assert_eq!(send(&server, stale, &sign(&secret, stale, &first), &first).await.0, 401);
        let (status, answer) = send(&server, now, &sign(&secret, now, b"{\"repository\":\"acme\"}"), b"{\"repository\":\"acme\"}").await;
        assert_eq!(status, 400, "{answer}");

        // Another governed repository's secret speaks for that repository only: a build it
        // signs of an application whose manifest names another repository is refused, and
        // deploys nothing. Rotating a secret takes administer on the repository.
        let payments = REPOSITORY.replace("name: checkout", "name: payments");
        let (status, body) = call(&ada, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", &payments)]).await;
        assert_eq!(status, 200, "{body}");
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        let (status, body) = call(&dev, &server, "rotate_build_secret", &[("name", "payments")]).await;
        assert_eq!(status, 403, "a member cannot take a repository's build secret: {body}");
        let (status, body) = call(&ada, &server, "rotate_build_secret", &[("name", "payments")]).await;
        assert_eq!(status, 200, "{body}");
        let other_secret: String = serde_json::from_str(&body).unwrap();
        let forged = String::from_utf8(first.clone()).unwrap().replace("acme/checkout\"", "acme/payments\"").into_bytes();
        assert_ne!(forged, first);
        let (status, answer) = send(&server, now, &sign(&other_secret, now, &forged), &forged).await;
        assert_eq!(status, 403, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains("no application \"checkout-api\" names repository payments"), "{answer}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app::server::entities::builds::Entity::find().count(&db.conn).await.unwrap(), 0);

        // Signed: the build is recorded and deployed to both pre-release environments.
        let signature = sign(&secret, now, &first);
        let (status, answer) = send(&server, now, &signature, &first).await;
        assert_eq!(status, 202, "{answer}");
        let rows = deployments(&db, 2).await;
        let mut environments: Vec<&str> = rows.iter().map(|d| d.environment.as_str()).collect();
        environments.sort();
        assert_eq!(environments, ["development", "preview"]);
        let image = format!("registry.example.com/acme/checkout-api@{}", digest(1));
        assert!(rows.iter().all(|d| d.version == "v2.4.13" && d.image == image && d.kind.as_str() == "prerelease"));
        // One commit per deployment, each writing a DeploymentConfig that loads.
        let development = history(&server, "development/checkout-api.yaml");
        assert_eq!(development.iter().filter(|(s, _)| s.starts_with("deploy(")).count(), 2, "{development:?}");
        assert!(development.iter().any(|(s, _)| s == "deploy(development): checkout-api v2.4.13"));
        let written = development.iter().find_map(|(_, c)| c.clone()).unwrap();
        let loaded = app::domain::manifests::load("c.yaml", &written).unwrap();
        let app::domain::manifests::Manifest::DeploymentConfig(config) = &loaded[0] else { panic!("{written}") };
        assert_eq!((config.environment.as_str(), config.version.as_deref(), config.image.as_deref()), ("development", Some("v2.4.13"), Some(image.as_str())));

        // The same notification again is a replay: refused. Sent anew (a re-run of the
        // workflow), it is the same build: nothing new is deployed.
        assert_eq!(send(&server, now, &signature, &first).await.0, 409);
        let later = now + 1;
        let (status, answer) = send(&server, later, &sign(&secret, later, &first), &first).await;
        assert_eq!((status, answer["known"].as_bool()), (200, Some(true)), "{answer}");

        // The next version: two more deployments, two more commits.
        let second = notification("v2.4.14", 2);
        assert_eq!(send(&server, later, &sign(&secret, later, &second), &second).await.0, 202);
        let rows = deployments(&db, 4).await;
        assert_eq!(rows.len(), 4);
        let development = history(&server, "development/checkout-api.yaml");
        assert_eq!(development.iter().filter(|(s, _)| s.starts_with("deploy(")).count(), 4);
        assert!(development[0].1.as_deref().unwrap().contains("version: v2.4.14"));
        // A hotfix build waits for the hotfix stages.
        let hotfix = notification("v2.4.14-hotfix.1", 3);
        assert_eq!(send(&server, later, &sign(&secret, later, &hotfix), &hotfix).await.0, 202);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(app::server::entities::deployments::Entity::find().count(&db.conn).await.unwrap(), 4);

        // What each environment runs now.
        let (status, body) = call(&ada, &server, "get_release_manifests", &[]).await;
        assert_eq!(status, 200, "{body}");
        let view: ReleaseManifestsView = serde_json::from_str(&body).unwrap();
        let now_running: Vec<(&str, &str)> = view.deployed.iter().map(|d| (d.environment.as_str(), d.version.as_str())).collect();
        assert_eq!(now_running, [("development", "v2.4.14"), ("preview", "v2.4.14")]);

        // The application's history: every deployment, newest first.
        let (status, body) = call(&ada, &server, "get_release_manifest", &[("kind", "Application"), ("name", "checkout-api")]).await;
        assert_eq!(status, 200, "{body}");
        let detail: app::api::releases::ReleaseManifestDetail = serde_json::from_str(&body).unwrap();
        let versions: Vec<&str> = detail.deployments.iter().map(|d| d.version.as_str()).collect();
        assert_eq!(versions, ["v2.4.14", "v2.4.14", "v2.4.13", "v2.4.13"]);
        assert!(detail.deployments.iter().all(|d| d.commit.len() == 40 && d.kind.as_str() == "prerelease"));
        // Seven refusals (3 bad signatures, a stale one, a bad body, another repository's build
        // and a replay), audited as one summary a minute: a flood writes nothing more.
        let summaries = count(&db, "build.refused").await;
        assert!((1..=2).contains(&summaries), "{summaries} audit rows for 7 refusals");
        assert_eq!(count(&db, "build.completed").await, 3);
        assert_eq!(count(&db, "deployment.create").await, 4);
        let events = app::server::entities::audit_events::Entity::find().all(&db.conn).await.unwrap();
        assert!(!format!("{events:?}").contains(&secret), "the secret reaches no audit event");
        assert!(!format!("{events:?}").contains(&other_secret), "nor the other one");
    }
}

db_test! {
    async fn deployments_go_to_the_configured_workspace_repository_and_keep_other_commits(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions {
            worker: true,
            settings: vec![("SLIPWAY_ENVIRONMENTS_WORKSPACE", "acme-environments".into())],
            ..ServerOptions::default()
        })
        .await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        // The environment configuration repository: a workspace on a forge, reached over git's
        // smart HTTP with the integration's credentials like any other.
        let (status, body) = call(&ada, &server, "create_local_repository", &[("repository", "acme/environments")]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&ada, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/environments"), ("input[labels]", "gitops")]).await;
        assert_eq!(status, 200, "{body}");
        for (endpoint, fields) in [
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", TRACK)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", APP)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", SET)]),
            ("save_repository", vec![("name", ""), ("revision", "0"), ("source", REPOSITORY)]),
        ] {
            let (status, body) = call(&ada, &server, endpoint, &fields).await;
            assert_eq!(status, 200, "{endpoint}: {body}");
        }
        let (_, body) = call(&ada, &server, "rotate_build_secret", &[("name", "checkout")]).await;
        let secret: String = serde_json::from_str(&body).unwrap();
        let now = chrono::Utc::now().timestamp();
        let first = notification("v2.4.13", 1);
        assert_eq!(send(&server, now, &sign(&secret, now, &first), &first).await.0, 202);
        let rows = deployments(&db, 2).await;
        let bare = server.data_dir.join("git/acme/environments.git");
        let log = |bare: &std::path::Path| git(bare, &["log", "--format=%s", "main"]);
        let subjects = log(&bare);
        assert!(subjects.contains("deploy(development): checkout-api v2.4.13") && subjects.contains("deploy(preview): checkout-api v2.4.13"), "{subjects}");
        let head = git(&bare, &["rev-parse", "main"]);
        assert!(rows.iter().any(|d| d.config_commit == head), "the recorded commit is on the branch");
        assert!(git(&bare, &["show", "main:development/checkout-api.yaml"]).contains("version: v2.4.13"));
        assert!(!server.data_dir.join("git/local/environments.git").exists(), "the local forge's default is not used");

        // Someone commits to the repository by hand (Argo CD's own settings, say); the next
        // deployment goes on top of it and keeps it.
        let work = server.data_dir.join("environments-work");
        git(&server.data_dir, &["clone", "-q", bare.to_str().unwrap(), work.to_str().unwrap()]);
        std::fs::write(work.join("argocd.yaml"), "project: shop\n").unwrap();
        git(&work, &["add", "argocd.yaml"]);
        git(&work, &["-c", "user.name=Ops", "-c", "user.email=ops@example.com", "commit", "-q", "-m", "chore: argo project"]);
        git(&work, &["push", "-q", "origin", "main"]);
        let later = now + 1;
        let second = notification("v2.4.14", 2);
        assert_eq!(send(&server, later, &sign(&secret, later, &second), &second).await.0, 202);
        deployments(&db, 4).await;
        let subjects = log(&bare);
        let lines: Vec<&str> = subjects.lines().collect();
        assert_eq!(lines.iter().filter(|s| s.starts_with("deploy(")).count(), 4, "{subjects}");
        assert!(lines.contains(&"chore: argo project"), "{subjects}");
        assert_eq!(git(&bare, &["show", "main:argocd.yaml"]), "project: shop");
        assert!(git(&bare, &["show", "main:preview/checkout-api.yaml"]).contains("version: v2.4.14"));
    }
}

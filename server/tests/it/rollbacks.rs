//! Rollbacks on the demo's estate, on both databases: an application goes back to the version an
//! environment ran before — signed off as the stage that deployed the current one was (never by
//! the one who asked), or by the freeze's exception group while a freeze holds the environment —
//! as a revert commit on the environment configuration repository, recorded as a `rollback`
//! deployment that DORA counts as restoring a failure, with a promotion hold that keeps the next
//! pre-release deployment out until someone lifts it.

use crate::db_test;
use crate::support::*;
use app::domain::releases::{DeploymentKind, StageState};
use app::server::entities::{deployments, jobs, rollbacks};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::Value;

async fn json(
    client: &reqwest::Client,
    server: &TestServer,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Value {
    let (status, body) = call(client, server, endpoint, form).await;
    assert_eq!(status, 200, "{endpoint}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn ask(
    client: &reqwest::Client,
    server: &TestServer,
    environment: &str,
    application: &str,
) -> (u16, String) {
    call(
        client,
        server,
        "request_rollback",
        &[
            ("environment", environment),
            ("application", application),
            ("reason", "Checkout errors since the last deployment"),
        ],
    )
    .await
}

async fn vote(
    client: &reqwest::Client,
    server: &TestServer,
    id: i64,
    group: &str,
) -> (u16, String) {
    call(
        client,
        server,
        "vote_rollback",
        &[
            ("id", &id.to_string()),
            ("group", group),
            ("approve", "true"),
            ("comment", ""),
        ],
    )
    .await
}

/// Waits until rollback `id` is deployed; returns it.
async fn deployed(db: &TestDb, id: i64) -> rollbacks::Model {
    for _ in 0..400 {
        let row = rollbacks::Entity::find_by_id(id)
            .one(&db.conn)
            .await
            .unwrap()
            .unwrap();
        if row.state == "deployed" {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("rollback {id} was never written");
}

async fn current(db: &TestDb, environment: &str, application: &str) -> deployments::Model {
    deployments::Entity::find()
        .filter(deployments::Column::Environment.eq(environment))
        .filter(deployments::Column::Application.eq(application))
        .order_by_desc(deployments::Column::Id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap()
}

async fn failures(client: &reqwest::Client, server: &TestServer) -> u64 {
    let dora = json(client, server, "get_delivery", &[("days", "28")]).await;
    dora["failures"].as_u64().unwrap()
}

db_test! {
    async fn a_rollback_is_signed_off_written_as_a_revert_and_held(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, worker: true, ..ServerOptions::default() }).await;
        let [dev, pat, sam, riley] = ["dev", "pat", "sam", "riley"].map(|_| client());
        for (who, login) in [(&dev, "dev"), (&pat, "pat"), (&sam, "sam"), (&riley, "riley")] {
            demo_sign_in(who, &server, login).await;
        }
        // The seeded release ships to production, signed off by product and security.
        let needs = json(&pat, &server, "get_needs", &[]).await;
        let release: i64 = needs["items"].as_array().unwrap().iter().find(|i| i["kind"] == "sign_off").unwrap()["href"]
            .as_str().unwrap().trim_start_matches("/releases/").parse().unwrap();
        assert_eq!(crate::releases::vote(&pat, &server, release, 1, "product", true, "").await.0, 200);
        assert_eq!(crate::releases::vote(&sam, &server, release, 1, "security", true, "").await.0, 200);
        crate::releases::stage_becomes(&pat, &server, release, 1, StageState::Deployed).await;
        let shipped = current(&db, "production", "storefront").await;
        let before = failures(&pat, &server).await;

        // Devon asks to roll storefront back in production: product and security sign it off,
        // as they signed off the stage that deployed it; Devon's own vote is no part of it.
        assert_eq!(call(&dev, &server, "request_rollback", &[("environment", "production"), ("application", "storefront"), ("reason", " ")]).await.0, 422);
        assert_eq!(ask(&dev, &server, "production", "nothing").await.0, 404);
        let (status, body) = ask(&dev, &server, "production", "storefront").await;
        assert_eq!(status, 200, "{body}");
        let id: i64 = body.parse().unwrap();
        let (status, body) = ask(&dev, &server, "production", "storefront").await;
        assert_eq!(status, 409, "one open rollback at a time: {body}");
        let view = json(&pat, &server, "get_release_manifests", &[]).await;
        let listed = view["rollbacks"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
        assert_eq!(listed["state"], "awaiting_sign_off");
        assert_eq!(listed["sign_off"], serde_json::json!([["product", 1], ["security", 1]]));
        assert_eq!(listed["my_groups"], serde_json::json!(["product"]), "{listed}");
        let to = listed["to_version"].as_str().unwrap().to_string();
        assert_ne!(to, shipped.version);
        let pats = json(&pat, &server, "get_needs", &[]).await;
        let need = pats["items"].as_array().unwrap().iter().find(|i| i["kind"] == "rollback").cloned().unwrap_or_else(|| panic!("{pats}"));
        assert_eq!(need["title"], format!("Roll storefront back to {to} in production"));
        assert!(need["why"].as_str().unwrap().starts_with("You are in product, which must sign it off (0 of 1 approval): dev asked"), "{need}");
        let devs = json(&dev, &server, "get_needs", &[]).await;
        assert!(!devs["items"].as_array().unwrap().iter().any(|i| i["kind"] == "rollback"), "never the one who asked: {devs}");
        let (status, body) = vote(&dev, &server, id, "product").await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(vote(&pat, &server, id, "product").await, (200, "\"awaiting_sign_off\"".to_string()));
        let (status, body) = vote(&pat, &server, id, "product").await;
        assert_eq!(status, 403, "once each: {body}");
        assert_eq!(vote(&sam, &server, id, "security").await, (200, "\"approved\"".to_string()));
        let row = deployed(&db, id).await;
        let now = current(&db, "production", "storefront").await;
        assert_eq!((now.version.as_str(), now.kind), (to.as_str(), DeploymentKind::Rollback));
        assert_eq!(row.config_commit.as_deref(), Some(now.config_commit.as_str()));
        // The revert commit says what went back, why, and who approved it.
        let message = {
            let git = git2::Repository::open_bare(server.data_dir.join("git/local/environments.git")).unwrap();
            let head = git.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
            let blob = head.tree().unwrap().get_path(std::path::Path::new("production/storefront.yaml")).unwrap().to_object(&git).unwrap();
            let yaml = String::from_utf8(blob.as_blob().unwrap().content().to_vec()).unwrap();
            assert!(yaml.contains(&format!("version: {to}")), "{yaml}");
            head.message().unwrap().to_string()
        };
        assert!(message.starts_with(&format!("revert(production): storefront {} → {to}", shipped.version)), "{message}");
        assert!(message.contains("Checkout errors since the last deployment") && message.contains("Approved by pat (product), sam (security)."), "{message}");
        // DORA: the release it undid is a failure, restored by the rollback.
        assert_eq!(failures(&pat, &server).await, before + 1);
        let view = json(&pat, &server, "get_release_manifests", &[]).await;
        assert!(view["holds"].as_array().unwrap().iter().any(|h| h["environment"] == "production" && h["application"] == "storefront"), "{view}");

        // In development (pre-release: no sign-off needed) the hold keeps the next build out
        // until it is lifted.
        let (status, body) = ask(&dev, &server, "development", "storefront").await;
        assert_eq!(status, 200, "{body}");
        let dev_rollback: i64 = body.parse().unwrap();
        let back = deployed(&db, dev_rollback).await.to_version;
        let built = json(&dev, &server, "simulate_build", &[("application", "storefront")]).await;
        let version = built.as_str().unwrap().to_string();
        let job = || jobs::Entity::find().filter(jobs::Column::Kind.eq("release.prerelease_deploy")).order_by_desc(jobs::Column::Id);
        for _ in 0..200 {
            if job().one(&db.conn).await.unwrap().unwrap().finished_at.is_some() { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(current(&db, "development", "storefront").await.version, back, "held: {version} stays out");
        let view = json(&pat, &server, "get_release_manifests", &[]).await;
        let hold = view["holds"].as_array().unwrap().iter().find(|h| h["environment"] == "development").unwrap()["id"].to_string();
        assert_eq!(call(&pat, &server, "lift_promotion_hold", &[("id", &hold)]).await.0, 403);
        assert_eq!(call(&dev, &server, "lift_promotion_hold", &[("id", &hold)]).await.0, 200);
        assert_eq!(call(&dev, &server, "lift_promotion_hold", &[("id", &hold)]).await.0, 409);
        let next = json(&dev, &server, "simulate_build", &[("application", "storefront")]).await;
        let next = next.as_str().unwrap().to_string();
        for _ in 0..200 {
            if current(&db, "development", "storefront").await.version == next { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(current(&db, "development", "storefront").await.version, next, "lifted: the next build deploys");

        // Under a freeze, an incident commander signs a rollback off, and it goes through that freeze.
        // Riley, an incident commander, asks: Riley's own approval is refused, Sam's (made one) counts.
        let frozen = json(&riley, &server, "emergency_freeze", &[("reason", "Incident 9")]).await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        assert_eq!(call(&ada, &server, "add_group_member", &[("group", "incident-commanders"), ("user", "sam")]).await.0, 200);
        let (status, body) = ask(&riley, &server, "production", "payments-api").await;
        assert_eq!(status, 200, "{body}");
        let id: i64 = body.parse().unwrap();
        let (status, body) = vote(&riley, &server, id, "incident-commanders").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("you asked for this rollback: someone else must approve it"), "{body}");
        let view = json(&riley, &server, "get_release_manifests", &[]).await;
        let listed = view["rollbacks"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
        assert_eq!(listed["sign_off"], serde_json::json!([["incident-commanders", 1]]));
        assert_eq!(listed["freeze"], frozen);
        assert_eq!(vote(&pat, &server, id, "product").await.0, 403);
        assert_eq!(vote(&sam, &server, id, "incident-commanders").await, (200, "\"approved\"".to_string()));
        deployed(&db, id).await;
        assert_eq!(current(&db, "production", "payments-api").await.kind, DeploymentKind::Rollback);
        let audited = app::server::entities::audit_events::Entity::find()
            .filter(app::server::entities::audit_events::Column::Action.is_in(["rollback.request", "rollback.approve", "deployment.rollback", "promotion_hold.lift"]))
            .count(&db.conn).await.unwrap();
        assert_eq!(audited, 3 + 3 + 3 + 1);
    }
}

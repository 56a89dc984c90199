//! Releases on both databases, each rule of the reference's section 4: the release candidate tag
//! on every image before any manifest; stages in the track's order, each signed off by its
//! groups (distinct people, never the starter's approval, withdrawable until the gate opens);
//! one rejection stops the release and the next attempt is rc.N+1; one commit per deployment
//! naming the release, the stage and the approvers; the production tag at the end; and two
//! approvals racing on two replicas, of which exactly one opens the gate and the stage deploys
//! once.

use crate::db_test;
use crate::deployments::{history, notification, send, sign, APP, REPOSITORY, SET, TRACK};
use crate::support::*;
use app::api::releases::ReleaseView;
use app::domain::releases::{ReleaseState, StageState};
use app::server::entities::{
    deployments as deployment_rows, registry_tags, releases as release_rows,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

pub(crate) async fn as_user(server: &TestServer, login: &str) -> reqwest::Client {
    let client = client();
    demo_sign_in(&client, server, login).await;
    client
}

async fn release(client: &reqwest::Client, server: &TestServer, id: i64) -> ReleaseView {
    let (status, body) = call(client, server, "get_release", &[("id", &id.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

pub(crate) async fn vote(
    client: &reqwest::Client,
    server: &TestServer,
    id: i64,
    stage: i32,
    group: &str,
    approve: bool,
    comment: &str,
) -> (u16, String) {
    call(
        client,
        server,
        "vote_release",
        &[
            ("id", &id.to_string()),
            ("stage", &stage.to_string()),
            ("group", group),
            ("approve", if approve { "true" } else { "false" }),
            ("comment", comment),
        ],
    )
    .await
}

pub(crate) async fn start(
    client: &reqwest::Client,
    server: &TestServer,
    bundle: &str,
) -> (u16, String) {
    call(
        client,
        server,
        "start_release",
        &[("app_set", "shop"), ("bundle", bundle)],
    )
    .await
}

/// Waits until stage `position` of release `id` is in `state`.
pub(crate) async fn stage_becomes(
    client: &reqwest::Client,
    server: &TestServer,
    id: i64,
    position: usize,
    state: StageState,
) -> ReleaseView {
    for _ in 0..300 {
        let view = release(client, server, id).await;
        if view.stages[position].state == state {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("stage {position} of release {id} never became {state:?}");
}

async fn deployed(db: &TestDb, release: i64, environment: &str) -> u64 {
    deployment_rows::Entity::find()
        .filter(deployment_rows::Column::ReleaseId.eq(release))
        .filter(deployment_rows::Column::Environment.eq(environment))
        .count(&db.conn)
        .await
        .unwrap()
}

db_test! {
    async fn a_bundle_is_promoted_stage_by_stage_with_multi_party_sign_off(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let replica = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let ada = as_user(&server, "ada").await;
        for (endpoint, fields) in [
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", TRACK)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", APP)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", SET)]),
            ("save_repository", vec![("name", ""), ("revision", "0"), ("source", REPOSITORY)]),
            // Remy, the release manager, is also a product manager here: their own approval is
            // what the gate must refuse.
            ("add_group_member", vec![("group", "product"), ("user", "remy")]),
        ] {
            let (status, body) = call(&ada, &server, endpoint, &fields).await;
            assert_eq!(status, 200, "{endpoint}: {body}");
        }
        let (_, body) = call(&ada, &server, "rotate_build_secret", &[("name", "checkout")]).await;
        let secret: String = serde_json::from_str(&body).unwrap();
        let (remy, dev, quinn, pat, sam) = (
            as_user(&server, "remy").await,
            as_user(&server, "dev").await,
            as_user(&server, "quinn").await,
            as_user(&server, "pat").await,
            as_user(&server, "sam").await,
        );

        // Nothing built yet: nothing to release.
        let (status, body) = start(&remy, &server, "2026.11").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("checkout-api has no pre-release build with an image yet"), "{body}");
        let now = chrono::Utc::now().timestamp();
        let build = notification("v2.4.13", 1);
        assert_eq!(send(&server, now, &sign(&secret, now, &build), &build).await.0, 202);
        for _ in 0..300 {
            if deployment_rows::Entity::find().count(&db.conn).await.unwrap() >= 2 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        // Only release managers start releases; the bundle is checked.
        assert_eq!(start(&dev, &server, "2026.11").await.0, 403);
        let (status, body) = start(&remy, &server, "2026..11").await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = start(&remy, &server, "2026.11").await;
        assert_eq!(status, 200, "{body}");
        let first: i64 = serde_json::from_str(&body).unwrap();
        assert_eq!(start(&remy, &server, "2026.12").await.0, 409, "one running release of a set at a time");
        // The RC tag is on the image before any manifest names it.
        let image = "registry.example.com/acme/checkout-api";
        let tags = registry_tags::Entity::find().filter(registry_tags::Column::Image.eq(image)).all(&db.conn).await.unwrap();
        assert_eq!(tags.iter().map(|t| (t.tag.as_str(), t.digest.clone())).collect::<Vec<_>>(), vec![("shop-2026.11-rc.0", crate::deployments::digest(1))]);
        assert_eq!(deployed(&db, first, "staging").await, 0);
        let view = release(&remy, &server, first).await;
        assert_eq!(view.row.rc_tag, "shop-2026.11-rc.0");
        assert_eq!(view.items, vec![("checkout-api".to_string(), "v2.4.13".to_string(), format!("{image}@{}", crate::deployments::digest(1)))]);
        assert_eq!((view.stages[0].state, view.stages[1].state), (StageState::AwaitingSignOff, StageState::Waiting));

        // Staging is QA's to sign off.
        let (status, body) = vote(&pat, &server, first, 0, "qa", true, "").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("you are not in the group qa"), "{body}");
        let (status, body) = vote(&quinn, &server, first, 1, "product", true, "").await;
        assert_eq!(status, 409, "production is not open yet: {body}");
        let (status, body) = vote(&quinn, &server, first, 0, "qa", true, "Regression suite green").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, "\"Approved\"");
        let view = stage_becomes(&remy, &server, first, 1, StageState::AwaitingSignOff).await;
        assert_eq!(view.stages[0].state, StageState::Deployed);
        assert_eq!(deployed(&db, first, "staging").await, 1);

        // Production needs product and security: one of them is not enough.
        let (status, body) = vote(&pat, &server, first, 1, "product", true, "").await;
        assert_eq!((status, body.as_str()), (200, "\"AwaitingSignOff\""));
        assert_eq!(release(&pat, &server, first).await.stages[1].gate, "Waiting for security 0/1");
        // An approval can be withdrawn until the gate opens, and given again.
        assert_eq!(call(&pat, &server, "withdraw_vote", &[("id", &first.to_string()), ("stage", "1")]).await.0, 200);
        assert_eq!(release(&pat, &server, first).await.stages[1].gate, "Waiting for product 0/1, security 0/1");
        assert_eq!(vote(&pat, &server, first, 1, "product", true, "").await.0, 200);
        let (status, body) = vote(&pat, &server, first, 1, "product", true, "").await;
        assert_eq!(status, 403, "twice: {body}");
        // The release manager's own approval is refused, even as a product manager.
        let (status, body) = vote(&remy, &server, first, 1, "product", true, "").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("you started this release: someone else must approve it"), "{body}");
        let (status, body) = vote(&sam, &server, first, 1, "security", true, "No open findings").await;
        assert_eq!((status, body.as_str()), (200, "\"Approved\""));
        assert_eq!(call(&pat, &server, "withdraw_vote", &[("id", &first.to_string()), ("stage", "1")]).await.0, 409, "the gate is open");
        stage_becomes(&remy, &server, first, 1, StageState::Deployed).await;
        let mut done = release_rows::Entity::find_by_id(first).one(&db.conn).await.unwrap().unwrap();
        for _ in 0..100 {
            if done.state == ReleaseState::Completed { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            done = release_rows::Entity::find_by_id(first).one(&db.conn).await.unwrap().unwrap();
        }
        assert_eq!((done.state, done.production_tag.as_deref()), (ReleaseState::Completed, Some("shop-2026.11")));
        let tagged = registry_tags::Entity::find().filter(registry_tags::Column::Tag.eq("shop-2026.11")).one(&db.conn).await.unwrap().unwrap();
        assert_eq!(tagged.digest, crate::deployments::digest(1));
        // One commit per deployment, naming the release, the stage and the approvers.
        let production = history(&server, "production/checkout-api.yaml");
        let releases: Vec<&str> = production.iter().map(|(s, _)| s.as_str()).filter(|s| s.starts_with("release(")).collect();
        assert_eq!(releases, ["release(production): shop-2026.11-rc.0 stage 2", "release(staging): shop-2026.11-rc.0 stage 1"]);
        let message = {
            let git = git2::Repository::open_bare(server.data_dir.join("git/local/environments.git")).unwrap();
            let head = git.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
            head.message().unwrap().to_string()
        };
        assert!(message.contains("Approved by pat (product), sam (security)."), "{message}");

        // A hotfix: only with a hotfix build, through the hotfix stages signed off by an
        // incident commander; its production tag is the -hotfix.1 variant.
        let hotfix_form = [("app_set", "shop"), ("bundle", "2026.11"), ("hotfix", "true")];
        let (status, body) = call(&remy, &server, "start_release", &hotfix_form).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("has a hotfix build"), "{body}");
        let fix = notification("v2.4.13-hotfix.1", 7);
        let at = chrono::Utc::now().timestamp();
        assert_eq!(send(&server, at, &sign(&secret, at, &fix), &fix).await.0, 202);
        let (status, body) = call(&remy, &server, "start_release", &hotfix_form).await;
        assert_eq!(status, 200, "{body}");
        let hotfix: i64 = serde_json::from_str(&body).unwrap();
        let view = release(&remy, &server, hotfix).await;
        assert_eq!(view.row.rc_tag, "shop-2026.11-rc.1");
        assert_eq!(view.items[0].1, "v2.4.13-hotfix.1");
        assert_eq!(view.stages.len(), 1);
        assert_eq!(view.stages[0].sign_off, vec![("incident-commanders".to_string(), 1)]);
        assert_eq!(vote(&quinn, &server, hotfix, 0, "incident-commanders", true, "").await.0, 403);
        let riley = as_user(&server, "riley").await;
        assert_eq!(vote(&riley, &server, hotfix, 0, "incident-commanders", true, "Fixes the outage").await.1, "\"Approved\"");
        stage_becomes(&remy, &server, hotfix, 0, StageState::Deployed).await;
        let mut fixed = release_rows::Entity::find_by_id(hotfix).one(&db.conn).await.unwrap().unwrap();
        for _ in 0..100 {
            if fixed.state == ReleaseState::Completed { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            fixed = release_rows::Entity::find_by_id(hotfix).one(&db.conn).await.unwrap().unwrap();
        }
        assert_eq!((fixed.kind.as_str(), fixed.production_tag.as_deref()), ("hotfix", Some("shop-2026.11-hotfix.1")));
        assert_eq!(deployed(&db, hotfix, "production").await, 1);

        // A rejection stops the release; the next attempt is rc.1.
        let (status, body) = start(&remy, &server, "2026.12").await;
        assert_eq!(status, 200, "{body}");
        let rejected: i64 = serde_json::from_str(&body).unwrap();
        assert_eq!(vote(&quinn, &server, rejected, 0, "qa", false, "").await.0, 422, "a rejection says why");
        let (status, body) = vote(&quinn, &server, rejected, 0, "qa", false, "Checkout times out under load").await;
        assert_eq!((status, body.as_str()), (200, "\"Rejected\""));
        let view = release(&remy, &server, rejected).await;
        assert_eq!((view.row.state, view.stages[0].gate.as_str()), (ReleaseState::Rejected, "Rejected by quinn (qa): Checkout times out under load"));
        assert_eq!(deployed(&db, rejected, "staging").await, 0);
        // The same images again: not unasked. The refusal names the rejection.
        let (status, body) = start(&remy, &server, "2026.12").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("shop-2026.12-rc.0 was rejected by quinn (qa): \u{201c}Checkout times out under load\u{201d}"), "{body}");
        let (status, body) = call(&remy, &server, "start_release", &[("app_set", "shop"), ("bundle", "2026.12"), ("same_build", "true")]).await;
        assert_eq!(status, 200, "{body}");
        let retry: i64 = serde_json::from_str(&body).unwrap();
        assert_eq!(release(&remy, &server, retry).await.row.rc_tag, "shop-2026.12-rc.1");

        // Two approvals racing on two replicas: exactly one opens the gate, production deploys once.
        assert_eq!(vote(&quinn, &server, retry, 0, "qa", true, "").await.0, 200);
        stage_becomes(&remy, &server, retry, 1, StageState::AwaitingSignOff).await;
        let pat_there = as_user(&replica, "pat").await;
        let (a, b) = tokio::join!(
            vote(&pat_there, &replica, retry, 1, "product", true, ""),
            vote(&sam, &server, retry, 1, "security", true, ""),
        );
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        let opened = [a.1.as_str(), b.1.as_str()].iter().filter(|s| **s == "\"Approved\"").count();
        assert_eq!(opened, 1, "exactly one approval opens the gate: {a:?} {b:?}");
        stage_becomes(&remy, &server, retry, 1, StageState::Deployed).await;
        assert_eq!(deployed(&db, retry, "production").await, 1);
        let production = history(&server, "production/checkout-api.yaml");
        assert_eq!(production.iter().filter(|(s, _)| s.starts_with("release(production): shop-2026.12-rc.1")).count(), 1);
        // DORA from the production history: rc.0, the hotfix that followed it, rc.1.
        let (status, body) = call(&remy, &server, "get_delivery", &[("days", "30")]).await;
        assert_eq!(status, 422, "only the offered windows: {body}");
        let (_, body) = call(&remy, &server, "get_delivery", &[("days", "28")]).await;
        let dora: Option<app::domain::releases::Dora> = serde_json::from_str(&body).unwrap();
        let dora = dora.expect("the track names production");
        assert_eq!((dora.production_deployments, dora.failures), (3, 1));
        assert!(dora.lead_time.is_some_and(|t| t >= 0) && dora.time_to_restore.is_some_and(|t| t >= 0), "{dora:?}");
        assert_eq!(dora.weekly.iter().sum::<u32>(), 3);
        let stage_jobs = app::server::entities::jobs::Entity::find()
            .filter(app::server::entities::jobs::Column::Kind.eq("release.stage_deploy"))
            .count(&db.conn).await.unwrap();
        assert_eq!(stage_jobs, 5, "one deployment job per stage signed off: two of 2026.11-rc.0, one of the hotfix, none of the rejected one, two of 2026.12-rc.1");
    }
}

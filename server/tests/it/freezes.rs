//! Freeze windows on the demo's estate, on both databases: while a freeze holds an environment or
//! a workspace, what would change it waits — a pre-release deployment, a release stage signed
//! off, an approved resource's apply — with "frozen until … because …" where it waits, without
//! using its job's attempts, and goes on by itself once the freeze is lifted or an exception is
//! granted by N distinct members of the freeze's group (never the one who asked). Only platform /
//! SRE edit, lift and press the emergency button; every step is audited. A stage with a soak
//! time takes no vote until the stage before it has been deployed that long; a stage that asks
//! for verification opens the next one only on a signed "passed", and a "failed" stops it.

use crate::db_test;
use crate::support::*;
use app::domain::jobs::JobStatus;
use app::domain::releases::StageState;
use app::server::entities::{audit_events, deployments, jobs, plans};
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

fn freeze(name: &str, scope: &str, when: &str, exceptions: &str) -> String {
    format!(
        "apiVersion: lowops.manifests.v1\nkind: FreezeWindow\nmetadata:\n  name: {name}\nspec:\n  reason: Year-end trading\n  scope:{scope}\n{when}{exceptions}"
    )
}

async fn save(client: &reqwest::Client, server: &TestServer, source: &str) -> (u16, String) {
    call(
        client,
        server,
        "save_release_manifest",
        &[
            ("kind", ""),
            ("name", ""),
            ("revision", "0"),
            ("source", source),
        ],
    )
    .await
}

/// The newest job of `kind`.
/// The newest job of `kind` once its worker has recorded how it ended (waits up to 30 s): what
/// a job changes commits before the job's own end does, so seeing the change is not enough.
async fn last_job(db: &TestDb, kind: &str) -> jobs::Model {
    for _ in 0..300 {
        let job = jobs::Entity::find()
            .filter(jobs::Column::Kind.eq(kind))
            .order_by_desc(jobs::Column::Id)
            .one(&db.conn)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no {kind} job"));
        if !matches!(job.status, JobStatus::Queued | JobStatus::Running) {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the newest {kind} job did not end in 30 s")
}

/// Waits until the newest job of `kind` waits for a freeze, and returns it.
async fn held(db: &TestDb, kind: &str) -> jobs::Model {
    for _ in 0..400 {
        if let Some(job) = jobs::Entity::find()
            .filter(jobs::Column::Kind.eq(kind))
            .order_by_desc(jobs::Column::Id)
            .one(&db.conn)
            .await
            .unwrap()
        {
            if job.waiting_on.as_deref() == Some("freeze") {
                return job;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {kind} job came to wait for a freeze");
}

async fn audited(db: &TestDb, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .count(&db.conn)
        .await
        .unwrap()
}

db_test! {
    async fn what_a_freeze_holds_waits_and_goes_on_when_it_is_lifted_or_excepted(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, worker: true, ..ServerOptions::default() }).await;
        let [ada, dev, pat, sam, remy, riley] = ["ada", "dev", "pat", "sam", "remy", "riley"].map(|_| client());
        for (who, login) in [(&ada, "ada"), (&dev, "dev"), (&pat, "pat"), (&sam, "sam"), (&remy, "remy"), (&riley, "riley")] {
            demo_sign_in(who, &server, login).await;
        }
        let start = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();

        // Only platform / SRE keep freezes; a bad schedule is refused at its place.
        let development = freeze("dev-pause", "\n    environments: [development]", &format!("  period:\n    start: \"{start}\"\n"), "");
        let (status, body) = save(&dev, &server, &development).await;
        assert_eq!(status, 403, "{body}");
        let bad = freeze("weekly", " everything", "  schedule:\n    cron: \"0 25 * * FRI\"\n    duration: 62h\n    timeZone: Europe/Amsterdamm\n", "");
        let (status, body) = save(&riley, &server, &bad).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("manifest.yaml:9:11: spec.schedule.cron \\\"0 25 * * FRI\\\" is not a cron expression"), "{body}");
        assert!(body.contains("manifest.yaml:11:15: spec.schedule.timeZone"), "{body}");
        let (status, body) = save(&riley, &server, &development).await;
        assert_eq!(status, 200, "{body}");

        // A pre-release deployment into a frozen environment waits, using no attempt; lifting
        // the freeze lets it go on by itself.
        let built = json(&dev, &server, "simulate_build", &[("application", "storefront")]).await;
        let version = built.as_str().unwrap().to_string();
        let job = held(&db, "release.prerelease_deploy").await;
        assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
        assert!(job.last_error.as_deref().unwrap().starts_with("Frozen until lifted because Year-end trading (FreezeWindow dev-pause)"), "{job:?}");
        let storefront = || deployments::Entity::find()
            .filter(deployments::Column::Environment.eq("development"))
            .filter(deployments::Column::Application.eq("storefront"))
            .filter(deployments::Column::Version.eq(version.clone()));
        assert_eq!(storefront().count(&db.conn).await.unwrap(), 0);
        let lift = [("name", "dev-pause"), ("reason", "Trading closed early")];
        assert_eq!(call(&dev, &server, "lift_freeze", &lift).await.0, 403);
        assert_eq!(call(&riley, &server, "lift_freeze", &[("name", "dev-pause"), ("reason", " ")]).await.0, 422);
        assert_eq!(call(&riley, &server, "lift_freeze", &lift).await.0, 200);
        let (status, body) = call(&riley, &server, "lift_freeze", &lift).await;
        assert_eq!(status, 409, "lifted once: {body}");
        for _ in 0..200 {
            if storefront().count(&db.conn).await.unwrap() == 1 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(storefront().count(&db.conn).await.unwrap(), 1, "{version} reaches development once lifted");
        let job = jobs::Entity::find_by_id(job.id).one(&db.conn).await.unwrap().unwrap();
        assert_eq!((job.status, job.attempts), (JobStatus::Succeeded, 1), "waiting used no attempt");

        // Production frozen until an exception is approved by two incident commanders.
        let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
        let production = freeze(
            "year-end",
            "\n    environments: [production]",
            &format!("  period:\n    start: \"{start}\"\n    end: \"{until}\"\n"),
            "  exceptions:\n    group: incident-commanders\n    approvals: 2\n",
        );
        assert_eq!(save(&riley, &server, &production).await.0, 200);
        for member in ["sam", "remy"] {
            assert_eq!(call(&ada, &server, "add_group_member", &[("group", "incident-commanders"), ("user", member)]).await.0, 200);
        }
        let needs = json(&pat, &server, "get_needs", &[]).await;
        let sign_off = needs["items"].as_array().unwrap().iter().find(|i| i["kind"] == "sign_off").unwrap().clone();
        let release: i64 = sign_off["href"].as_str().unwrap().trim_start_matches("/releases/").parse().unwrap();
        assert_eq!(crate::releases::vote(&pat, &server, release, 1, "product", true, "").await.0, 200);
        let (status, body) = crate::releases::vote(&sam, &server, release, 1, "security", true, "").await;
        assert_eq!((status, body.as_str()), (200, "\"Approved\""), "the sign-off is accepted under a freeze");
        held(&db, "release.stage_deploy").await;
        let view = json(&riley, &server, "get_release", &[("id", &release.to_string())]).await;
        let stage = &view["stages"][1];
        assert_eq!(stage["state"], "Approved");
        let note = &stage["frozen"];
        assert!(note["message"].as_str().unwrap().starts_with("Frozen until 20"), "{note}");
        assert!(note["message"].as_str().unwrap().ends_with("because Year-end trading (FreezeWindow year-end)"), "{note}");
        let subject = note["subject"].as_str().unwrap().to_string();
        assert!(subject.starts_with("stage:"), "{subject}");

        // The exception: asked with a reason, approved by two distinct members, never the one who asked.
        let ask = [("subject", subject.as_str()), ("reason", "Payment fix for the year-end sale")];
        assert_eq!(call(&riley, &server, "request_freeze_exception", &[("subject", subject.as_str()), ("reason", "")]).await.0, 422);
        assert_eq!(call(&riley, &server, "request_freeze_exception", &[("subject", "stage:999999"), ("reason", "x")]).await.0, 404);
        let exception: i64 = json(&riley, &server, "request_freeze_exception", &ask).await.as_i64().unwrap();
        let (status, body) = call(&riley, &server, "request_freeze_exception", &ask).await;
        assert_eq!(status, 409, "one request per stage and freeze: {body}");
        let id = exception.to_string();
        let send = async |who: &reqwest::Client, comment: &str| {
            call(who, &server, "approve_freeze_exception", &[("id", id.as_str()), ("comment", comment)]).await
        };
        let (status, body) = send(&riley, "").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("you asked for the exception"), "{body}");
        let (status, body) = send(&dev, "").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("approved by members of incident-commanders"), "{body}");
        let remys = json(&remy, &server, "get_needs", &[]).await;
        assert!(remys["items"].as_array().unwrap().iter().any(|i| i["kind"] == "freeze_exception"), "{remys}");
        assert_eq!(send(&sam, "ok").await, (200, "false".to_string()));
        let (status, body) = send(&sam, "again").await;
        assert_eq!(status, 409, "once each: {body}");
        let view = json(&riley, &server, "get_release", &[("id", &release.to_string())]).await;
        assert_eq!(view["stages"][1]["frozen"]["exception"]["approved_by"], serde_json::json!(["sam"]));
        assert_eq!(view["stages"][1]["state"], "Approved", "one of two approvals lets nothing through");
        assert_eq!(send(&remy, "Agreed in the incident call").await, (200, "true".to_string()));
        crate::releases::stage_becomes(&riley, &server, release, 1, StageState::Deployed).await;
        let stage_job = last_job(&db, "release.stage_deploy").await;
        assert_eq!((stage_job.status, stage_job.attempts), (JobStatus::Succeeded, 1));

        // The emergency button (SRE only) freezes every workspace too: an approved apply waits.
        assert_eq!(call(&dev, &server, "emergency_freeze", &[("reason", "Incident 42")]).await.0, 403);
        let name = json(&riley, &server, "emergency_freeze", &[("reason", "Incident 42: database failover")]).await;
        let name = name.as_str().unwrap().to_string();
        assert!(name.starts_with("emergency-"), "{name}");
        let (status, body) = review(&ada, &server, "prod-eks", true).await;
        assert_eq!(status, 200, "{body}");
        let apply = held(&db, "resource.apply").await;
        assert_eq!(apply.attempts, 0);
        let runs = json(&ada, &server, "get_resource_runs", &[("slug", "prod-eks")]).await;
        let note = &runs["frozen"];
        assert_eq!(note["message"], format!("Frozen until lifted because Incident 42: database failover (FreezeWindow {name})"), "{runs}");
        // Someone who may not read the resource may not ask for its plan to go through.
        let plan_subject = note["subject"].as_str().unwrap().to_string();
        assert!(plan_subject.starts_with("plan:"), "{plan_subject}");
        assert_eq!(call(&ada, &server, "remove_group_member", &[("group", "qa"), ("user", "quinn")]).await.0, 200);
        let quinn = client();
        demo_sign_in(&quinn, &server, "quinn").await;
        let (status, body) = call(&quinn, &server, "request_freeze_exception", &[("subject", plan_subject.as_str()), ("reason", "mine")]).await;
        assert_eq!(status, 403, "{body}");
        let frozen_plan = plans::Entity::find().filter(plans::Column::AppliedAt.is_not_null()).count(&db.conn).await.unwrap();
        assert_eq!(call(&riley, &server, "lift_freeze", &[("name", name.as_str()), ("reason", "Failover done")]).await.0, 200);
        for _ in 0..600 {
            let job = jobs::Entity::find_by_id(apply.id).one(&db.conn).await.unwrap().unwrap();
            if job.waiting_on.is_none() && job.attempts >= 1 && job.status != JobStatus::Running { break; }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let job = jobs::Entity::find_by_id(apply.id).one(&db.conn).await.unwrap().unwrap();
        assert!(job.waiting_on.is_none() && job.attempts >= 1, "the apply ran once lifted: {job:?}");
        let applied = plans::Entity::find().filter(plans::Column::AppliedAt.is_not_null()).count(&db.conn).await.unwrap();
        assert_eq!(applied, frozen_plan + 1, "the approved plan is applied: {job:?}");

        // Everything audited.
        for (action, count) in [("freeze.lift", 2), ("freeze.exception_request", 1), ("freeze.exception_approve", 2)] {
            assert_eq!(audited(&db, action).await, count, "{action}");
        }
        let freezes = json(&pat, &server, "get_freezes", &[]).await;
        let rows = freezes["freezes"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{freezes}");
        assert_eq!(freezes["can_edit"], false, "a product manager reads freezes, and keeps none");
        let year_end = rows.iter().find(|r| r["name"] == "year-end").unwrap();
        assert_eq!(year_end["state"], "Active");
        assert!(rows.iter().any(|r| r["name"] == name && r["state"] == "Lifted"), "{freezes}");
        assert_eq!(freezes["exceptions"][0]["granted"], true);
    }
}

db_test! {
    async fn a_stage_with_a_soak_time_opens_only_once_the_stage_before_has_run_that_long(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, worker: true, ..ServerOptions::default() }).await;
        let [pat, sam, remy, riley, quinn] = ["pat", "sam", "remy", "riley", "quinn"].map(|_| client());
        for (who, login) in [(&pat, "pat"), (&sam, "sam"), (&remy, "remy"), (&riley, "riley"), (&quinn, "quinn")] {
            demo_sign_in(who, &server, login).await;
        }
        // Platform / SRE make production soak for a day after staging.
        let track = json(&riley, &server, "get_release_manifest", &[("kind", "ReleaseTrack"), ("name", "web")]).await;
        let source = track["source"].as_str().unwrap().replace(
            "  - environments: [production]\n  hotfixStages",
            "  - environments: [production]\n    soakTime: 24h\n  hotfixStages",
        );
        let revision = track["row"]["revision"].to_string();
        let (status, body) = call(&riley, &server, "save_release_manifest", &[("kind", "ReleaseTrack"), ("name", "web"), ("revision", &revision), ("source", &source)]).await;
        assert_eq!(status, 200, "{body}");

        // The seeded release started before: it keeps the track it started with (no soak).
        let needs = json(&pat, &server, "get_needs", &[]).await;
        let seeded: i64 = needs["items"].as_array().unwrap().iter().find(|i| i["kind"] == "sign_off").unwrap()["href"]
            .as_str().unwrap().trim_start_matches("/releases/").parse().unwrap();
        let view = json(&pat, &server, "get_release", &[("id", &seeded.to_string())]).await;
        assert_eq!(view["stages"][1]["soak"], Value::Null);
        assert_eq!(crate::releases::vote(&pat, &server, seeded, 1, "product", false, "Superseded by a soaked release").await.0, 200);

        // A release started now soaks: production takes no vote until staging has run a day.
        let (status, body) = call(&remy, &server, "start_release", &[("app_set", "webshop"), ("bundle", "2026.12"), ("same_build", "true")]).await;
        assert_eq!(status, 200, "{body}");
        let release: i64 = serde_json::from_str(&body).unwrap();
        assert_eq!(crate::releases::vote(&quinn, &server, release, 0, "qa", true, "").await.0, 200);
        let view = crate::releases::stage_becomes(&pat, &server, release, 1, StageState::AwaitingSignOff).await;
        let soak = view.stages[1].soak.clone().expect("production soaks");
        assert!(soak.starts_with("Soak time 1d: opens at 20"), "{soak}");
        assert_eq!(view.stages[1].gate, soak, "the gate says when it opens");
        let (status, body) = crate::releases::vote(&pat, &server, release, 1, "product", true, "").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("takes no votes yet. Soak time 1d: opens at"), "{body}");

        // A day later (staging's deployment moved back 25 hours), the gate opens as usual.
        deployments::Entity::update_many()
            .col_expr(deployments::Column::DeployedAt, sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(25)))
            .filter(deployments::Column::ReleaseId.eq(release))
            .filter(deployments::Column::Environment.eq("staging"))
            .exec(&db.conn)
            .await
            .unwrap();
        let view = json(&pat, &server, "get_release", &[("id", &release.to_string())]).await;
        assert_eq!(view["stages"][1]["soak"], Value::Null, "{view}");
        assert_eq!(crate::releases::vote(&pat, &server, release, 1, "product", true, "").await.0, 200);
        assert_eq!(crate::releases::vote(&sam, &server, release, 1, "security", true, "").await.1, "\"Approved\"");
        crate::releases::stage_becomes(&pat, &server, release, 1, StageState::Deployed).await;
    }
}

/// Posts a stage verification report, signed with `secret` (unsigned when empty).
async fn report(server: &TestServer, secret: &str, body: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(body).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signature = if secret.is_empty() {
        String::new()
    } else {
        crate::deployments::sign(secret, now, &body)
    };
    let response = reqwest::Client::new()
        .post(server.url("/hooks/stage-verified"))
        .header("Content-Type", "application/json")
        .header("X-Slipway-Timestamp", now.to_string())
        .header("X-Slipway-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

db_test! {
    async fn a_verified_stage_opens_the_next_only_on_a_signed_pass_and_a_failure_stops_the_release(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, worker: true, ..ServerOptions::default() }).await;
        let [pat, remy, riley, quinn, dev] = ["pat", "remy", "riley", "quinn", "dev"].map(|_| client());
        for (who, login) in [(&pat, "pat"), (&remy, "remy"), (&riley, "riley"), (&quinn, "quinn"), (&dev, "dev")] {
            demo_sign_in(who, &server, login).await;
        }
        // Staging is verified by its tests before production opens.
        let track = json(&riley, &server, "get_release_manifest", &[("kind", "ReleaseTrack"), ("name", "web")]).await;
        let source = track["source"].as_str().unwrap().replace(
            "  - environments: [staging]\n  - environments: [production]",
            "  - environments: [staging]\n    verify: true\n  - environments: [production]",
        );
        let revision = track["row"]["revision"].to_string();
        let (status, body) = call(&riley, &server, "save_release_manifest", &[("kind", "ReleaseTrack"), ("name", "web"), ("revision", &revision), ("source", &source)]).await;
        assert_eq!(status, 200, "{body}");
        let needs = json(&pat, &server, "get_needs", &[]).await;
        let seeded: i64 = needs["items"].as_array().unwrap().iter().find(|i| i["kind"] == "sign_off").unwrap()["href"]
            .as_str().unwrap().trim_start_matches("/releases/").parse().unwrap();
        assert_eq!(crate::releases::vote(&pat, &server, seeded, 1, "product", false, "Superseded").await.0, 200);

        let start = async || {
            let (status, body) = call(&remy, &server, "start_release", &[("app_set", "webshop"), ("bundle", "2026.12"), ("same_build", "true")]).await;
            assert_eq!(status, 200, "{body}");
            let release: i64 = serde_json::from_str(&body).unwrap();
            assert_eq!(crate::releases::vote(&quinn, &server, release, 0, "qa", true, "").await.0, 200);
            crate::releases::stage_becomes(&pat, &server, release, 0, StageState::Deployed).await;
            release
        };
        let release = start().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let view = json(&pat, &server, "get_release", &[("id", &release.to_string())]).await;
        let tag = view["row"]["rc_tag"].as_str().unwrap().to_string();
        assert_eq!(view["stages"][1]["state"], "Waiting", "production waits for staging's verification");
        assert!(view["stages"][0]["verification"].as_str().unwrap().starts_with("Waits for its verification"), "{view}");
        let passed = serde_json::json!({ "release": tag, "stage": 1, "result": "passed", "details": "412 checks green", "url": "https://ci.example.com/runs/7" });

        // No secret yet: refused. Only the track's keepers make one.
        assert_eq!(report(&server, "whatever", &passed).await.0, 401);
        assert_eq!(call(&dev, &server, "rotate_verification_secret", &[("track", "web")]).await.0, 403);
        let secret: String = json(&riley, &server, "rotate_verification_secret", &[("track", "web")]).await.as_str().unwrap().to_string();
        let (status, body) = report(&server, "", &passed).await;
        assert_eq!(status, 401, "unsigned: {body}");
        let (status, body) = report(&server, "slv_not-the-secret", &passed).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["error"].as_str().unwrap().contains("does not match the verification secret of web"), "{body}");
        let mut production = passed.clone();
        production["stage"] = 2.into();
        let (status, body) = report(&server, &secret, &production).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["error"].as_str().unwrap().contains("asks for no verification"), "{body}");
        let mut odd = passed.clone();
        odd["result"] = "maybe".into();
        assert_eq!(report(&server, &secret, &odd).await.0, 400);

        // Passed: production opens. Once only.
        assert_eq!(report(&server, &secret, &passed).await.0, 200);
        let view = crate::releases::stage_becomes(&pat, &server, release, 1, StageState::AwaitingSignOff).await;
        assert!(view.stages[0].verification.as_deref().unwrap().starts_with("Verified: passed at 20"), "{:?}", view.stages[0].verification);
        assert!(view.stages[0].verification.as_deref().unwrap().ends_with(": 412 checks green (https://ci.example.com/runs/7)"));
        let (status, body) = report(&server, &secret, &passed).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["error"].as_str().unwrap().contains("was verified already"), "{body}");

        // Failed: the next release stops like a rejection.
        assert_eq!(crate::releases::vote(&pat, &server, release, 1, "product", false, "Next bundle").await.0, 200);
        let failing = start().await;
        let view = json(&pat, &server, "get_release", &[("id", &failing.to_string())]).await;
        let tag = view["row"]["rc_tag"].as_str().unwrap().to_string();
        let failed = serde_json::json!({ "release": tag, "stage": 1, "result": "failed", "details": "checkout p99 1.8 s" });
        assert_eq!(report(&server, &secret, &failed).await.0, 200);
        let view = json(&pat, &server, "get_release", &[("id", &failing.to_string())]).await;
        assert_eq!(view["row"]["state"], "Rejected", "{view}");
        assert_eq!(view["stages"][1]["state"], "Waiting");
        assert!(view["stages"][0]["verification"].as_str().unwrap().starts_with("Verification failed at"), "{view}");
        for (action, count) in [("release.verified", 1), ("release.verification_failed", 1), ("release_manifest.verify_secret", 1)] {
            assert_eq!(audited(&db, action).await, count, "{action}");
        }
    }
}

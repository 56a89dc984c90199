//! Drift, with the real Terraform binary, the demo cloud and its provider: a change made in the
//! demo cloud behind Slipway's back is found by a refresh-only check (asked for, or on the
//! workspace's schedule), kept as a drift record, acknowledged with a reason, and resolved both
//! ways — accepted (the check's own plan applied after an approval) and reconciled (a pull
//! request that changes no file, reviewed by someone else, whose apply undoes the drift) — or
//! cleared by a later check. Who may not act is refused, and a refusal changes nothing.

use crate::db_test;
use crate::resources::demo_version;
use crate::support::{call, client, demo_sign_in, review, ServerOptions, TestServer};
use crate::workspaces::{job_log, settled};
use app::domain::drift::{DriftStatus, PlanPurpose, Resolution};
use app::domain::plans::PlanStatus;
use app::server::entities::{
    audit_events, drifts, plans, resources as resource_rows, workspaces as workspace_rows,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;
use std::time::Duration;

async fn json(
    client: &reqwest::Client,
    server: &TestServer,
    endpoint: &str,
    args: &[(&str, &str)],
) -> Value {
    let (status, body) = call(client, server, endpoint, args).await;
    assert_eq!(status, 200, "{endpoint}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The resource's drift once its newest check has finished (waits up to 60 s).
async fn checked(client: &reqwest::Client, server: &TestServer, slug: &str) -> Value {
    for _ in 0..600 {
        let drift = json(client, server, "get_resource_drift", &[("slug", slug)]).await;
        if drift["last_check"]["running"] == false {
            return drift;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the drift check of {slug} did not finish: {}",
        job_log(server).await
    );
}

async fn cloud(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method, server.url(&format!("/demo-cloud/v1{path}")));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn actions(server: &TestServer) -> Vec<String> {
    audit_events::Entity::find()
        .order_by_asc(audit_events::Column::Seq)
        .all(&server.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

db_test! {
    async fn drift_is_found_acknowledged_accepted_reconciled_and_cleared(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let (ada, dev, pat) = (client(), client(), client());
        demo_sign_in(&ada, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        demo_sign_in(&pat, &server, "pat").await;
        assert_eq!(call(&ada, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let (status, body) = call(&dev, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/live")]).await;
        assert_eq!(status, 200, "{body}");

        // Before anything is applied there is nothing to check.
        let vpc_version = demo_version("vpc", "v1.2.0");
        let form = [
            ("input[slug]", "net"), ("input[name]", "Network"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "production"),
            ("input[workspace]", "acme-live"),
        ];
        assert_eq!(call(&dev, &server, "create_resource", &form).await.0, 200);
        assert_eq!(settled(&server, "net").await, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        let (status, body) = call(&dev, &server, "check_drift", &[("slug", "net")]).await;
        assert_eq!((status, body.contains("only a provisioned resource")), (409, true), "{body}");
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()), "{}", job_log(&server).await);

        // The network exists in the demo cloud, as the apply made it.
        let (_, objects) = cloud(&server, reqwest::Method::GET, "/vpc", None).await;
        let network = objects.as_array().unwrap().first().cloned().expect("the apply created the network");
        let id = network["id"].as_str().unwrap().to_string();
        assert_eq!(network["properties"]["cidr_block"], "10.0.0.0/16", "{network}");

        // A check with nothing changed finds no drift. Only who may change the resource asks.
        assert_eq!(call(&pat, &server, "check_drift", &[("slug", "net")]).await.0, 403);
        json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        let drift = checked(&dev, &server, "net").await;
        assert_eq!((drift["last_check"]["state"].as_str(), &drift["current"]), (Some("no drift"), &Value::Null), "{drift}");
        assert!(job_log(&server).await.contains("-refresh-only -detailed-exitcode"));

        // Someone changes the network in the console: the next check finds it.
        let (status, _) = cloud(&server, reqwest::Method::PATCH, &format!("/vpc/{id}"), Some(serde_json::json!({ "cidr_block": "10.9.0.0/16" }))).await;
        assert_eq!(status, 200);
        json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        let drift = checked(&dev, &server, "net").await;
        assert_eq!(drift["current"]["status"], "open", "{drift}");
        assert_eq!(drift["current"]["objects"], 1, "{drift}");
        assert_eq!(drift["current"]["owner"], "dev", "{drift}");
        let found = drift["summary"]["drift"][0].to_string();
        assert!(found.contains("cloud_object.network") && found.contains("10.9.0.0/16") && found.contains("update"), "{found}");
        // The resource is untouched by a check: no pull request, its status as it was.
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()));
        let list = json(&pat, &server, "get_drifts", &[]).await;
        assert_eq!(list["current"][0]["resource"], "net", "{list}");

        // Acknowledge: a reason is required (a refusal changes nothing); a viewer may not.
        let (status, body) = call(&dev, &server, "acknowledge_drift", &[("slug", "net"), ("reason", "  ")]).await;
        assert_eq!((status, body.contains("\"field\":\"reason\"")), (422, true), "{body}");
        assert_eq!(call(&pat, &server, "acknowledge_drift", &[("slug", "net"), ("reason", "mine")]).await.0, 403);
        assert_eq!(checked(&dev, &server, "net").await["current"]["status"], "open");
        json(&dev, &server, "acknowledge_drift", &[("slug", "net"), ("reason", "network team's hotfix; decide Monday")]).await;
        let drift = checked(&dev, &server, "net").await;
        assert_eq!((drift["current"]["status"].as_str(), drift["current"]["acknowledged_by"].as_str()), (Some("acknowledged"), Some("dev")), "{drift}");

        // Accept the world as it is: proposed by one person, approved by another (a viewer may
        // do neither, the proposer may not approve), for exactly the newest finding; its
        // refresh-only plan is applied and the drift resolved as accepted.
        let plan = drift["acceptable_plan"].as_i64().expect("the finding can be accepted");
        let plan_text = plan.to_string();
        let args = [("slug", "net"), ("plan", plan_text.as_str())];
        let (status, body) = call(&ada, &server, "accept_drift", &args).await;
        assert_eq!((status, body.contains("was not proposed")), (409, true), "{body}");
        assert_eq!(call(&pat, &server, "propose_accept_drift", &args).await.0, 403);
        let (status, body) = call(&dev, &server, "propose_accept_drift", &[("slug", "net"), ("plan", "999999")]).await;
        assert_eq!(status, 404, "{body}");
        json(&dev, &server, "propose_accept_drift", &args).await;
        assert_eq!(json(&dev, &server, "get_resource_drift", &[("slug", "net")]).await["proposed_plan"], plan);
        let (status, body) = call(&dev, &server, "accept_drift", &args).await;
        assert_eq!((status, body.contains("someone else must approve")), (403, true), "{body}");
        assert_eq!(call(&pat, &server, "accept_drift", &args).await.0, 403);
        json(&ada, &server, "accept_drift", &args).await;
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()), "{}", job_log(&server).await);
        let accepted = plans::Entity::find_by_id(plan).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!((accepted.status, accepted.purpose, accepted.approved_by.as_deref()), (PlanStatus::Applied, PlanPurpose::Drift, Some("ada")));
        let record = drifts::Entity::find().one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!((record.status, record.resolution, record.resolved_by.as_deref()), (DriftStatus::Resolved, Some(Resolution::Accepted), Some("ada")));
        // The state now records the world: a new check finds nothing, and the cloud kept 10.9.
        json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        let drift = checked(&dev, &server, "net").await;
        assert_eq!((drift["last_check"]["state"].as_str(), &drift["current"]), (Some("no drift"), &Value::Null), "{drift}");
        let (_, network) = cloud(&server, reqwest::Method::GET, &format!("/vpc/{id}"), None).await;
        assert_eq!(network["properties"]["cidr_block"], "10.9.0.0/16");

        // Drift again; this time reconciled: a pull request with no file changed, opened for
        // the developer, planned (the plan undoes the drift), approved by someone else.
        cloud(&server, reqwest::Method::PATCH, &format!("/vpc/{id}"), Some(serde_json::json!({ "cidr_block": "10.7.0.0/16", "owner": "someone" }))).await;
        json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        assert_eq!(checked(&dev, &server, "net").await["current"]["status"], "open");
        assert_eq!(call(&pat, &server, "reconcile_drift", &[("slug", "net")]).await.0, 403);
        json(&dev, &server, "reconcile_drift", &[("slug", "net")]).await;
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "ready".into()), "{}", job_log(&server).await);
        let view = json(&dev, &server, "get_resource_workspace", &[("slug", "net"), ("after", "0")]).await;
        let pull = &view["open_pull"];
        assert_eq!(pull["title"], "Reconcile drift of vpc/network", "{view}");
        assert_eq!(view["plan"]["status"], "ready", "{view}");
        assert_eq!(view["plan"]["counts"], "+0 ~1 -0", "{view}");
        let (status, body) = review(&dev, &server, "net", true).await;
        assert_eq!((status, body.contains("someone else must approve")), (403, true), "{body}");
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()), "{}", job_log(&server).await);
        let (_, network) = cloud(&server, reqwest::Method::GET, &format!("/vpc/{id}"), None).await;
        assert_eq!(network["properties"]["cidr_block"], "10.0.0.0/16", "the apply undid the drift: {network}");
        assert_eq!(network["properties"].get("owner"), None, "{network}");
        let record = drifts::Entity::find().order_by_desc(drifts::Column::Id).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!((record.status, record.resolution, record.resolved_by.as_deref(), record.reconcile_by.as_deref()), (DriftStatus::Resolved, Some(Resolution::Reconciled), Some("ada"), Some("dev")));

        // A drift that goes away by itself is cleared by the next check.
        cloud(&server, reqwest::Method::PATCH, &format!("/vpc/{id}"), Some(serde_json::json!({ "cidr_block": "10.5.0.0/16" }))).await;
        json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        assert_eq!(checked(&dev, &server, "net").await["current"]["status"], "open");
        let (status, _) = cloud(&server, reqwest::Method::PATCH, &format!("/vpc/{id}"), Some(serde_json::json!({ "cidr_block": "10.0.0.0/16" }))).await;
        assert_eq!(status, 200);
        let asked = json(&dev, &server, "check_drift", &[("slug", "net")]).await;
        let drift = checked(&dev, &server, "net").await;
        assert_eq!(drift["last_check"]["plan_id"], asked, "{drift}");
        assert_eq!(drift["last_check"]["state"], "no drift", "{drift}\n{}", job_log(&server).await);
        assert_eq!(drift["current"], Value::Null, "{drift}");
        let record = drifts::Entity::find().order_by_desc(drifts::Column::Id).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(record.resolution, Some(Resolution::Cleared));

        // Every step is in the audit log.
        let logged = actions(&server).await;
        for action in ["resource.drift_check", "resource.drift_detected", "resource.drift_acknowledged", "resource.drift_accept_proposed", "resource.drift_accept", "resource.drift_reconcile", "resource.drift_cleared"] {
            assert!(logged.iter().any(|a| a == action), "{action} missing from {logged:?}");
        }
    }
}

db_test! {
    async fn the_schedule_checks_due_workspaces_once_however_many_replicas_tick(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let (ada, dev, pat) = (client(), client(), client());
        demo_sign_in(&ada, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        demo_sign_in(&pat, &server, "pat").await;
        assert_eq!(call(&ada, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        assert_eq!(call(&dev, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/live")]).await.0, 200);
        let vpc_version = demo_version("vpc", "v1.2.0");
        let form = [
            ("input[slug]", "net"), ("input[name]", "Network"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "staging"),
            ("input[workspace]", "acme-live"),
        ];
        assert_eq!(call(&dev, &server, "create_resource", &form).await.0, 200);
        settled(&server, "net").await;
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}\n{}", job_log(&server).await);
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()), "{}", job_log(&server).await);

        // The schedule: bounded, set by who may change the workspace, refused otherwise.
        let (status, body) = call(&dev, &server, "set_drift_schedule", &[("slug", "acme-live"), ("minutes", "3")]).await;
        assert_eq!((status, body.contains("\"field\":\"minutes\"")), (422, true), "{body}");
        assert_eq!(call(&pat, &server, "set_drift_schedule", &[("slug", "acme-live"), ("minutes", "60")]).await.0, 403);
        assert_eq!(call(&pat, &server, "check_workspace_drift", &[("slug", "acme-live")]).await.0, 403);
        json(&dev, &server, "set_drift_schedule", &[("slug", "acme-live"), ("minutes", "60")]).await;
        let drift = json(&dev, &server, "get_resource_drift", &[("slug", "net")]).await;
        assert_eq!(drift["schedule"], "hourly", "{drift}");

        // Not due yet: nothing queued. Due: several replicas tick at once; one queues.
        let checks = async || plans::Entity::find().filter(plans::Column::Purpose.eq(PlanPurpose::Drift)).count(&server.ctx.db).await.unwrap();
        assert_eq!(app::server::plans::enqueue_due(&server.ctx).await.unwrap(), 0);
        assert_eq!(checks().await, 0);
        let workspace = workspace_rows::Entity::find().filter(workspace_rows::Column::Slug.eq("acme-live")).one(&server.ctx.db).await.unwrap().unwrap();
        let mut due: workspace_rows::ActiveModel = workspace.clone().into();
        due.drift_next_at = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
        due.update(&server.ctx.db).await.unwrap();
        let ticks = futures_util::future::join_all((0..4).map(|_| app::server::plans::enqueue_due(&server.ctx))).await;
        let queued: u64 = ticks.into_iter().map(|t| t.unwrap()).sum();
        assert_eq!(queued, 1);
        assert_eq!(checks().await, 1);
        let check = plans::Entity::find().filter(plans::Column::Purpose.eq(PlanPurpose::Drift)).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(check.requested_by, "slipway (drift schedule)");
        let drift = checked(&dev, &server, "net").await;
        assert_eq!(drift["last_check"]["state"], "no drift", "{drift}");
        let next = workspace_rows::Entity::find().filter(workspace_rows::Column::Slug.eq("acme-live")).one(&server.ctx.db).await.unwrap().unwrap().drift_next_at.unwrap();
        assert!(next > chrono::Utc::now() + chrono::Duration::minutes(50), "{next}");

        // The Drift page lists to each person what they may read, limited in the query: Quinn,
        // out of qa and granted only `net`, sees its drift and not another's, however many
        // there are.
        let form = [
            ("input[slug]", "other"), ("input[name]", "Other"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "other"),
            ("input[workspace]", "acme-live"),
        ];
        assert_eq!(call(&dev, &server, "create_resource", &form).await.0, 200);
        let id_of = async |slug: &str| resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq(slug)).one(&server.ctx.db).await.unwrap().unwrap().id;
        let (net, other) = (id_of("net").await, id_of("other").await);
        let now = chrono::Utc::now();
        // More of others' than the page lists (500), all older than net's.
        let rows = std::iter::repeat_n(other, 600).chain([net]).zip(0..).map(|(resource_id, n)| drifts::ActiveModel {
            resource_id: Set(resource_id), workspace_id: Set(workspace.id), status: Set(DriftStatus::Open),
            detected_at: Set(now - chrono::Duration::minutes(1000 - n)), last_seen_at: Set(now),
            summary: Set("{}".into()), objects: Set(1), ..Default::default()
        });
        drifts::Entity::insert_many(rows).exec(&server.ctx.db).await.unwrap();
        let quinn = client();
        demo_sign_in(&quinn, &server, "quinn").await;
        assert_eq!(call(&ada, &server, "remove_group_member", &[("group", "qa"), ("user", "quinn")]).await.0, 200);
        let (status, body) = call(&ada, &server, "create_role_binding", &[
            ("binding[subject_kind]", "user"), ("binding[subject]", "quinn"), ("binding[role]", "viewer"),
            ("binding[scope_kind]", "entity"), ("binding[entity_type]", "resource"), ("binding[entity_id]", "net"),
        ]).await;
        assert_eq!(status, 200, "{body}");
        let seen = json(&quinn, &server, "get_drifts", &[]).await;
        let listed: Vec<&str> = seen["current"].as_array().unwrap().iter().map(|d| d["resource"].as_str().unwrap()).collect();
        assert_eq!(listed, ["net"], "{seen}");
        assert_eq!(json(&pat, &server, "get_drifts", &[]).await["current"].as_array().unwrap().len(), 500);
        assert_eq!(call(&quinn, &server, "get_resource_drift", &[("slug", "other")]).await.0, 403);
        assert_eq!(call(&quinn, &server, "get_resource_drift", &[("slug", "net")]).await.0, 200);

        // Off: never on a schedule, however long ago the last check was.
        json(&dev, &server, "set_drift_schedule", &[("slug", "acme-live"), ("minutes", "0")]).await;
        assert_eq!(json(&dev, &server, "get_resource_drift", &[("slug", "net")]).await["schedule"], "off");
        assert_eq!(app::server::plans::enqueue_due(&server.ctx).await.unwrap(), 0);
        assert!(actions(&server).await.iter().any(|a| a == "workspace.drift_schedule"));
    }
}

//! Resources that really exist, with the real Terraform binary and a real job worker: every
//! resource pull request is planned; approval needs the plan of exactly the head reviewed,
//! ready; the merge applies that saved plan; outputs are recorded (sensitive ones sealed); the
//! state is kept by Slipway's HTTP backend, every version sealed, locked per resource; a plan
//! whose state moved is planned again and approved again; a destroy applies its delete plan.

use crate::db_test;
use crate::resources::demo_version;
use crate::support::{call, client, demo_sign_in, review, ServerOptions, TestServer};
use crate::workspaces::{job_log, settled};
use app::domain::plans::PlanStatus;
use app::server::entities::{
    audit_events, plans, resources as resource_rows, state_versions, workspace_resources,
};
use app::server::Actor;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

const PASSWORD: &str = "correct-horse-battery-staple-42";

async fn workspace_view(
    client: &reqwest::Client,
    server: &TestServer,
    slug: &str,
) -> serde_json::Value {
    let (status, body) = call(
        client,
        server,
        "get_resource_workspace",
        &[("slug", slug), ("after", "0")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn newest_plan(server: &TestServer, slug: &str) -> plans::Model {
    let resource = resource_rows::Entity::find()
        .filter(resource_rows::Column::Slug.eq(slug))
        .one(&server.ctx.db)
        .await
        .unwrap()
        .unwrap();
    plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(resource.id))
        .order_by_desc(plans::Column::Id)
        .one(&server.ctx.db)
        .await
        .unwrap()
        .unwrap()
}

db_test! {
    async fn pull_requests_are_planned_approved_on_their_plan_and_applied(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        assert_eq!(call(&ada, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let (status, body) = call(&dev, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/live")]).await;
        assert_eq!(status, 200, "{body}");

        // Create: the sync opens the pull request, and the plan of its head runs before anyone
        // may approve it.
        let vpc_version = demo_version("vpc", "v1.2.0");
        let form = [
            ("input[slug]", "net"), ("input[name]", "Network"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "production"),
            ("input[workspace]", "acme-live"),
        ];
        let (status, body) = call(&dev, &server, "create_resource", &form).await;
        assert_eq!(status, 200, "{body}");
        let got = settled(&server, "net").await;
        assert_eq!(got, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        let view = workspace_view(&dev, &server, "net").await;
        let head = view["open_pull"]["head_commit"].as_str().unwrap().to_string();
        let plan = &view["plan"];
        assert_eq!(plan["status"], "ready", "{view}");
        assert_eq!(plan["commit"], head.as_str());
        // The VPC's network is created in the demo cloud (its provider from the mirror).
        assert_eq!(plan["counts"], "+1 ~0 -0", "{plan}");
        assert_eq!(plan["summary"]["outputs"][0]["action"], "create", "{plan}");
        let outputs = plan["summary"]["outputs"].to_string();
        assert!(outputs.contains("vpc_id") && outputs.contains("10.0.0.0/24"), "{outputs}");
        assert!(job_log(&server).await.contains("fetching the module git::file://"));

        // The gate: the author may not approve; a head nobody reviewed, a plan still running,
        // a failed plan and a plan of another commit are each refused with the reason.
        let (status, body) = review(&dev, &server, "net", true).await;
        assert_eq!((status, body.contains("someone else must approve")), (403, true), "{body}");
        let refused = async |commit: &str| call(&ada, &server, "review_resource", &[("slug", "net"), ("approve", "true"), ("commit", commit)]).await;
        let (status, body) = refused(&"0".repeat(40)).await;
        assert_eq!((status, body.contains("changed since you reviewed it")), (409, true), "{body}");
        let row = newest_plan(&server, "net").await;
        for (status, commit, reason) in [
            (PlanStatus::Planning, head.clone(), "is still planning"),
            (PlanStatus::Failed, head.clone(), "failed: a change that does not plan cannot be approved"),
            (PlanStatus::Ready, "1".repeat(40), "was made for 111111111111, not for the head"),
        ] {
            let mut active: plans::ActiveModel = row.clone().into();
            active.status = Set(status);
            active.commit = Set(commit);
            active.update(&server.ctx.db).await.unwrap();
            let (code, body) = refused(&head).await;
            assert_eq!((code, body.contains(reason)), (409, true), "{status:?}: {body}");
        }
        let active: plans::ActiveModel = row.clone().into();
        active.reset_all().update(&server.ctx.db).await.unwrap();
        assert_eq!(newest_plan(&server, "net").await.status, PlanStatus::Ready);

        // Approve: merged, then that saved plan applied; provisioned only now, with outputs.
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()));
        let applied = newest_plan(&server, "net").await;
        assert_eq!((applied.id, applied.status, applied.approved_by.as_deref()), (row.id, PlanStatus::Applied, Some("ada")));
        let log = job_log(&server).await;
        assert!(log.contains("$ terraform apply -input=false -no-color -lock-timeout=120s tfplan"), "{log}");
        let (status, body) = call(&dev, &server, "get_resource", &[("slug", "net")]).await;
        assert_eq!(status, 200, "{body}");
        let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
        let vpc_id = detail["outputs"].as_array().unwrap().iter().find(|o| o["name"] == "vpc_id").unwrap()["value"].as_str().unwrap().to_string();
        assert!(vpc_id.starts_with("\"vpc-"), "{detail}");
        // The state: written by the apply through the HTTP backend, sealed, its lock released.
        let (status, body) = call(&dev, &server, "get_resource_runs", &[("slug", "net")]).await;
        assert_eq!(status, 200, "{body}");
        let runs: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(runs["lock"], serde_json::Value::Null);
        let states = runs["states"].as_array().unwrap();
        assert!(!states.is_empty() && states[0]["plan_id"] == row.id, "{runs}");
        let stored = state_versions::Entity::find().all(&server.ctx.db).await.unwrap();
        assert!(stored.iter().all(|v| !v.state.contains("vpc-") && !v.state.contains("lineage")));

        // A sensitive variable reaches the run only as TF_VAR_ and is masked in its log; a
        // sensitive output is sealed and shown masked; nothing stored holds either in clear.
        let rds_version = demo_version("rds-database", "v1.2.0");
        let form = [
            ("input[slug]", "orders"), ("input[name]", "Orders"), ("input[template]", "rds-database"),
            ("input[version_id]", rds_version.as_str()), ("input[values][identifier]", "orders"),
            ("input[values][master_password]", PASSWORD), ("input[parents][net]", "on"), ("input[workspace]", "acme-live"),
        ];
        let (status, body) = call(&dev, &server, "create_resource", &form).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "orders").await;
        let (status, body) = review(&ada, &server, "orders", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "orders").await, ("provisioned".into(), "done".into()));
        let (_, body) = call(&dev, &server, "get_resource", &[("slug", "orders")]).await;
        let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
        let secret = detail["outputs"].as_array().unwrap().iter().find(|o| o["name"] == "connection_string").unwrap().clone();
        assert_eq!((secret["sensitive"].as_bool(), secret["value"].is_null()), (Some(true), true), "{detail}");
        let orders = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("orders")).one(&server.ctx.db).await.unwrap().unwrap();
        assert!(orders.sealed_outputs.as_deref().is_some_and(|s| !s.contains(PASSWORD)));
        assert!(!orders.outputs.contains(PASSWORD));
        assert!(!job_log(&server).await.contains(PASSWORD));
        for plan in plans::Entity::find().all(&server.ctx.db).await.unwrap() {
            for text in [plan.summary.unwrap_or_default(), plan.plan_json.unwrap_or_default(), plan.plan_file.unwrap_or_default()] {
                assert!(!text.contains(PASSWORD));
            }
        }
        for event in audit_events::Entity::find().all(&server.ctx.db).await.unwrap() {
            assert!(!format!("{:?}", event.after).contains(PASSWORD));
        }

        // An edit is planned; then the state moves before the apply (another writer): the
        // merge applies nothing, plans the merged code again, and that plan needs its own
        // approval, by someone who is not its author.
        let form = [
            ("input[slug]", "net"), ("input[name]", "Network"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "production"),
            ("input[values][cidr_block]", "10.1.0.0/16"), ("input[workspace]", "acme-live"),
            ("input[base_revision]", "1"),
        ];
        let (status, body) = call(&dev, &server, "update_resource", &form).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provision".into(), "ready".into()));
        let edit = newest_plan(&server, "net").await;
        assert_eq!(edit.status, PlanStatus::Ready, "{edit:?}");
        assert!(edit.summary.as_deref().is_some_and(|s| s.contains("10.1.0.0/24")), "{edit:?}");
        let net = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("net")).one(&server.ctx.db).await.unwrap().unwrap();
        let current = app::server::plans::current_state(&server.ctx, net.id).await.unwrap().unwrap();
        let mut moved: serde_json::Value = serde_json::from_str(&current).unwrap();
        moved["serial"] = (moved["serial"].as_i64().unwrap() + 1).into();
        let saved = app::server::plans::save_state(&server.ctx, net.id, None, None, &moved.to_string(), &Actor::system("operator")).await.unwrap();
        assert!(saved.is_ok());
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provision".into(), "ready".into()));
        let stale = plans::Entity::find_by_id(edit.id).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(stale.status, PlanStatus::Stale);
        let again = newest_plan(&server, "net").await;
        assert_eq!((again.status, again.pull_request_id, again.requested_by.as_str()), (PlanStatus::Ready, None, "dev"));
        assert!(job_log(&server).await.contains(&format!("nothing applied; planned again as plan #{}", again.id)));
        let plan_id = again.id.to_string();
        let (status, body) = call(&dev, &server, "approve_plan", &[("slug", "net"), ("plan", plan_id.as_str())]).await;
        assert_eq!((status, body.contains("someone else must approve")), (403, true), "{body}");
        let (status, body) = call(&ada, &server, "approve_plan", &[("slug", "net"), ("plan", plan_id.as_str())]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()));
        assert_eq!(newest_plan(&server, "net").await.status, PlanStatus::Applied);

        // A child takes its parent's output: bound in the form (an output the parent does not
        // have is refused), resolved when planned, recorded with the plan.
        let eks_version = demo_version("eks-cluster", "v1.2.0");
        let child = |binding: &'static str| vec![
            ("input[slug]", "k8s"), ("input[name]", "Cluster"), ("input[template]", "eks-cluster"),
            ("input[version_id]", eks_version.as_str()), ("input[values][cluster_name]", "production"),
            ("input[parents][net]", "on"), ("input[bindings][vpc_id]", binding), ("input[workspace]", "acme-live"),
        ];
        let (status, body) = call(&dev, &server, "create_resource", &child("net.vpc_idx")).await;
        assert_eq!((status, body.contains("net has no output vpc_idx")), (422, true), "{body}");
        let (status, body) = call(&dev, &server, "create_resource", &child("net.vpc_id")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "k8s").await, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        let (_, body) = call(&dev, &server, "get_resource", &[("slug", "k8s")]).await;
        let k8s: serde_json::Value = serde_json::from_str(&body).unwrap();
        let variables = k8s["files"].as_array().unwrap().iter().find(|f| f["name"] == "variables.tf").unwrap()["contents"].as_str().unwrap().to_string();
        assert!(variables.contains("Set by Slipway from net's output vpc_id."), "{variables}");
        let (_, body) = call(&dev, &server, "get_resource", &[("slug", "net")]).await;
        let net_detail: serde_json::Value = serde_json::from_str(&body).unwrap();
        let net_vpc = net_detail["outputs"].as_array().unwrap().iter().find(|o| o["name"] == "vpc_id").unwrap()["value"].as_str().unwrap().to_string();
        let view = workspace_view(&dev, &server, "k8s").await;
        assert_eq!(view["plan"]["inputs"], serde_json::json!([{ "variable": "vpc_id", "from": "net.vpc_id", "value": net_vpc }]), "{view}");
        let (status, body) = review(&ada, &server, "k8s", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "k8s").await, ("provisioned".into(), "done".into()));

        // The parent's outputs change: the child is told, and plans again on a click; its new
        // plan takes the new value and is approved by someone else.
        let form = [
            ("input[slug]", "net"), ("input[name]", "Network"), ("input[template]", "vpc"),
            ("input[version_id]", vpc_version.as_str()), ("input[values][name]", "staging"),
            ("input[values][cidr_block]", "10.1.0.0/16"), ("input[workspace]", "acme-live"),
        ];
        let (status, body) = call(&dev, &server, "update_resource", &form).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "net").await;
        let (status, body) = review(&ada, &server, "net", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "net").await, ("provisioned".into(), "done".into()));
        let k8s_row = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("k8s")).one(&server.ctx.db).await.unwrap().unwrap();
        assert!(k8s_row.parent_changed.as_deref().is_some_and(|m| m.contains("net's outputs changed") && m.contains("vpc_id ← vpc_id")), "{:?}", k8s_row.parent_changed);
        let orders_row = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("orders")).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(orders_row.parent_changed, None, "a child that takes no output is not told");
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        assert_eq!(call(&viewer, &server, "replan_resource", &[("slug", "k8s")]).await.0, 403);
        let (status, body) = call(&dev, &server, "replan_resource", &[("slug", "k8s")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "k8s").await, ("provisioned".into(), "ready".into()));
        let replanned = newest_plan(&server, "k8s").await;
        assert!(replanned.inputs.as_deref().is_some_and(|i| !i.contains(&net_vpc) && i.contains("vpc-")), "{replanned:?}");
        let plan_id = replanned.id.to_string();
        let (status, body) = call(&dev, &server, "approve_plan", &[("slug", "k8s"), ("plan", plan_id.as_str())]).await;
        assert_eq!((status, body.contains("someone else must approve")), (403, true), "{body}");
        assert_eq!(call(&ada, &server, "approve_plan", &[("slug", "k8s"), ("plan", plan_id.as_str())]).await.0, 200);
        assert_eq!(settled(&server, "k8s").await, ("provisioned".into(), "done".into()));
        let k8s_row = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("k8s")).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(k8s_row.parent_changed, None);

        // Two state versions compared: addresses and ids, never a value marked sensitive.
        let (_, body) = call(&dev, &server, "get_resource_runs", &[("slug", "orders")]).await;
        let runs: serde_json::Value = serde_json::from_str(&body).unwrap();
        let newest = runs["states"][0]["id"].as_i64().unwrap();
        let (status, body) = call(&dev, &server, "compare_state_versions", &[("slug", "orders"), ("from", &newest.to_string()), ("to", &newest.to_string())]).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("output endpoint = ") && body.contains("output connection_string = (sensitive)") && !body.contains(PASSWORD), "{body}");

        // A parent is not destroyed under a provisioned child.
        let (status, body) = call(&dev, &server, "resource_action", &[("slug", "net"), ("action", "destroy")]).await;
        assert_eq!((status, body.contains("net has provisioned children (k8s, orders): destroy them first")), (409, true), "{body}");

        // Destroy: the delete branch is planned with -destroy; approved and applied, the
        // resource is destroyed and its folder's name free again.
        let (status, body) = call(&dev, &server, "resource_action", &[("slug", "orders"), ("action", "destroy")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "orders").await, ("destroy".into(), "ready".into()));
        let destroy = newest_plan(&server, "orders").await;
        assert_eq!((destroy.status, destroy.mode.as_str()), (PlanStatus::Ready, "delete"), "{destroy:?}");
        assert!(destroy.summary.as_deref().is_some_and(|s| s.contains("\"action\":\"delete\"")), "{destroy:?}");
        let (status, body) = review(&ada, &server, "orders", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "orders").await, ("destroyed".into(), "done".into()));
        assert!(workspace_resources::Entity::find_by_id(orders.id).one(&server.ctx.db).await.unwrap().is_none());
        let newest = state_versions::Entity::find().filter(state_versions::Column::ResourceId.eq(orders.id)).order_by_desc(state_versions::Column::Id).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(newest.plan_id, Some(destroy.id));
    }
}

db_test! {
    async fn the_state_backend_serves_one_run_and_locks_out_the_others(db: TestDb) {
        use server::state_backend::StateServer;
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let ctx = server.ctx.clone();
        let resource = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("prod-vpc")).one(&ctx.db).await.unwrap().unwrap();
        let plan = StateServer::start(ctx.clone(), resource.id, None, "job #1 (plan)".into()).await.unwrap();
        let http = reqwest::Client::new();
        let method = |m: &str| reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        // Without the run's password: nothing.
        let answer = http.get(&plan.address).send().await.unwrap();
        assert_eq!(answer.status(), 401);
        let answer = http.get(&plan.address).basic_auth("slipway", Some("guess")).send().await.unwrap();
        assert_eq!(answer.status(), 401);
        // No state yet; a plan may lock but never write.
        let answer = http.get(&plan.address).basic_auth("slipway", Some(&plan.password)).send().await.unwrap();
        assert_eq!(answer.status(), 204);
        let lock = serde_json::json!({ "ID": "lock-a", "Operation": "OperationTypePlan", "Who": "nobody@sandbox", "Version": "1.11.4", "Created": "2026-12-07T09:00:00Z", "Path": "" });
        let answer = http.request(method("LOCK"), &plan.address).basic_auth("slipway", Some(&plan.password)).json(&lock).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
        let state = r#"{"version":4,"serial":1,"lineage":"abc","outputs":{},"resources":[]}"#;
        let answer = http.post(format!("{}?ID=lock-a", plan.address)).basic_auth("slipway", Some(&plan.password)).body(state).send().await.unwrap();
        assert_eq!(answer.status(), 403);
        // A second run (an apply) meanwhile: its lock is refused naming the holder, and its
        // writes too while the lock is another's.
        let job = app::server::jobs::enqueue(&ctx.db, "resource.apply", &serde_json::json!({}), None, None, 1).await.unwrap();
        let now = chrono::Utc::now();
        let approved = plans::ActiveModel {
            resource_id: Set(resource.id), pull_request_id: Set(None), mode: Set(app::domain::workspaces::SyncKind::Update),
            commit: Set("c".repeat(40)), code_commit: Set("c".repeat(40)), folder: Set("vpc/prod_vpc".into()),
            status: Set(PlanStatus::Applying), job_id: Set(job.id), apply_job_id: Set(Some(job.id)),
            base_state_version_id: Set(None), summary: Set(None), adds: Set(0), changes: Set(0), destroys: Set(0),
            plan_file: Set(None), plan_json: Set(None), runtime: Set(app::domain::executors::Runtime::Terraform),
            runtime_version: Set(None), error: Set(None), approved_by: Set(Some("ada".into())), approved_at: Set(Some(now)),
            requested_by: Set("dev".into()), created_at: Set(now), finished_at: Set(None), applied_at: Set(None),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        let apply = StateServer::start(ctx.clone(), resource.id, Some(approved.id), "job #2 (apply)".into()).await.unwrap();
        let other = serde_json::json!({ "ID": "lock-b", "Operation": "OperationTypeApply", "Who": "x", "Version": "1.11.4", "Created": "2026-12-07T09:00:01Z", "Path": "" });
        let answer = http.request(method("LOCK"), &apply.address).basic_auth("slipway", Some(&apply.password)).json(&other).send().await.unwrap();
        assert_eq!(answer.status(), 423);
        let held: serde_json::Value = answer.json().await.unwrap();
        assert_eq!((held["ID"].as_str(), held["Who"].as_str()), (Some("lock-a"), Some("job #1 (plan)")));
        let answer = http.post(format!("{}?ID=lock-b", apply.address)).basic_auth("slipway", Some(&apply.password)).body(state).send().await.unwrap();
        assert_eq!(answer.status(), 423);
        // The holder unlocks (a wrong id changes nothing); then the apply locks and writes.
        let answer = http.request(method("UNLOCK"), &plan.address).basic_auth("slipway", Some(&plan.password)).json(&other).send().await.unwrap();
        assert_eq!(answer.status(), 409);
        let answer = http.request(method("UNLOCK"), &plan.address).basic_auth("slipway", Some(&plan.password)).json(&lock).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let answer = http.request(method("LOCK"), &apply.address).basic_auth("slipway", Some(&apply.password)).json(&other).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let answer = http.post(format!("{}?ID=lock-b", apply.address)).basic_auth("slipway", Some(&apply.password)).body(state).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let answer = http.post(format!("{}?ID=lock-b", apply.address)).basic_auth("slipway", Some(&apply.password)).body("{not json").send().await.unwrap();
        assert_eq!(answer.status(), 400);
        // Every version kept, sealed; the newest is what a run reads.
        let answer = http.get(&apply.address).basic_auth("slipway", Some(&apply.password)).send().await.unwrap();
        assert_eq!((answer.status().as_u16(), answer.text().await.unwrap()), (200, state.to_string()));
        let versions = state_versions::Entity::find().filter(state_versions::Column::ResourceId.eq(resource.id)).all(&ctx.db).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert!(!versions[0].state.contains("lineage"));
        // A state past the limit is refused before it is read.
        let huge = "x".repeat(app::server::plans::MAX_STATE_BYTES + 1);
        let answer = http.post(format!("{}?ID=lock-b", apply.address)).basic_auth("slipway", Some(&apply.password)).body(huge).send().await.unwrap();
        assert_eq!(answer.status(), 413);
        // The run is over: its backend is gone with it.
        let address = apply.address.clone();
        drop(apply);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(http.get(&address).send().await.is_err());
    }
}

//! `slipway serve --demo`'s estate, on both databases: what a newcomer finds is what the pages
//! promise — a workspace whose resources are provisioned, awaiting review and failed, a governed
//! repository whose pull request is open, a release waiting for product and security, history
//! behind the DORA figures — and seeding again changes nothing. "Simulate a build" deploys like
//! a signed notification, for members only, and only in the demo.

use crate::db_test;
use crate::support::*;
use app::api::releases::ReleaseManifestsView;
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

db_test! {
    async fn the_demo_seeds_both_halves_once(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, ..ServerOptions::default() }).await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;

        // Resources in every state, in the local forge's acme/infra-live.
        let listed = json(&ada, &server, "get_resources", &[("page", "0")]).await;
        let state_of = |slug: &str| {
            let row = listed["rows"].as_array().unwrap().iter().find(|r| r["slug"] == slug).unwrap();
            (row["state"].as_str().unwrap().to_string(), row["status"].as_str().unwrap().to_string())
        };
        assert_eq!(state_of("prod-vpc"), ("provisioned".into(), "done".into()));
        assert_eq!(state_of("assets-bucket"), ("provisioned".into(), "done".into()));
        assert_eq!(state_of("prod-eks"), ("provision".into(), "ready".into()), "awaiting review");
        assert_eq!(state_of("prod-db"), ("provision".into(), "error".into()), "its merge conflicts");
        let eks = json(&ada, &server, "get_resource_workspace", &[("slug", "prod-eks"), ("after", "0")]).await;
        assert!(eks.to_string().contains("\"open\""), "prod-eks's pull request is open: {eks}");
        let db_resource = json(&ada, &server, "get_resource_workspace", &[("slug", "prod-db"), ("after", "0")]).await;
        assert!(db_resource.to_string().contains("conflicts with main"), "the failure names the conflict: {db_resource}");

        // The workspace's repository holds what was merged, and the commit that conflicts.
        let repository = server.data_dir.join("git/acme/infra-live.git");
        let log = std::process::Command::new("git")
            .args(["--git-dir", repository.to_str().unwrap(), "log", "--format=%s", "main"])
            .output()
            .unwrap();
        let log = String::from_utf8(log.stdout).unwrap();
        assert_eq!(log.matches("Merge pull request").count(), 2, "{log}");
        assert!(log.contains("fix(orders-database): raise max_connections"), "{log}");

        // Governed repositories: payments-api's strategy waits for review in a pull request.
        let repositories = json(&ada, &server, "get_repositories", &[]).await;
        let names: Vec<&str> = repositories["repositories"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["payments-api", "storefront"]);
        let provisioning = json(&ada, &server, "get_provisioning", &[("name", "payments-api")]).await;
        let open: Vec<String> = provisioning["pulls"].as_array().unwrap().iter()
            .filter(|p| p["state"] == "open")
            .map(|p| format!("{}#{}", p["repository"].as_str().unwrap(), p["number"]))
            .collect();
        assert_eq!(open, ["local/managed-workflows-private#1", "local/payments-api#1"], "{provisioning}");

        // A release: staging signed off by QA and deployed; production waits for two groups.
        let release = json(&ada, &server, "get_release", &[("id", "1")]).await;
        assert_eq!(release["row"]["rc_tag"], "webshop-2026.12-rc.0");
        assert_eq!(release["stages"][0]["state"], "Deployed");
        assert_eq!(release["stages"][1]["state"], "AwaitingSignOff");
        assert_eq!(release["stages"][1]["gate"], "Waiting for product 0/1, security 0/1");

        // Sixteen weeks of production history, two of them restored by a hotfix.
        let year = json(&ada, &server, "get_delivery", &[("days", "365")]).await;
        assert!(year["production_deployments"].as_u64().unwrap() >= 34, "{year}");
        assert_eq!(year["failures"], 2, "{year}");
        let releases: ReleaseManifestsView = serde_json::from_value(json(&ada, &server, "get_release_manifests", &[]).await).unwrap();
        for environment in ["development", "staging", "production"] {
            assert!(releases.deployed.iter().any(|d| d.environment == environment && d.application == "storefront"), "{environment}");
        }
        assert!(releases.can_simulate, "the demo offers Simulate a build to an admin");

        // Seeding again (a restart) leaves everything as it was.
        let before = app::server::audit::verify(&server.ctx.db).await.unwrap().unwrap();
        server::demo::seed(&server.ctx, &server.config, server::demo::Estate::Both).await.unwrap();
        assert_eq!(app::server::audit::verify(&server.ctx.db).await.unwrap().unwrap(), before);
    }
}

db_test! {
    async fn a_simulated_build_deploys_for_members_in_the_demo_only(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, worker: true, ..ServerOptions::default() }).await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        let built = json(&dev, &server, "simulate_build", &[("application", "storefront")]).await;
        let version = built.as_str().unwrap().to_string();
        assert_eq!(version, "v1.16.2", "the next patch after the seeded v1.16.1");
        let mut deployed = false;
        for _ in 0..100 {
            let view: ReleaseManifestsView = serde_json::from_value(json(&dev, &server, "get_release_manifests", &[]).await).unwrap();
            if view.deployed.iter().any(|d| d.environment == "development" && d.version == version) {
                deployed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(deployed, "{version} reaches development");

        // The product manager (a viewer) may not; nor anyone outside the demo.
        let pat = client();
        demo_sign_in(&pat, &server, "pat").await;
        let (status, body) = call(&pat, &server, "simulate_build", &[("application", "storefront")]).await;
        assert_eq!(status, 403, "{body}");
        let mut outside = server.ctx.clone();
        outside.portal = std::sync::Arc::new(app::server::PortalSettings { demo: false, ..(*server.ctx.portal).clone() });
        let refused = app::server::deployments::simulate_build(&outside, &app::server::Actor::system("ci"), "storefront").await;
        assert!(matches!(refused, Err(app::error::AppError::Forbidden(ref m)) if m.contains("only in the demo")), "{refused:?}");
    }
}

//! "Needs you" on the demo's estate, on both databases: each person's list holds what waits
//! for them and says why — the production sign-off for product and security, the cluster's
//! pull request for a reviewer but never its author, the governed repository's pull request for
//! who may approve it, a policy denial for the override group, drift for the resource's owner —
//! and an item leaves the list once acted on. A visitor gets nothing.

use crate::db_test;
use crate::support::*;
use app::domain::drift::DriftStatus;
use app::domain::policies::PolicyResult;
use app::server::entities::{drifts, plans, resources, workspace_resources};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;

async fn needs(client: &reqwest::Client, server: &TestServer) -> Vec<Value> {
    let (status, body) = call(client, server, "get_needs", &[]).await;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body).unwrap();
    view["items"].as_array().unwrap().clone()
}

fn titles(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i["kind"].as_str().unwrap(),
                i["title"].as_str().unwrap()
            )
        })
        .collect()
}

fn find<'a>(items: &'a [Value], kind: &str, containing: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["title"].as_str().unwrap().contains(containing))
}

db_test! {
    async fn each_person_sees_what_waits_for_them_and_why(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { estate: true, ..ServerOptions::default() }).await;
        let [ada, dev, pat, sam, quinn] = ["ada", "dev", "pat", "sam", "quinn"].map(|_| client());
        for (who, login) in [(&ada, "ada"), (&dev, "dev"), (&pat, "pat"), (&sam, "sam"), (&quinn, "quinn")] {
            demo_sign_in(who, &server, login).await;
        }
        assert_eq!(call(&client(), &server, "get_needs", &[]).await.0, 401);

        // The seeded release waits for product and security at production.
        let mine = needs(&pat, &server).await;
        let sign_off = find(&mine, "sign_off", "production").unwrap_or_else(|| panic!("{:?}", titles(&mine)));
        assert!(sign_off["why"].as_str().unwrap().contains("You are in product, which must sign off (0 of 1 approval)"), "{sign_off}");
        assert!(sign_off["href"].as_str().unwrap().starts_with("/releases/"), "{sign_off}");
        assert!(find(&needs(&sam, &server).await, "sign_off", "production").is_some());
        // QA signed staging already and has no part in production; a viewer approves nothing.
        assert_eq!(titles(&needs(&quinn, &server).await), Vec::<String>::new());

        // The cluster's pull request (Devon's) is Ada's to review, not Devon's; the governed
        // repository's pull request (Devon's too) likewise, in both of its repositories for an
        // administrator.
        let admin = needs(&ada, &server).await;
        let review = find(&admin, "review", "prod-eks").unwrap_or_else(|| panic!("{:?}", titles(&admin)));
        assert!(review["why"].as_str().unwrap().contains("dev made the change"), "{review}");
        assert_eq!(review["href"], "/resources/prod-eks");
        let repository: Vec<&Value> = admin.iter().filter(|i| i["kind"] == "repository_review").collect();
        assert_eq!(repository.len(), 2, "{:?}", titles(&admin));
        assert!(repository.iter().any(|i| i["href"].as_str().unwrap().ends_with("?managed=true")));
        let developer = needs(&dev, &server).await;
        assert!(find(&developer, "review", "prod-eks").is_none(), "{:?}", titles(&developer));
        assert!(!developer.iter().any(|i| i["kind"] == "repository_review"), "{:?}", titles(&developer));

        // Pat signs off: it leaves Pat's list, and stays on Sam's.
        let release: i64 = sign_off["href"].as_str().unwrap().trim_start_matches("/releases/").parse().unwrap();
        let (status, body) = crate::releases::vote(&pat, &server, release, 1, "product", true, "Release notes reviewed").await;
        assert_eq!(status, 200, "{body}");
        assert!(find(&needs(&pat, &server).await, "sign_off", "production").is_none());
        assert!(find(&needs(&sam, &server).await, "sign_off", "production").is_some());

        // A policy denies the cluster's plan: the review waits (it is no longer Ada's to
        // approve), and the override is security's — Sam's, never the author's.
        let eks = resources::Entity::find().filter(resources::Column::Slug.eq("prod-eks")).one(&db.conn).await.unwrap().unwrap();
        let plan = plans::Entity::find().filter(plans::Column::ResourceId.eq(eks.id)).order_by_desc(plans::Column::Id).one(&db.conn).await.unwrap().unwrap();
        let denied = vec![PolicyResult {
            policy: "eks-node-limits".into(), revision: 1, owner: "security".into(),
            denials: vec!["node group general may grow to 40 nodes; the limit is 10".into()],
            override_group: Some("security".into()), approvals: 2, overrides: vec![],
        }];
        let mut active: plans::ActiveModel = plan.into();
        active.policy = Set(Some(serde_json::to_string(&denied).unwrap()));
        active.update(&db.conn).await.unwrap();
        // (A direct write bumps no version: a signed-in write elsewhere retires the caches.)
        assert_eq!(call(&ada, &server, "create_group", &[("name", "bump"), ("description", "")]).await.0, 200);
        let admin = needs(&ada, &server).await;
        assert!(find(&admin, "review", "prod-eks").is_none(), "{:?}", titles(&admin));
        let security = needs(&sam, &server).await;
        let over = find(&security, "policy_override", "prod-eks").unwrap_or_else(|| panic!("{:?}", titles(&security)));
        assert!(over["why"].as_str().unwrap().contains("You are in security, which may override it (0 of 2 approvals so far)"), "{over}");
        assert!(find(&needs(&dev, &server).await, "policy_override", "prod-eks").is_none());

        // Drift on the VPC is its owner's (Devon created it), and only theirs.
        let vpc = resources::Entity::find().filter(resources::Column::Slug.eq("prod-vpc")).one(&db.conn).await.unwrap().unwrap();
        let workspace = workspace_resources::Entity::find_by_id(vpc.id).one(&db.conn).await.unwrap().unwrap();
        let now = chrono::Utc::now();
        drifts::ActiveModel {
            resource_id: Set(vpc.id), workspace_id: Set(workspace.workspace_id), status: Set(DriftStatus::Open),
            detected_at: Set(now), last_seen_at: Set(now), summary: Set("{}".into()), objects: Set(1), ..Default::default()
        }.insert(&db.conn).await.unwrap();
        assert_eq!(call(&ada, &server, "create_group", &[("name", "bump-again"), ("description", "")]).await.0, 200);
        let developer = needs(&dev, &server).await;
        let drift = find(&developer, "drift", "prod-vpc").unwrap_or_else(|| panic!("{:?}", titles(&developer)));
        assert_eq!(drift["title"], "Drift on prod-vpc: 1 object changed outside the code");
        assert_eq!(drift["href"], "/resources/prod-vpc?tab=drift");
        assert!(find(&needs(&ada, &server).await, "drift", "prod-vpc").is_none());

        // The activity on what Devon owns: the VPC's approval and apply among it.
        let (status, body) = call(&dev, &server, "get_my_activity", &[]).await;
        assert_eq!(status, 200, "{body}");
        let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert!(rows.iter().any(|r| r["what"] == "prod-vpc" && r["action"] == "resource.applied"), "{body}");
        assert!(!body.contains("resource.state_saved"), "{body}");
        // Devon's role taken away (out of developers): what Devon may no longer read is no longer
        // listed, though Devon made it.
        let (status, body) = call(&ada, &server, "remove_group_member", &[("group", "developers"), ("user", "dev")]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&dev, &server, "get_my_activity", &[]).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("prod-vpc"), "{body}");
        assert_eq!(titles(&needs(&dev, &server).await), Vec::<String>::new());
    }
}

//! Policies, with the real Terraform binary: a Policy manifest (Rego, owned by security, with
//! revisions) is checked on every plan of a change; a denial blocks approval with its message
//! until two distinct members of the override group override it (never the change's author,
//! never twice by one member, never by someone outside the group); a broken policy is refused
//! when saved, named at its line and column.

use crate::db_test;
use crate::resources::demo_version;
use crate::support::{call, client, demo_sign_in, review, ServerOptions, TestServer};
use crate::workspaces::{job_log, settled};
use app::server::entities::audit_events;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::Value;

const POLICY: &str = r#"apiVersion: lowops.manifests.v1
kind: Policy
metadata:
  name: network-size
spec:
  owner: security
  description: Networks are at most a /16.
  appliesTo:
    templates: [vpc]
  override:
    group: security
    approvals: 2
  rego: |
    package slipway.network_size

    deny contains msg if {
      some change in input.plan.resource_changes
      change.type == "cloud_object"
      cidr := change.change.after.properties.cidr_block
      to_number(split(cidr, "/")[1]) < 16
      msg := sprintf("%s is larger than a /16 network", [cidr])
    }
"#;

fn vpc_form<'a>(slug: &'a str, version: &'a str, cidr: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("input[slug]", slug),
        ("input[name]", slug),
        ("input[template]", "vpc"),
        ("input[version_id]", version),
        ("input[values][name]", slug),
        ("input[values][cidr_block]", cidr),
        ("input[workspace]", "acme-live"),
    ]
}

async fn plan_of(client: &reqwest::Client, server: &TestServer, slug: &str) -> Value {
    let (status, body) = call(
        client,
        server,
        "get_resource_workspace",
        &[("slug", slug), ("after", "0")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["plan"].clone()
}

db_test! {
    async fn a_policy_denies_a_plan_until_two_other_members_override_it(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let (ada, dev, sam, quinn) = (client(), client(), client(), client());
        demo_sign_in(&ada, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        demo_sign_in(&sam, &server, "sam").await;
        demo_sign_in(&quinn, &server, "quinn").await;
        // A second security member (Quinn joins), so that two can override.
        assert_eq!(call(&ada, &server, "add_group_member", &[("group", "security"), ("user", "quinn")]).await.0, 200);
        assert_eq!(call(&ada, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        assert_eq!(call(&dev, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/live")]).await.0, 200);

        // Only security writes it; a broken rule is named at its line and column; nothing saved.
        let save = |source: &'static str| [("kind", ""), ("name", ""), ("revision", "0"), ("source", source)];
        let (status, body) = call(&dev, &server, "save_release_manifest", &save(POLICY)).await;
        assert_eq!((status, body.contains("edited by the group security")), (403, true), "{body}");
        let pat = client();
        demo_sign_in(&pat, &server, "pat").await;
        let (status, body) = call(&pat, &server, "save_release_manifest", &save(POLICY)).await;
        assert_eq!((status, body.contains("member role on releases")), (403, true), "{body}");
        let broken: &'static str = Box::leak(POLICY.replace("< 16", "<").into_boxed_str());
        let (status, body) = call(&sam, &server, "save_release_manifest", &save(broken)).await;
        assert_eq!(status, 422, "{body}");
        let line = broken.lines().position(|l| l.trim_end().ends_with('<')).unwrap() + 1;
        assert!(body.contains(&format!("manifest.yaml:{line}:")) || body.contains(&format!("manifest.yaml:{}:", line + 1)), "line {line}: {body}");
        assert_eq!(call(&sam, &server, "get_release_manifest", &[("kind", "Policy"), ("name", "network-size")]).await.0, 404);
        let (status, body) = call(&sam, &server, "save_release_manifest", &save(POLICY)).await;
        assert_eq!(status, 200, "{body}");

        // A /16 passes it.
        let version = demo_version("vpc", "v1.2.0");
        assert_eq!(call(&dev, &server, "create_resource", &vpc_form("small", &version, "10.1.0.0/16")).await.0, 200);
        assert_eq!(settled(&server, "small").await, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        let plan = plan_of(&dev, &server, "small").await;
        assert_eq!(plan["policies"][0]["policy"], "network-size", "{plan}");
        assert_eq!(plan["policies"][0]["denials"], serde_json::json!([]), "{plan}");
        assert_eq!(review(&ada, &server, "small", true).await.0, 200);

        // A /8 is denied: approval is refused with the message.
        assert_eq!(call(&dev, &server, "create_resource", &vpc_form("huge", &version, "10.0.0.0/8")).await.0, 200);
        assert_eq!(settled(&server, "huge").await, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        let plan = plan_of(&dev, &server, "huge").await;
        assert_eq!(plan["policies"][0]["denials"][0], "10.0.0.0/8 is larger than a /16 network", "{plan}");
        let plan_id = plan["id"].as_i64().unwrap().to_string();
        let (status, body) = review(&ada, &server, "huge", true).await;
        assert_eq!((status, body.contains("denied by policy")), (409, true), "{body}");

        // Overrides: not by the author, not by someone outside security, not twice by one
        // member, not without a reason.
        let over = |reason: &'static str| {
            let plan_id = plan_id.clone();
            move || vec![("slug", "huge".to_string()), ("plan", plan_id.clone()), ("policy", "network-size".to_string()), ("reason", reason.to_string())]
        };
        let args = over("the shared services network needs the room")();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&dev, &server, "override_policy", &args).await;
        assert_eq!((status, body.contains("you are not one") || body.contains("holds your change")), (403, true), "{body}");
        let (status, body) = call(&ada, &server, "override_policy", &args).await;
        assert_eq!((status, body.contains("members of security")), (403, true), "{body}");
        let empty = over("  ")();
        let empty: Vec<(&str, &str)> = empty.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(call(&sam, &server, "override_policy", &empty).await.0, 422);
        assert_eq!(call(&sam, &server, "override_policy", &args).await.0, 200);
        let (status, body) = call(&sam, &server, "override_policy", &args).await;
        assert_eq!((status, body.contains("already")), (409, true), "{body}");
        let (status, body) = review(&ada, &server, "huge", true).await;
        assert_eq!((status, body.contains("1 of 2 members of security")), (409, true), "{body}");
        assert_eq!(call(&quinn, &server, "override_policy", &args).await.0, 200);
        let plan = plan_of(&dev, &server, "huge").await;
        assert_eq!(plan["policies"][0]["overrides"].as_array().unwrap().len(), 2, "{plan}");

        // Now it may be approved, and is applied.
        let (status, body) = review(&ada, &server, "huge", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "huge").await, ("provisioned".into(), "done".into()), "{}", job_log(&server).await);
        let overrides = audit_events::Entity::find()
            .order_by_asc(audit_events::Column::Seq)
            .all(&server.ctx.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "resource.policy_override")
            .count();
        assert_eq!(overrides, 2);
    }
}

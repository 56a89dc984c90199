//! Catalog templates on both databases: the hierarchy's rules hold at the service (unknown
//! parents, cycles, duplicate keys, parents with children), each refusal changes nothing, and
//! each change is audited.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, ServerOptions, TestServer};
use app::api::catalog::NewTemplate;
use app::error::AppError;
use app::server::catalog::{create_template, delete_template, list_templates, update_template};
use app::server::Actor;

fn template(key: &str, name: &str, parents: &str) -> NewTemplate {
    NewTemplate {
        key: key.into(),
        name: name.into(),
        description: String::new(),
        is_abstract: None,
        parents: parents.into(),
    }
}

db_test! {
    async fn the_hierarchy_rules_hold_and_refusals_change_nothing(db: TestDb) {
        let actor = Actor::system("test");
        create_template(&db.conn, &actor, &template("aws-account", "AWS Account", "")).await.unwrap();
        create_template(&db.conn, &actor, &template("vpc", "VPC", "aws-account")).await.unwrap();
        let before = list_templates(&db.conn).await.unwrap();
        let events_before = app::server::audit::verify(&db.conn).await.unwrap().unwrap();

        let cases = [
            (template("vpc", "Another VPC", ""), AppError::invalid("key", "a template with the key \"vpc\" already exists")),
            (template("eks", "EKS", "gke"), AppError::invalid("parents", "eks names gke as a parent, but no template has that key")),
            (template("loop", "Loop", "loop"), AppError::invalid("parents", "loop cannot be its own parent")),
            (template("Bad Key", "x", ""), AppError::invalid("key", "must start with a lowercase letter")),
            (template("ok", "", ""), AppError::invalid("name", "must not be empty")),
        ];
        for (input, expected) in cases {
            assert_eq!(create_template(&db.conn, &actor, &input).await.unwrap_err(), expected, "{}", input.key);
        }
        assert_eq!(
            delete_template(&db.conn, &actor, "aws-account").await.unwrap_err(),
            AppError::Conflict("aws-account is the parent of vpc; delete or re-parent those first".into())
        );
        assert_eq!(list_templates(&db.conn).await.unwrap(), before, "no refusal wrote anything");
        assert_eq!(app::server::audit::verify(&db.conn).await.unwrap().unwrap(), events_before);

        // An edit that would close a cycle is refused and changes nothing.
        assert_eq!(
            update_template(&db.conn, &actor, &template("aws-account", "AWS Account", "vpc")).await.unwrap_err(),
            AppError::invalid("parents", "the parents form a cycle: aws-account → vpc → aws-account")
        );
        assert_eq!(list_templates(&db.conn).await.unwrap(), before);
        // A good edit changes name and kind, keeps the key, and is audited with before and after.
        let mut abstract_vpc = template("vpc", "Virtual Private Cloud", "aws-account");
        abstract_vpc.is_abstract = Some("true".into());
        let changed = update_template(&db.conn, &actor, &abstract_vpc).await.unwrap();
        assert_eq!((changed.name.as_str(), changed.is_abstract), ("Virtual Private Cloud", true));
        assert_eq!(app::server::audit::verify(&db.conn).await.unwrap().unwrap(), events_before + 1);
        let events_before = events_before + 1;

        delete_template(&db.conn, &actor, "vpc").await.unwrap();
        assert_eq!(list_templates(&db.conn).await.unwrap().len(), 1);
        assert_eq!(app::server::audit::verify(&db.conn).await.unwrap().unwrap(), events_before + 1);
    }
}

db_test! {
    async fn viewers_read_the_catalog_and_members_change_it(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        let (status, body) = call(&viewer, &server, "get_catalog", &[]).await;
        assert_eq!(status, 200, "{body}");
        let catalog: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(catalog["can_create"], false);
        assert_eq!(catalog["templates"].as_array().unwrap().len(), 7, "the demo catalog");
        let drawn: Vec<(u64, &str)> = catalog["tree"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["depth"].as_u64().unwrap(), b["name"].as_str().unwrap()))
            .collect();
        assert_eq!(drawn[0], (0, "AWS Account"));
        assert_eq!(drawn[3], (2, "VPC"));

        let (status, body) = call(
            &viewer,
            &server,
            "create_template",
            &[("template[key]", "x"), ("template[name]", "X"), ("template[parents]", "")],
        )
        .await;
        assert_eq!(status, 403, "{body}");

        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let (status, body) = call(
            &member,
            &server,
            "create_template",
            &[("template[key]", "nat-gateway"), ("template[name]", "NAT Gateway"), ("template[parents]", "vpc, vpc")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"parents\":[\"vpc\"]"), "parents are de-duplicated: {body}");
        let page = member.get(server.url("/catalog")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("aria-label=\"Template hierarchy\"") && html.contains("NAT Gateway"), "the tree is drawn on the server");
        assert!(html.contains("role=\"link\"") && html.contains("aria-label=\"Template NAT Gateway\""), "each box opens its template");
    }
}

db_test! {
    async fn a_template_in_use_is_not_deleted_and_says_by_what(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let events = app::server::audit::verify(&server.ctx.db).await.unwrap().unwrap();
        let (status, body) = call(&admin, &server, "delete_template", &[("key", "s3-bucket")]).await;
        assert_eq!(status, 409, "a foreseeable refusal, not a server error: {body}");
        assert!(body.contains("s3-bucket is used by 1 resource: assets-bucket; delete it first"), "{body}");
        assert_eq!(app::server::audit::verify(&server.ctx.db).await.unwrap().unwrap(), events, "nothing written");
        // A template with versions but no resources goes, versions and all, audited.
        let (status, body) = call(&admin, &server, "delete_template", &[("key", "alb")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(app::server::audit::verify(&server.ctx.db).await.unwrap().unwrap(), events + 1);
    }
}

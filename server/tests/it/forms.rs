//! Every form answers with all its problems at once, each naming its field, and writes
//! nothing: integrations, executors, workspaces (resources: `resources.rs`).

use crate::db_test;
use crate::support::*;
use app::error::AppError;
use app::server::entities::audit_events;
use sea_orm::{EntityTrait, PaginatorTrait};

/// The fields a refusal names, in order.
fn refused_fields(status: u16, body: &str) -> Vec<String> {
    assert_eq!(status, 422, "{body}");
    let error: AppError = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    error
        .problems()
        .into_iter()
        .map(|(f, _)| f.to_string())
        .collect()
}

db_test! {
    async fn forms_report_every_problem_at_once_and_write_nothing(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        let events = || audit_events::Entity::find().count(&db.conn);
        let before = events().await.unwrap();

        let (status, body) = call(&ada, &server, "create_integration", &[
            ("input[slug]", "Not A Slug"),
            ("input[name]", ""),
            ("input[provider]", "aws"),
            ("input[settings][access_key_id]", "nope"),
            ("input[settings][colour]", "red"),
        ]).await;
        assert_eq!(
            refused_fields(status, &body),
            ["slug", "name", "colour", "access_key_id", "secret_access_key"],
        );

        let (status, body) = call(&ada, &server, "create_executor", &[
            ("input[slug]", "-bad"),
            ("input[name]", ""),
            ("input[runtime]", "bash"),
            ("input[command]", "-chdir=/etc"),
            ("input[source_id]", "x"),
            ("input[git_ref]", "../main"),
            ("input[module_path]", "../../etc"),
        ]).await;
        assert_eq!(
            refused_fields(status, &body),
            ["slug", "name", "runtime", "command", "git_ref", "module_path", "source_id"],
        );

        let (status, body) = call(&ada, &server, "register_workspace", &[
            ("input[integration]", "aws-production"),
            ("input[repository]", "acme/live"),
            ("input[labels]", "this label is far longer than the forty characters allowed"),
        ]).await;
        assert_eq!(refused_fields(status, &body), ["labels", "integration"]);

        assert_eq!(events().await.unwrap(), before, "nothing was written");
    }
}

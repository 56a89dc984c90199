//! The workspace flow on the local forge, through the portal's server functions and a real job
//! worker: register a repository, create a resource in it, watch the sync open a pull request,
//! edit (the same pull request is reused), approve (merged: the code is on main, the resource
//! provisioned), destroy and approve the delete (the folder is gone). Folder collisions and a
//! workspace still in use are refused with the reason.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, git, review, ServerOptions, TestServer};
use app::domain::resources::ResourceStatus;
use app::server::entities::{
    job_logs, jobs as job_rows, pull_requests, resources as resource_rows,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::time::Duration;

/// Waits until the resource's work is no longer in progress; returns (state, status).
pub(crate) async fn settled(server: &TestServer, slug: &str) -> (String, String) {
    settled_in(&server.ctx.db, slug).await
}

/// (state, status) of the resource once no job holds it in progress (waits up to 60 s).
pub(crate) async fn settled_in(db: &sea_orm::DatabaseConnection, slug: &str) -> (String, String) {
    for _ in 0..600 {
        let row = resource_rows::Entity::find()
            .filter(resource_rows::Column::Slug.eq(slug))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        if row.status != ResourceStatus::InProgress {
            return (
                row.state.as_str().to_string(),
                row.status.as_str().to_string(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log: Vec<String> = job_logs::Entity::find()
        .order_by_asc(job_logs::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    panic!(
        "{slug} stayed in progress; the job log:\n{}",
        log.join("\n")
    );
}

/// Waits (up to 20 s) until the resource no longer exists.
pub(crate) async fn deleted(server: &TestServer, slug: &str) {
    for _ in 0..200 {
        let row = resource_rows::Entity::find()
            .filter(resource_rows::Column::Slug.eq(slug))
            .one(&server.ctx.db)
            .await
            .unwrap();
        if row.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{slug} was not deleted");
}

pub(crate) async fn job_log(server: &TestServer) -> String {
    job_logs::Entity::find()
        .order_by_asc(job_logs::Column::Id)
        .all(&server.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn bucket_form<'a>(
    slug: &'a str,
    name: &'a str,
    bucket: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("input[slug]", slug),
        ("input[name]", name),
        ("input[template]", "s3-bucket"),
        ("input[version_id]", "15"),
        ("input[values][bucket_name]", bucket),
        ("input[workspace]", "acme-live"),
    ]
}

db_test! {
    async fn resources_reach_the_default_branch_through_reviewed_pull_requests(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let member = client();
        demo_sign_in(&member, &server, "dev").await;

        let (status, body) = call(&admin, &server, "create_local_repository", &[("repository", "acme/../live")]).await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await;
        assert_eq!(status, 200, "{body}");
        let bare = server.data_dir.join("git/acme/live.git");
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live"), ("input[labels]", "prod, network")];
        let (status, body) = call(&member, &server, "register_workspace", &register).await;
        assert_eq!(status, 200, "{body}");
        let workspace: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(workspace["slug"], "acme-live");
        assert_eq!(workspace["config"]["default_branch"], "main");
        assert_eq!(workspace["config"]["https_url"], format!("{}/git/acme/live.git", server.base));
        let (status, body) = call(&member, &server, "register_workspace", &register).await;
        assert_eq!((status, body.contains("already registered")), (422, true), "{body}");

        // Create: the sync job cuts update_<folder slug>, commits the code, opens pull request #1.
        let (status, body) = call(&member, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provision".into(), "ready".into()));
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "update_audit_logs"]), "README.md\ns3-bucket/audit_logs/main.tf\ns3-bucket/audit_logs/outputs.tf\ns3-bucket/audit_logs/variables.tf");
        assert!(git(&bare, &["log", "-1", "--format=%B", "update_audit_logs"]).contains("Slipway-Initiator: dev <"));
        let log = job_log(&server).await;
        assert!(log.contains("opened pull request #1"), "{log}");
        // Its page shows the change, file by file.
        let (status, body) = call(&member, &server, "get_pull_request", &[("repository", "acme/live"), ("number", "1")]).await;
        assert_eq!(status, 200, "{body}");
        let pull: serde_json::Value = serde_json::from_str(&body).unwrap();
        let files: Vec<(String, String)> = pull["files"].as_array().unwrap().iter().map(|f| (f["path"].as_str().unwrap().to_string(), f["change"].as_str().unwrap().to_string())).collect();
        assert_eq!(files, vec![
            ("s3-bucket/audit_logs/main.tf".to_string(), "added".to_string()),
            ("s3-bucket/audit_logs/outputs.tf".to_string(), "added".to_string()),
            ("s3-bucket/audit_logs/variables.tf".to_string(), "added".to_string()),
        ]);
        assert!(body.contains("acme-audit-logs"), "{body}");

        // A second resource whose name gives the same folder is refused, and nothing is written.
        let (status, body) = call(&member, &server, "create_resource", &bucket_form("logs-two", "audit  LOGS!", "acme-other")).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("s3-bucket/audit_logs/ in workspace acme-live already holds resource logs"), "{body}");
        assert!(resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("logs-two")).one(&server.ctx.db).await.unwrap().is_none());

        // Edit: the branch is force-pushed with the new code, and the open pull request reused.
        let (status, body) = call(&member, &server, "update_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs-eu")).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "logs").await;
        assert!(job_log(&server).await.contains("pull request #1 is already open for update_audit_logs; not opening another"));
        assert_eq!(git(&bare, &["rev-list", "--count", "main..update_audit_logs"]), "1", "one commit on the branch");
        assert!(git(&bare, &["show", "update_audit_logs:s3-bucket/audit_logs/variables.tf"]).contains("acme-audit-logs-eu"));
        assert_eq!(pull_requests::Entity::find().count(&server.ctx.db).await.unwrap(), 1);

        // The workspace cannot go while the resource is in it.
        let (status, body) = call(&admin, &server, "delete_workspace", &[("slug", "acme-live")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("1 resource keeps code in it (logs)"), "{body}");

        // Approve: merged as a merge commit on main; the resource is provisioned.
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        assert_eq!(review(&viewer, &server, "logs", true).await.0, 403);
        let (status, body) = review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provisioned".into(), "done".into()));
        assert!(git(&bare, &["show", "main:s3-bucket/audit_logs/variables.tf"]).contains("acme-audit-logs-eu"));
        let (status, body) = call(&viewer, &server, "get_forge_repository", &[("repository", "acme/live")]).await;
        assert_eq!(status, 200, "{body}");
        let repo: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(repo["files"], serde_json::json!(["README.md", "s3-bucket/audit_logs/main.tf", "s3-bucket/audit_logs/outputs.tf", "s3-bucket/audit_logs/variables.tf"]));
        let (status, body) = review(&admin, &server, "logs", true).await;
        assert_eq!((status, body.contains("no open pull request")), (409, true), "{body}");

        // Someone removes the folder on main behind Slipway's back; recreate writes it again
        // and merges it in one flow (sync, then the chained merge), naming the initiator.
        let scratch = server.data_dir.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        git(&scratch, &["clone", "-q", bare.to_str().unwrap(), "live"]);
        let live = scratch.join("live");
        git(&live, &["rm", "-q", "-r", "s3-bucket"]);
        git(&live, &["commit", "-q", "-m", "Remove by hand"]);
        git(&live, &["push", "-q", "origin", "main"]);
        assert_eq!(call(&viewer, &server, "recreate_resource", &[("slug", "logs")]).await.0, 403);
        let (status, body) = call(&member, &server, "recreate_resource", &[("slug", "logs")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provisioned".into(), "done".into()));
        assert!(git(&bare, &["show", "main:s3-bucket/audit_logs/variables.tf"]).contains("acme-audit-logs-eu"));
        let log = job_log(&server).await;
        assert!(log.contains("opened pull request #2") && log.contains("merging pull request #2 (update_audit_logs into main)"), "{log}");
        let recreated = pull_requests::Entity::find().filter(pull_requests::Column::Number.eq(2)).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!(recreated.state.as_str(), "merged");

        // Destroy: a delete_ branch without the folder, pull request #3; rejecting keeps it all.
        let (status, body) = call(&member, &server, "resource_action", &[("slug", "logs"), ("action", "destroy")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("destroy".into(), "ready".into()));
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "delete_audit_logs"]), "README.md");
        let (status, body) = review(&member, &server, "logs", false).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("destroy".into(), "ready".into()));
        assert!(git(&bare, &["ls-tree", "-r", "--name-only", "main"]).contains("s3-bucket/audit_logs/main.tf"));
        // Destroying again after the rejection: cancel, destroy, approve.
        assert_eq!(call(&member, &server, "resource_action", &[("slug", "logs"), ("action", "cancel_destroy")]).await.0, 200);
        assert_eq!(call(&member, &server, "resource_action", &[("slug", "logs"), ("action", "destroy")]).await.0, 200);
        settled(&server, "logs").await;
        let (status, body) = review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("destroyed".into(), "done".into()));
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "main"]), "README.md", "the folder is gone");

        // Deleting a never-provisioned resource whose pull request is open closes it first,
        // then deletes the resource; its code never reaches main.
        let (status, body) = call(&member, &server, "create_resource", &bucket_form("draft", "Draft Bucket", "acme-draft")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "draft").await, ("provision".into(), "ready".into()));
        assert_eq!(call(&viewer, &server, "resource_action", &[("slug", "draft"), ("action", "delete")]).await.0, 403);
        let (status, body) = call(&member, &server, "resource_action", &[("slug", "draft"), ("action", "delete")]).await;
        assert_eq!(status, 200, "{body}");
        deleted(&server, "draft").await;
        let draft_pull = pull_requests::Entity::find().filter(pull_requests::Column::Number.eq(5)).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!((draft_pull.state.as_str(), draft_pull.resource_id), ("closed", None));
        assert!(job_log(&server).await.contains("closing pull request #5 without merging; the resource is deleted once it is closed"));
        assert!(!git(&bare, &["ls-tree", "-r", "--name-only", "main"]).contains("draft_bucket"));

        // Pull requests on the workspace page: #5 closed (deleted), #4 merged, #3 closed, #2
        // (recreate) and #1 merged.
        let (status, body) = call(&viewer, &server, "get_workspace", &[("slug", "acme-live")]).await;
        assert_eq!(status, 200, "{body}");
        let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
        let states: Vec<(i64, String)> = detail["pulls"].as_array().unwrap().iter().map(|p| (p["number"].as_i64().unwrap(), p["state"].as_str().unwrap().to_string())).collect();
        assert_eq!(states, vec![(5, "closed".into()), (4, "merged".into()), (3, "closed".into()), (2, "merged".into()), (1, "merged".into())]);
        assert_eq!(detail["delete_blocker"], serde_json::Value::Null);
        let (status, body) = call(&admin, &server, "delete_workspace", &[("slug", "acme-live")]).await;
        assert_eq!(status, 200, "{body}");
        assert!(bare.join("HEAD").exists(), "the repository itself stays");
    }
}

db_test! {
    async fn a_failed_job_is_retried_by_those_who_may_run_it(db: TestDb) {
        use sea_orm::{ActiveModelTrait, Set};
        // No worker yet: the sync waits in the queue, and is failed here as a worker would on a
        // forge that stayed down through every attempt.
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let (admin, member, viewer) = (client(), client(), client());
        demo_sign_in(&admin, &server, "ada").await;
        demo_sign_in(&member, &server, "dev").await;
        demo_sign_in(&viewer, &server, "pat").await;
        assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live")];
        assert_eq!(call(&admin, &server, "register_workspace", &register).await.0, 200);
        let (status, body) = call(&admin, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        assert_eq!(status, 200, "{body}");
        let db = &server.ctx.db;
        let job = job_rows::Entity::find().filter(job_rows::Column::Kind.eq("workspace.sync")).one(db).await.unwrap().unwrap();
        // Nothing failed yet: nothing to retry.
        let (status, body) = call(&member, &server, "retry_resource_job", &[("slug", "logs")]).await;
        assert_eq!(status, 409, "{body}");
        let mut failed: job_rows::ActiveModel = job.clone().into();
        failed.status = Set(app::domain::jobs::JobStatus::Failed);
        failed.last_error = Set(Some("cannot reach the forge".into()));
        failed.update(db).await.unwrap();
        let resource = resource_rows::Entity::find().filter(resource_rows::Column::Slug.eq("logs")).one(db).await.unwrap().unwrap();
        let mut errored: resource_rows::ActiveModel = resource.into();
        errored.status = Set(ResourceStatus::Error);
        errored.update(db).await.unwrap();

        // The viewer sees the failure but no Retry, and is refused one.
        let (status, body) = call(&viewer, &server, "get_resource_workspace", &[("slug", "logs"), ("after", "0")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["can_retry"], false);
        let (status, body) = call(&viewer, &server, "retry_resource_job", &[("slug", "logs")]).await;
        assert_eq!(status, 403, "{body}");
        // A member who may write the resource and its workspace gets Retry, and it runs again:
        // a new job, written by them, the resource in progress, the retry audited.
        let (status, body) = call(&member, &server, "get_resource_workspace", &[("slug", "logs"), ("after", "0")]).await;
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["can_retry"], true, "{status} {body}");
        let (status, body) = call(&member, &server, "retry_resource_job", &[("slug", "logs")]).await;
        assert_eq!(status, 200, "{body}");
        let jobs = job_rows::Entity::find().filter(job_rows::Column::Kind.eq("workspace.sync")).all(db).await.unwrap();
        assert_eq!(jobs.len(), 2);
        let again = &jobs[1];
        assert_eq!((again.status.as_str(), again.attempts), ("queued", 0));
        assert!(again.payload.contains("\"initiator\":\"dev\""), "{}", again.payload);
        let retried = app::server::entities::audit_events::Entity::find().filter(app::server::entities::audit_events::Column::Action.eq("workspace.job_retried")).count(db).await.unwrap();
        assert_eq!(retried, 1);
        let (status, body) = call(&member, &server, "retry_resource_job", &[("slug", "logs")]).await;
        assert_eq!(status, 409, "a retry in flight is not retried again: {body}");
        // A worker takes it and it succeeds: the pull request opens, written by dev.
        server::jobs::Worker::new(server.ctx.clone(), &server.config).spawn();
        assert_eq!(settled(&server, "logs").await, ("provision".into(), "ready".into()));
        let bare = server.data_dir.join("git/acme/live.git");
        assert!(git(&bare, &["log", "-1", "--format=%B", "update_audit_logs"]).contains("Slipway-Initiator: dev <"));
    }
}

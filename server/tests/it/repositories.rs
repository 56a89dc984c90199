//! Governed repositories through the portal's server functions, on both databases: manifests
//! saved as numbered revisions with an audit event each, refused whole with every error as
//! manifests.yaml:line:column, guarded against lost updates and renames, and the plan served
//! with them.

use crate::db_test;
use crate::support::*;
use app::api::repositories::{RepositoriesView, RepositoryDetail, RepositoryRow};
use app::server::entities::audit_events;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

const MANIFESTS: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: payments
spec:
  strategy: GIT_FLOW
  permissions:
    administrators:
      groups: [platform-team]
  codeOwners:
    - path: /db/
      groups: [dba]
---
apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: payments-api
  parent: GithubRepository/payments
spec:
  type: JAVA
  stages: [analysis, test, build, publish]
";

async fn save(
    client: &reqwest::Client,
    server: &TestServer,
    name: &str,
    revision: i32,
    source: &str,
) -> (u16, String) {
    let revision = revision.to_string();
    call(
        client,
        server,
        "save_repository",
        &[("name", name), ("revision", &revision), ("source", source)],
    )
    .await
}

async fn detail(client: &reqwest::Client, server: &TestServer, name: &str) -> RepositoryDetail {
    let (status, body) = call(client, server, "get_repository", &[("name", name)]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

db_test! {
    async fn manifests_are_kept_as_revisions_with_their_plan(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;

        // Bad manifests are refused whole, every error named; nothing is stored.
        let bad = MANIFESTS.replace("GIT_FLOW", "GITFLOW").replace("build, publish]", "build, deploy]");
        let (status, body) = save(&member, &server, "", 0, &bad).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("manifests.yaml:6:13: unknown strategy `GITFLOW`; did you mean `GIT_FLOW`?"), "{body}");
        assert!(body.contains("manifests.yaml:21:35: unknown stage `deploy`"), "{body}");
        let (status, body) = call(&viewer, &server, "get_repositories", &[]).await;
        assert_eq!(status, 200);
        let listed: RepositoriesView = serde_json::from_str(&body).unwrap();
        assert!(listed.repositories.is_empty() && !listed.can_create);

        // A viewer may not create; a member creates revision 1.
        assert_eq!(save(&viewer, &server, "", 0, MANIFESTS).await.0, 403);
        let (status, body) = save(&member, &server, "", 0, MANIFESTS).await;
        assert_eq!(status, 200, "{body}");
        let row: RepositoryRow = serde_json::from_str(&body).unwrap();
        assert_eq!((row.name.as_str(), row.revision), ("payments", 1));
        assert_eq!(row.builds, [("payments-api".to_string(), "JAVA".to_string())]);
        // The same name again is a conflict, not a second repository.
        let (status, body) = save(&member, &server, "", 0, MANIFESTS).await;
        assert_eq!(status, 409, "{body}");

        // The plan comes with it: Git Flow's five kinds of branch, four rulesets, the files.
        let shown = detail(&viewer, &server, "payments").await;
        assert!(!shown.can_edit, "viewers read only");
        assert_eq!(shown.source, MANIFESTS);
        assert_eq!(shown.plan.branches.len(), 5);
        assert_eq!(shown.plan.rulesets.len(), 4);
        assert_eq!(shown.plan.org, "local");
        // The workflows are listed, their text fetched one by one when opened.
        assert_eq!(shown.plan.files.len(), 1);
        assert_eq!(shown.workflows.len(), 5 * 2 * 2);
        assert!(shown.workflows.iter().all(|w| w.lines > 5), "{:?}", shown.workflows);
        let first = &shown.workflows[0];
        let (status, body) = call(&viewer, &server, "get_generated_file", &[("name", "payments"), ("repository", &first.repository), ("path", &first.path)]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<String>(&body).unwrap().lines().count(), first.lines);
        let (status, body) = call(&viewer, &server, "get_generated_file", &[("name", "payments"), ("repository", &first.repository), ("path", "../../etc/passwd")]).await;
        assert_eq!(status, 404, "{body}");
        let codeowners = shown.plan.files.iter().find(|f| f.path == ".github/CODEOWNERS").unwrap();
        assert!(codeowners.contents.contains("/db/ @local/dba\n"), "{}", codeowners.contents);
        assert!(detail(&member, &server, "payments").await.can_edit);

        // Saving from a stale revision is refused: someone saved meanwhile.
        let changed = MANIFESTS.replace("GIT_FLOW", "TRUNK_BASED");
        let (status, body) = save(&member, &server, "payments", 0, &changed).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("is at revision 1 now"), "{body}");
        // Renaming through the text is refused.
        let (status, body) = save(&member, &server, "payments", 1, &MANIFESTS.replace("name: payments\n", "name: billing\n").replace("GithubRepository/payments", "GithubRepository/billing")).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("a repository keeps its name"), "{body}");
        // The same text again changes nothing.
        let (status, body) = save(&member, &server, "payments", 1, MANIFESTS).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<RepositoryRow>(&body).unwrap().revision, 1);
        // A change is revision 2, with its strategy.
        let (status, body) = save(&member, &server, "payments", 1, &changed).await;
        assert_eq!(status, 200, "{body}");
        let shown = detail(&member, &server, "payments").await;
        assert_eq!(shown.row.revision, 2);
        assert_eq!(shown.row.strategy, app::domain::versioning::Strategy::TrunkBased);
        assert_eq!(shown.revisions.iter().map(|r| (r.revision, r.author.as_str())).collect::<Vec<_>>(), [(2, "dev"), (1, "dev")]);
        assert_eq!(shown.plan.rulesets.len(), 2);
        use app::domain::resources::DiffLine;
        let changes: Vec<&DiffLine> = shown.revisions[0].changes.iter().filter(|l| !matches!(l, DiffLine::Same(_))).collect();
        assert_eq!(changes, [&DiffLine::Removed("  strategy: GIT_FLOW".into()), &DiffLine::Added("  strategy: TRUNK_BASED".into())]);
        assert!(shown.revisions[1].changes.is_empty(), "the first revision changed nothing before it");

        // One audit event per save that changed something.
        let events = audit_events::Entity::find()
            .filter(audit_events::Column::EntityType.eq("repository"))
            .order_by_asc(audit_events::Column::Seq)
            .all(&db.conn)
            .await
            .unwrap();
        assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["repository.create", "repository.update"]);
        assert_eq!(call(&viewer, &server, "get_repository", &[("name", "nowhere")]).await.0, 404);
    }
}

db_test! {
    async fn two_saves_from_one_revision_end_in_one_success_and_one_conflict(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let (ada, dev) = (client(), client());
        demo_sign_in(&ada, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        assert_eq!(save(&dev, &server, "", 0, MANIFESTS).await.0, 200);
        // Both read revision N, both try to write N + 1, at the same moment: one wins, the other
        // is told to reload (409), never a unique-index error.
        for base in 1..=5 {
            let (first, second) = (format!("{MANIFESTS}# ada {base}\n"), format!("{MANIFESTS}# dev {base}\n"));
            let (a, b) = tokio::join!(save(&ada, &server, "payments", base, &first), save(&dev, &server, "payments", base, &second));
            let mut statuses = [a.0, b.0];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
            let refused = if a.0 == 409 { &a.1 } else { &b.1 };
            assert!(refused.contains(&format!("is at revision {} now (you edited revision {base})", base + 1)), "{refused}");
        }
        let shown = detail(&dev, &server, "payments").await;
        assert_eq!(shown.row.revision, 6);
        assert_eq!(shown.revisions.len(), 6, "one revision per round, none lost, none doubled");
    }
}

//! Release manifests on both databases: each kind edited only by its owning group (the
//! development team for an Application, release managers for an ApplicationSet, SRE for a
//! ReleaseTrack), links checked against what is saved, every save a revision with an audit event,
//! bad input refused with the place and nothing written.

use crate::db_test;
use crate::support::*;
use app::api::releases::{ReleaseManifestDetail, ReleaseManifestsView};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const TRACK: &str = "apiVersion: lowops.manifests.v1
kind: ReleaseTrack
metadata:
  name: my-product-releasetrack
spec:
  preReleaseStages:
  - environments:
    - development
  releaseStages:
  - environments:
    - staging
  - environments:
    - production
  hotfixStages:
  - environments:
    - staging
  - environments:
    - production
";

const APP: &str = "apiVersion: lowops.manifests.v1
kind: Application
metadata:
  name: checkout-api
spec:
  team: developers
  image: registry.example.com/acme/checkout-api
";

const SET: &str = "apiVersion: lowops.manifests.v1
kind: ApplicationSet
metadata:
  name: infrastream-cloud
spec:
  applications: [checkout-api]
  releaseTrack: my-product-releasetrack
";

async fn save(
    client: &reqwest::Client,
    server: &TestServer,
    existing: (&str, &str),
    revision: i32,
    source: &str,
) -> (u16, String) {
    let revision = revision.to_string();
    call(
        client,
        server,
        "save_release_manifest",
        &[
            ("kind", existing.0),
            ("name", existing.1),
            ("revision", &revision),
            ("source", source),
        ],
    )
    .await
}

async fn as_user(server: &TestServer, login: &str) -> reqwest::Client {
    let client = client();
    demo_sign_in(&client, server, login).await;
    client
}

async fn events(db: &TestDb) -> u64 {
    app::server::entities::audit_events::Entity::find()
        .filter(
            app::server::entities::audit_events::Column::Action.starts_with("release_manifest."),
        )
        .count(&db.conn)
        .await
        .unwrap()
}

db_test! {
    async fn each_release_manifest_is_edited_by_its_owning_group_only(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let (riley, remy, dev, pat, ada) = (
            as_user(&server, "riley").await,
            as_user(&server, "remy").await,
            as_user(&server, "dev").await,
            as_user(&server, "pat").await,
            as_user(&server, "ada").await,
        );
        let new = ("", "");

        // ReleaseTracks are platform / SRE's.
        let (status, body) = save(&remy, &server, new, 0, TRACK).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("ReleaseTracks are edited by the group sre, and you are not in it"), "{body}");
        let (status, body) = save(&riley, &server, new, 0, TRACK).await;
        assert_eq!(status, 200, "{body}");

        // A set naming an application that is not saved yet is refused with the place.
        let (status, body) = save(&remy, &server, new, 0, SET).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("manifest.yaml:4:3: Application checkout-api is not defined: save it first"), "{body}");

        // An Application is its team's: a developer cannot put it in QA's name.
        let (status, body) = save(&dev, &server, new, 0, &APP.replace("team: developers", "team: qa")).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = save(&dev, &server, new, 0, APP).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = save(&dev, &server, new, 0, APP).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("Application checkout-api already exists"), "{body}");

        // ApplicationSets are the release managers'.
        assert_eq!(save(&dev, &server, new, 0, SET).await.0, 403);
        let (status, body) = save(&remy, &server, new, 0, SET).await;
        assert_eq!(status, 200, "{body}");
        // A viewer writes nothing, even in an owning group's name.
        assert_eq!(save(&pat, &server, ("ApplicationSet", "infrastream-cloud"), 1, SET).await.0, 403);
        assert_eq!(events(&db).await, 3);

        // Bad input: every error with its place, nothing written.
        let (status, body) = save(&riley, &server, ("ReleaseTrack", "my-product-releasetrack"), 1, &TRACK.replace("releaseStages:", "releaseStage:")).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("manifest.yaml:9:3: unknown field `releaseStage`"), "{body}");
        let (status, body) = save(&riley, &server, ("ReleaseTrack", "my-product-releasetrack"), 1, &TRACK.replace("name: my-product-releasetrack", "name: other")).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("a manifest keeps its kind and name"), "{body}");
        // Unchanged: nothing written.
        assert_eq!(save(&riley, &server, ("ReleaseTrack", "my-product-releasetrack"), 1, TRACK).await.0, 200);
        assert_eq!(events(&db).await, 3);

        // The owner edits: revision 2, with its diff; a stale base revision is refused.
        let signed = TRACK.replace("    - production\n  hotfixStages:", "    - production\n    signOff:\n    - group: product\n      approvals: 2\n    - group: security\n  hotfixStages:");
        let (status, body) = save(&riley, &server, ("ReleaseTrack", "my-product-releasetrack"), 1, &signed).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = save(&riley, &server, ("ReleaseTrack", "my-product-releasetrack"), 1, TRACK).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("is at revision 2 now (you edited revision 1)"), "{body}");
        let (status, body) = call(&pat, &server, "get_release_manifest", &[("kind", "ReleaseTrack"), ("name", "my-product-releasetrack")]).await;
        assert_eq!(status, 200, "{body}");
        let detail: ReleaseManifestDetail = serde_json::from_str(&body).unwrap();
        assert_eq!((detail.row.revision, detail.row.owner.as_str(), detail.can_edit), (2, "sre", false));
        assert_eq!(detail.revisions.len(), 2);
        assert!(detail.revisions[0].changes.iter().any(|l| matches!(l, app::domain::resources::DiffLine::Added(t) if t.contains("approvals: 2"))));
        // Whoever administers access may edit anything (they could join the group anyway).
        let (status, body) = save(&ada, &server, ("ReleaseTrack", "my-product-releasetrack"), 2, TRACK).await;
        assert_eq!(status, 200, "{body}");

        // Everyone with read sees the list, with what is theirs to edit.
        let (status, body) = call(&dev, &server, "get_release_manifests", &[]).await;
        assert_eq!(status, 200, "{body}");
        let view: ReleaseManifestsView = serde_json::from_str(&body).unwrap();
        let rows: Vec<(&str, &str, &str)> = view.manifests.iter().map(|m| (m.kind.as_str(), m.name.as_str(), m.owner.as_str())).collect();
        assert_eq!(rows, vec![("Application", "checkout-api", "developers"), ("ApplicationSet", "infrastream-cloud", "release-managers"), ("ReleaseTrack", "my-product-releasetrack", "sre")]);
        assert_eq!(view.manifests[2].summary, "pre-release development · release staging → production · hotfix staging → production");
        assert!(view.groups.contains(&"developers".to_string()));
        assert_eq!(view.tracks.len(), 1);
        assert_eq!(events(&db).await, 5);
    }
}

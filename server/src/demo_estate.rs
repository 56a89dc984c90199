//! `--demo`'s estate, so both halves of Slipway can be tried at once: a local-forge workspace
//! whose resources are in every state (provisioned, awaiting review, failed), governed
//! repositories with an open pull request, a release track with its applications and set, four
//! months of builds and deployments behind the DORA figures, and a release waiting for sign-off.
//!
//! Everything but the history is made through the services people use, as the demo users, with
//! the job queue run to the end between steps, so what the pages show is what those paths make.
//! The history (builds and deployments before today) is written as rows dated in the past, since
//! no path deploys into the past; it is marked as such (`deployed_by` "demo history") and audited.

use crate::jobs::Worker;
use app::domain::releases::DeploymentKind;
use app::error::{AppError, AppResult};
use app::server::audit::{self, Change};
use app::server::entities::{builds, deployments, workspaces as workspace_rows};
use app::server::release_manifests::Editor;
use app::server::releases::Voter;
use app::server::{directory, Actor, AppCtx};
use app::wire::workspaces::NewWorkspace;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// The workspace the demo's resources live in (`acme/infra-live` on the local forge).
pub const WORKSPACE_REPOSITORY: &str = "acme/infra-live";

const TRACK: &str = "apiVersion: lowops.manifests.v1
kind: ReleaseTrack
metadata:
  name: web
spec:
  preReleaseStages:
  - environments: [development]
  releaseStages:
  - environments: [staging]
  - environments: [production]
  hotfixStages:
  - environments: [staging, production]
";

/// (name, image, repository strategy, build type block): the applications and their repositories.
const APPLICATIONS: [(&str, &str, &str, &str); 2] = [
    (
        "storefront",
        "registry.example.com/acme/storefront",
        "GITHUB_FLOW",
        "  type: GOLANG\n  stages: [analysis, security-scan, test, build, containerize]\n  golang:\n    versions: [\"stable\"]\n    buildType: bin\n    target: ./cmd/storefront\n  containerize:\n    - name: storefront\n      registries: [core-registry]\n",
    ),
    (
        "payments-api",
        "registry.example.com/acme/payments-api",
        "GIT_FLOW",
        "  type: GOLANG\n  stages: [analysis, security-scan, test, build, containerize]\n  golang:\n    versions: [\"stable\"]\n    buildType: bin\n    target: ./cmd/payments\n  containerize:\n    - name: payments-api\n      registries: [core-registry]\n",
    ),
];

const APPLICATION_SET: &str = "apiVersion: lowops.manifests.v1
kind: ApplicationSet
metadata:
  name: webshop
spec:
  applications: [storefront, payments-api]
  releaseTrack: web
";

/// The bundle the seeded release ships.
pub const BUNDLE: &str = "2026.12";

/// A demo user as the actor of what they do, with their groups.
struct Person {
    actor: Actor,
    groups: Vec<String>,
}

async fn person(ctx: &AppCtx, login: &str) -> AppResult<Person> {
    let user = directory::find_demo_user(&ctx.db, login)
        .await?
        .ok_or_else(|| AppError::internal(format!("the demo user {login} is missing")))?;
    Ok(Person {
        actor: Actor::user(user.id, &user.login),
        groups: directory::groups_of(&ctx.db, user.id).await?,
    })
}

fn editor(person: &Person) -> Editor {
    Editor {
        actor: person.actor.clone(),
        groups: person.groups.clone(),
        administers: false,
    }
}

/// Whether the estate is there already (a restart of a seeded demo leaves it alone).
pub async fn seeded(ctx: &AppCtx) -> AppResult<bool> {
    Ok(workspace_rows::Entity::find()
        .filter(workspace_rows::Column::Repository.eq(WORKSPACE_REPOSITORY))
        .one(&ctx.db)
        .await?
        .is_some())
}

/// Creates the workspace the catalog's resources are then created in; returns its slug.
pub async fn workspace(ctx: &AppCtx) -> AppResult<String> {
    let ada = person(ctx, "ada").await?;
    app::server::workspaces::create_local_repository(ctx, &ada.actor, WORKSPACE_REPOSITORY).await?;
    let row = app::server::workspaces::register(
        ctx,
        &ada.actor,
        &NewWorkspace {
            integration: "local-git".into(),
            repository: WORKSPACE_REPOSITORY.into(),
            description: "Production infrastructure: every change reviewed before it lands".into(),
            labels: "production, aws".into(),
        },
    )
    .await?;
    Ok(row.slug)
}

/// After the resources were created in the workspace (their pull requests queued): two are
/// approved and provisioned, one stays awaiting review, and one fails because `main` changed
/// under its pull request.
pub async fn resources(ctx: &AppCtx, worker: &Worker) -> AppResult<()> {
    worker.run_due().await;
    let ada = person(ctx, "ada").await?;
    for slug in ["prod-vpc", "assets-bucket"] {
        approve(ctx, &ada, slug).await?;
    }
    // Someone changed the database's code straight on main (an emergency fix outside Slipway):
    // its pull request no longer merges, and approving it fails with the conflict named.
    ctx.local_git
        .write(
            WORKSPACE_REPOSITORY,
            "main",
            "main",
            &[(
                "rds-database/orders_database/main.tf".into(),
                "# Raised by hand during the incident of 2026-11-28; fold into the module.\n\
                 module \"database\" {\n  source = \"../../modules/rds\"\n  max_connections = 800\n}\n"
                    .into(),
            )],
            "fix(orders-database): raise max_connections during the incident",
            "riley",
        )
        .await
        .map_err(|e| AppError::internal(format!("writing the demo's conflicting commit: {}", e.message)))?;
    approve(ctx, &ada, "prod-db").await?;
    worker.run_due().await;
    Ok(())
}

/// `who` approves the head commit of the resource's open pull request and its plan, as its
/// page offers. A plan that could not be made (no OpenTofu or Terraform on this machine) leaves
/// the pull request awaiting review, its page saying why.
async fn approve(ctx: &AppCtx, who: &Person, slug: &str) -> AppResult<()> {
    let head = app::server::workspaces::resource_workspace(&ctx.db, slug, 0)
        .await?
        .and_then(|w| w.open_pull)
        .and_then(|p| p.head_commit)
        .unwrap_or_default();
    match app::server::workspaces::review(ctx, &who.actor, slug, true, &head).await {
        Err(AppError::Conflict(why)) => {
            tracing::warn!("demo: {slug} stays awaiting review: {why}");
            Ok(())
        }
        other => other,
    }
}

/// Release manifests, governed repositories (one with its provisioning pull request open),
/// four months of history, today's builds deployed to development, and a release whose
/// staging is signed off and whose production waits for product and security.
pub async fn releases(ctx: &AppCtx, worker: &Worker) -> AppResult<()> {
    let (dev, riley, remy, quinn) = (
        person(ctx, "dev").await?,
        person(ctx, "riley").await?,
        person(ctx, "remy").await?,
        person(ctx, "quinn").await?,
    );
    app::server::release_manifests::save(&ctx.db, &editor(&riley), None, 0, TRACK).await?;
    for (name, image, strategy, build) in APPLICATIONS {
        let application = format!(
            "apiVersion: lowops.manifests.v1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  team: developers\n  image: {image}\n  repository: {name}\n"
        );
        app::server::release_manifests::save(&ctx.db, &editor(&dev), None, 0, &application).await?;
        let repository = format!(
            "apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: {name}\nspec:\n  strategy: {strategy}\n  permissions:\n    administrators:\n      groups: [platform-admins]\n    contributors:\n      groups: [developers]\n---\napiVersion: lowops.manifests.v1\nkind: BuildDefinition\nmetadata:\n  name: {name}\n  parent: GithubRepository/{name}\nspec:\n{build}"
        );
        app::server::repositories::save(&ctx.db, &dev.actor, None, 0, &repository).await?;
    }
    app::server::release_manifests::save(&ctx.db, &editor(&remy), None, 0, APPLICATION_SET).await?;
    // The payments team applied its strategy: the files wait for review in a pull request.
    app::server::governance::provision(ctx, &dev.actor, "payments-api").await?;

    history(ctx).await?;
    for (name, ..) in APPLICATIONS {
        app::server::deployments::simulate_build(ctx, &dev.actor, name).await?;
    }
    worker.run_due().await;

    let release =
        app::server::releases::start(ctx, &remy.actor, "webshop", BUNDLE, false, false).await?;
    let qa = Voter {
        actor: quinn.actor.clone(),
        groups: quinn.groups.clone(),
    };
    app::server::releases::vote(
        ctx,
        &qa,
        release,
        0,
        "qa",
        true,
        "Regression suite green on rc.0; exploratory checkout tests done",
    )
    .await?;
    worker.run_due().await;
    Ok(())
}

/// 16 weeks of weekly releases of each application (built, then development, staging and
/// production over two days), with two production hotfixes, dated in the past.
// Long: the demo release history as data, one row per deployment
async fn history(ctx: &AppCtx) -> AppResult<()> {
    use chrono::{Duration, Utc};
    const WEEKS: i64 = 16;
    let now = Utc::now();
    let txn = app::server::begin_write(&ctx.db).await?;
    let mut count = 0;
    for (index, (name, image, ..)) in APPLICATIONS.iter().enumerate() {
        let major = index as i64 + 1;
        for week in 0..WEEKS {
            // Oldest first, so ids follow time as deployments made by Slipway do.
            let built =
                now - Duration::days((WEEKS - week) * 7) + Duration::hours(index as i64 * 5);
            let version = format!("v{major}.{}.0", week + 1);
            let digest = demo_digest(name, &version);
            let deploy =
                |environment: &str, kind: DeploymentKind, at, version: &str, digest: &str| {
                    deployments::ActiveModel {
                        environment: Set(environment.into()),
                        application: Set(name.to_string()),
                        version: Set(version.into()),
                        image: Set(format!("{image}@{digest}")),
                        kind: Set(kind),
                        build_id: Set(None),
                        release_id: Set(None),
                        config_commit: Set(String::new()),
                        deployed_by: Set("demo history".into()),
                        deployed_at: Set(at),
                        ..Default::default()
                    }
                };
            build_row(name, &version, &digest, built)
                .insert(&txn)
                .await?;
            deploy(
                "development",
                DeploymentKind::Prerelease,
                built + Duration::minutes(12),
                &version,
                &digest,
            )
            .insert(&txn)
            .await?;
            deploy(
                "staging",
                DeploymentKind::Release,
                built + Duration::hours(26),
                &version,
                &digest,
            )
            .insert(&txn)
            .await?;
            deploy(
                "production",
                DeploymentKind::Release,
                built + Duration::hours(49),
                &version,
                &digest,
            )
            .insert(&txn)
            .await?;
            count += 4;
            // Two releases went wrong in production and were restored by a hotfix.
            if (index == 0 && week == 5) || (index == 1 && week == 11) {
                let hotfix = format!("v{major}.{}.0-hotfix.1", week + 1);
                let hotfix_digest = demo_digest(name, &hotfix);
                let at = built + Duration::hours(53);
                build_row(name, &hotfix, &hotfix_digest, at)
                    .insert(&txn)
                    .await?;
                for environment in ["staging", "production"] {
                    deploy(
                        environment,
                        DeploymentKind::Hotfix,
                        at + Duration::hours(2),
                        &hotfix,
                        &hotfix_digest,
                    )
                    .insert(&txn)
                    .await?;
                }
                count += 3;
            }
        }
    }
    audit::record(
        &txn,
        &Actor::system("demo-seed"),
        Change::new("demo.history_seeded", "release", "webshop").after(&serde_json::json!({
            "weeks": WEEKS,
            "rows": count,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn build_row(
    application: &str,
    version: &str,
    digest: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> builds::ActiveModel {
    let image = APPLICATIONS
        .iter()
        .find(|(name, ..)| *name == application)
        .map(|(_, image, ..)| format!("{image}@{digest}"))
        .unwrap_or_default();
    builds::ActiveModel {
        repository: Set(format!("local/{application}")),
        application: Set(application.into()),
        version: Set(version.into()),
        commit: Set(demo_digest(application, &format!("commit {version}"))[7..47].to_string()),
        branch: Set("main".into()),
        run_url: Set(String::new()),
        image: Set(image),
        signature: Set(format!("demo-history:{application}:{version}")),
        received_at: Set(at),
        ..Default::default()
    }
}

/// A digest that is stable for the same application and version (the demo is reproducible).
fn demo_digest(application: &str, version: &str) -> String {
    use sha2::Digest;
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(
            format!("{application}@{version}").as_bytes()
        ))
    )
}

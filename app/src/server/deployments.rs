//! Builds and pre-release deployments. A governed repository's CI signs each build-completed
//! notification with the repository's build secret (`sha256=` HMAC of `<timestamp>.<body>`);
//! Slipway accepts it once, records the build, and a durable job deploys that one application to
//! the pre-release stages of its release tracks: one commit per environment on the environment
//! configuration repository, writing the application's DeploymentConfig (Argo CD or Flux applies
//! it). Unsigned, wrongly signed, stale and replayed notifications are refused and audited.

use super::audit::{self, Change};
use super::entities::{builds, deployments, repositories};
use super::{begin_write, Actor, AppCtx};
use crate::domain::manifests::Manifest;
use crate::domain::releases::{
    build_kind, deployment_config, deployment_path, BuildKind, BuildNotification,
};
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// The local forge repository that holds the environments' DeploymentConfigs
/// (`<environment>/<application>.yaml` on `main`) unless `SLIPWAY_ENVIRONMENTS_WORKSPACE`
/// names a workspace whose repository does.
pub const ENVIRONMENTS_REPOSITORY: &str = "local/environments";

/// Commits `files` onto the environment configuration repository's default branch, with
/// `message`, and returns the commit that holds them (the head, when they were there already:
/// written before a crash, or the same versions deployed again). The repository is the
/// workspace `SLIPWAY_ENVIRONMENTS_WORKSPACE` names, on any forge — pushed without force, so a
/// commit made meanwhile is never dropped: the forge refuses the push and the job tries again
/// on the new head — or else the local forge's `local/environments`, written compare-and-swap.
pub(crate) async fn commit_deployment(
    ctx: &AppCtx,
    files: &[(String, String)],
    message: &str,
) -> Result<String, super::ports::ForgeError> {
    use super::ports::{BranchChange, ForgeError, TreeEdit};
    let Some(slug) = &ctx.portal.environments_workspace else {
        ctx.local_git
            .ensure(ENVIRONMENTS_REPOSITORY, &[], "Slipway")
            .await?;
        let written = ctx
            .local_git
            .write(
                ENVIRONMENTS_REPOSITORY,
                "main",
                "main",
                files,
                message,
                "Slipway",
            )
            .await?;
        return match written {
            Some(commit) => Ok(commit),
            None => Ok(ctx
                .local_git
                .head(ENVIRONMENTS_REPOSITORY, "main")
                .await?
                .unwrap_or_default()),
        };
    };
    let workspace = super::entities::workspaces::Entity::find()
        .filter(super::entities::workspaces::Column::Slug.eq(slug))
        .one(&ctx.db)
        .await
        .map_err(|e| ForgeError::transient(e.to_string()))?
        .ok_or_else(|| {
            ForgeError::permanent(format!(
                "SLIPWAY_ENVIRONMENTS_WORKSPACE names {slug}, which is not a registered workspace"
            ))
        })?;
    let (config, repo) = super::workspaces::reach(ctx, &ctx.db, &workspace)
        .await
        .map_err(|e| ForgeError::transient(e.to_string()))?;
    let change = BranchChange {
        base: config.default_branch.clone(),
        branch: config.default_branch.clone(),
        edit: TreeEdit::Files(files.to_vec()),
        message: message.to_string(),
        author_name: "Slipway".into(),
        author_email: "slipway@localhost".into(),
    };
    Ok(ctx
        .workspace_git
        .push_change(&repo, &config, &change)
        .await?
        .commit)
}

/// How old a notification's timestamp may be (either way), in seconds.
pub const MAX_SKEW: i64 = 300;

/// The job that deploys a build to the pre-release environments.
pub const PRERELEASE_JOB: &str = "release.prerelease_deploy";

fn purpose(repository_id: i64) -> String {
    format!("repository:{repository_id}:build_secret")
}

/// Makes a new build secret for `name`, replacing any other, and returns it: the only time it
/// is shown (it goes into the repository's CI secret `SLIPWAY_WEBHOOK_SECRET`).
pub async fn rotate_build_secret(ctx: &AppCtx, actor: &Actor, name: &str) -> AppResult<String> {
    use rand::RngCore;
    let txn = begin_write(&ctx.db).await?;
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(name))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Repository {name}")))?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("slw_{}", hex::encode(bytes));
    let had = model.build_secret.is_some();
    let mut active: repositories::ActiveModel = model.clone().into();
    active.build_secret = Set(Some(ctx.secrets.seal(&purpose(model.id), &secret)));
    active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change::new("repository.build_secret", "repository", name)
            .after(&serde_json::json!({ "replaced": had })),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// What became of a notification.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Recorded; its deployment job queued.
    Accepted {
        build: i64,
        job: i64,
    },
    /// The same repository, application and version again (a re-run of the workflow): nothing
    /// new.
    Known {
        build: i64,
    },
    Refused {
        status: u16,
        reason: String,
    },
}

/// A refusal: logged (escaped, bounded), and audited as a summary at most once a minute per
/// replica — a flood of unsigned requests neither fills the audit log nor retires every
/// replica's caches with each request.
async fn refuse(
    ctx: &AppCtx,
    status: u16,
    reason: String,
    repository: &str,
) -> AppResult<Received> {
    let reason: String = reason.chars().take(300).collect();
    tracing::warn!(status, reason = ?reason, repository = ?repository, "refused a build-completed notification");
    let (first, earlier) = ctx
        .cache
        .first_refusal_this_minute(chrono::Utc::now().timestamp());
    if !first {
        return Ok(Received::Refused { status, reason });
    }
    let txn = begin_write(&ctx.db).await?;
    audit::record(
        &txn,
        &Actor::system("build-webhook"),
        Change::new(
            "build.refused",
            "repository",
            if repository.is_empty() {
                "unknown"
            } else {
                repository
            },
        )
        .after(&serde_json::json!({
            "status": status,
            "reason": reason,
            "refused_the_minute_before": earlier,
            "note": "further refusals this minute are counted in the server log only",
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(Received::Refused { status, reason })
}

/// Checks and records a build-completed notification (`now`: seconds since the epoch).
pub async fn receive_build(
    ctx: &AppCtx,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> AppResult<Received> {
    let notification = match BuildNotification::parse(body) {
        Ok(n) => n,
        Err(reason) => return refuse(ctx, 400, reason, "").await,
    };
    let name = notification
        .repository
        .split('/')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(&name))
        .one(&ctx.db)
        .await?;
    let Some((model, sealed)) = model.and_then(|m| m.build_secret.clone().map(|s| (m, s))) else {
        return refuse(
            ctx,
            401,
            format!("{name} is not a governed repository with a build secret"),
            &name,
        )
        .await;
    };
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return refuse(ctx, 401, "no X-Slipway-Timestamp".into(), &name).await;
    };
    if (now - at).abs() > MAX_SKEW {
        return refuse(
            ctx,
            401,
            format!(
                "the timestamp is {}s away from now (at most {MAX_SKEW}s)",
                now - at
            ),
            &name,
        )
        .await;
    }
    let secret = ctx
        .secrets
        .open(&purpose(model.id), &sealed)
        .map_err(|_| AppError::internal("a repository's build secret does not open"))?;
    let signed = format!("{at}.");
    if !super::secrets::signed_sha256(secret.as_bytes(), &[signed.as_bytes(), body], signature) {
        return refuse(
            ctx,
            401,
            "the signature does not match the repository's build secret".into(),
            &name,
        )
        .await;
    }
    // As recorded: the hex digits, lowercased.
    let signature = signature.trim_start_matches("sha256=").to_ascii_lowercase();
    let actor = Actor::system(&format!("ci:{}", notification.repository));
    record_build(ctx, &actor, &notification, &name, &signature).await
}

/// Records a build that was verified (or, in the demo, made by Slipway itself) and queues its
/// pre-release deployment, once: `signature` is unique per notification, so a replay is refused,
/// and a version already built is answered with the build that has it.
async fn record_build(
    ctx: &AppCtx,
    actor: &Actor,
    notification: &BuildNotification,
    name: &str,
    signature: &str,
) -> AppResult<Received> {
    let txn = begin_write(&ctx.db).await?;
    if builds::Entity::find()
        .filter(builds::Column::Signature.eq(signature))
        .one(&txn)
        .await?
        .is_some()
    {
        drop(txn);
        return refuse(
            ctx,
            409,
            "a replay of a notification already received".into(),
            name,
        )
        .await;
    }
    if let Some(known) = builds::Entity::find()
        .filter(builds::Column::Repository.eq(&notification.repository))
        .filter(builds::Column::Application.eq(&notification.application))
        .filter(builds::Column::Version.eq(&notification.version))
        .one(&txn)
        .await?
    {
        return Ok(Received::Known { build: known.id });
    }
    // A repository's build secret speaks for that repository only: it announces builds of the
    // applications whose manifests name it, never another team's.
    let built_here = application(&txn, &notification.application)
        .await?
        .filter(|app| app.repository.as_deref() == Some(name));
    let Some(app) = built_here else {
        drop(txn);
        return refuse(
            ctx,
            403,
            format!(
                "no application {:?} names repository {name} in its manifest: a repository's build secret announces builds of its own applications only",
                notification.application
            ),
            name,
        )
        .await;
    };
    let image = notification.image_of(&app.image).unwrap_or_default();
    let build = builds::ActiveModel {
        repository: Set(notification.repository.clone()),
        application: Set(notification.application.clone()),
        version: Set(notification.version.clone()),
        commit: Set(notification.commit.clone()),
        branch: Set(notification.branch.clone()),
        run_url: Set(notification.run.clone()),
        image: Set(image.clone()),
        signature: Set(signature.to_string()),
        received_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let job = super::jobs::enqueue(
        &txn,
        PRERELEASE_JOB,
        &serde_json::json!({ "build": build.id }),
        Some(&format!("prerelease:{}", build.id)),
        Some(&format!("deploy:{}", notification.application)),
        5,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        Change::new("build.completed", "repository", name).after(&serde_json::json!({
            "application": notification.application,
            "version": notification.version,
            "commit": notification.commit,
            "image": image,
            "job": job.id,
        })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(Received::Accepted {
        build: build.id,
        job: job.id,
    })
}

/// The demo's "Simulate a build" (`slipway serve --demo` only; refused otherwise): what a
/// governed repository's CI would send after a push to its primary branch — the application's
/// next patch version (after the newest built one), a commit and an image digest made up for
/// it — recorded through the same path as a signed notification, so it deploys to the
/// pre-release environments as a real build does. Returns the version.
pub async fn simulate_build(ctx: &AppCtx, actor: &Actor, application: &str) -> AppResult<String> {
    use crate::domain::semver::Version;
    use rand::RngCore;
    if !ctx.portal.demo {
        return Err(AppError::Forbidden(
            "builds are simulated only in the demo (slipway serve --demo); CI posts real ones to /hooks/build-completed".into(),
        ));
    }
    let Some(app) = self::application(&ctx.db, application).await? else {
        return Err(AppError::NotFound(format!(
            "no Application named {application}"
        )));
    };
    let repository = app.repository.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "{application} names no repository (spec.repository): nothing builds it"
        ))
    })?;
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(&repository))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{application} is built from {repository}, which is not a governed repository"
            ))
        })?;
    let manifests = crate::domain::repositories::parse_source(&model.source).map_err(|_| {
        AppError::internal(format!("the stored manifests of {repository} do not load"))
    })?;
    let organization = super::repositories::organization(&ctx.db, &manifests).await?;
    let latest = builds::Entity::find()
        .filter(builds::Column::Application.eq(application))
        .all(&ctx.db)
        .await?
        .into_iter()
        .filter_map(|b| Version::parse_tag(&b.version).ok())
        .filter(|v| v.pre.is_empty())
        .max();
    let next = match latest {
        Some(v) => Version::new(v.major, v.minor, v.patch + 1),
        None => Version::new(1, 0, 0),
    };
    let mut bytes = [0u8; 52];
    rand::thread_rng().fill_bytes(&mut bytes);
    let notification = BuildNotification {
        repository: format!("{organization}/{repository}"),
        application: application.to_string(),
        version: next.tag(),
        commit: hex::encode(&bytes[..20]),
        branch: "main".into(),
        run: format!(
            "{}/repositories/{repository}",
            ctx.portal.public_url.trim_end_matches('/')
        ),
        images: vec![crate::domain::releases::BuiltImage {
            name: app.image.rsplit('/').next().unwrap_or_default().to_string(),
            digest: format!("sha256:{}", hex::encode(&bytes[20..52])),
        }],
    };
    let signature = format!("demo:{}", hex::encode(&bytes[..16]));
    match record_build(ctx, actor, &notification, &repository, &signature).await? {
        Received::Accepted { .. } | Received::Known { .. } => Ok(next.tag()),
        Received::Refused { reason, .. } => Err(AppError::Conflict(reason)),
    }
}

/// The Application manifest named `name`, if it is saved.
async fn application<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> AppResult<Option<crate::domain::release_manifests::Application>> {
    Ok(super::release_manifests::all(db)
        .await?
        .into_iter()
        .find_map(|(_, m)| match m {
            Manifest::Application(app) if app.metadata.name == name => Some(app),
            _ => None,
        }))
}

/// The pre-release environments of `application`: those of the tracks of every set it is in.
async fn prerelease_environments<C: ConnectionTrait>(
    db: &C,
    application: &str,
) -> AppResult<Vec<String>> {
    let all = super::release_manifests::all(db).await?;
    let tracks: Vec<&str> = all
        .iter()
        .filter_map(|(_, m)| match m {
            Manifest::ApplicationSet(set) if set.applications.iter().any(|a| a == application) => {
                Some(set.release_track.as_str())
            }
            _ => None,
        })
        .collect();
    let mut environments = Vec::new();
    for (_, manifest) in &all {
        if let Manifest::ReleaseTrack(track) = manifest {
            if tracks.contains(&track.metadata.name.as_str()) {
                for stage in &track.pre_release {
                    for env in &stage.environments {
                        if !environments.contains(env) {
                            environments.push(env.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(environments)
}

/// Deploys a build to its application's pre-release environments: per environment one commit
/// writing its DeploymentConfig, and one deployment recorded with an audit event. Idempotent:
/// an environment already deployed from this build is skipped, and a commit made before a crash
/// is found rather than made again.
pub async fn deploy_prerelease(
    ctx: &AppCtx,
    build_id: i64,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), super::ports::ForgeError> {
    use super::ports::ForgeError;
    let internal = |e: AppError| ForgeError::transient(e.to_string());
    let db_error = |e: sea_orm::DbErr| ForgeError::transient(e.to_string());
    let build = builds::Entity::find_by_id(build_id)
        .one(&ctx.db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ForgeError::permanent(format!("build {build_id} is gone")))?;
    if build_kind(&build.version).map_err(ForgeError::permanent)? == BuildKind::Hotfix {
        say(format!(
            "{} is a hotfix build: it goes through the hotfix stages, not pre-release",
            build.version
        ));
        return Ok(());
    }
    let environments = prerelease_environments(&ctx.db, &build.application)
        .await
        .map_err(internal)?;
    if environments.is_empty() {
        say(format!(
            "{} is in no application set whose track has pre-release stages: nothing to deploy",
            build.application
        ));
        return Ok(());
    }
    for environment in environments {
        let done = deployments::Entity::find()
            .filter(deployments::Column::BuildId.eq(build.id))
            .filter(deployments::Column::Environment.eq(&environment))
            .one(&ctx.db)
            .await
            .map_err(db_error)?;
        if done.is_some() {
            say(format!("{environment}: already deployed from this build"));
            continue;
        }
        let path = deployment_path(&environment, &build.application);
        let contents = deployment_config(
            &build.application,
            &environment,
            &build.version,
            &build.image,
            None,
        );
        let message = format!(
            "deploy({environment}): {} {}\n\nPre-release deployment of build {} ({}, commit {}).\nSlipway-Build: {}\n",
            build.application, build.version, build.id, build.repository, build.commit, build.run_url
        );
        let commit = commit_deployment(ctx, &[(path.clone(), contents)], &message).await?;
        let txn = begin_write(&ctx.db).await.map_err(db_error)?;
        let row = deployments::ActiveModel {
            environment: Set(environment.clone()),
            application: Set(build.application.clone()),
            version: Set(build.version.clone()),
            image: Set(build.image.clone()),
            kind: Set("prerelease".into()),
            build_id: Set(Some(build.id)),
            release_id: Set(None),
            config_commit: Set(commit.clone()),
            deployed_by: Set("Slipway (pre-release)".into()),
            deployed_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db_error)?;
        audit::record(
            &txn,
            &Actor::system("release"),
            Change::new("deployment.create", "release", &format!("{environment}/{}", build.application))
                .after(&serde_json::json!({ "deployment": row.id, "version": build.version, "image": build.image, "commit": commit, "kind": "prerelease" })),
        )
        .await
        .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        say(format!(
            "{environment}: {} {} deployed ({path} at {})",
            build.application,
            build.version,
            &commit[..commit.len().min(7)]
        ));
    }
    Ok(())
}

/// A deployment as the pages show it.
pub fn deployed_row(d: deployments::Model) -> crate::wire::releases::DeployedRow {
    crate::wire::releases::DeployedRow {
        environment: d.environment,
        application: d.application,
        version: d.version,
        image: d.image,
        kind: d.kind,
        since: super::when(&d.deployed_at),
        by: d.deployed_by,
        commit: d.config_commit,
    }
}

/// The most deployments an application's history shows.
pub const HISTORY: u64 = 200;

/// An application's deployments, newest first (at most [`HISTORY`]).
pub async fn history<C: ConnectionTrait>(
    db: &C,
    application: &str,
) -> AppResult<Vec<deployments::Model>> {
    use sea_orm::QuerySelect;
    Ok(deployments::Entity::find()
        .filter(deployments::Column::Application.eq(application))
        .order_by_desc(deployments::Column::DeployedAt)
        .order_by_desc(deployments::Column::Id)
        .limit(HISTORY)
        .all(db)
        .await?)
}

/// What each environment runs now: the latest deployment per environment and application (the
/// highest id: deployments are recorded in the order they happen), read without the history.
pub async fn current<C: ConnectionTrait>(db: &C) -> AppResult<Vec<deployments::Model>> {
    use sea_orm::QuerySelect;
    let latest: Vec<i64> = deployments::Entity::find()
        .select_only()
        .column_as(deployments::Column::Id.max(), "id")
        .group_by(deployments::Column::Environment)
        .group_by(deployments::Column::Application)
        .into_tuple()
        .all(db)
        .await?;
    let mut rows = Vec::with_capacity(latest.len());
    for chunk in latest.chunks(500) {
        rows.extend(
            deployments::Entity::find()
                .filter(deployments::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    // In track order (dev, staging, production…), as people read a pipeline; environments no
    // track names go last, by name.
    let mut order: Vec<String> = Vec::new();
    for (_, manifest) in super::release_manifests::all(db).await? {
        if let Manifest::ReleaseTrack(track) = manifest {
            for env in track.environments() {
                if !order.contains(env) {
                    order.push(env.clone());
                }
            }
        }
    }
    let place = |env: &str| order.iter().position(|e| e == env).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        (place(&a.environment), &a.environment, &a.application).cmp(&(
            place(&b.environment),
            &b.environment,
            &b.application,
        ))
    });
    Ok(rows)
}

/// The DORA figures of the production environments (the last release stage of every track) over
/// the `days` before now; `None` while no track names a production environment.
pub async fn dora<C: ConnectionTrait>(
    db: &C,
    days: u32,
) -> AppResult<Option<crate::domain::releases::Dora>> {
    use crate::domain::releases::{dora, DeploymentFact};
    use sea_orm::QuerySelect;
    let mut production: Vec<String> = Vec::new();
    for (_, manifest) in super::release_manifests::all(db).await? {
        if let Manifest::ReleaseTrack(track) = manifest {
            for env in track.production() {
                if !production.contains(env) {
                    production.push(env.clone());
                }
            }
        }
    }
    if production.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    // A successor is always later, so the window's deployments are all the history needed.
    let from = now - chrono::Duration::days(i64::from(days));
    // Only the columns the figures need, each with when its version was built (the builds'
    // index on version answers that inside the same query).
    type Row = (
        String,
        String,
        String,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let rows: Vec<Row> = deployments::Entity::find()
        .select_only()
        .columns([
            deployments::Column::Application,
            deployments::Column::Environment,
            deployments::Column::Kind,
            deployments::Column::DeployedAt,
        ])
        .column_as(
            sea_orm::sea_query::Expr::cust(
                "(SELECT MIN(builds.received_at) FROM builds \
                 WHERE builds.version = deployments.version \
                 AND builds.application = deployments.application)",
            ),
            "built_at",
        )
        .filter(deployments::Column::Environment.is_in(production.clone()))
        .filter(deployments::Column::DeployedAt.gt(from))
        .order_by_asc(deployments::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let facts: Vec<DeploymentFact> = rows
        .into_iter()
        .map(
            |(application, environment, kind, at, built)| DeploymentFact {
                built_at: built.map(|b| b.timestamp()),
                application,
                environment,
                at: at.timestamp(),
                hotfix: kind == "hotfix",
            },
        )
        .collect();
    Ok(Some(dora(&facts, &production, now.timestamp(), days)))
}

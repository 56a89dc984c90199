//! The pre-release deployment job: one application to the pre-release stages of its release tracks.

use super::*;

/// The job that deploys a build to the pre-release environments.
pub const PRERELEASE_JOB: &str = "release.prerelease_deploy";

/// The job that deploys one build to the pre-release stages of its tracks.
pub struct PrereleaseDeploy;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct BuildJob {
    pub build: i64,
}

impl crate::server::jobs::JobKind for PrereleaseDeploy {
    const NAME: &'static str = PRERELEASE_JOB;
    type Payload = BuildJob;
}

impl crate::server::jobs::PlainJob for PrereleaseDeploy {
    fn run<'a>(
        ctx: &'a AppCtx,
        payload: BuildJob,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), crate::server::ports::ExternalError>> + Send + 'a
    {
        deploy_prerelease(ctx, payload.build, say)
    }
}

/// The Application manifest named `name`, if it is saved.
pub(super) async fn application<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> AppResult<Option<crate::domain::release_manifests::Application>> {
    Ok(crate::server::release_manifests::all(db)
        .await?
        .into_iter()
        .find_map(|(_, m)| match m {
            Manifest::Application(app) if app.metadata.name == name => Some(app),
            _ => None,
        }))
}

/// The pre-release environments of `application`: those of the tracks of every set it is in.
pub(crate) async fn prerelease_environments<C: ConnectionTrait>(
    db: &C,
    application: &str,
) -> AppResult<Vec<String>> {
    let all = crate::server::release_manifests::all(db).await?;
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
) -> Result<(), crate::server::ports::ExternalError> {
    use crate::server::ports::ExternalError;
    let internal = |e: AppError| ExternalError::transient(e.to_string());
    let db_error = |e: sea_orm::DbErr| ExternalError::transient(e.to_string());
    let build = builds::Entity::find_by_id(build_id)
        .one(&ctx.db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ExternalError::permanent(format!("build {build_id} is gone")))?;
    if build_kind(&build.version).map_err(ExternalError::permanent)? == BuildKind::Hotfix {
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
    // An environment a freeze holds waits; the others deploy now, and the job comes back for
    // the frozen ones when their freeze ends.
    let mut frozen = None;
    for environment in environments {
        if let Some(hold) = hold_on(&ctx.db, &environment, &build.application)
            .await
            .map_err(internal)?
        {
            say(format!(
                "{environment}: held since {} ({}); lift the hold to deploy there again",
                crate::server::when(&hold.set_at),
                hold.reason
            ));
            continue;
        }
        if let Err(wait) = crate::server::freezes::hold(
            &ctx.db,
            &[crate::domain::freezes::Target::Environment(&environment)],
            &format!("build:{}", build.id),
        )
        .await
        {
            say(format!("{environment}: {}", wait.message));
            frozen.get_or_insert(wait);
            continue;
        }
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
            kind: Set(crate::domain::releases::DeploymentKind::Prerelease),
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
    match frozen {
        Some(wait) => Err(wait),
        None => Ok(()),
    }
}

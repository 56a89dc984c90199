//! Releases of an application set's bundle. Starting one takes each application's latest
//! pre-release build (version and image digest), tags every digest with the release candidate
//! tag before anything is deployed, and opens the track's first release stage for sign-off.
//! Votes are cast one at a time per stage (the stage row is locked), so of two approvals racing
//! on two replicas exactly one opens the gate; an open gate queues the stage's deployment once
//! (a durable job keyed by the stage): one commit per environment on the configuration
//! repository, naming the release, the stage and the approvers. The last stage deployed, the
//! production tag is made and the release is complete; one rejection stops it.

use super::audit::{self, Change};
use super::entities::{deployments, release_items, releases, stage_runs, votes};
use super::{begin_write, Actor, AppCtx};
use crate::domain::manifests::Manifest;
use crate::domain::release_manifests::SignOff;
use crate::domain::releases::{
    check_bundle, deployment_config, deployment_path, gate, may_vote, next_rc, production_tag,
    rc_tag, Gate, StageState, Vote,
};
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// The job that deploys a signed-off stage.
pub const STAGE_JOB: &str = "release.stage_deploy";

/// Who is voting, with the groups they are in.
pub struct Voter {
    pub actor: Actor,
    pub groups: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SignOffRow {
    group: String,
    approvals: u32,
}

fn sign_off_of(stage: &stage_runs::Model) -> Vec<SignOff> {
    serde_json::from_str::<Vec<SignOffRow>>(&stage.sign_off)
        .unwrap_or_default()
        .into_iter()
        .map(|s| SignOff {
            group: s.group,
            approvals: s.approvals,
        })
        .collect()
}

fn environments_of(stage: &stage_runs::Model) -> Vec<String> {
    serde_json::from_str(&stage.environments).unwrap_or_default()
}

async fn active_votes<C: ConnectionTrait>(db: &C, stage: i64) -> AppResult<Vec<votes::Model>> {
    Ok(votes::Entity::find()
        .filter(votes::Column::StageRunId.eq(stage))
        .filter(votes::Column::WithdrawnAt.is_null())
        .order_by_asc(votes::Column::Id)
        .all(db)
        .await?)
}

fn as_votes(rows: &[votes::Model]) -> Vec<Vote> {
    rows.iter()
        .map(|v| Vote {
            user: v.voter.clone(),
            group: v.group_name.clone(),
            approve: v.approve,
            comment: v.comment.clone(),
        })
        .collect()
}

/// Starts a release of `app_set` for `bundle` (`hotfix`: a hotfix of the bundle's completed

/// Refuses to start again, unasked, a build whose last release of this bundle was rejected
/// with these very images: the release would take the same digests to the same people. The
/// refusal names who rejected it and why; `same_build_again` is the confirmation.
async fn refuse_a_rejected_build(
    db: &sea_orm::DatabaseConnection,
    app_set: &str,
    bundle: &str,
    items: &[(String, String, String)],
) -> AppResult<()> {
    use super::entities::{release_items, stage_runs, votes};
    let Some(last) = releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .filter(releases::Column::Bundle.eq(bundle))
        .order_by_desc(releases::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if last.state != "rejected" {
        return Ok(());
    }
    let mut before: Vec<String> = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(last.id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.image)
        .collect();
    let mut now: Vec<String> = items.iter().map(|(_, _, image)| image.clone()).collect();
    before.sort();
    now.sort();
    if before != now {
        return Ok(());
    }
    let stages: Vec<i64> = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(last.id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let rejection = votes::Entity::find()
        .filter(votes::Column::StageRunId.is_in(stages))
        .filter(votes::Column::Approve.eq(false))
        .filter(votes::Column::WithdrawnAt.is_null())
        .order_by_desc(votes::Column::Id)
        .one(db)
        .await?;
    let by = rejection.map_or_else(String::new, |v| {
        format!(
            " by {} ({}): \u{201c}{}\u{201d}",
            v.voter, v.group_name, v.comment
        )
    });
    Err(AppError::Conflict(format!(
        "{} was rejected{by}, and these are the very images it carried. Confirm that the same build is to be released again, or build a fix first.",
        last.rc_tag
    )))
}

/// release through the track's hotfix stages); returns its id.
pub async fn start(
    ctx: &AppCtx,
    actor: &Actor,
    app_set: &str,
    bundle: &str,
    hotfix: bool,
    same_build_again: bool,
) -> AppResult<i64> {
    check_bundle(bundle).map_err(|m| AppError::invalid("bundle", m))?;
    let all = super::release_manifests::all(&ctx.db).await?;
    let set = all
        .iter()
        .find_map(|(_, m)| match m {
            Manifest::ApplicationSet(s) if s.metadata.name == app_set => Some(s.clone()),
            _ => None,
        })
        .ok_or_else(|| AppError::not_found(format!("ApplicationSet {app_set}")))?;
    let track = all
        .iter()
        .find_map(|(_, m)| match m {
            Manifest::ReleaseTrack(t) if t.metadata.name == set.release_track => Some(t.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "the track {} of {app_set} is not saved",
                set.release_track
            ))
        })?;
    let stages = if hotfix {
        &track.hotfix
    } else {
        &track.release
    };
    if stages.is_empty() {
        return Err(AppError::Conflict(format!(
            "the track {} has no {} stages",
            track.metadata.name,
            if hotfix { "hotfix" } else { "release" }
        )));
    }
    let items = if hotfix {
        hotfix_items(ctx, app_set, bundle).await?
    } else {
        release_items_of(ctx, &set.applications).await?
    };
    let earlier: Vec<String> = releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|r| {
            if r.state == "running" {
                Err(AppError::Conflict(format!(
                    "{} is still running: finish or reject it first",
                    r.rc_tag
                )))
            } else {
                Ok(r.rc_tag)
            }
        })
        .collect::<AppResult<_>>()?;
    if !same_build_again {
        refuse_a_rejected_build(&ctx.db, app_set, bundle, &items).await?;
    }
    let rc = next_rc(app_set, bundle, &earlier);
    let tag = rc_tag(app_set, bundle, rc);
    // The images are tagged before any manifest names them.
    for (_, _, image) in &items {
        let (repository, digest) = image
            .split_once('@')
            .ok_or_else(|| AppError::internal(format!("{image} is not an image by digest")))?;
        ctx.registry.tag(repository, digest, &tag).await?;
    }
    let txn = begin_write(&ctx.db).await?;
    let now = chrono::Utc::now();
    let release = releases::ActiveModel {
        app_set: Set(app_set.to_string()),
        bundle: Set(bundle.to_string()),
        kind: Set(if hotfix { "hotfix" } else { "release" }.into()),
        rc: Set(rc as i32),
        rc_tag: Set(tag.clone()),
        state: Set("running".into()),
        starter: Set(actor.label.clone()),
        production_tag: Set(None),
        created_at: Set(now),
        completed_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|_| AppError::Conflict(format!("{tag} was started meanwhile")))?;
    for (application, version, image) in &items {
        release_items::ActiveModel {
            release_id: Set(release.id),
            application: Set(application.clone()),
            version: Set(version.clone()),
            image: Set(image.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for (position, stage) in stages.iter().enumerate() {
        stage_runs::ActiveModel {
            release_id: Set(release.id),
            position: Set(position as i32),
            environments: Set(
                serde_json::to_string(&stage.environments).map_err(AppError::internal)?
            ),
            sign_off: Set(serde_json::to_string(
                &stage
                    .sign_off
                    .iter()
                    .map(|s| SignOffRow {
                        group: s.group.clone(),
                        approvals: s.approvals,
                    })
                    .collect::<Vec<_>>(),
            )
            .map_err(AppError::internal)?),
            state: Set(if position == 0 {
                StageState::AwaitingSignOff
            } else {
                StageState::Waiting
            }
            .as_str()
            .into()),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        Change::new("release.start", "release", &tag).after(&serde_json::json!({
            "app_set": app_set, "bundle": bundle, "rc": rc, "hotfix": hotfix,
            "items": items.iter().map(|(a, v, i)| serde_json::json!({ "application": a, "version": v, "image": i })).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(release.id)
}

/// A release's items: each application's latest pre-release build with an image (what was
/// tested).
async fn release_items_of(
    ctx: &AppCtx,
    applications: &[String],
) -> AppResult<Vec<(String, String, String)>> {
    let mut items = Vec::new();
    for application in applications {
        let latest = deployments::Entity::find()
            .filter(deployments::Column::Application.eq(application))
            .filter(deployments::Column::Kind.eq("prerelease"))
            .filter(deployments::Column::Image.ne(""))
            .order_by_desc(deployments::Column::DeployedAt)
            .order_by_desc(deployments::Column::Id)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!("{application} has no pre-release build with an image yet: nothing of it to release"))
            })?;
        items.push((application.clone(), latest.version, latest.image));
    }
    Ok(items)
}

/// A hotfix's items: what the bundle's last completed release (or hotfix) shipped, with each
/// application that has a hotfix build since then at that build.
async fn hotfix_items(
    ctx: &AppCtx,
    app_set: &str,
    bundle: &str,
) -> AppResult<Vec<(String, String, String)>> {
    use super::entities::builds;
    use crate::domain::releases::{build_kind, BuildKind};
    let shipped = releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .filter(releases::Column::Bundle.eq(bundle))
        .filter(releases::Column::State.eq("completed"))
        .order_by_desc(releases::Column::Id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{app_set} {bundle} has no completed release to hotfix"
            ))
        })?;
    let mut items: Vec<(String, String, String)> = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(shipped.id))
        .order_by_asc(release_items::Column::Application)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|i| (i.application, i.version, i.image))
        .collect();
    let mut fixed = 0;
    for item in &mut items {
        let hotfix = builds::Entity::find()
            .filter(builds::Column::Application.eq(&item.0))
            .filter(builds::Column::Image.ne(""))
            .filter(builds::Column::ReceivedAt.gt(shipped.created_at))
            .order_by_desc(builds::Column::Id)
            .all(&ctx.db)
            .await?
            .into_iter()
            .find(|b| build_kind(&b.version) == Ok(BuildKind::Hotfix));
        if let Some(build) = hotfix {
            *item = (item.0.clone(), build.version, build.image);
            fixed += 1;
        }
    }
    if fixed == 0 {
        return Err(AppError::Conflict(format!(
            "no application of {app_set} has a hotfix build (vX.Y.Z-hotfix.N) since {} shipped",
            shipped.rc_tag
        )));
    }
    Ok(items)
}

/// The stage row, locked against other voters until the transaction ends (PostgreSQL; SQLite
/// writes one transaction at a time).
async fn locked_stage<C: ConnectionTrait>(
    db: &C,
    release: i64,
    position: i32,
) -> AppResult<stage_runs::Model> {
    let mut query = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(release))
        .filter(stage_runs::Column::Position.eq(position));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Stage {} of release {release}", position + 1)))
}

/// Casts a vote at a stage awaiting sign-off. A rejection stops the release; the approval that
/// completes the sign-off opens the gate and queues the stage's deployment.
pub async fn vote(
    ctx: &AppCtx,
    voter: &Voter,
    release_id: i64,
    position: i32,
    group: &str,
    approve: bool,
    comment: &str,
) -> AppResult<StageState> {
    let comment = comment.trim();
    if comment.chars().count() > 2000 {
        return Err(AppError::invalid("comment", "at most 2,000 characters"));
    }
    if !approve && comment.is_empty() {
        return Err(AppError::invalid("comment", "say why you reject it"));
    }
    let txn = begin_write(&ctx.db).await?;
    let stage = locked_stage(&txn, release_id, position).await?;
    let release = releases::Entity::find_by_id(release_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Release {release_id}")))?;
    if stage.state != StageState::AwaitingSignOff.as_str() {
        return Err(AppError::Conflict(format!(
            "stage {} of {} is {}: it takes no votes now",
            position + 1,
            release.rc_tag,
            StageState::parse(&stage.state).map_or("closed", |s| s.label())
        )));
    }
    let sign_off = sign_off_of(&stage);
    let cast = active_votes(&txn, stage.id).await?;
    may_vote(
        &sign_off,
        &as_votes(&cast),
        &release.starter,
        &voter.actor.label,
        &voter.groups,
        group,
        approve,
    )
    .map_err(AppError::Forbidden)?;
    let now = chrono::Utc::now();
    votes::ActiveModel {
        stage_run_id: Set(stage.id),
        voter: Set(voter.actor.label.clone()),
        group_name: Set(group.to_string()),
        approve: Set(approve),
        comment: Set(comment.to_string()),
        created_at: Set(now),
        withdrawn_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let all = active_votes(&txn, stage.id).await?;
    let outcome = gate(&sign_off, &as_votes(&all));
    let state = match &outcome {
        Gate::Waiting(_) => StageState::AwaitingSignOff,
        Gate::Open => StageState::Approved,
        Gate::Rejected { .. } => StageState::Rejected,
    };
    if state != StageState::AwaitingSignOff {
        let mut active: stage_runs::ActiveModel = stage.clone().into();
        active.state = Set(state.as_str().into());
        active.updated_at = Set(now);
        active.update(&txn).await?;
    }
    if state == StageState::Rejected {
        let mut active: releases::ActiveModel = release.clone().into();
        active.state = Set("rejected".into());
        active.completed_at = Set(Some(now));
        active.update(&txn).await?;
    }
    if state == StageState::Approved {
        super::jobs::enqueue(
            &txn,
            STAGE_JOB,
            &serde_json::json!({ "stage": stage.id }),
            Some(&format!("stage:{}", stage.id)),
            Some(&format!("release:{}", release.id)),
            5,
        )
        .await?;
    }
    audit::record(
        &txn,
        &voter.actor,
        Change::new(if approve { "release.approve" } else { "release.reject" }, "release", &release.rc_tag).after(
            &serde_json::json!({ "stage": position + 1, "group": group, "comment": comment, "gate": outcome.describe() }),
        ),
    )
    .await?;
    txn.commit().await?;
    if state == StageState::Approved {
        ctx.jobs_wake.notify_one();
    }
    Ok(state)
}

/// Withdraws the voter's vote at a stage, until its gate opens.
pub async fn withdraw(
    ctx: &AppCtx,
    voter: &Voter,
    release_id: i64,
    position: i32,
) -> AppResult<()> {
    let txn = begin_write(&ctx.db).await?;
    let stage = locked_stage(&txn, release_id, position).await?;
    if stage.state != StageState::AwaitingSignOff.as_str() {
        return Err(AppError::Conflict(format!(
            "stage {} is {}: a vote can be withdrawn only while it awaits sign-off",
            position + 1,
            StageState::parse(&stage.state).map_or("closed", |s| s.label())
        )));
    }
    let mine = active_votes(&txn, stage.id)
        .await?
        .into_iter()
        .find(|v| v.voter == voter.actor.label)
        .ok_or_else(|| AppError::Conflict("you have no vote here to withdraw".into()))?;
    let mut active: votes::ActiveModel = mine.clone().into();
    active.withdrawn_at = Set(Some(chrono::Utc::now()));
    active.update(&txn).await?;
    let release = releases::Entity::find_by_id(release_id)
        .one(&txn)
        .await?
        .map(|r| r.rc_tag)
        .unwrap_or_default();
    audit::record(
        &txn,
        &voter.actor,
        Change::new("release.withdraw", "release", &release)
            .before(&serde_json::json!({ "stage": position + 1, "group": mine.group_name, "approve": mine.approve })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Deploys a signed-off stage (the job): per environment one commit with every application's
/// DeploymentConfig, the deployments recorded; then the next stage opens, or, after the last,
/// the production tag is made and the release completes. Safe to run again after a crash.
pub async fn deploy_stage(
    ctx: &AppCtx,
    stage_id: i64,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), super::ports::ForgeError> {
    use super::ports::ForgeError;
    let fail = |e: AppError| ForgeError::transient(e.to_string());
    let db_error = |e: sea_orm::DbErr| ForgeError::transient(e.to_string());
    let stage = stage_runs::Entity::find_by_id(stage_id)
        .one(&ctx.db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ForgeError::permanent(format!("stage {stage_id} is gone")))?;
    let release = releases::Entity::find_by_id(stage.release_id)
        .one(&ctx.db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ForgeError::permanent("the release is gone"))?;
    let items = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(release.id))
        .order_by_asc(release_items::Column::Application)
        .all(&ctx.db)
        .await
        .map_err(db_error)?;
    let approvers: Vec<String> = active_votes(&ctx.db, stage.id)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|v| v.approve)
        .map(|v| format!("{} ({})", v.voter, v.group_name))
        .collect();
    if stage.state == StageState::Approved.as_str() {
        for environment in environments_of(&stage) {
            let done = deployments::Entity::find()
                .filter(deployments::Column::ReleaseId.eq(release.id))
                .filter(deployments::Column::Environment.eq(&environment))
                .count(&ctx.db)
                .await
                .map_err(db_error)?;
            if done as usize == items.len() {
                say(format!("{environment}: already deployed"));
                continue;
            }
            let files: Vec<(String, String)> = items
                .iter()
                .map(|i| {
                    (
                        deployment_path(&environment, &i.application),
                        deployment_config(
                            &i.application,
                            &environment,
                            &i.version,
                            &i.image,
                            Some(&release.rc_tag),
                        ),
                    )
                })
                .collect();
            let message = format!(
                "release({environment}): {} stage {}\n\nDeploys {} to {environment}.\nApproved by {}.\n",
                release.rc_tag,
                stage.position + 1,
                items.iter().map(|i| format!("{} {}", i.application, i.version)).collect::<Vec<_>>().join(", "),
                if approvers.is_empty() { "no one (no sign-off required)".to_string() } else { approvers.join(", ") },
            );
            let commit = super::deployments::commit_deployment(ctx, &files, &message).await?;
            let txn = begin_write(&ctx.db).await.map_err(db_error)?;
            for item in &items {
                deployments::ActiveModel {
                    environment: Set(environment.clone()),
                    application: Set(item.application.clone()),
                    version: Set(item.version.clone()),
                    image: Set(item.image.clone()),
                    kind: Set(release.kind.clone()),
                    build_id: Set(None),
                    release_id: Set(Some(release.id)),
                    config_commit: Set(commit.clone()),
                    deployed_by: Set(format!(
                        "{} (started by {})",
                        release.rc_tag, release.starter
                    )),
                    deployed_at: Set(chrono::Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .map_err(db_error)?;
            }
            audit::record(
                &txn,
                &Actor::system("release"),
                Change::new("deployment.create", "release", &format!("{environment}/{}", release.rc_tag))
                    .after(&serde_json::json!({ "release": release.rc_tag, "stage": stage.position + 1, "commit": commit, "approvers": approvers })),
            )
            .await
            .map_err(db_error)?;
            txn.commit().await.map_err(db_error)?;
            say(format!(
                "{environment}: {} deployed ({})",
                release.rc_tag,
                &commit[..commit.len().min(7)]
            ));
        }
    }
    let next = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(release.id))
        .filter(stage_runs::Column::Position.eq(stage.position + 1))
        .one(&ctx.db)
        .await
        .map_err(db_error)?;
    // The last stage: the production tag, named once and kept, then on every image.
    let production = match (&next, &release.production_tag) {
        (Some(_), _) => None,
        (None, Some(tag)) => Some(tag.clone()),
        (None, None) => {
            let mut existing = Vec::new();
            for item in &items {
                let repository = item.image.split('@').next().unwrap_or_default();
                existing.extend(ctx.registry.tags(repository).await?);
            }
            let tag = production_tag(&release.app_set, &release.bundle, &existing);
            let mut active: releases::ActiveModel = release.clone().into();
            active.production_tag = Set(Some(tag.clone()));
            active.update(&ctx.db).await.map_err(db_error)?;
            Some(tag)
        }
    };
    if let Some(tag) = &production {
        for item in &items {
            if let Some((repository, digest)) = item.image.split_once('@') {
                ctx.registry.tag(repository, digest, tag).await?;
            }
        }
    }
    let txn = begin_write(&ctx.db).await.map_err(db_error)?;
    let now = chrono::Utc::now();
    let moved = stage_runs::Entity::update_many()
        .col_expr(
            stage_runs::Column::State,
            sea_orm::sea_query::Expr::value(StageState::Deployed.as_str()),
        )
        .col_expr(
            stage_runs::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(stage_runs::Column::Id.eq(stage.id))
        .filter(stage_runs::Column::State.eq(StageState::Approved.as_str()))
        .exec(&txn)
        .await
        .map_err(db_error)?;
    if moved.rows_affected == 0 {
        say("the stage was already recorded as deployed".into());
        return Ok(());
    }
    match (&next, &production) {
        (Some(next), _) => {
            let mut active: stage_runs::ActiveModel = next.clone().into();
            active.state = Set(StageState::AwaitingSignOff.as_str().into());
            active.updated_at = Set(now);
            active.update(&txn).await.map_err(db_error)?;
            say(format!("stage {} awaits sign-off", next.position + 1));
        }
        (None, Some(tag)) => {
            let mut active: releases::ActiveModel = release.clone().into();
            active.state = Set("completed".into());
            active.production_tag = Set(Some(tag.clone()));
            active.completed_at = Set(Some(now));
            active.update(&txn).await.map_err(db_error)?;
            audit::record(
                &txn,
                &Actor::system("release"),
                Change::new("release.complete", "release", &release.rc_tag)
                    .after(&serde_json::json!({ "production_tag": tag })),
            )
            .await
            .map_err(db_error)?;
            say(format!("complete: tagged {tag}"));
        }
        (None, None) => {}
    }
    txn.commit().await.map_err(db_error)?;
    Ok(())
}

fn release_row(r: &releases::Model) -> crate::wire::releases::ReleaseRow {
    crate::wire::releases::ReleaseRow {
        id: r.id,
        app_set: r.app_set.clone(),
        bundle: r.bundle.clone(),
        kind: r.kind.clone(),
        rc_tag: r.rc_tag.clone(),
        state: r.state.clone(),
        starter: r.starter.clone(),
        production_tag: r.production_tag.clone(),
        created_at: super::when(&r.created_at),
    }
}

pub async fn list<C: ConnectionTrait>(db: &C) -> AppResult<Vec<crate::wire::releases::ReleaseRow>> {
    Ok(releases::Entity::find()
        .order_by_desc(releases::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(release_row)
        .collect())
}

pub async fn detail<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<crate::wire::releases::ReleaseView> {
    use crate::wire::releases::{ReleaseView, StageView, VoteRow};
    let release = releases::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Release {id}")))?;
    let items = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(id))
        .order_by_asc(release_items::Column::Application)
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.application, i.version, i.image))
        .collect();
    let mut stages = Vec::new();
    let mut events = vec![(
        release.created_at,
        format!("{} started {}", release.starter, release.rc_tag),
    )];
    for stage in stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(id))
        .order_by_asc(stage_runs::Column::Position)
        .all(db)
        .await?
    {
        let all_votes = votes::Entity::find()
            .filter(votes::Column::StageRunId.eq(stage.id))
            .order_by_asc(votes::Column::Id)
            .all(db)
            .await?;
        let active: Vec<votes::Model> = all_votes
            .iter()
            .filter(|v| v.withdrawn_at.is_none())
            .cloned()
            .collect();
        let environments = environments_of(&stage).join(" + ");
        for v in &all_votes {
            let comment = if v.comment.is_empty() {
                String::new()
            } else {
                format!(": “{}”", v.comment)
            };
            events.push((
                v.created_at,
                format!(
                    "{} ({}) {} stage {} — {environments}{comment}",
                    v.voter,
                    v.group_name,
                    if v.approve { "approved" } else { "rejected" },
                    stage.position + 1
                ),
            ));
            if let Some(at) = v.withdrawn_at {
                events.push((
                    at,
                    format!(
                        "{} withdrew their vote on stage {}",
                        v.voter,
                        stage.position + 1
                    ),
                ));
            }
        }
        let sign_off = sign_off_of(&stage);
        let state = StageState::parse(&stage.state).unwrap_or(StageState::Waiting);
        stages.push(StageView {
            position: stage.position,
            environments: environments_of(&stage),
            sign_off: sign_off
                .iter()
                .map(|s| (s.group.clone(), s.approvals))
                .collect(),
            state,
            gate: match state {
                StageState::Waiting => "Waits for the stage before it".into(),
                StageState::Deployed => "Signed off and deployed".into(),
                _ => gate(&sign_off, &as_votes(&active)).describe(),
            },
            votes: all_votes
                .iter()
                .map(|v| VoteRow {
                    voter: v.voter.clone(),
                    group: v.group_name.clone(),
                    approve: v.approve,
                    comment: v.comment.clone(),
                    at: super::when(&v.created_at),
                    withdrawn_at: v.withdrawn_at.as_ref().map(super::when),
                })
                .collect(),
        });
    }
    if let Some(at) = release.completed_at {
        events.push((
            at,
            match &release.production_tag {
                Some(tag) if release.state == "completed" => {
                    format!("completed: every image tagged {tag}")
                }
                _ => "stopped by the rejection".to_string(),
            },
        ));
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(ReleaseView {
        row: release_row(&release),
        items,
        stages,
        timeline: events
            .into_iter()
            .map(|(at, what)| (super::when(&at), what))
            .collect(),
        me: String::new(),
        my_groups: Vec::new(),
    })
}

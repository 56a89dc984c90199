//! Starting a release: its items (what was tested, or a hotfix's builds), the release candidate
//! tag on every image before anything names it, and the track's stages with the first one open.

use super::{enqueue_deploy, SignOffRow};
use crate::domain::manifests::Manifest;
use crate::domain::release_manifests::{ApplicationSet, TrackStage};
use crate::domain::releases::{
    check_bundle, next_rc, opened, rc_tag, DeploymentKind, ReleaseState, StageState,
};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{deployments, release_items, releases, stage_runs, votes};
use crate::server::{Actor, AppCtx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Starts a release of `app_set` for `bundle` (`hotfix`: a hotfix of the bundle's completed
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
    let (set, stages) = set_and_stages(ctx, app_set, hotfix).await?;
    let items = if hotfix {
        hotfix_items(ctx, app_set, bundle).await?
    } else {
        release_items_of(ctx, &set.applications).await?
    };
    let earlier = earlier_tags(&ctx.db, app_set).await?;
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
    let (id, deploys_at_once) = audit::audited(&ctx.db, actor, async |txn| {
        let release = releases::ActiveModel {
            app_set: Set(app_set.to_string()),
            bundle: Set(bundle.to_string()),
            kind: Set(if hotfix {
                DeploymentKind::Hotfix
            } else {
                DeploymentKind::Release
            }),
            rc: Set(rc as i32),
            rc_tag: Set(tag.clone()),
            state: Set(ReleaseState::Running),
            starter: Set(actor.label.clone()),
            production_tag: Set(None),
            created_at: Set(chrono::Utc::now()),
            completed_at: Set(None),
            ..Default::default()
        }
        .insert(txn)
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
            .insert(txn)
            .await?;
        }
        let deploys_at_once = insert_stages(txn, &release, &stages).await?;
        let change = Change::new("release.start", "release", &tag).after(&serde_json::json!({
            "app_set": app_set, "bundle": bundle, "rc": rc, "hotfix": hotfix,
            "items": items.iter().map(|(a, v, i)| serde_json::json!({ "application": a, "version": v, "image": i })).collect::<Vec<_>>(),
        }));
        Ok(((release.id, deploys_at_once), Some(change)))
    })
    .await?;
    if deploys_at_once {
        ctx.jobs_wake.notify_one();
    }
    Ok(id)
}

/// The saved ApplicationSet and the stages of its track a release (or hotfix) goes through.
async fn set_and_stages(
    ctx: &AppCtx,
    app_set: &str,
    hotfix: bool,
) -> AppResult<(ApplicationSet, Vec<TrackStage>)> {
    let all = crate::server::release_manifests::all(&ctx.db).await?;
    let set = all
        .iter()
        .find_map(|(_, m)| match m {
            Manifest::ApplicationSet(s) if s.metadata.name == app_set => Some(s.clone()),
            _ => None,
        })
        .ok_or_else(|| AppError::not_found(format!("ApplicationSet {app_set}")))?;
    let track = all
        .into_iter()
        .find_map(|(_, m)| match m {
            Manifest::ReleaseTrack(t) if t.metadata.name == set.release_track => Some(t),
            _ => None,
        })
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "the track {} of {app_set} is not saved",
                set.release_track
            ))
        })?;
    let (kind, stages) = if hotfix {
        ("hotfix", track.hotfix)
    } else {
        ("release", track.release)
    };
    if stages.is_empty() {
        return Err(AppError::Conflict(format!(
            "the track {} has no {kind} stages",
            track.metadata.name
        )));
    }
    Ok((set, stages))
}

/// The tags of the set's earlier releases; refused while one of them still runs.
async fn earlier_tags<C: ConnectionTrait>(db: &C, app_set: &str) -> AppResult<Vec<String>> {
    releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            if r.state == ReleaseState::Running {
                Err(AppError::Conflict(format!(
                    "{} is still running: finish or reject it first",
                    r.rc_tag
                )))
            } else {
                Ok(r.rc_tag)
            }
        })
        .collect()
}

/// The release's stages, the first one open (awaiting sign-off, or approved and its deployment
/// queued when it names none) and the rest waiting; true when the first deploys at once.
async fn insert_stages<C: ConnectionTrait>(
    txn: &C,
    release: &releases::Model,
    stages: &[TrackStage],
) -> AppResult<bool> {
    let mut deploys_at_once = false;
    for (position, stage) in stages.iter().enumerate() {
        let state = if position == 0 {
            opened(&stage.sign_off)
        } else {
            StageState::Waiting
        };
        let sign_off: Vec<SignOffRow> = stage
            .sign_off
            .iter()
            .map(|s| SignOffRow {
                group: s.group.clone(),
                approvals: s.approvals,
            })
            .collect();
        let row = stage_runs::ActiveModel {
            release_id: Set(release.id),
            position: Set(position as i32),
            environments: Set(
                serde_json::to_string(&stage.environments).map_err(AppError::internal)?
            ),
            sign_off: Set(serde_json::to_string(&sign_off).map_err(AppError::internal)?),
            soak_minutes: Set(stage.soak_minutes.min(i32::MAX as i64) as i32),
            verify: Set(stage.verify),
            verification: Set(None),
            state: Set(state),
            updated_at: Set(release.created_at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if state == StageState::Approved {
            enqueue_deploy(txn, row.id, release.id).await?;
            deploys_at_once = true;
        }
    }
    Ok(deploys_at_once)
}

/// Refuses to start again, unasked, a build whose last release of this bundle was rejected
/// with these very images: the release would take the same digests to the same people. The
/// refusal names who rejected it and why; `same_build_again` is the confirmation.
async fn refuse_a_rejected_build(
    db: &sea_orm::DatabaseConnection,
    app_set: &str,
    bundle: &str,
    items: &[(String, String, String)],
) -> AppResult<()> {
    let Some(last) = releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .filter(releases::Column::Bundle.eq(bundle))
        .order_by_desc(releases::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if last.state != ReleaseState::Rejected {
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
            .filter(deployments::Column::Kind.eq(DeploymentKind::Prerelease))
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
    use crate::domain::releases::{build_kind, BuildKind};
    use crate::server::entities::builds;
    let shipped = releases::Entity::find()
        .filter(releases::Column::AppSet.eq(app_set))
        .filter(releases::Column::Bundle.eq(bundle))
        .filter(releases::Column::State.eq(ReleaseState::Completed))
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

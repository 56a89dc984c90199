//! Sign-off: votes cast and withdrawn at a stage awaiting it, one voter at a time per stage.

use super::{active_votes, as_votes, enqueue_deploy, locked_stage, sign_off_of, Voter};
use crate::domain::releases::{gate, may_vote, ReleaseState, StageState};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{releases, stage_runs, votes};
use crate::server::AppCtx;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

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
    let value = audit::audited(&ctx.db, &voter.actor, async |txn| {
        let stage = locked_stage(txn, release_id, position).await?;
        let release = releases::Entity::find_by_id(release_id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("Release {release_id}")))?;
        if stage.state != StageState::AwaitingSignOff {
            return Err(AppError::Conflict(format!(
                "stage {} of {} is {}: it takes no votes now",
                position + 1,
                release.rc_tag,
                stage.state.label()
            )));
        }
        if let Some((_, soak)) = super::soaking(txn, &stage, chrono::Utc::now()).await? {
            return Err(AppError::Conflict(format!(
                "stage {} of {} takes no votes yet. {soak}",
                position + 1,
                release.rc_tag
            )));
        }
        let sign_off = sign_off_of(&stage);
        let cast = active_votes(txn, stage.id).await?;
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
        .insert(txn)
        .await?;
        let all = active_votes(txn, stage.id).await?;
        let outcome = gate(&sign_off, &as_votes(&all));
        let state = outcome.stage_state();
        if state != StageState::AwaitingSignOff {
            let mut active: stage_runs::ActiveModel = stage.clone().into();
            active.state = Set(state);
            active.updated_at = Set(now);
            active.update(txn).await?;
        }
        match state {
            StageState::Rejected => {
                let mut active: releases::ActiveModel = release.clone().into();
                active.state = Set(ReleaseState::Rejected);
                active.completed_at = Set(Some(now));
                active.update(txn).await?;
            }
            StageState::Approved => enqueue_deploy(txn, stage.id, release.id).await?,
            _ => {}
        }
        let change = Change::new(if approve { "release.approve" } else { "release.reject" }, "release", &release.rc_tag).after(
            &serde_json::json!({ "stage": position + 1, "group": group, "comment": comment, "gate": outcome.describe() }),
        );
        Ok((state, Some(change)))
    })
    .await?;
    if value == StageState::Approved {
        ctx.jobs_wake.notify_one();
    }
    Ok(value)
}

/// Withdraws the voter's vote at a stage, until its gate opens.
pub async fn withdraw(
    ctx: &AppCtx,
    voter: &Voter,
    release_id: i64,
    position: i32,
) -> AppResult<()> {
    audit::audited(&ctx.db, &voter.actor, async |txn| {
        let stage = locked_stage(txn, release_id, position).await?;
        if stage.state != StageState::AwaitingSignOff {
            return Err(AppError::Conflict(format!(
                "stage {} is {}: a vote can be withdrawn only while it awaits sign-off",
                position + 1,
                stage.state.label()
            )));
        }
        let mine = active_votes(txn, stage.id)
            .await?
            .into_iter()
            .find(|v| v.voter == voter.actor.label)
            .ok_or_else(|| AppError::Conflict("you have no vote here to withdraw".into()))?;
        let mut active: votes::ActiveModel = mine.clone().into();
        active.withdrawn_at = Set(Some(chrono::Utc::now()));
        active.update(txn).await?;
        let release = releases::Entity::find_by_id(release_id)
            .one(txn)
            .await?
            .map(|r| r.rc_tag)
            .unwrap_or_default();
        let change = Change::new("release.withdraw", "release", &release)
                .before(&serde_json::json!({ "stage": position + 1, "group": mine.group_name, "approve": mine.approve }));
        Ok(((), change))
    })
    .await
}

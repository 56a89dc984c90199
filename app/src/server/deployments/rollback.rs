//! Rollbacks: an application in an environment goes back to the version it ran before. Asked for
//! with a reason; signed off as the release stage that deployed the current version was (its
//! groups, distinct people, never the one who asked) — or, while a freeze holds the environment,
//! by the freeze's exception group (incident commanders by default), which lets it through that
//! freeze; a pre-release deployment needs no sign-off, as it needed none to arrive. Approved, a
//! durable job writes the previous DeploymentConfig back as a revert commit on the environment
//! configuration repository, records a `rollback` deployment (DORA counts it as restoring a
//! failure), and puts a promotion hold on the application there, so that the next automatic
//! pre-release deployment does not undo it; the hold stays until someone lifts it.

use super::*;
use crate::domain::freezes::Target;
use crate::domain::release_manifests::SignOff;
use crate::domain::releases::{gate, may_vote, StageState, Vote};
use crate::server::entities::{
    promotion_holds as holds, releases, rollback_votes as votes, rollbacks, stage_runs,
};
use crate::server::ports::ExternalError;
use crate::wire::releases::{HoldView, RollbackView};
use sea_orm::{DatabaseBackend, QuerySelect};

/// The job that writes an approved rollback.
pub const ROLLBACK_JOB: &str = "release.rollback";

const MAX_TEXT: usize = 2000;

pub const AWAITING: &str = "awaiting_sign_off";
pub const APPROVED: &str = "approved";
pub const DEPLOYED: &str = "deployed";
pub const REJECTED: &str = "rejected";

#[derive(serde::Serialize, serde::Deserialize)]
struct SignOffRow {
    group: String,
    approvals: u32,
}

fn sign_off_of(rollback: &rollbacks::Model) -> Vec<SignOff> {
    serde_json::from_str::<Vec<SignOffRow>>(&rollback.sign_off)
        .unwrap_or_default()
        .into_iter()
        .map(|s| SignOff {
            group: s.group,
            approvals: s.approvals,
        })
        .collect()
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

async fn votes_of<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Vec<votes::Model>> {
    Ok(votes::Entity::find()
        .filter(votes::Column::RollbackId.eq(id))
        .order_by_asc(votes::Column::Id)
        .all(db)
        .await?)
}

/// The job that writes an approved rollback.
pub struct RollbackDeploy;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct RollbackJob {
    pub rollback: i64,
}

impl crate::server::jobs::JobKind for RollbackDeploy {
    const NAME: &'static str = ROLLBACK_JOB;
    type Payload = RollbackJob;
}

impl crate::server::jobs::PlainJob for RollbackDeploy {
    fn run<'a>(
        ctx: &'a AppCtx,
        payload: RollbackJob,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), ExternalError>> + Send + 'a {
        deploy_rollback(ctx, payload.rollback, say)
    }
}

async fn enqueue<C: ConnectionTrait>(db: &C, id: i64, environment: &str) -> AppResult<()> {
    crate::server::jobs::enqueue_job::<RollbackDeploy, _>(
        db,
        &RollbackJob { rollback: id },
        Some(&format!("rollback:{id}")),
        Some(&format!("environment:{environment}")),
        5,
    )
    .await?;
    Ok(())
}

/// The deployment an environment runs of an application now, and the latest one before it of
/// another version (what a rollback goes back to).
async fn current_and_previous<C: ConnectionTrait>(
    db: &C,
    environment: &str,
    application: &str,
) -> AppResult<(Option<deployments::Model>, Option<deployments::Model>)> {
    let current = deployments::Entity::find()
        .filter(deployments::Column::Environment.eq(environment))
        .filter(deployments::Column::Application.eq(application))
        .order_by_desc(deployments::Column::Id)
        .one(db)
        .await?;
    let Some(current) = current else {
        return Ok((None, None));
    };
    let previous = deployments::Entity::find()
        .filter(deployments::Column::Environment.eq(environment))
        .filter(deployments::Column::Application.eq(application))
        .filter(deployments::Column::Id.lt(current.id))
        .filter(deployments::Column::Version.ne(current.version.clone()))
        .order_by_desc(deployments::Column::Id)
        .one(db)
        .await?;
    Ok((Some(current), previous))
}

/// Who signs off a rollback of `current` in `environment` now: the freeze's exception group
/// while one holds it (and the freeze's name), else the sign-off of the release stage that
/// deployed it there, else nobody (a pre-release deployment).
async fn sign_off_for<C: ConnectionTrait>(
    db: &C,
    environment: &str,
    current: &deployments::Model,
) -> AppResult<(Vec<SignOff>, Option<String>)> {
    let target = [Target::Environment(environment)];
    if let Some(note) =
        crate::server::freezes::frozen(db, &target, None, chrono::Utc::now()).await?
    {
        if let Some((freeze, _)) = crate::server::freezes::windows(db)
            .await?
            .into_iter()
            .find(|(f, _)| f.metadata.name == note.freeze)
        {
            return Ok((
                vec![SignOff {
                    group: freeze.exception_group,
                    approvals: freeze.approvals,
                }],
                Some(note.freeze),
            ));
        }
    }
    let Some(release) = current.release_id else {
        return Ok((Vec::new(), None));
    };
    let stage = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(release))
        .all(db)
        .await?
        .into_iter()
        .find(|s| {
            serde_json::from_str::<Vec<String>>(&s.environments)
                .unwrap_or_default()
                .iter()
                .any(|e| e == environment)
        });
    Ok((
        stage
            .map(|s| crate::server::releases::sign_off_of(&s))
            .unwrap_or_default(),
        None,
    ))
}

/// Asks for `application` in `environment` to go back to the version it ran before. Returns the
/// rollback's id; approved at once (and its job queued) when nobody must sign it off.
pub async fn request_rollback(
    ctx: &AppCtx,
    actor: &Actor,
    environment: &str,
    application: &str,
    reason: &str,
) -> AppResult<i64> {
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            "reason",
            format!("say why it goes back (at most {MAX_TEXT} characters)"),
        ));
    }
    if actor.user_id.is_none() {
        return Err(AppError::Forbidden(
            "only a person asks for a rollback".into(),
        ));
    }
    let (id, approved) = audit::audited(&ctx.db, actor, async |txn| {
        let (current, previous) = current_and_previous(txn, environment, application).await?;
        let Some(current) = current else {
            return Err(AppError::not_found(format_args!(
                "A deployment of {application} to {environment}"
            )));
        };
        let Some(previous) = previous else {
            return Err(AppError::Conflict(format!(
                "{application} has run only {} in {environment}: there is nothing to roll back to",
                current.version
            )));
        };
        let open = rollbacks::Entity::find()
            .filter(rollbacks::Column::Environment.eq(environment))
            .filter(rollbacks::Column::Application.eq(application))
            .filter(rollbacks::Column::State.is_in([AWAITING, APPROVED]))
            .one(txn)
            .await?;
        if let Some(open) = open {
            return Err(AppError::Conflict(format!(
                "a rollback of {application} in {environment} is open already (asked by {}): sign it off or reject it",
                open.requested_by
            )));
        }
        let (sign_off, freeze) = sign_off_for(txn, environment, &current).await?;
        let rows: Vec<SignOffRow> = sign_off
            .iter()
            .map(|s| SignOffRow {
                group: s.group.clone(),
                approvals: s.approvals,
            })
            .collect();
        let approved = sign_off.is_empty();
        let now = chrono::Utc::now();
        let row = rollbacks::ActiveModel {
            environment: Set(environment.to_string()),
            application: Set(application.to_string()),
            from_deployment_id: Set(current.id),
            to_deployment_id: Set(previous.id),
            from_version: Set(current.version.clone()),
            to_version: Set(previous.version.clone()),
            requested_by: Set(actor.label.clone()),
            reason: Set(reason.clone()),
            sign_off: Set(serde_json::to_string(&rows).map_err(AppError::internal)?),
            freeze: Set(freeze.clone()),
            state: Set(if approved { APPROVED } else { AWAITING }.to_string()),
            created_at: Set(now),
            decided_at: Set(approved.then_some(now)),
            config_commit: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if approved {
            enqueue(txn, row.id, environment).await?;
        }
        let change = Change::new(
            "rollback.request",
            "release",
            format!("{environment}/{application}"),
        )
        .after(&serde_json::json!({
            "rollback": row.id, "from": current.version, "to": previous.version,
            "reason": reason, "sign_off": rows, "freeze": freeze,
        }));
        Ok(((row.id, approved), change))
    })
    .await?;
    if approved {
        ctx.jobs_wake.notify_one();
    }
    Ok(id)
}

/// Casts a vote on a rollback awaiting sign-off, as on a release stage: by a member of one of its
/// groups, once, never the one who asked for it (who may still reject it). A rejection ends it;
/// the approval that completes the sign-off queues its job. Returns its state.
pub async fn vote_rollback(
    ctx: &AppCtx,
    voter: &crate::server::releases::Voter,
    id: i64,
    group: &str,
    approve: bool,
    comment: &str,
) -> AppResult<String> {
    let comment = comment.trim().to_string();
    if comment.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            "comment",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if !approve && comment.is_empty() {
        return Err(AppError::invalid("comment", "say why you reject it"));
    }
    let state = audit::audited(&ctx.db, &voter.actor, async |txn| {
        let mut query = rollbacks::Entity::find_by_id(id);
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_exclusive();
        }
        let row = query
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("Rollback {id}")))?;
        if row.state != AWAITING {
            return Err(AppError::Conflict(format!(
                "the rollback of {} in {} is {}: it takes no votes now",
                row.application,
                row.environment,
                row.state.replace('_', " ")
            )));
        }
        let sign_off = sign_off_of(&row);
        let cast = votes_of(txn, id).await?;
        may_vote(
            &sign_off,
            &as_votes(&cast),
            &row.requested_by,
            &voter.actor.label,
            &voter.groups,
            group,
            approve,
        )
        .map_err(|why| AppError::Forbidden(why.replace("you started this release", "you asked for this rollback")))?;
        let now = chrono::Utc::now();
        votes::ActiveModel {
            rollback_id: Set(id),
            voter: Set(voter.actor.label.clone()),
            group_name: Set(group.to_string()),
            approve: Set(approve),
            comment: Set(comment.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let all = votes_of(txn, id).await?;
        let outcome = gate(&sign_off, &as_votes(&all));
        let state = match outcome.stage_state() {
            StageState::Approved => APPROVED,
            StageState::Rejected => REJECTED,
            _ => AWAITING,
        };
        if state != AWAITING {
            let mut active: rollbacks::ActiveModel = row.clone().into();
            active.state = Set(state.to_string());
            active.decided_at = Set(Some(now));
            active.update(txn).await?;
            if state == APPROVED {
                enqueue(txn, id, &row.environment).await?;
            }
        }
        let change = Change::new(
            if approve { "rollback.approve" } else { "rollback.reject" },
            "release",
            format!("{}/{}", row.environment, row.application),
        )
        .after(&serde_json::json!({ "rollback": id, "group": group, "comment": comment, "gate": outcome.describe() }));
        Ok((state.to_string(), change))
    })
    .await?;
    if state == APPROVED {
        ctx.jobs_wake.notify_one();
    }
    Ok(state)
}

/// Writes an approved rollback (the job): the previous DeploymentConfig as a revert commit, a
/// `rollback` deployment, the promotion hold. Safe to run again: a rollback written already is
/// not written twice, and the commit of the same content again is the head.
pub async fn deploy_rollback(
    ctx: &AppCtx,
    id: i64,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), ExternalError> {
    let row = rollbacks::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExternalError::permanent(format!("rollback {id} is gone")))?;
    if row.state != APPROVED {
        say(format!(
            "the rollback is {}: nothing to write",
            row.state.replace('_', " ")
        ));
        return Ok(());
    }
    // A freeze holds it unless it was signed off by that freeze's group (then it is the
    // exception the freeze allows).
    crate::server::freezes::hold_unless(
        &ctx.db,
        &[Target::Environment(&row.environment)],
        &format!("rollback:{id}"),
        row.freeze.as_deref(),
    )
    .await?;
    let to = deployments::Entity::find_by_id(row.to_deployment_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExternalError::permanent("the deployment to go back to is gone"))?;
    let tag = match to.release_id {
        Some(release) => releases::Entity::find_by_id(release)
            .one(&ctx.db)
            .await?
            .map(|r| r.rc_tag),
        None => None,
    };
    let approvers: Vec<String> = votes_of(&ctx.db, id)
        .await?
        .into_iter()
        .filter(|v| v.approve)
        .map(|v| format!("{} ({})", v.voter, v.group_name))
        .collect();
    let path = deployment_path(&row.environment, &row.application);
    let contents = deployment_config(
        &row.application,
        &row.environment,
        &to.version,
        &to.image,
        tag.as_deref(),
    );
    let message = format!(
        "revert({env}): {app} {from} → {back}\n\nRolls {app} in {env} back from {from} to {back}: {reason}\nAsked for by {by}. Approved by {approved}.\nSlipway-Rollback: {id}\n",
        env = row.environment,
        app = row.application,
        from = row.from_version,
        back = row.to_version,
        reason = row.reason,
        by = row.requested_by,
        approved = if approvers.is_empty() { "no one (no sign-off required)".to_string() } else { approvers.join(", ") },
    );
    let commit = commit_deployment(ctx, &[(path, contents)], &message).await?;
    let txn = begin_write(&ctx.db).await?;
    let moved = rollbacks::Entity::update_many()
        .col_expr(
            rollbacks::Column::State,
            sea_orm::sea_query::Expr::value(DEPLOYED),
        )
        .col_expr(
            rollbacks::Column::ConfigCommit,
            sea_orm::sea_query::Expr::value(commit.clone()),
        )
        .filter(rollbacks::Column::Id.eq(id))
        .filter(rollbacks::Column::State.eq(APPROVED))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        say("the rollback was written already".into());
        return Ok(());
    }
    let now = chrono::Utc::now();
    let deployment = deployments::ActiveModel {
        environment: Set(row.environment.clone()),
        application: Set(row.application.clone()),
        version: Set(to.version.clone()),
        image: Set(to.image.clone()),
        kind: Set(crate::domain::releases::DeploymentKind::Rollback),
        build_id: Set(to.build_id),
        release_id: Set(to.release_id),
        config_commit: Set(commit.clone()),
        deployed_by: Set(format!(
            "rollback #{id} (asked for by {})",
            row.requested_by
        )),
        deployed_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    holds::ActiveModel {
        environment: Set(row.environment.clone()),
        application: Set(row.application.clone()),
        reason: Set(format!(
            "Rolled back from {} to {}: {}",
            row.from_version, row.to_version, row.reason
        )),
        rollback_id: Set(Some(id)),
        set_by: Set(row.requested_by.clone()),
        set_at: Set(now),
        lifted_by: Set(None),
        lifted_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &Actor::system("release"),
        Change::new(
            "deployment.rollback",
            "release",
            &format!("{}/{}", row.environment, row.application),
        )
        .after(&serde_json::json!({
            "rollback": id, "deployment": deployment.id, "from": row.from_version,
            "to": row.to_version, "commit": commit, "approvers": approvers,
        })),
    )
    .await?;
    txn.commit().await?;
    say(format!(
        "{}: {} back to {} ({}); automatic deployments there are held",
        row.environment,
        row.application,
        row.to_version,
        &commit[..commit.len().min(7)]
    ));
    Ok(())
}

/// The rollbacks awaiting sign-off, with their sign-off and the votes cast (for "Needs you").
pub async fn awaiting_sign_off<C: ConnectionTrait>(
    db: &C,
) -> AppResult<Vec<(rollbacks::Model, Vec<SignOff>, Vec<Vote>)>> {
    let mut out = Vec::new();
    for row in rollbacks::Entity::find()
        .filter(rollbacks::Column::State.eq(AWAITING))
        .order_by_asc(rollbacks::Column::Id)
        .all(db)
        .await?
    {
        let sign_off = sign_off_of(&row);
        let cast = as_votes(&votes_of(db, row.id).await?);
        out.push((row, sign_off, cast));
    }
    Ok(out)
}

/// The active promotion hold on `application` in `environment`, if any.
pub async fn hold_on<C: ConnectionTrait>(
    db: &C,
    environment: &str,
    application: &str,
) -> AppResult<Option<holds::Model>> {
    Ok(holds::Entity::find()
        .filter(holds::Column::Environment.eq(environment))
        .filter(holds::Column::Application.eq(application))
        .filter(holds::Column::LiftedAt.is_null())
        .one(db)
        .await?)
}

/// Lifts a promotion hold: the next pre-release deployment goes there again. Audited.
pub async fn lift_hold(ctx: &AppCtx, actor: &Actor, id: i64) -> AppResult<()> {
    audit::audited(&ctx.db, actor, async |txn| {
        let row = holds::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("Promotion hold {id}")))?;
        if let Some(by) = &row.lifted_by {
            return Err(AppError::Conflict(format!(
                "the hold was lifted already, by {by}"
            )));
        }
        let mut active: holds::ActiveModel = row.clone().into();
        active.lifted_by = Set(Some(actor.label.clone()));
        active.lifted_at = Set(Some(chrono::Utc::now()));
        active.update(txn).await?;
        let change = Change::new(
            "promotion_hold.lift",
            "release",
            format!("{}/{}", row.environment, row.application),
        )
        .before(&serde_json::json!({ "hold": id, "reason": row.reason }));
        Ok(((), change))
    })
    .await
}

/// The rollbacks of the last 30 days and those still open, newest first, and the holds in
/// force, as `viewer` (login, groups) sees them.
pub async fn rollbacks_and_holds<C: ConnectionTrait>(
    db: &C,
    viewer: (&str, &[String]),
) -> AppResult<(Vec<RollbackView>, Vec<HoldView>)> {
    let since = chrono::Utc::now() - chrono::Duration::days(30);
    let rows = rollbacks::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(rollbacks::Column::State.is_in([AWAITING, APPROVED]))
                .add(rollbacks::Column::CreatedAt.gte(since)),
        )
        .order_by_desc(rollbacks::Column::Id)
        .all(db)
        .await?;
    let mut views = Vec::new();
    for row in rows {
        let cast = votes_of(db, row.id).await?;
        let sign_off = sign_off_of(&row);
        let active = as_votes(&cast);
        let my_groups: Vec<String> = sign_off
            .iter()
            .map(|s| s.group.clone())
            .filter(|g| viewer.1.contains(g))
            .collect();
        let voted = cast.iter().any(|v| v.voter == viewer.0);
        views.push(RollbackView {
            id: row.id,
            environment: row.environment.clone(),
            application: row.application.clone(),
            from_version: row.from_version.clone(),
            to_version: row.to_version.clone(),
            requested_by: row.requested_by.clone(),
            reason: row.reason.clone(),
            state: row.state.clone(),
            gate: if row.state == AWAITING {
                gate(&sign_off, &active).describe()
            } else {
                row.state.replace('_', " ")
            },
            sign_off: sign_off
                .iter()
                .map(|s| (s.group.clone(), s.approvals))
                .collect(),
            votes: cast
                .iter()
                .map(|v| {
                    format!(
                        "{} {} ({})",
                        if v.approve { "✓" } else { "✗" },
                        v.voter,
                        v.group_name
                    )
                })
                .collect(),
            freeze: row.freeze.clone(),
            my_groups: if row.state == AWAITING && !voted {
                my_groups
            } else {
                Vec::new()
            },
            asked_it: row.requested_by == viewer.0,
            commit: row.config_commit.clone(),
            created_at: crate::server::when(&row.created_at),
        });
    }
    let holds = holds::Entity::find()
        .filter(holds::Column::LiftedAt.is_null())
        .order_by_asc(holds::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|h| HoldView {
            id: h.id,
            environment: h.environment,
            application: h.application,
            reason: h.reason,
            set_by: h.set_by,
            set_at: crate::server::when(&h.set_at),
        })
        .collect();
    Ok((views, holds))
}

/// The version each (environment, application) would roll back to, for the Environments table.
pub async fn previous_versions<C: ConnectionTrait>(
    db: &C,
    current: &[deployments::Model],
) -> AppResult<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(current.len());
    for d in current {
        let (_, previous) = current_and_previous(db, &d.environment, &d.application).await?;
        out.push(previous.map(|p| p.version));
    }
    Ok(out)
}

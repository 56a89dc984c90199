//! Releases of an application set's bundle. Starting one takes each application's latest
//! pre-release build (version and image digest), tags every digest with the release candidate
//! tag before anything is deployed, and opens the track's first release stage for sign-off.
//! Votes are cast one at a time per stage (the stage row is locked), so of two approvals racing
//! on two replicas exactly one opens the gate; an open gate queues the stage's deployment once
//! (a durable job keyed by the stage): one commit per environment on the configuration
//! repository, naming the release, the stage and the approvers. The last stage deployed, the
//! production tag is made and the release is complete; one rejection stops it.

mod deploy;
mod sign_off;
mod start;
mod verify;
mod views;

pub use deploy::deploy_stage;
pub use sign_off::{vote, withdraw};
pub use start::start;
pub use verify::{receive_verification, rotate_verification_secret, Verified};
pub use views::{detail, list};

use super::entities::{stage_runs, votes};
use super::{Actor, AppCtx};
use crate::domain::release_manifests::SignOff;
use crate::domain::releases::Vote;
use crate::error::{AppError, AppResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
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

pub(crate) fn sign_off_of(stage: &stage_runs::Model) -> Vec<SignOff> {
    serde_json::from_str::<Vec<SignOffRow>>(&stage.sign_off)
        .unwrap_or_default()
        .into_iter()
        .map(|s| SignOff {
            group: s.group,
            approvals: s.approvals,
        })
        .collect()
}

/// When a stage with a soak time may open: its soak after the latest deployment of the stage
/// before it (in this release). None when it has none, or the stage before has not deployed.
pub(crate) async fn soak_ends<C: ConnectionTrait>(
    db: &C,
    stage: &stage_runs::Model,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    use super::entities::deployments;
    if stage.soak_minutes <= 0 || stage.position == 0 {
        return Ok(None);
    }
    let Some(previous) = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(stage.release_id))
        .filter(stage_runs::Column::Position.eq(stage.position - 1))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let last = deployments::Entity::find()
        .filter(deployments::Column::ReleaseId.eq(stage.release_id))
        .filter(deployments::Column::Environment.is_in(environments_of(&previous)))
        .order_by_desc(deployments::Column::DeployedAt)
        .one(db)
        .await?;
    Ok(last.map(|d| d.deployed_at + chrono::Duration::minutes(stage.soak_minutes as i64)))
}

/// "stage 2 soaks until …: 24h after stage 1 deployed", when it still soaks at `now`.
pub(crate) async fn soaking<C: ConnectionTrait>(
    db: &C,
    stage: &stage_runs::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<(chrono::DateTime<chrono::Utc>, String)>> {
    Ok(soak_ends(db, stage)
        .await?
        .filter(|end| now < *end)
        .map(|end| {
            (
                end,
                format!(
                    "Soak time {}: opens at {} (after stage {} has run that long)",
                    crate::domain::freezes::format_duration(stage.soak_minutes as i64),
                    super::when(&end),
                    stage.position
                ),
            )
        }))
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

/// The job that deploys a signed-off stage.
pub struct StageDeploy;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct StageJob {
    pub stage: i64,
}

impl super::jobs::JobKind for StageDeploy {
    const NAME: &'static str = STAGE_JOB;
    type Payload = StageJob;
}

impl super::jobs::PlainJob for StageDeploy {
    fn run<'a>(
        ctx: &'a AppCtx,
        payload: StageJob,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), super::ports::ExternalError>> + Send + 'a
    {
        deploy_stage(ctx, payload.stage, say)
    }
}

/// Queues the deployment of a stage whose gate opened: once per stage (the idempotency key), one
/// release's stages at a time (the serial key).
async fn enqueue_deploy<C: ConnectionTrait>(db: &C, stage: i64, release: i64) -> AppResult<()> {
    super::jobs::enqueue_job::<StageDeploy, _>(
        db,
        &StageJob { stage },
        Some(&format!("stage:{stage}")),
        Some(&format!("release:{release}")),
        5,
    )
    .await?;
    Ok(())
}

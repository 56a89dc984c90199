//! Plans and applies of resources (issue "Resources that really exist"): every pull request a
//! sync opens is planned (`plan`, or `plan -destroy` for a delete branch) by a durable job; an
//! approval covers exactly the plan shown for the head commit reviewed; after the merge that
//! saved plan is applied, or, when the state moved since it was made, planned again and
//! approved again. Slipway keeps each resource's state (every version, sealed) as the runtime's
//! HTTP state backend, and its outputs after each apply.
//!
//! Who may do what: planning is Slipway's own (queued by a sync); approving a plan is a review
//! (`resource:review`, never by an author of the change); applying follows an approval only.

use crate::domain::drift::PlanPurpose;
use crate::domain::executors::Runtime;
use crate::domain::jobs::JobStatus;
use crate::domain::plans::{PlanStatus, PlanSummary};
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::domain::workspaces::{SyncKind, WorkspaceStatus};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{
    jobs as job_rows, plans, pull_requests, resources, state_locks, state_versions,
    workspace_resources,
};
use crate::server::jobs::{self, JobKind, Outcome};
use crate::server::{when, Actor, AppCtx};
use crate::wire::plans::{OutputRow, PlanView, ResourceRuns, StateDiff, StateVersionRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod comment;
mod drift;
mod queue;
mod record;
mod state;
mod views;
mod work;
pub use comment::*;
pub use drift::*;
pub use queue::*;
#[allow(unused_imports)]
pub(crate) use queue::*;
pub use record::*;
pub use state::*;
pub use views::*;
pub use work::*;

pub const PLAN_JOB: &str = "resource.plan";
pub const APPLY_JOB: &str = "resource.apply";

/// Plans a resource's pull request head.
pub(crate) struct PlanJob;

impl JobKind for PlanJob {
    const NAME: &'static str = PLAN_JOB;
    type Payload = RunPayload;
}

/// Applies an approved, saved plan.
pub(crate) struct ApplyJob;

impl JobKind for ApplyJob {
    const NAME: &'static str = APPLY_JOB;
    type Payload = RunPayload;
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunPayload {
    pub plan_id: i64,
}

/// Attempts per run: a run that could not start (a source unreachable) backs off 2, 4, 8 s.
pub(crate) const ATTEMPTS: i32 = 4;

/// A resource's runs go one at a time, in order (its state allows one writer).
pub fn serial_key(resource_id: i64) -> String {
    format!("resource:{resource_id}")
}

fn state_purpose(resource_id: i64) -> String {
    format!("resource:{resource_id}:state")
}

fn outputs_purpose(resource_id: i64) -> String {
    format!("resource:{resource_id}:outputs")
}

fn plan_file_purpose(plan_id: i64) -> String {
    format!("plan:{plan_id}:file")
}

fn plan_json_purpose(plan_id: i64) -> String {
    format!("plan:{plan_id}:json")
}

pub(crate) async fn plan_by_id<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<plans::Model> {
    plans::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("Plan #{id}")))
}

/// The id of the resource's newest state version (`None`: it has no state yet).
pub(crate) async fn latest_state_id<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Option<i64>> {
    Ok(state_versions::Entity::find()
        .filter(state_versions::Column::ResourceId.eq(resource_id))
        .order_by_desc(state_versions::Column::Id)
        .one(db)
        .await?
        .map(|v| v.id))
}

//! The wire types of plans, state and outputs: what the resource page and the pull request
//! page show of a resource's runs.

use crate::domain::executors::Runtime;
use crate::domain::plans::{PlanStatus, PlanSummary};
use crate::domain::workspaces::SyncKind;
use serde::{Deserialize, Serialize};

/// One plan of a resource, as a person reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub status: PlanStatus,
    /// Update: `plan`; Delete: `plan -destroy`.
    pub mode: SyncKind,
    /// A change, or a drift check (refresh-only).
    pub purpose: crate::domain::drift::PlanPurpose,
    /// What each policy said of it (a denial blocks approval until overridden).
    pub policies: Vec<crate::domain::policies::PolicyResult>,
    /// The pull request head the plan was made for (an approval covers exactly it).
    pub commit: String,
    pub pull_number: Option<i64>,
    pub summary: Option<PlanSummary>,
    /// `+a ~c -d`, once planned.
    pub counts: Option<String>,
    /// The error lines of a failed plan or apply.
    pub error: Vec<String>,
    /// The variables taken from parents' outputs, as this plan resolved them.
    pub inputs: Vec<PlanInput>,
    pub runtime: Runtime,
    pub runtime_version: Option<String>,
    pub approved_by: Option<String>,
    pub requested_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub applied_at: Option<String>,
}

/// A variable taken from a parent's output, as a plan resolved it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    pub variable: String,
    /// `parent.output`.
    pub from: String,
    /// Compact JSON; `None` when the output is sensitive.
    pub value: Option<String>,
}

/// One output of the resource's last apply; a sensitive one's value is never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRow {
    pub name: String,
    /// Compact JSON of the value; `None` when sensitive.
    pub value: Option<String>,
    pub sensitive: bool,
}

/// One version of a resource's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVersionRow {
    pub id: i64,
    pub serial: i64,
    pub lineage: String,
    pub size: i64,
    pub sha256: String,
    pub plan_id: Option<i64>,
    pub created_by: String,
    pub created_at: String,
}

/// What a resource's runs left: its latest plan, its plans, the state's versions and who holds
/// its lock (the outputs are on the resource itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceRuns {
    pub latest: Option<PlanView>,
    pub plans: Vec<PlanView>,
    pub states: Vec<StateVersionRow>,
    /// Who holds the state lock now, and since when ("run of job #12 (plan) since …").
    pub lock: Option<String>,
    /// The freeze that holds the approved change's apply now, if one does.
    pub frozen: Option<crate::wire::freezes::FrozenNote>,
}

/// Two state versions compared: the lines of the (sensitive-free) resource listing that differ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDiff {
    pub from: i64,
    pub to: i64,
    pub lines: Vec<crate::domain::resources::DiffLine>,
}

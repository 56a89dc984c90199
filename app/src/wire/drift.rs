//! The wire types of drift: the Drift page's list, and a resource's current drift.

use crate::domain::drift::{DriftStatus, Resolution};
use crate::domain::plans::PlanSummary;
use serde::{Deserialize, Serialize};

/// One drift record as the lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    pub id: i64,
    pub resource: String,
    pub resource_name: String,
    pub workspace: String,
    /// Who owns the resource (who created it).
    pub owner: String,
    pub status: DriftStatus,
    pub detected_at: String,
    /// How long ago it was first found ("3 hours").
    pub age: String,
    pub last_seen_at: String,
    /// How many objects drifted (changed, or gone).
    pub objects: i32,
    pub acknowledged_by: Option<String>,
    pub reason: Option<String>,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    /// A reconcile was asked for (by whom): its pull request is the resource's open one.
    pub reconcile_by: Option<String>,
    /// Accepting the world as it is was proposed (by whom); someone else approves.
    pub accept_by: Option<String>,
}

/// The Drift page: what is drifted now (oldest first), what was resolved lately, and the
/// checks under way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftList {
    pub current: Vec<DriftRow>,
    pub resolved: Vec<DriftRow>,
    pub checks_running: u64,
}

/// A resource's drift: the current record with what changed, its last check, and the
/// schedule that checks it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceDrift {
    pub current: Option<DriftRow>,
    /// What the newest check found changed outside the code.
    pub summary: Option<PlanSummary>,
    /// The check whose refresh-only plan accepting the drift would apply (ready and newest).
    pub acceptable_plan: Option<i64>,
    /// That plan, when accepting it was proposed (and by whom): it awaits an approval.
    pub proposed_plan: Option<i64>,
    /// The newest check: its plan id, state ("ready for review", "plan failed", …), when.
    pub last_check: Option<DriftCheck>,
    /// "daily", "every 6 hours", "off".
    pub schedule: String,
    pub next_check: Option<String>,
    /// Whether the resource can be checked at all (provisioned, its code merged).
    pub checkable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCheck {
    pub plan_id: i64,
    pub job_id: i64,
    pub state: String,
    pub running: bool,
    pub drifted: bool,
    pub error: Vec<String>,
    pub requested_by: String,
    pub at: String,
}

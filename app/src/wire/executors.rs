//! The wire types of executors: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use super::sources::IntegrationChoice;
use crate::domain::executors::{RunAction, Runtime};
use crate::domain::jobs::JobStatus;
use crate::domain::resources::{ResourceState, ResourceStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: i64,
    pub job_id: i64,
    pub action: RunAction,
    pub status: JobStatus,
    pub attempts: i32,
    pub exit_code: Option<i32>,
    pub commit: Option<String>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub runtime: Runtime,
    /// The arguments as split, each one argv element.
    pub arguments: Vec<String>,
    /// The arguments as typed back into the form.
    pub command: String,
    pub source_id: i64,
    pub source_url: String,
    pub git_ref: String,
    pub module_path: String,
    pub state: ResourceState,
    pub status: ResourceStatus,
    pub integrations: Vec<IntegrationChoice>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorsView {
    pub executors: Vec<ExecutorRow>,
    /// (id, url) of each source code repository.
    pub sources: Vec<(i64, String)>,
    pub integrations: Vec<IntegrationChoice>,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorDetail {
    pub executor: ExecutorRow,
    pub runs: Vec<RunRow>,
    pub can_run: bool,
    /// An apply runs with the attached integrations' full rights: it takes administer on each
    /// of them (planning takes use). Why the caller may not, when they may not.
    pub apply_refused: Option<String>,
    pub can_delete: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub runtime: String,
    /// Arguments for plan / apply, split into words (quotes respected; nothing else is special).
    #[serde(default)]
    pub command: String,
    pub source_id: String,
    pub git_ref: String,
    #[serde(default)]
    pub module_path: String,
    #[serde(default)]
    pub integrations: BTreeMap<String, String>,
}

/// One line of a job's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: i32,
    pub attempt: i32,
    /// `out`, `err` or `slipway` (lines Slipway itself writes).
    pub stream: String,
    pub line: String,
}

/// A run and the lines of its log after the ones the page already has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLog {
    pub run: RunRow,
    pub lines: Vec<LogLine>,
    /// The run has ended: no more lines will come.
    pub done: bool,
}

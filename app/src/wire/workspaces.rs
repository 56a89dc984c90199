//! The wire types of workspaces: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::integrations::Provider;
use crate::domain::resources::ResourceState;
use crate::domain::workspaces::{RepoConfig, WorkspaceStatus};
use crate::wire::sources::IntegrationChoice;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRow {
    pub slug: String,
    pub name: String,
    pub provider: Provider,
    /// The git integration's slug.
    pub integration: String,
    /// What was registered: `org/name`.
    pub repository: String,
    pub config: RepoConfig,
    pub description: String,
    pub labels: Vec<String>,
    pub status: WorkspaceStatus,
    pub status_message: Option<String>,
    pub resources: u64,
    pub open_pulls: u64,
    pub created_by: String,
    pub created_at: String,
    /// Minutes between scheduled drift checks (0: none), and when the next is due.
    pub drift_interval_minutes: i32,
    pub drift_next_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspacesView {
    pub workspaces: Vec<WorkspaceRow>,
    /// Git integrations a new workspace can use.
    pub integrations: Vec<IntegrationChoice>,
    pub can_create: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWorkspace {
    pub integration: String,
    pub repository: String,
    #[serde(default)]
    pub description: String,
    /// Comma-separated.
    #[serde(default)]
    pub labels: String,
}

/// A resource whose code lives in the workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceResourceRow {
    pub slug: String,
    pub name: String,
    pub template_key: String,
    /// `<template_key>/<folder slug>`.
    pub folder: String,
    pub state: ResourceState,
    pub status: WorkspaceStatus,
    pub status_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRow {
    pub number: i64,
    pub kind: crate::domain::workspaces::SyncKind,
    pub resource: Option<String>,
    pub title: String,
    pub head_branch: String,
    pub base_branch: String,
    pub state: crate::domain::workspaces::PullState,
    pub url: String,
    pub created_by: String,
    /// Everyone whose change is in it: none of them may approve it.
    pub authors: Vec<String>,
    /// The commit a review approves: a later commit needs a new review.
    pub head_commit: Option<String>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceDetail {
    pub workspace: WorkspaceRow,
    pub resources: Vec<WorkspaceResourceRow>,
    pub pulls: Vec<PullRow>,
    pub can_edit: bool,
    pub can_delete: bool,
    /// Why deleting is refused now, if it is.
    pub delete_blocker: Option<String>,
}

/// The last job queued for a resource's workspace work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub id: i64,
    /// What it does, for people: "Sync", "Delete", "Approve", "Reject".
    pub title: String,
    pub status: crate::domain::jobs::JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// A resource's place in its workspace, as the resource page shows it, with the lines of its
/// last job's log after the ones the page already has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceWorkspace {
    pub workspace: String,
    pub repository: String,
    pub url: String,
    pub default_branch: String,
    pub folder: String,
    pub status: WorkspaceStatus,
    pub status_message: Option<String>,
    pub open_pull: Option<PullRow>,
    /// The resource's newest plan: of the open pull request's head once planned (what an
    /// approval covers), or made after a merge whose first plan went stale.
    pub plan: Option<crate::wire::plans::PlanView>,
    pub job: Option<JobView>,
    pub lines: Vec<crate::wire::executors::LogLine>,
    /// No job is queued or running: the log is complete.
    pub done: bool,
    pub can_review: bool,
    /// The caller's change is in the open pull request: they may reject it, not approve it.
    pub is_author: bool,
    /// Provisioned and idle: its code can be written again and merged (recreate).
    pub recreatable: bool,
    /// The last job failed and the caller may run it again.
    pub can_retry: bool,
}

/// One file of a pull request's change, as a line diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullFile {
    pub path: String,
    /// added | removed | changed
    pub change: String,
    pub lines: Vec<crate::domain::resources::DiffLine>,
}

/// A pull request in the local forge, with its change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullDetail {
    pub workspace: String,
    pub repository: String,
    pub pull: PullRow,
    pub head_commit: Option<String>,
    pub merge_commit: Option<String>,
    pub files: Vec<PullFile>,
}

/// A local-forge repository's page: its files on the default branch and its pull requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeRepository {
    pub workspace: String,
    pub repository: String,
    /// Served over smart HTTP; clone with a personal access token.
    pub clone_url: String,
    pub default_branch: String,
    pub files: Vec<String>,
    pub pulls: Vec<PullRow>,
}

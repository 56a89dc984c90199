//! The wire types of repositories: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::repositories::RepositoryPlan;
use crate::domain::versioning::Strategy;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRow {
    pub name: String,
    pub strategy: Strategy,
    /// The BuildDefinitions' names and types (`my-service · GOLANG`).
    pub builds: Vec<(String, String)>,
    pub revision: i32,
    /// The revision last applied (provisioned), if any.
    pub applied_revision: Option<i32>,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoriesView {
    pub repositories: Vec<RepositoryRow>,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub revision: i32,
    pub author: String,
    pub created_at: String,
    /// What it changed from the revision before (for the newest few; empty for the first).
    pub changes: Vec<crate::domain::resources::DiffLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryDetail {
    pub row: RepositoryRow,
    pub source: String,
    pub revisions: Vec<RevisionRow>,
    /// The plan; its `files` hold the short ones (CODEOWNERS) only: the workflows are listed in
    /// `workflows` and fetched when opened.
    pub plan: RepositoryPlan,
    pub workflows: Vec<FileSummary>,
    pub can_edit: bool,
    /// Whether CI can sign build-completed notifications (a build secret exists).
    pub has_build_secret: bool,
}

/// A generated file as a page lists it before it is opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub repository: String,
    pub path: String,
    pub lines: usize,
}

/// A diff longer than this many lines comes folded, fetched when opened.
pub const FOLD_LINES: usize = 40;

/// One file of the plan against what the target repository's default branch holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFile {
    pub repository: String,
    pub path: String,
    /// added | changed | unchanged
    pub change: String,
    /// Its diff; empty when folded.
    pub lines: Vec<crate::domain::resources::DiffLine>,
    /// The length of a diff left out of the page (longer than [`FOLD_LINES`]): fetched with
    /// `get_planned_diff` when opened. 0 when `lines` holds it.
    pub folded: usize,
}

/// A pull request on the local forge as the Repositories area shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernedPullRow {
    /// The forge repository, `org/name`.
    pub repository: String,
    pub number: i64,
    pub title: String,
    pub head_branch: String,
    pub base_branch: String,
    pub state: crate::domain::workspaces::PullState,
    pub author: String,
    pub created_at: String,
    /// Where the forge shows it, for a pull request Slipway does not keep (GitHub's).
    pub url: Option<String>,
}

/// The plan against what is in place: files, rulesets, and the provisioning pull requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionView {
    /// `org/name` on the forge.
    pub forge_repository: String,
    pub managed_repository: String,
    /// Where both live: "the local forge", or "GitHub (integration SLUG)".
    pub forge: String,
    /// On GitHub pull requests are opened and merged there, not in Slipway.
    pub on_github: bool,
    pub revision: i32,
    pub applied_revision: Option<i32>,
    pub files: Vec<PlannedFile>,
    /// The rulesets the plan adds or changes (by name); `removed` those it drops.
    pub rulesets_changed: Vec<String>,
    pub rulesets_removed: Vec<String>,
    /// Pull requests of the repository and of the managed-workflows repository, newest first.
    pub pulls: Vec<GovernedPullRow>,
    pub can_apply: bool,
}

impl ProvisionView {
    /// Nothing to write: every file and ruleset is in place.
    pub fn up_to_date(&self) -> bool {
        self.files.iter().all(|f| f.change == "unchanged")
            && self.rulesets_changed.is_empty()
            && self.rulesets_removed.is_empty()
    }
}

/// A local-forge pull request of a governed repository, with the Merge Authorized verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernedPull {
    pub row: GovernedPullRow,
    /// The commit an approval covers (None once the branch is gone).
    pub head_commit: Option<String>,
    /// Who approved the head commit.
    pub approvals: Vec<String>,
    /// (short id, first line) of the commits it brings, oldest first (kept after the merge).
    pub commits: Vec<(String, String)>,
    /// The strategy in force (from the applied revision), if the repository is governed.
    pub strategy: Option<Strategy>,
    /// Merge Authorized now; for a merged pull request, as it was when it merged.
    pub verdict: Option<crate::domain::branching::Verdict>,
    /// The merge methods the target allows that the local forge performs.
    pub methods: Vec<crate::domain::branching::MergeMethod>,
    pub merge_commit: Option<String>,
    /// The files it changes, with their diff (after the merge: as merged).
    pub files: crate::domain::resources::FileChanges,
    /// Who merged it, when, and how; with `verdict` as it stood at that moment.
    pub merged_by: Option<String>,
    pub merged_at: Option<String>,
    pub merge_method: Option<String>,
    pub can_review: bool,
    /// Whether the caller opened it (and so may not approve it).
    pub is_author: bool,
}

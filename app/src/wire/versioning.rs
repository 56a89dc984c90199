//! The wire types of versioning: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::conventional::Label;
use crate::domain::semver::Version;
use crate::domain::versioning::{compute, Computation, ReleaseType, Strategy, TagSet};
use serde::{Deserialize, Serialize};

/// The most tags the timeline shows (newest first); `tag_count` says how many there are.
pub const TIMELINE_LIMIT: usize = 200;

/// A merged pull request Slipway knows, whose merge commit is a branch's head: its title
/// derives the label of that commit's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPull {
    pub number: i64,
    pub title: String,
    pub url: String,
    /// `release/major`, `release/minor` or `none` (a title that is not a Conventional Commit
    /// derives none).
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchVersioning {
    pub name: String,
    pub head: String,
    /// The highest release tag reachable from the head.
    pub base: Option<String>,
    /// The version tags on the head commit.
    pub head_tags: Vec<String>,
    pub merged_pull: Option<KnownPull>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineTag {
    pub name: String,
    /// `latest`, `alpha`, `beta`, `hotfix`, or `other` (a pre-release of another shape).
    pub kind: String,
    pub commit: String,
    pub at: String,
    pub annotated: bool,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryVersioning {
    pub workspace: String,
    pub repository: String,
    pub default_branch: String,
    pub branches: Vec<BranchVersioning>,
    /// The newest `TIMELINE_LIMIT` version tags, newest first.
    pub timeline: Vec<TimelineTag>,
    /// How many version tags the repository has.
    pub tag_count: usize,
    /// Tags that are not `v` + SemVer, left out.
    pub ignored: usize,
    /// The pre-release tags that number the next pre-releases of the branches (all that
    /// `compute` needs of the repository's other tags).
    pub numbering: Vec<String>,
}

/// One row of the preview: what a branch would get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchPreview {
    /// The branch, or for a branch the strategy has and the repository does not, its pattern
    /// (`release/…`).
    pub branch: String,
    /// False for a branch that does not exist yet (computed as if cut from the default
    /// branch's head).
    pub exists: bool,
    pub release: ReleaseType,
    pub label: Label,
    pub computation: Computation,
}

impl RepositoryVersioning {
    /// What each branch would get under `strategy`: with a `label` (a pull request title
    /// typed), for a new commit that label's pull request merges; without one, for the head as
    /// it is, labelled by the pull request Slipway knows merged it (else no label).
    pub fn preview(&self, strategy: Strategy, label: Option<Label>) -> Vec<BranchPreview> {
        let all = versions(&self.numbering);
        let row = |branch: &BranchVersioning, name: &str, exists: bool| {
            let release = strategy.release_type(name);
            let known = branch
                .merged_pull
                .as_ref()
                .and_then(|p| Label::parse(&p.label));
            let typed = label.is_some();
            let label = label.or(known).unwrap_or(Label::None);
            let tags = TagSet {
                reachable: versions(&branch.base.iter().cloned().collect::<Vec<_>>()),
                all: all.clone(),
                // A typed title is a commit still to come: it carries no tag yet.
                head: if typed {
                    Vec::new()
                } else {
                    versions(&branch.head_tags)
                },
            };
            BranchPreview {
                branch: name.to_string(),
                exists,
                release,
                label,
                computation: compute(release, &tags, label),
            }
        };
        let mut rows: Vec<BranchPreview> = self
            .branches
            .iter()
            .map(|b| row(b, &b.name, true))
            .collect();
        let Some(default) = self.branches.iter().find(|b| b.name == self.default_branch) else {
            return rows;
        };
        for (example, pattern) in strategy_branches(strategy) {
            let present = self
                .branches
                .iter()
                .any(|b| match pattern.strip_suffix('…') {
                    Some(prefix) => b.name.starts_with(prefix),
                    None => b.name == *pattern,
                });
            if !present {
                let mut preview = row(default, example, false);
                preview.branch = pattern.to_string();
                rows.push(preview);
            }
        }
        rows
    }
}

fn versions(tags: &[String]) -> Vec<Version> {
    tags.iter()
        .filter_map(|t| Version::parse_tag(t).ok())
        .collect()
}

/// The branches a strategy names besides `main`, as `(example, pattern shown)`.
fn strategy_branches(strategy: Strategy) -> &'static [(&'static str, &'static str)] {
    match strategy {
        Strategy::GithubFlow => &[],
        Strategy::GitFlow => &[
            ("develop", "develop"),
            ("release/next", "release/…"),
            ("hotfix/next", "hotfix/…"),
        ],
        Strategy::TrunkBased => &[("release/next", "release/…")],
    }
}

//! Branching strategies compiled (seed 002, section 1): each strategy's branches with their
//! purpose, merge policy and version type; the **Merge Authorized** gate that decides whether a
//! pull request may merge; the GitHub rulesets that make the forge enforce the same; and
//! CODEOWNERS from a repository's permissions.
//!
//! Where the seed is silent: `release/*/*` in the tables is read as "any branch under
//! `release/`"; protected branches (every branch that gets a version) need one approval from
//! someone other than the pull request's author; a hotfix branch, whose merge policy is "Any",
//! still needs that approval; Git Flow's develop is squash-only, so release and hotfix branches
//! merged back into it are squashed too.

mod forge_rules;
mod gate;

pub use forge_rules::{codeowners, ruleset, ruleset_name, RULESET_PREFIX};
pub use gate::{authorize, Check, PullRequestFacts, Rule, Verdict};

use crate::domain::versioning::{ReleaseType, Strategy};
use serde::{Deserialize, Serialize};

/// The status check every protected branch requires, posted by Slipway.
pub const MERGE_AUTHORIZED: &str = "Merge Authorized";

/// The branch prefixes the seed calls conventional-commit branches.
pub const CONVENTIONAL_PREFIXES: [&str; 9] = [
    "feat/",
    "fix/",
    "docs/",
    "test/",
    "ci/",
    "refactor/",
    "perf/",
    "chore/",
    "revert/",
];

/// The branches a release branch accepts ("bugfixes only").
pub const BUGFIX_PREFIXES: [&str; 2] = ["bugfix/", "fix/"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BranchRole {
    Primary,
    Develop,
    Release,
    Hotfix,
    Feature,
}

impl BranchRole {
    /// The name generated files carry (`my-service-primary-branch-push.yml`).
    pub fn slug(self) -> &'static str {
        match self {
            BranchRole::Primary => "primary-branch",
            BranchRole::Develop => "develop-branch",
            BranchRole::Release => "release-branch",
            BranchRole::Hotfix => "hotfix-branch",
            BranchRole::Feature => "feature-branch",
        }
    }

    /// The branches it covers, as people write them.
    pub fn shown(self) -> &'static str {
        match self {
            BranchRole::Primary => "main",
            BranchRole::Develop => "develop",
            BranchRole::Release => "release/*",
            BranchRole::Hotfix => "hotfix/*",
            BranchRole::Feature => "feat/*, fix/*, docs/*, …",
        }
    }

    /// Branch-name globs (`*` within a segment, `**` across segments, as GitHub's ruleset and
    /// workflow filters read them).
    pub fn patterns(self) -> Vec<String> {
        match self {
            BranchRole::Primary => vec!["main".into()],
            BranchRole::Develop => vec!["develop".into()],
            BranchRole::Release => vec!["release/**".into()],
            BranchRole::Hotfix => vec!["hotfix/**".into()],
            BranchRole::Feature => feature_prefixes().map(|p| format!("{p}**")).collect(),
        }
    }
}

/// `branch` is a branch under `prefix` (`release/1.2` under `release/`; `release/` is not).
fn under(branch: &str, prefix: &str) -> bool {
    branch
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty())
}

fn feature_prefixes() -> impl Iterator<Item = &'static str> {
    CONVENTIONAL_PREFIXES
        .iter()
        .copied()
        .chain(std::iter::once("bugfix/"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    pub const ALL: [MergeMethod; 3] =
        [MergeMethod::Merge, MergeMethod::Squash, MergeMethod::Rebase];

    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }

    pub fn parse(text: &str) -> Option<MergeMethod> {
        MergeMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// Which source branches a target accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceClass {
    /// `feat/`, `fix/`, … (the seed's conventional-commit branches).
    Conventional,
    Release,
    Hotfix,
    /// `bugfix/` and `fix/`.
    Bugfix,
}

impl SourceClass {
    pub fn matches(self, branch: &str) -> bool {
        let under = |prefix: &str| under(branch, prefix);
        match self {
            SourceClass::Conventional => CONVENTIONAL_PREFIXES.iter().any(|p| under(p)),
            SourceClass::Release => under("release/"),
            SourceClass::Hotfix => under("hotfix/"),
            SourceClass::Bugfix => BUGFIX_PREFIXES.iter().any(|p| under(p)),
        }
    }

    pub fn shown(self) -> &'static str {
        match self {
            SourceClass::Conventional => "conventional-commit branches (feat/, fix/, docs/, test/, ci/, refactor/, perf/, chore/, revert/)",
            SourceClass::Release => "release/*",
            SourceClass::Hotfix => "hotfix/*",
            SourceClass::Bugfix => "bugfix/* and fix/*",
        }
    }
}

/// One row of a strategy's table, with what Slipway enforces for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchPolicy {
    pub role: BranchRole,
    pub purpose: String,
    /// The table's merge policy, in its words.
    pub merge_policy: String,
    pub methods: Vec<MergeMethod>,
    pub release: ReleaseType,
    /// Approvals needed from people other than the author (0: none).
    pub approvals: u32,
    /// The source branches accepted; empty: any.
    pub sources: Vec<SourceClass>,
    /// Whether the branch gets a ruleset and the Merge Authorized check.
    pub protected: bool,
    /// Whether deleting the branch is refused.
    pub keep: bool,
}

impl BranchPolicy {
    /// The rule as a sentence, for people: "Only release/* and hotfix/* can merge into main."
    pub fn sources_rule(&self) -> String {
        if self.sources.is_empty() {
            return format!("Any branch can merge into {}.", self.role.shown());
        }
        let names: Vec<&str> = self.sources.iter().map(|s| s.shown()).collect();
        let list = match names.as_slice() {
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => unreachable!(),
        };
        format!("Only {list} can merge into {}.", self.role.shown())
    }
}

fn policy(
    role: BranchRole,
    purpose: &str,
    merge_policy: &str,
    methods: &[MergeMethod],
    release: ReleaseType,
    sources: &[SourceClass],
) -> BranchPolicy {
    let protected = role != BranchRole::Feature;
    BranchPolicy {
        role,
        purpose: purpose.into(),
        merge_policy: merge_policy.into(),
        methods: methods.to_vec(),
        release,
        approvals: u32::from(protected),
        sources: sources.to_vec(),
        protected,
        keep: matches!(role, BranchRole::Primary | BranchRole::Develop),
    }
}

/// The strategy's table (seed section 1), row by row.
// Long: a table: each strategy's branches as the seed lists them
pub fn policies(strategy: Strategy) -> Vec<BranchPolicy> {
    use BranchRole::{Develop, Feature, Primary};
    use MergeMethod::*;
    use SourceClass::{Bugfix, Conventional};
    let feature = |purpose: &str| {
        policy(
            Feature,
            purpose,
            "Any",
            &MergeMethod::ALL,
            ReleaseType::None,
            &[],
        )
    };
    match strategy {
        Strategy::GithubFlow => vec![
            policy(
                Primary,
                "Primary release branch",
                "Squash only",
                &[Squash],
                ReleaseType::Latest,
                &[Conventional],
            ),
            feature("Feature/bugfix branches"),
        ],
        Strategy::GitFlow => vec![
            policy(
                Primary,
                "Production-ready code",
                "Merge only (from release/hotfix)",
                &[Merge],
                ReleaseType::Latest,
                &[SourceClass::Release, SourceClass::Hotfix],
            ),
            policy(
                Develop,
                "Integration branch",
                "Squash from feature branches",
                &[Squash],
                ReleaseType::Alpha,
                &[Conventional, SourceClass::Release, SourceClass::Hotfix],
            ),
            policy(
                BranchRole::Release,
                "Stabilization branches",
                "Merge/squash (bugfixes only)",
                &[Merge, Squash],
                ReleaseType::Beta,
                &[Bugfix],
            ),
            policy(
                BranchRole::Hotfix,
                "Emergency production fixes",
                "Any",
                &MergeMethod::ALL,
                ReleaseType::Hotfix,
                &[],
            ),
            feature("Feature branches"),
        ],
        Strategy::TrunkBased => {
            let mut release = policy(
                BranchRole::Release,
                "Long-lived release maintenance branches (snapshot a tag)",
                "Merge/squash (bugfixes only)",
                &[Merge, Squash],
                ReleaseType::Hotfix,
                &[Bugfix],
            );
            release.keep = true;
            vec![
                policy(
                    Primary,
                    "Trunk (single source of truth)",
                    "Squash only",
                    &[Squash],
                    ReleaseType::Latest,
                    &[Conventional],
                ),
                release,
                feature("Feature branches"),
            ]
        }
    }
}

/// The role `branch` has under `strategy`, if the strategy names it.
pub fn role_of(strategy: Strategy, branch: &str) -> Option<BranchRole> {
    let under = |prefix: &str| under(branch, prefix);
    let role = match strategy {
        _ if branch == "main" => BranchRole::Primary,
        Strategy::GitFlow if branch == "develop" => BranchRole::Develop,
        Strategy::GitFlow | Strategy::TrunkBased if under("release/") => BranchRole::Release,
        Strategy::GitFlow if under("hotfix/") => BranchRole::Hotfix,
        _ if feature_prefixes().any(under) => BranchRole::Feature,
        _ => return None,
    };
    Some(role)
}

/// The policy for `branch`, if the strategy names it.
pub fn policy_for(strategy: Strategy, branch: &str) -> Option<BranchPolicy> {
    let role = role_of(strategy, branch)?;
    policies(strategy).into_iter().find(|p| p.role == role)
}

#[cfg(test)]
mod tests;

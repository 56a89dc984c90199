//! The **Merge Authorized** gate: every rule a pull request must pass to merge under a
//! strategy, each checked with its reason.

use super::{policy_for, BranchPolicy, MergeMethod};
use crate::domain::conventional::Commit;
use crate::domain::versioning::Strategy;
use serde::{Deserialize, Serialize};

/// What the gate knows of a pull request.
#[derive(Clone, Debug, Default)]
pub struct PullRequestFacts {
    pub source: String,
    pub target: String,
    pub title: String,
    /// The messages of the commits it brings (merge commits left out).
    pub commits: Vec<(String, String)>,
    pub author: String,
    /// Who approved it (the author's own approval does not count).
    pub approvers: Vec<String>,
    /// How it is to be merged, when that is known (the local forge knows; on GitHub the ruleset
    /// decides the methods offered).
    pub method: Option<MergeMethod>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rule {
    SourceBranch,
    Title,
    CommitMessages,
    Approvals,
    MergeMethod,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::SourceBranch => "source branch",
            Rule::Title => "pull request title",
            Rule::CommitMessages => "commit messages",
            Rule::Approvals => "approvals",
            Rule::MergeMethod => "merge method",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub rule: Rule,
    pub passed: bool,
    pub detail: String,
}

/// The Merge Authorized gate's answer: every rule checked, each with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// One line for a commit status (GitHub keeps 140 characters of a description).
    pub fn summary(&self) -> String {
        let failures: Vec<&Check> = self.failures().collect();
        let text = match failures.as_slice() {
            [] => "All rules of the branching strategy pass".to_string(),
            [one] => one.detail.clone(),
            [first, rest @ ..] => format!("{} (and {} more)", first.detail, rest.len()),
        };
        if text.chars().count() > 140 {
            let cut: String = text.chars().take(139).collect();
            format!("{cut}…")
        } else {
            text
        }
    }
}

/// Merge Authorized: whether a pull request may merge under `strategy` — the source branch
/// the target accepts, a Conventional Commits title and commit messages (every strategy), the
/// approvals the target needs, and an allowed merge method.
pub fn authorize(strategy: Strategy, facts: &PullRequestFacts) -> Verdict {
    let policy = policy_for(strategy, &facts.target);
    let mut checks = Vec::new();
    if let Some(policy) = &policy {
        checks.push(source_check(strategy, policy, facts));
    }
    checks.push(title_check(&facts.title));
    checks.push(commits_check(&facts.commits));
    if let Some(policy) = &policy {
        checks.push(approvals_check(policy, facts));
        if let Some(method) = facts.method {
            checks.push(method_check(policy, &facts.target, method));
        }
    }
    Verdict { checks }
}

fn source_check(strategy: Strategy, policy: &BranchPolicy, facts: &PullRequestFacts) -> Check {
    let accepted =
        policy.sources.is_empty() || policy.sources.iter().any(|s| s.matches(&facts.source));
    Check {
        rule: Rule::SourceBranch,
        passed: accepted,
        detail: if accepted {
            format!("{} may merge into {}", facts.source, facts.target)
        } else {
            format!(
                "{} ({}); {} is not one of them",
                policy.sources_rule().trim_end_matches('.'),
                strategy.label(),
                facts.source
            )
        },
    }
}

fn title_check(title: &str) -> Check {
    match Commit::parse(title) {
        Ok(commit) => Check {
            rule: Rule::Title,
            passed: true,
            detail: format!(
                "the title is a Conventional Commit (release label: {})",
                match commit.label() {
                    crate::domain::conventional::Label::None => "none, a patch",
                    label => label.as_str(),
                }
            ),
        },
        Err(e) => Check {
            rule: Rule::Title,
            passed: false,
            detail: format!(
                "The title is not a Conventional Commit: {}:{}: {}",
                e.line, e.column, e.message
            ),
        },
    }
}

fn commits_check(commits: &[(String, String)]) -> Check {
    let bad: Vec<String> = commits
        .iter()
        .filter_map(|(sha, message)| {
            Commit::parse(message).err().map(|e| {
                let short: String = sha.chars().take(7).collect();
                format!("{short} ({}:{}: {})", e.line, e.column, e.message)
            })
        })
        .collect();
    Check {
        rule: Rule::CommitMessages,
        passed: bad.is_empty(),
        detail: if bad.is_empty() {
            match commits.len() {
                0 => "no commits to check".to_string(),
                1 => "the commit message follows Conventional Commits".to_string(),
                n => format!("all {n} commit messages follow Conventional Commits"),
            }
        } else {
            format!(
                "{} commit message{} not Conventional Commits: {}",
                bad.len(),
                if bad.len() == 1 { " is" } else { "s are" },
                bad.join("; ")
            )
        },
    }
}

/// Approvals from people other than the author, each counted once.
fn approvals_check(policy: &BranchPolicy, facts: &PullRequestFacts) -> Check {
    let mut approvers: Vec<&str> = facts
        .approvers
        .iter()
        .map(String::as_str)
        .filter(|a| *a != facts.author)
        .collect();
    approvers.sort_unstable();
    approvers.dedup();
    let count = approvers.len() as u32;
    let enough = count >= policy.approvals;
    Check {
        rule: Rule::Approvals,
        passed: enough,
        detail: if enough {
            format!("{count} of {} approvals", policy.approvals)
        } else {
            format!(
                "{} needs {} approval{} from someone other than the author; it has {count}",
                facts.target,
                policy.approvals,
                if policy.approvals == 1 { "" } else { "s" }
            )
        },
    }
}

fn method_check(policy: &BranchPolicy, target: &str, method: MergeMethod) -> Check {
    let allowed = policy.methods.contains(&method);
    Check {
        rule: Rule::MergeMethod,
        passed: allowed,
        detail: if allowed {
            format!("{} is allowed into {}", method.as_str(), target)
        } else {
            format!(
                "{} allows {} ({}), not {}",
                target,
                policy
                    .methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                policy.merge_policy,
                method.as_str()
            )
        },
    }
}

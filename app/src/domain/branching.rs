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

use super::conventional::Commit;
use super::manifests::GithubRepository;
use super::versioning::{ReleaseType, Strategy};
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
    let mut checks = Vec::new();
    let policy = policy_for(strategy, &facts.target);
    if let Some(policy) = &policy {
        let accepted =
            policy.sources.is_empty() || policy.sources.iter().any(|s| s.matches(&facts.source));
        checks.push(Check {
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
        });
    }
    checks.push(match Commit::parse(&facts.title) {
        Ok(commit) => Check {
            rule: Rule::Title,
            passed: true,
            detail: format!(
                "the title is a Conventional Commit (release label: {})",
                match commit.label() {
                    super::conventional::Label::None => "none, a patch",
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
    });
    let bad: Vec<String> = facts
        .commits
        .iter()
        .filter_map(|(sha, message)| {
            Commit::parse(message).err().map(|e| {
                let short: String = sha.chars().take(7).collect();
                format!("{short} ({}:{}: {})", e.line, e.column, e.message)
            })
        })
        .collect();
    checks.push(Check {
        rule: Rule::CommitMessages,
        passed: bad.is_empty(),
        detail: if bad.is_empty() {
            match facts.commits.len() {
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
    });
    if let Some(policy) = &policy {
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
        checks.push(Check {
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
        });
        if let Some(method) = facts.method {
            let allowed = policy.methods.contains(&method);
            checks.push(Check {
                rule: Rule::MergeMethod,
                passed: allowed,
                detail: if allowed {
                    format!("{} is allowed into {}", method.as_str(), facts.target)
                } else {
                    format!(
                        "{} allows {} ({}), not {}",
                        facts.target,
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
            });
        }
    }
    Verdict { checks }
}

/// The ruleset's name (and file name under `rulesets/`).
pub fn ruleset_name(role: BranchRole) -> String {
    format!("{RULESET_PREFIX}{}", role.slug())
}

/// What Slipway's rulesets' names start with: the forge's others are people's, left alone.
pub const RULESET_PREFIX: &str = "slipway-";

/// The body of GitHub's "Create a repository ruleset" request for one protected branch
/// (`POST /repos/{owner}/{repo}/rulesets`): the refs it covers, no deletion or force push,
/// pull requests with the approvals and merge methods of the policy, and the Merge Authorized
/// status check.
pub fn ruleset(policy: &BranchPolicy) -> serde_json::Value {
    use serde_json::json;
    let mut rules = Vec::new();
    if policy.keep {
        rules.push(json!({ "type": "deletion" }));
    }
    rules.push(json!({ "type": "non_fast_forward" }));
    rules.push(json!({
        "type": "pull_request",
        "parameters": {
            "allowed_merge_methods": policy.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "dismiss_stale_reviews_on_push": true,
            "require_code_owner_review": false,
            "require_last_push_approval": policy.approvals > 0,
            "required_approving_review_count": policy.approvals,
            "required_review_thread_resolution": false,
        }
    }));
    rules.push(json!({
        "type": "required_status_checks",
        "parameters": {
            "required_status_checks": [{ "context": MERGE_AUTHORIZED }],
            "strict_required_status_checks_policy": false,
        }
    }));
    json!({
        "name": ruleset_name(policy.role),
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": [],
        "conditions": {
            "ref_name": {
                "include": policy.role.patterns().iter().map(|p| format!("refs/heads/{p}")).collect::<Vec<_>>(),
                "exclude": [],
            }
        },
        "rules": rules,
    })
}

/// CODEOWNERS: administrators own everything and, last so that nothing overrides them, the
/// CI set-up (`/.github/`); each `codeOwners` entry owns its path. Groups are teams of `org`.
pub fn codeowners(repository: &GithubRepository, org: &str) -> String {
    let owners = |groups: &[String], users: &[String]| -> Vec<String> {
        groups
            .iter()
            .map(|g| format!("@{org}/{g}"))
            .chain(users.iter().map(|u| format!("@{u}")))
            .collect()
    };
    let admins = owners(
        &repository.administrators.groups,
        &repository.administrators.users,
    );
    let mut out = format!(
        "# Generated by Slipway from GithubRepository/{}: change the manifest, not this file.\n\
         # Later lines take precedence over earlier ones.\n",
        repository.metadata.name
    );
    let mut line = |path: &str, who: &[String]| {
        if !who.is_empty() {
            out.push_str(&format!("{path} {}\n", who.join(" ")));
        }
    };
    line("*", &admins);
    for entry in &repository.code_owners {
        line(
            &entry.path,
            &owners(&entry.owners.groups, &entry.owners.users),
        );
    }
    line("/.github/", &admins);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(source: &str, target: &str) -> PullRequestFacts {
        PullRequestFacts {
            source: source.into(),
            target: target.into(),
            title: "fix: handle empty input".into(),
            commits: vec![("a1b2c3d4e5".into(), "fix: handle empty input".into())],
            author: "dev".into(),
            approvers: vec!["ada".into()],
            method: None,
        }
    }

    fn failed(strategy: Strategy, facts: &PullRequestFacts) -> Vec<Rule> {
        authorize(strategy, facts)
            .failures()
            .map(|c| c.rule)
            .collect()
    }

    #[test]
    fn the_seeds_tables_row_by_row() {
        let rows = |s| {
            policies(s)
                .into_iter()
                .map(|p| (p.role.shown(), p.merge_policy, p.release.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rows(Strategy::GithubFlow),
            [
                ("main", "Squash only".into(), "LATEST"),
                ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
            ]
        );
        assert_eq!(
            rows(Strategy::GitFlow),
            [
                ("main", "Merge only (from release/hotfix)".into(), "LATEST"),
                ("develop", "Squash from feature branches".into(), "ALPHA"),
                ("release/*", "Merge/squash (bugfixes only)".into(), "BETA"),
                ("hotfix/*", "Any".into(), "HOTFIX"),
                ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
            ]
        );
        assert_eq!(
            rows(Strategy::TrunkBased),
            [
                ("main", "Squash only".into(), "LATEST"),
                ("release/*", "Merge/squash (bugfixes only)".into(), "HOTFIX"),
                ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
            ]
        );
    }

    // Seed, GitHub Flow, "Branch protection": main requires 1 reviewer, the Merge Authorized
    // gate, and only conventional-commit-prefixed branches can merge into it.
    #[test]
    fn github_flow_main_accepts_only_conventional_branches() {
        for prefix in CONVENTIONAL_PREFIXES {
            let f = facts(&format!("{prefix}thing"), "main");
            assert!(authorize(Strategy::GithubFlow, &f).allowed(), "{prefix}");
        }
        for source in [
            "bugfix/x",
            "feature/x",
            "develop",
            "release/1.0",
            "hotfix/x",
            "feat",
            "feat/",
        ] {
            let f = facts(source, "main");
            assert_eq!(
                failed(Strategy::GithubFlow, &f),
                [Rule::SourceBranch],
                "{source}"
            );
        }
        let verdict = authorize(Strategy::GithubFlow, &facts("feature/x", "main"));
        assert_eq!(
            verdict.summary(),
            "Only conventional-commit branches (feat/, fix/, docs/, test/, ci/, refactor/, perf/, chore/, revert/) can merge into main (GitHub Flow); feature/x is not one of them"
                .chars()
                .take(139)
                .collect::<String>()
                + "…"
        );
    }

    #[test]
    fn main_needs_one_approval_from_someone_else() {
        for strategy in Strategy::ALL {
            let source = if strategy == Strategy::GitFlow {
                "release/1.0"
            } else {
                "feat/x"
            };
            let mut f = facts(source, "main");
            f.approvers = vec![];
            assert_eq!(failed(strategy, &f), [Rule::Approvals]);
            f.approvers = vec!["dev".into()];
            assert_eq!(failed(strategy, &f), [Rule::Approvals], "the author's own");
            f.approvers = vec!["ada".into(), "ada".into(), "dev".into()];
            let verdict = authorize(strategy, &f);
            assert!(verdict.allowed(), "{verdict:?}");
        }
    }

    // "Feature branches have no reviewer requirement and accept any merge method."
    #[test]
    fn feature_branches_need_no_review_and_take_any_method() {
        for strategy in Strategy::ALL {
            for method in MergeMethod::ALL {
                let mut f = facts("fix/y", "feat/x");
                f.approvers.clear();
                f.method = Some(method);
                assert!(authorize(strategy, &f).allowed(), "{strategy:?} {method:?}");
            }
        }
    }

    #[test]
    fn merge_methods_follow_the_tables() {
        let cases = [
            (
                Strategy::GithubFlow,
                "feat/x",
                "main",
                MergeMethod::Squash,
                true,
            ),
            (
                Strategy::GithubFlow,
                "feat/x",
                "main",
                MergeMethod::Merge,
                false,
            ),
            (
                Strategy::GithubFlow,
                "feat/x",
                "main",
                MergeMethod::Rebase,
                false,
            ),
            (
                Strategy::GitFlow,
                "release/1.0",
                "main",
                MergeMethod::Merge,
                true,
            ),
            (
                Strategy::GitFlow,
                "release/1.0",
                "main",
                MergeMethod::Squash,
                false,
            ),
            (
                Strategy::GitFlow,
                "feat/x",
                "develop",
                MergeMethod::Squash,
                true,
            ),
            (
                Strategy::GitFlow,
                "feat/x",
                "develop",
                MergeMethod::Merge,
                false,
            ),
            (
                Strategy::GitFlow,
                "fix/x",
                "release/1.0",
                MergeMethod::Merge,
                true,
            ),
            (
                Strategy::GitFlow,
                "fix/x",
                "release/1.0",
                MergeMethod::Squash,
                true,
            ),
            (
                Strategy::GitFlow,
                "fix/x",
                "release/1.0",
                MergeMethod::Rebase,
                false,
            ),
            (
                Strategy::GitFlow,
                "fix/x",
                "hotfix/1.0",
                MergeMethod::Rebase,
                true,
            ),
            (
                Strategy::TrunkBased,
                "feat/x",
                "main",
                MergeMethod::Squash,
                true,
            ),
            (
                Strategy::TrunkBased,
                "feat/x",
                "main",
                MergeMethod::Merge,
                false,
            ),
            (
                Strategy::TrunkBased,
                "fix/x",
                "release/1.0",
                MergeMethod::Merge,
                true,
            ),
            (
                Strategy::TrunkBased,
                "fix/x",
                "release/1.0",
                MergeMethod::Rebase,
                false,
            ),
        ];
        for (strategy, source, target, method, ok) in cases {
            let mut f = facts(source, target);
            f.method = Some(method);
            let failures = failed(strategy, &f);
            if ok {
                assert!(
                    failures.is_empty(),
                    "{strategy:?} {source}->{target} {method:?}: {failures:?}"
                );
            } else {
                assert_eq!(
                    failures,
                    [Rule::MergeMethod],
                    "{strategy:?} {source}->{target} {method:?}"
                );
            }
        }
    }

    // Git Flow "Key rules".
    #[test]
    fn git_flow_key_rules() {
        let gf = Strategy::GitFlow;
        // Only release/* and hotfix/* branches can merge into main.
        for (source, ok) in [
            ("release/2.4", true),
            ("hotfix/cve-1", true),
            ("develop", false),
            ("feat/x", false),
            ("fix/x", false),
        ] {
            assert_eq!(
                authorize(gf, &facts(source, "main")).allowed(),
                ok,
                "{source}"
            );
        }
        // Only conventional-commit branches, release branches and hotfix branches can merge
        // into develop.
        for (source, ok) in [
            ("feat/x", true),
            ("chore/deps", true),
            ("release/2.4", true),
            ("hotfix/cve-1", true),
            ("bugfix/x", false),
            ("main", false),
            ("wip", false),
        ] {
            assert_eq!(
                authorize(gf, &facts(source, "develop")).allowed(),
                ok,
                "{source}"
            );
        }
        // Release branches only accept bugfix/ and fix/ branches.
        for (source, ok) in [
            ("bugfix/x", true),
            ("fix/x", true),
            ("feat/x", false),
            ("develop", false),
            ("hotfix/x", false),
        ] {
            assert_eq!(
                authorize(gf, &facts(source, "release/2.4")).allowed(),
                ok,
                "{source}"
            );
        }
        let verdict = authorize(gf, &facts("feat/x", "release/2.4"));
        assert_eq!(
            verdict.failures().next().unwrap().detail,
            "Only bugfix/* and fix/* can merge into release/* (Git Flow); feat/x is not one of them"
        );
    }

    #[test]
    fn trunk_release_branches_take_bugfixes_only() {
        let tb = Strategy::TrunkBased;
        assert!(authorize(tb, &facts("fix/x", "release/1.0")).allowed());
        assert!(authorize(tb, &facts("bugfix/x", "release/1.0")).allowed());
        assert_eq!(
            failed(tb, &facts("feat/x", "release/1.0")),
            [Rule::SourceBranch]
        );
        assert_eq!(
            failed(tb, &facts("release/1.0", "main")),
            [Rule::SourceBranch]
        );
    }

    // "All strategies enforce Conventional Commits on both PR titles and commit messages."
    #[test]
    fn titles_and_commit_messages_must_be_conventional_everywhere() {
        for strategy in Strategy::ALL {
            for target in ["main", "feat/x", "somewhere"] {
                let source = if strategy == Strategy::GitFlow && target == "main" {
                    "release/1.0"
                } else {
                    "fix/y"
                };
                let mut f = facts(source, target);
                f.title = "Update stuff".into();
                assert_eq!(failed(strategy, &f), [Rule::Title], "{strategy:?} {target}");
                let detail = authorize(strategy, &f)
                    .failures()
                    .next()
                    .unwrap()
                    .detail
                    .clone();
                assert!(
                    detail.starts_with("The title is not a Conventional Commit: 1:"),
                    "{detail}"
                );
                let mut f = facts(source, target);
                f.commits.push(("0123456789abcdef".into(), "wip".into()));
                let verdict = authorize(strategy, &f);
                assert_eq!(
                    verdict.failures().map(|c| c.rule).collect::<Vec<_>>(),
                    [Rule::CommitMessages]
                );
                assert!(
                    verdict
                        .summary()
                        .starts_with("1 commit message is not Conventional Commits: 0123456 (1:"),
                    "{}",
                    verdict.summary()
                );
            }
        }
    }

    #[test]
    fn rulesets_carry_the_policy() {
        let main = policy_for(Strategy::GitFlow, "main").unwrap();
        let json = ruleset(&main);
        assert_eq!(json["name"], "slipway-primary-branch");
        assert_eq!(
            json["conditions"]["ref_name"]["include"][0],
            "refs/heads/main"
        );
        let rules = json["rules"].as_array().unwrap();
        let types: Vec<&str> = rules.iter().map(|r| r["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "deletion",
                "non_fast_forward",
                "pull_request",
                "required_status_checks"
            ]
        );
        assert_eq!(
            rules[2]["parameters"]["allowed_merge_methods"],
            serde_json::json!(["merge"])
        );
        assert_eq!(rules[2]["parameters"]["required_approving_review_count"], 1);
        assert_eq!(
            rules[3]["parameters"]["required_status_checks"][0]["context"],
            MERGE_AUTHORIZED
        );
        let release = policy_for(Strategy::GitFlow, "release/1").unwrap();
        let json = ruleset(&release);
        assert_eq!(
            json["conditions"]["ref_name"]["include"][0],
            "refs/heads/release/**"
        );
        assert_eq!(
            json["rules"][0]["type"], "non_fast_forward",
            "release branches may be deleted"
        );
    }
}

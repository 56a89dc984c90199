//! The compute phase (seed 002, sections 1 and 2): from a repository's manifests to its plan —
//! the branch table, the rulesets to apply through the forge's API, and the files to commit
//! (CODEOWNERS and the caller workflows in the repository, the managed workflows in the
//! managed-workflows repository). Pure: the same manifests always give the same plan, byte for
//! byte, which is what lets provisioning see that nothing changed.

use super::branching::{codeowners, policies, ruleset, ruleset_name, BranchPolicy, BranchRole};
use super::manifests::{
    check_links, load, BuildDefinition, GithubRepository, Manifest, ManifestError,
};
use super::versioning::Strategy;
use super::workflows::{workflows, GeneratedFile, Target};
use super::yaml::Pos;
use serde::{Deserialize, Serialize};

/// The branch provisioning pull requests come from: a conventional-commit branch, so the
/// strategy's own gate accepts it like any other change.
pub const PROVISION_BRANCH: &str = "chore/slipway-provision";

/// The managed-workflows repository's default name (seed section 2).
pub const MANAGED_REPOSITORY: &str = "managed-workflows-private";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesetPlan {
    pub name: String,
    pub role: BranchRole,
    /// The request body, pretty-printed with a final newline.
    pub json: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryPlan {
    pub repository: String,
    pub org: String,
    pub strategy: Strategy,
    pub branches: Vec<BranchPolicy>,
    pub rulesets: Vec<RulesetPlan>,
    /// Files for the repository and for the managed-workflows repository, sorted by
    /// repository then path.
    pub files: Vec<GeneratedFile>,
}

/// The plan of one repository and the BuildDefinitions that are its children.
pub fn compute(
    repository: &GithubRepository,
    builds: &[&BuildDefinition],
    org: &str,
    managed_repository: &str,
) -> RepositoryPlan {
    let name = &repository.metadata.name;
    let branches = policies(repository.strategy);
    let rulesets = branches
        .iter()
        .filter(|p| p.protected)
        .map(|p| RulesetPlan {
            name: ruleset_name(p.role),
            role: p.role,
            json: serde_json::to_string_pretty(&ruleset(p)).unwrap_or_default() + "\n",
        })
        .collect();
    let mut files = vec![GeneratedFile {
        repository: name.clone(),
        path: ".github/CODEOWNERS".into(),
        contents: codeowners(repository, org),
    }];
    let target = Target {
        org,
        repository: name,
        managed_repository,
        strategy: repository.strategy,
    };
    for build in builds {
        files.extend(workflows(&target, build));
    }
    files.sort_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
    RepositoryPlan {
        repository: name.clone(),
        org: org.to_string(),
        strategy: repository.strategy,
        branches,
        rulesets,
        files,
    }
}

/// The file name a repository's manifests are reported under in the portal.
pub const SOURCE_FILE: &str = "manifests.yaml";

/// The largest manifests text the portal stores.
pub const MAX_SOURCE: usize = 256 * 1024;

/// A repository's manifests as the portal keeps them: one GithubRepository and the
/// BuildDefinitions under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryManifests {
    pub repository: GithubRepository,
    pub builds: Vec<BuildDefinition>,
}

impl RepositoryManifests {
    /// The organisation of teams and of the managed-workflows repository: the
    /// `github-connection`, else `local` (the local forge's).
    pub fn org(&self) -> &str {
        self.repository
            .metadata
            .github_connection
            .as_deref()
            .unwrap_or("local")
    }

    pub fn plan(&self) -> RepositoryPlan {
        self.plan_in(self.org())
    }

    /// The plan with `org` as the organisation (the server passes a GitHub integration's
    /// organization when the connection names one).
    pub fn plan_in(&self, org: &str) -> RepositoryPlan {
        let builds: Vec<&BuildDefinition> = self.builds.iter().collect();
        compute(&self.repository, &builds, org, MANAGED_REPOSITORY)
    }
}

/// Reads the portal's manifests text (the same checks as `slipway manifests validate`, and
/// exactly one GithubRepository, which every BuildDefinition is a child of). Runs in the
/// browser as the text is typed, and on the server when it is saved.
pub fn parse_source(text: &str) -> Result<RepositoryManifests, Vec<ManifestError>> {
    let at = |pos: Pos, message: String| ManifestError {
        file: SOURCE_FILE.into(),
        pos,
        message,
    };
    if text.len() > MAX_SOURCE {
        return Err(vec![at(
            Pos { line: 1, column: 1 },
            format!(
                "the manifests are {} KiB; at most {} KiB are kept",
                text.len() / 1024,
                MAX_SOURCE / 1024
            ),
        )]);
    }
    let manifests = load(SOURCE_FILE, text)?;
    let named: Vec<(String, Manifest)> = manifests
        .iter()
        .map(|m| (SOURCE_FILE.to_string(), m.clone()))
        .collect();
    let mut errors = check_links(&named);
    let mut repository = None;
    let mut builds = Vec::new();
    for manifest in manifests {
        match manifest {
            Manifest::GithubRepository(r) if repository.is_none() => repository = Some(r),
            Manifest::GithubRepository(r) => errors.push(at(
                r.metadata.pos,
                format!(
                    "one GithubRepository per repository: {} is a second one",
                    r.metadata.name
                ),
            )),
            Manifest::BuildDefinition(b) => builds.push(b),
            other => errors.push(at(
                other.metadata().pos,
                format!(
                    "a repository's manifests are a GithubRepository and its BuildDefinitions; {} {} belongs under Releases",
                    other.kind(),
                    other.metadata().name
                ),
            )),
        }
    }
    match repository {
        None if errors.is_empty() => Err(vec![at(
            Pos { line: 1, column: 1 },
            "no GithubRepository: start with `kind: GithubRepository` (its metadata.name names the repository)".into(),
        )]),
        Some(repository) if errors.is_empty() => Ok(RepositoryManifests { repository, builds }),
        _ => {
            errors.sort_by_key(|e| (e.pos.line, e.pos.column));
            Err(errors)
        }
    }
}

/// Plans for every GithubRepository among `manifests` (already loaded and link-checked), with
/// its organisation from `org` or else its `github-connection`. Err names the repository that
/// has neither.
pub fn compute_all(
    manifests: &[Manifest],
    org: Option<&str>,
    managed_repository: &str,
) -> Result<Vec<RepositoryPlan>, String> {
    let mut plans = Vec::new();
    for manifest in manifests {
        let Manifest::GithubRepository(repository) = manifest else {
            continue;
        };
        let builds: Vec<&BuildDefinition> = manifests
            .iter()
            .filter_map(|m| match m {
                Manifest::BuildDefinition(b)
                    if b.metadata.parent.as_ref().is_some_and(|(kind, parent)| {
                        kind == "GithubRepository" && *parent == repository.metadata.name
                    }) =>
                {
                    Some(b)
                }
                _ => None,
            })
            .collect();
        let org = match org.or(repository.metadata.github_connection.as_deref()) {
            Some(org) => org,
            None => {
                return Err(format!(
                    "GithubRepository/{}: no organisation: set metadata.github-connection or give --org",
                    repository.metadata.name
                ))
            }
        };
        plans.push(compute(repository, &builds, org, managed_repository));
    }
    Ok(plans)
}

impl RulesetPlan {
    /// Whether the forge's copy of a ruleset (`actual`, as GitHub answers `GET .../rulesets/ID`)
    /// already says everything this plan says; writing it again would change nothing.
    pub fn in_place(&self, actual: &serde_json::Value) -> bool {
        serde_json::from_str(&self.json).is_ok_and(|wanted| covers(actual, &wanted))
    }
}

/// `actual` holds every field of `wanted` with the same value. The forge adds its own fields
/// (ids, links, timestamps, parameters added since) to what it stores, and may list a set's
/// items in another order, so objects are compared by `wanted`'s keys and arrays as sets of
/// equal length; a key the forge leaves out stands for an empty list.
fn covers(actual: &serde_json::Value, wanted: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (actual, wanted) {
        (Value::Object(actual), Value::Object(wanted)) => {
            wanted.iter().all(|(key, w)| match actual.get(key) {
                Some(a) => covers(a, w),
                None => w.as_array().is_some_and(Vec::is_empty),
            })
        }
        (Value::Array(actual), Value::Array(wanted)) => {
            actual.len() == wanted.len()
                && wanted.iter().all(|w| actual.iter().any(|a| covers(a, w)))
        }
        (actual, wanted) => actual == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifests::load;
    use crate::domain::manifests::tests::{BUILD, REPOSITORY};

    /// The seed's two examples as one text, as the portal keeps them.
    fn seed() -> String {
        format!("{REPOSITORY}---\n{BUILD}")
    }

    #[test]
    fn the_seed_example_plans_what_the_seed_shows() {
        let manifests = load("seed.yaml", &seed()).unwrap();
        let plans = compute_all(&manifests, None, MANAGED_REPOSITORY).unwrap();
        assert_eq!(plans.len(), 1);
        let plan = &plans[0];
        assert_eq!(plan.org, "pvotal-tech");
        let paths: Vec<String> = plan
            .files
            .iter()
            .map(|f| format!("{}/{}", f.repository, f.path))
            .collect();
        for expected in [
            "my-service/.github/workflows/my-service-primary-branch-push.yml",
            "my-service/.github/workflows/my-service-primary-branch-pull_request.yml",
            "managed-workflows-private/.github/workflows/my-service-my-service-primary-branch-push.yml",
            "managed-workflows-private/.github/workflows/my-service-my-service-primary-branch-pull_request.yml",
            "my-service/.github/CODEOWNERS",
        ] {
            assert!(paths.contains(&expected.to_string()), "{expected} in {paths:#?}");
        }
        assert_eq!(
            plan.rulesets
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["slipway-primary-branch"]
        );
        let codeowners = &plan
            .files
            .iter()
            .find(|f| f.path == ".github/CODEOWNERS")
            .unwrap()
            .contents;
        assert!(codeowners.contains("\n* @pvotal-tech/platform-team\n"));
        assert!(codeowners.ends_with("/.github/ @pvotal-tech/platform-team\n"));
        // Deterministic, byte for byte.
        assert_eq!(
            plans,
            compute_all(&manifests, None, MANAGED_REPOSITORY).unwrap()
        );
    }

    #[test]
    fn the_portal_keeps_one_repository_with_its_builds() {
        let parsed = parse_source(&seed()).unwrap();
        assert_eq!(parsed.repository.metadata.name, "my-service");
        assert_eq!(parsed.builds.len(), 1);
        assert_eq!(parsed.org(), "pvotal-tech");
        assert_eq!(parsed.plan().files.len(), 9);
        let two = format!(
            "{}---\n{}",
            seed(),
            seed()
                .split("---")
                .next()
                .unwrap()
                .replace("my-service", "other")
        );
        let errors = parse_source(&two).unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            ["manifests.yaml:38:3: one GithubRepository per repository: other is a second one"]
        );
        let orphan = seed().replace(
            "parent: GithubRepository/my-service",
            "parent: GithubRepository/elsewhere",
        );
        assert_eq!(
            parse_source(&orphan).unwrap_err()[0].to_string(),
            "manifests.yaml:17:3: the parent GithubRepository/elsewhere is not among the manifests"
        );
        assert!(parse_source("").unwrap_err()[0]
            .message
            .starts_with("no GithubRepository"));
        let huge = "#".repeat(MAX_SOURCE + 1);
        assert!(parse_source(&huge).unwrap_err()[0]
            .message
            .contains("at most 256 KiB"));
    }

    #[test]
    fn a_repository_without_an_organisation_is_named() {
        let text = seed().replace("  github-connection: pvotal-tech\n", "");
        let manifests = load("seed.yaml", &text).unwrap();
        assert_eq!(
            compute_all(&manifests, None, MANAGED_REPOSITORY).unwrap_err(),
            "GithubRepository/my-service: no organisation: set metadata.github-connection or give --org"
        );
        assert_eq!(
            compute_all(&manifests, Some("acme"), "m").unwrap()[0].org,
            "acme"
        );
    }

    #[test]
    fn a_ruleset_is_in_place_when_the_forge_holds_all_it_says() {
        let plan = parse_source(&seed()).unwrap().plan();
        let ruleset = &plan.rulesets[0];
        let wanted: serde_json::Value = serde_json::from_str(&ruleset.json).unwrap();
        // What GitHub answers: its own fields added, the rules in another order, parameters it
        // added since, no bypass actors shown.
        let mut actual = wanted.clone();
        actual["id"] = 42.into();
        actual["source_type"] = "Repository".into();
        actual["_links"] = serde_json::json!({ "self": { "href": "https://api.github.com/x" } });
        actual.as_object_mut().unwrap().remove("bypass_actors");
        actual["rules"].as_array_mut().unwrap().reverse();
        for rule in actual["rules"].as_array_mut().unwrap() {
            if rule["type"] == "pull_request" {
                rule["parameters"]["automatic_copilot_code_review_enabled"] = false.into();
            }
        }
        assert!(ruleset.in_place(&actual));
        // A changed approval count, a missing rule, another branch pattern: not in place.
        let mut fewer = actual.clone();
        for rule in fewer["rules"].as_array_mut().unwrap() {
            if rule["type"] == "pull_request" {
                rule["parameters"]["required_approving_review_count"] = 0.into();
            }
        }
        assert!(!ruleset.in_place(&fewer));
        let mut missing = actual.clone();
        missing["rules"].as_array_mut().unwrap().pop();
        assert!(!ruleset.in_place(&missing));
        let mut elsewhere = actual.clone();
        elsewhere["conditions"]["ref_name"]["include"] = serde_json::json!(["refs/heads/other"]);
        assert!(!ruleset.in_place(&elsewhere));
        let mut bypassed = actual;
        bypassed["bypass_actors"] = serde_json::json!([{ "actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "always" }]);
        assert!(!ruleset.in_place(&bypassed));
    }
}

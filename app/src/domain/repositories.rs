//! The compute phase (seed 002, sections 1 and 2): from a repository's manifests to its plan —
//! the branch table, the rulesets to apply through the forge's API, and the files to commit
//! (CODEOWNERS and the caller workflows in the repository, the managed workflows in the
//! managed-workflows repository). Pure: the same manifests always give the same plan, byte for
//! byte, which is what lets provisioning see that nothing changed.

use super::branching::{codeowners, policies, ruleset, ruleset_name, BranchPolicy, BranchRole};
use super::manifests::{BuildDefinition, GithubRepository, Manifest};
use super::versioning::Strategy;
use super::workflows::{workflows, GeneratedFile, Target};
use serde::{Deserialize, Serialize};

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

impl RepositoryPlan {
    /// The files that go to `repository`.
    pub fn files_in<'a>(&'a self, repository: &'a str) -> impl Iterator<Item = &'a GeneratedFile> {
        self.files
            .iter()
            .filter(move |f| f.repository == repository)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifests::load;

    const SEED: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: my-service
  github-connection: pvotal-tech
spec:
  strategy: GITHUB_FLOW
  permissions:
    administrators:
      groups: [platform-team]
    contributors:
      groups: [backend-engineers]
---
apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: my-service
  parent: GithubRepository/my-service
spec:
  type: GOLANG
  stages:
    - analysis
    - security-scan
    - test
    - build
    - containerize
  golang:
    versions: [\"stable\"]
    buildType: bin
    target: ./cmd/server
  containerize:
    - name: my-service
      registries: [core-registry]
";

    #[test]
    fn the_seed_example_plans_what_the_seed_shows() {
        let manifests = load("seed.yaml", SEED).unwrap();
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
    fn a_repository_without_an_organisation_is_named() {
        let text = SEED.replace("  github-connection: pvotal-tech\n", "");
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
}

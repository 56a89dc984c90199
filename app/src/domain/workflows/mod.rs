//! CI provisioning (seed 002, section 2): for every branch of the strategy, a push and a
//! pull_request *caller* workflow in the repository, and the *managed* workflow each calls in
//! the managed-workflows repository, where the build logic and the elevated permissions live.
//!
//! Push workflows: Initialize pipeline (every commit message checked, the version computed by
//! `slipway version compute`), the BuildDefinition's stages in the type's order, then the
//! version tag and, last, the signed build-completed notification to Slipway. Branches that
//! get no version only check their commit messages. Pull request workflows check the title and
//! commits, label the pull request with its release label, and run only analysis,
//! security-scan, test and build. Every action is pinned to a full commit SHA from [`PINS`];
//! every value from an event or a manifest reaches a script through `env:`, never spliced into
//! it.

use super::branching::{policies, BranchPolicy};
use super::manifests::{BuildDefinition, BuildType, Stage};
use super::versioning::{ReleaseType, Strategy};
use super::yaml_out::{print, Yaml};

mod model;
mod pins;
mod steps;
pub use model::*;
pub use pins::*;
pub use steps::*;
#[allow(unused_imports)]
use {model::*, pins::*, steps::*};

/// The runner every job uses.
pub const RUNNER: &str = "ubuntu-24.04";

/// The managed push workflow's jobs.
fn push_jobs(build: &BuildDefinition, policy: &BranchPolicy) -> Vec<Job> {
    let versioned = policy.release != ReleaseType::None;
    let range = "if [ -z \"$BEFORE\" ] || ! git cat-file -e \"$BEFORE^{commit}\" 2> /dev/null; then\n  range=\"$GITHUB_SHA^!\"\nelse\n  range=\"$BEFORE..$GITHUB_SHA\"\nfi\n";
    let mut initialize = Job {
        id: "initialize".into(),
        name: "Initialize pipeline".into(),
        permissions: vec![("contents", "read")],
        steps: vec![
            checkout(true),
            install_slipway(),
            Step::run(
                "Check commit messages (Conventional Commits)",
                &format!("{range}{CHECK_COMMITS}exit \"$status\"\n"),
            )
            .env("BEFORE", "${{ github.event.before }}"),
        ],
        ..Job::default()
    };
    if !versioned {
        return vec![initialize];
    }
    initialize.permissions.push(("pull-requests", "read"));
    initialize.steps.push(
        Step::run(
            "Compute the version",
            &format!(
                "labels=$(gh api \"repos/$GITHUB_REPOSITORY/commits/$GITHUB_SHA/pulls\" --jq '[.[] | select(.merged_at != null) | .labels[].name] | join(\"\\n\")')\n\
                 args=(--release-type {} --json)\n\
                 if grep -qx 'release/major' <<< \"$labels\"; then\n  args+=(--label release/major)\n\
                 elif grep -qx 'release/minor' <<< \"$labels\"; then\n  args+=(--label release/minor)\nfi\n\
                 slipway version compute \"${{args[@]}}\" | tee \"$RUNNER_TEMP/version.json\"\n\
                 echo \"version=$(jq -r '.version' \"$RUNNER_TEMP/version.json\")\" >> \"$GITHUB_OUTPUT\"\n\
                 echo \"skip=$(jq -r '.skip' \"$RUNNER_TEMP/version.json\")\" >> \"$GITHUB_OUTPUT\"\n",
                policy.release.as_str()
            ),
        )
        .id("version")
        .env("GH_TOKEN", "${{ github.token }}"),
    );
    initialize.outputs = vec![
        (
            "version".into(),
            "${{ steps.version.outputs.version }}".into(),
        ),
        ("skip".into(), "${{ steps.version.outputs.skip }}".into()),
    ];
    let mut jobs = vec![initialize];
    let mut previous = "initialize".to_string();
    for stage in stages_for(build, Event::Push) {
        let mut after = vec!["initialize".to_string()];
        if previous != "initialize" {
            after.push(previous.clone());
        }
        let job = stage_job(build, stage, Event::Push, after, true);
        previous = job.id.clone();
        jobs.push(job);
    }
    let finalize = finalize_job(build, &jobs);
    jobs.push(finalize);
    jobs
}

/// The last push job: tag the version and tell Slipway the build completed (with the images
/// the containerize stage pushed, if it ran).
fn finalize_job(build: &BuildDefinition, jobs: &[Job]) -> Job {
    let containerized = jobs.iter().any(|j| j.id == Stage::Containerize.as_str());
    let notify = "body=$(jq -cn --arg repository \"$GITHUB_REPOSITORY\" --arg application \"$APPLICATION\" \\\n  --arg version \"$VERSION\" --arg commit \"$GITHUB_SHA\" --arg branch \"$GITHUB_REF_NAME\" \\\n  --arg run \"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\" --argjson images \"$IMAGES\" \\\n  '{repository: $repository, application: $application, version: $version, commit: $commit, branch: $branch, run: $run, images: $images}')\ntimestamp=$(date +%s)\nsignature=$(printf '%s.%s' \"$timestamp\" \"$body\" | openssl dgst -sha256 -hmac \"$SLIPWAY_WEBHOOK_SECRET\" -r | cut -d' ' -f1)\ncurl --fail-with-body --silent --show-error --request POST \"$SLIPWAY_URL/hooks/build-completed\" \\\n  --header 'Content-Type: application/json' \\\n  --header \"X-Slipway-Timestamp: $timestamp\" \\\n  --header \"X-Slipway-Signature: sha256=$signature\" \\\n  --data \"$body\"\n";
    Job {
        id: "finalize".into(),
        name: "Tag and notify".into(),
        needs: jobs.iter().map(|j| j.id.clone()).collect(),
        when: Some("needs.initialize.outputs.skip != 'true'".into()),
        permissions: vec![("contents", "write")],
        env: vec![("VERSION".into(), "${{ needs.initialize.outputs.version }}".into())],
        steps: vec![
            Step::uses("Check out", "actions/checkout"),
            Step::run(
                "Tag the version",
                "if git ls-remote --exit-code --tags origin \"refs/tags/$VERSION\" > /dev/null; then\n  echo \"$VERSION is already tagged\"\nelse\n  git tag \"$VERSION\" \"$GITHUB_SHA\"\n  git push origin \"refs/tags/$VERSION\"\nfi\n",
            ),
            Step::run("Notify Slipway: build completed", notify)
                .env("SLIPWAY_URL", "${{ vars.SLIPWAY_URL }}")
                .env("SLIPWAY_WEBHOOK_SECRET", "${{ secrets.SLIPWAY_WEBHOOK_SECRET }}")
                .env("APPLICATION", build.metadata.name.clone())
                .env(
                    "IMAGES",
                    if containerized { "${{ needs.containerize.outputs.images }}" } else { "[]" },
                ),
        ],
        ..Job::default()
    }
}

/// The managed pull request workflow's jobs.
fn pull_request_jobs(build: &BuildDefinition) -> Vec<Job> {
    let conventional = Job {
        id: "conventional-commits".into(),
        name: "Conventional Commits".into(),
        permissions: vec![("contents", "read"), ("issues", "write"), ("pull-requests", "write")],
        steps: vec![
            checkout(true),
            install_slipway(),
            Step::run(
                "Check the title and commits, and label the release",
                &format!(
                    "status=0\n\
                     if ! label=$(printf '%s' \"$TITLE\" | slipway commit check -); then\n  echo \"::error title=Pull request title::not a Conventional Commit\"\n  status=1\nfi\n\
                     range=\"$BASE..$HEAD\"\n{}\
                     if [ \"$status\" = 0 ]; then\n  for stale in release/major release/minor; do\n    if [ \"$stale\" != \"$label\" ]; then\n      gh pr edit \"$NUMBER\" --repo \"$GITHUB_REPOSITORY\" --remove-label \"$stale\" > /dev/null 2>&1 || true\n    fi\n  done\n  if [ \"$label\" != none ]; then\n    gh label create \"$label\" --repo \"$GITHUB_REPOSITORY\" --force --description 'Set by Slipway from the pull request title'\n    gh pr edit \"$NUMBER\" --repo \"$GITHUB_REPOSITORY\" --add-label \"$label\"\n  fi\nfi\nexit \"$status\"\n",
                    CHECK_COMMITS.replacen("status=0\n", "", 1)
                ),
            )
            .env("TITLE", "${{ github.event.pull_request.title }}")
            .env("BASE", "${{ github.event.pull_request.base.sha }}")
            .env("HEAD", "${{ github.event.pull_request.head.sha }}")
            .env("NUMBER", "${{ github.event.pull_request.number }}")
            .env("GH_TOKEN", "${{ github.token }}"),
        ],
        ..Job::default()
    };
    let mut jobs = vec![conventional];
    let mut previous: Option<String> = None;
    for stage in stages_for(build, Event::PullRequest) {
        let job = stage_job(
            build,
            stage,
            Event::PullRequest,
            previous.iter().cloned().collect(),
            false,
        );
        previous = Some(job.id.clone());
        jobs.push(job);
    }
    jobs
}

/// The secrets the jobs read (`${{ secrets.NAME }}`), in order of first use: a called workflow
/// must declare each.
fn secrets_used(jobs: &[Job]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let values = jobs.iter().flat_map(|j| {
        j.steps.iter().flat_map(|s| {
            s.env
                .iter()
                .map(|(_, v)| v.as_str())
                .chain(s.with.iter().map(|(_, v)| v.as_str()))
        })
    });
    for value in values {
        let mut rest = value;
        while let Some(at) = rest.find("secrets.") {
            rest = &rest[at + "secrets.".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

fn secret_description(name: &str) -> &'static str {
    match name {
        "SLIPWAY_WEBHOOK_SECRET" => "The key that signs build-completed notifications to Slipway",
        "PUB_TOKEN" => "A token for the Dart package registry (PUB_HOSTED_URL)",
        "BUF_TOKEN" => "A token for the Buf Schema Registry",
        _ => "A secret the pipeline reads",
    }
}

fn header(build: &BuildDefinition, lines: &[String]) -> String {
    let parent = build
        .metadata
        .parent
        .as_ref()
        .map(|(kind, name)| format!("{kind}/{name} and "))
        .unwrap_or_default();
    let mut out = format!(
        "# Generated by Slipway from {parent}BuildDefinition/{}.\n# Do not edit: change the manifests; Slipway overwrites this file when it provisions.\n",
        build.metadata.name
    );
    for line in lines {
        out.push_str(&format!("# {line}\n"));
    }
    out
}

/// The caller and managed workflow files for one BuildDefinition under the target's strategy:
/// for each branch role and event, a managed workflow holding the pipeline (in the shared
/// managed-workflows repository) and a caller in the repository that runs it.
pub fn workflows(target: &Target, build: &BuildDefinition) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    for policy in policies(target.strategy) {
        for event in [Event::Push, Event::PullRequest] {
            let pair = WorkflowPair::new(target, build, &policy, event);
            let jobs = match event {
                Event::Push => push_jobs(build, &policy),
                Event::PullRequest => pull_request_jobs(build),
            };
            files.push(pair.managed(&jobs));
            files.push(pair.caller(&jobs));
        }
    }
    files
}

/// The names one branch role and event give its two workflow files.
struct WorkflowPair<'a> {
    target: &'a Target<'a>,
    build: &'a BuildDefinition,
    policy: &'a BranchPolicy,
    event: Event,
    title: String,
    caller_path: String,
    managed_path: String,
}

impl<'a> WorkflowPair<'a> {
    fn new(
        target: &'a Target<'a>,
        build: &'a BuildDefinition,
        policy: &'a BranchPolicy,
        event: Event,
    ) -> WorkflowPair<'a> {
        let base = format!(
            "{}-{}-{}",
            build.metadata.name,
            policy.role.slug(),
            event.as_str()
        );
        WorkflowPair {
            target,
            build,
            policy,
            event,
            title: format!(
                "{} {} {}",
                build.metadata.name,
                policy.role.slug(),
                event.as_str()
            ),
            caller_path: format!(".github/workflows/{base}.yml"),
            managed_path: format!(".github/workflows/{}-{base}.yml", target.repository),
        }
    }

    /// The managed workflow: the pipeline's jobs, called with the secrets they use.
    fn managed(&self, jobs: &[Job]) -> GeneratedFile {
        let mut call = Yaml::map();
        let secrets = secrets_used(jobs);
        if !secrets.is_empty() {
            call.push(
                "secrets",
                Yaml::Map(
                    secrets
                        .iter()
                        .map(|name| {
                            (
                                name.clone(),
                                Yaml::map()
                                    .text("description", secret_description(name))
                                    .with("required", Yaml::Plain("true".into()))
                                    .build(),
                            )
                        })
                        .collect(),
                ),
            );
        }
        let managed = Yaml::map()
            .text("name", format!("{} (managed)", self.title))
            .with(
                "on",
                Yaml::map().with("workflow_call", call.build()).build(),
            )
            .with("permissions", Yaml::map().text("contents", "read").build())
            .with(
                "jobs",
                Yaml::Map(jobs.iter().map(|j| (j.id.clone(), j.yaml())).collect()),
            )
            .build();
        GeneratedFile {
            repository: self.target.managed_repository.to_string(),
            path: self.managed_path.clone(),
            contents: header(
                self.build,
                &[format!(
                    "Called by {}/{} ({} on {}).",
                    self.target.repository,
                    self.caller_path,
                    self.event.as_str(),
                    self.policy.role.shown()
                )],
            ) + &print(&managed),
        }
    }

    /// The caller: the trigger, the permissions the pipeline needs, and one job that runs the
    /// managed workflow with the repository's secrets.
    fn caller(&self, jobs: &[Job]) -> GeneratedFile {
        let branches = Yaml::seq(self.policy.role.patterns());
        let trigger = match self.event {
            Event::Push => Yaml::map().with("branches", branches).build(),
            Event::PullRequest => Yaml::map()
                .with("branches", branches)
                .with(
                    "types",
                    Yaml::seq(["opened", "edited", "synchronize", "reopened"]),
                )
                .build(),
        };
        let uses = format!(
            "{}/{}/{}@main",
            self.target.org, self.target.managed_repository, self.managed_path
        );
        let caller = Yaml::map()
            .text("name", self.title.clone())
            .with("on", Yaml::map().with(self.event.as_str(), trigger).build())
            .with("permissions", permissions_yaml(&union(jobs)))
            .with(
                "concurrency",
                Yaml::map()
                    .text("group", "${{ github.workflow }}-${{ github.ref }}")
                    .with(
                        "cancel-in-progress",
                        Yaml::Plain((self.event == Event::PullRequest).to_string()),
                    )
                    .build(),
            )
            .with(
                "jobs",
                Yaml::map()
                    .with(
                        "pipeline",
                        Yaml::map()
                            .text("name", "Pipeline")
                            .text("uses", uses)
                            .text("secrets", "inherit")
                            .build(),
                    )
                    .build(),
            )
            .build();
        GeneratedFile {
            repository: self.target.repository.to_string(),
            path: self.caller_path.clone(),
            contents: header(
                self.build,
                &[format!(
                    "Runs {}/{}/{}, which holds the pipeline.",
                    self.target.org, self.target.managed_repository, self.managed_path
                )],
            ) + &print(&caller),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::yaml::{documents, Node, Value};

    fn build(text: &str) -> BuildDefinition {
        let manifests = crate::domain::manifests::load("b.yaml", text).unwrap();
        match manifests.into_iter().next().unwrap() {
            crate::domain::manifests::Manifest::BuildDefinition(b) => b,
            _ => unreachable!(),
        }
    }

    fn every_type() -> Vec<BuildDefinition> {
        BuildType::ALL
            .iter()
            .map(|t| {
                let stages: Vec<&str> = t.stages().iter().map(|s| s.as_str()).collect();
                let containerize = if t.stages().contains(&Stage::Containerize) {
                    "  containerize:\n    - name: app\n      registries: [core-registry, backup]\n"
                } else {
                    ""
                };
                build(&format!(
                    "apiVersion: lowops.manifests.v1\nkind: BuildDefinition\nmetadata:\n  name: app\n  parent: GithubRepository/app\nspec:\n  type: {}\n  stages: [{}]\n{containerize}",
                    t.as_str(),
                    stages.join(", ")
                ))
            })
            .collect()
    }

    fn walk<'a>(node: &'a Node, key: &str, found: &mut Vec<(&'a Node, &'a Node)>) {
        match &node.value {
            Value::Mapping(entries) => {
                for (k, v) in entries {
                    if k.as_str() == Some(key) {
                        found.push((node, v));
                    }
                    walk(v, key, found);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|i| walk(i, key, found)),
            Value::Scalar { .. } => {}
        }
    }

    #[test]
    fn every_action_is_pinned_to_a_full_sha_with_inputs_it_declares() {
        for strategy in Strategy::ALL {
            for b in every_type() {
                let target = Target {
                    org: "acme",
                    repository: "app",
                    managed_repository: "managed-workflows-private",
                    strategy,
                };
                for file in workflows(&target, &b) {
                    let docs = documents(&file.contents)
                        .unwrap_or_else(|e| panic!("{}: {e:?}", file.path));
                    let mut uses = Vec::new();
                    walk(&docs[0], "uses", &mut uses);
                    assert!(!uses.is_empty(), "{}", file.path);
                    for (step, value) in uses {
                        let text = value.as_str().unwrap();
                        let (action, reference) = text.rsplit_once('@').unwrap();
                        if file.repository == "app" {
                            assert_eq!(reference, "main", "callers run the managed workflow");
                            continue;
                        }
                        assert_eq!(reference.len(), 40, "{text}");
                        assert!(reference.chars().all(|c| c.is_ascii_hexdigit()), "{text}");
                        let pin = pin(action);
                        assert_eq!(pin.sha, reference);
                        assert!(file.contents.contains(&format!("{text} # {}", pin.tag)));
                        let mut with = Vec::new();
                        walk(step, "with", &mut with);
                        for (_, inputs) in with {
                            if let Value::Mapping(entries) = &inputs.value {
                                for (k, _) in entries {
                                    let k = k.as_str().unwrap();
                                    assert!(pin.inputs.contains(&k), "{action} has no input {k}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn no_expression_is_spliced_into_a_script() {
        for strategy in Strategy::ALL {
            for b in every_type() {
                let target = Target {
                    org: "acme",
                    repository: "app",
                    managed_repository: "m",
                    strategy,
                };
                for file in workflows(&target, &b) {
                    let docs = documents(&file.contents).unwrap();
                    let mut runs = Vec::new();
                    walk(&docs[0], "run", &mut runs);
                    for (_, script) in runs {
                        assert!(!script.as_str().unwrap().contains("${{"), "{}", file.path);
                    }
                }
            }
        }
    }

    #[test]
    fn pull_requests_run_only_the_verification_stages() {
        let b = &every_type()[0]; // GOLANG, every stage
        let target = Target {
            org: "acme",
            repository: "app",
            managed_repository: "m",
            strategy: Strategy::GitFlow,
        };
        let files = workflows(&target, b);
        assert_eq!(
            files.len(),
            5 * 2 * 2,
            "5 branches × push/pull_request × caller/managed"
        );
        let pr = files
            .iter()
            .find(|f| f.path == ".github/workflows/app-app-develop-branch-pull_request.yml")
            .unwrap();
        let docs = documents(&pr.contents).unwrap();
        let jobs: Vec<String> = match &docs[0].value {
            Value::Mapping(e) => match &e
                .iter()
                .find(|(k, _)| k.as_str() == Some("jobs"))
                .unwrap()
                .1
                .value
            {
                Value::Mapping(jobs) => jobs
                    .iter()
                    .map(|(k, _)| k.as_str().unwrap().to_string())
                    .collect(),
                _ => unreachable!(),
            },
            _ => unreachable!(),
        };
        assert_eq!(
            jobs,
            [
                "conventional-commits",
                "analysis",
                "security-scan",
                "test",
                "build"
            ]
        );
        let push = files
            .iter()
            .find(|f| f.path == ".github/workflows/app-app-develop-branch-push.yml")
            .unwrap();
        assert!(push.contents.contains("--release-type ALPHA"));
        let order: Vec<usize> = [
            "initialize:",
            "  analysis:",
            "  security-scan:",
            "  test:",
            "  build:",
            "  release:",
            "  containerize:",
            "  finalize:",
        ]
        .iter()
        .map(|j| {
            push.contents
                .find(&format!("\n  {}", j.trim_start()))
                .unwrap_or_else(|| panic!("{j}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "stages in order");
        let notify = push
            .contents
            .rfind("Notify Slipway: build completed")
            .unwrap();
        assert!(
            push.contents[notify..].matches("- name:").count() == 0,
            "the notification is the last step"
        );
        let feature = files
            .iter()
            .find(|f| f.path == ".github/workflows/app-app-feature-branch-push.yml")
            .unwrap();
        assert!(
            !feature.contents.contains("version compute"),
            "feature branches get no version"
        );
    }

    #[test]
    fn registry_variables() {
        assert_eq!(registry_variable("core-registry"), "REGISTRY_CORE_REGISTRY");
        assert_eq!(registry_variable("eu.gcr"), "REGISTRY_EU_GCR");
    }
}

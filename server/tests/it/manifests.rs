//! `slipway manifests validate` and `render` as a CI pipeline or a person runs them on
//! manifest files: what they define, or every error as file:line:column, with no configuration
//! or database; and what render writes, snapshot-tested and checked by the real tools —
//! actionlint (with shellcheck), GitHub's workflow JSON schema, GitHub's ruleset request schema
//! and a CODEOWNERS parser.

use crate::support::repo_root;
use std::path::{Path, PathBuf};
use std::process::Command;

fn validate(dir: &Path, files: &[&str]) -> (i32, String, String) {
    let mut args = vec!["validate"];
    args.extend_from_slice(files);
    manifests(dir, &args)
}

fn manifests(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .arg("manifests")
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SLIPWAY_CONFIG")
        .env_remove("SLIPWAY_DATA_DIR")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

const REPOSITORY: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: my-service
spec:
  strategy: GIT_FLOW
  permissions:
    administrators:
      groups: [platform-team]
";

const BUILD: &str = "apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: my-service
  parent: GithubRepository/my-service
spec:
  type: PYTHON
  stages: [analysis, test, build, publish]
";

#[test]
fn manifests_validate_names_what_files_define_or_every_error_where_it_is() {
    let dir =
        std::env::temp_dir().join(format!("slipway-manifests-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("repo.yaml"), REPOSITORY).unwrap();
    std::fs::write(dir.join("build.yaml"), BUILD).unwrap();
    assert_eq!(
        validate(&dir, &["repo.yaml", "build.yaml"]),
        (
            0,
            "repo.yaml: GithubRepository my-service\nbuild.yaml: BuildDefinition my-service".into(),
            String::new()
        )
    );
    // The build's repository is not among the files.
    let (code, _, err) = validate(&dir, &["build.yaml"]);
    assert_eq!((code, err.as_str()), (1, "build.yaml:4:3: the parent GithubRepository/my-service is not among the manifests\n1 error"));
    // Errors in several files, all reported.
    std::fs::write(
        dir.join("bad.yaml"),
        REPOSITORY
            .replace("GIT_FLOW", "TRUNK")
            .replace("groups:", "group:"),
    )
    .unwrap();
    std::fs::write(
        dir.join("worse.yaml"),
        BUILD.replace("publish]", "containerise]"),
    )
    .unwrap();
    let (code, out, err) = validate(&dir, &["bad.yaml", "worse.yaml", "missing.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            "bad.yaml:6:13: unknown strategy `TRUNK`; expected one of `GITHUB_FLOW`, `GIT_FLOW`, `TRUNK_BASED`",
            "bad.yaml:9:7: unknown field `group`; did you mean `groups`?",
            "worse.yaml:8:35: unknown stage `containerise`; did you mean `containerize`?",
            "missing.yaml: No such file or directory (os error 2)",
            "4 errors",
        ]
    );
    std::fs::write(dir.join("binary.yaml"), b"kind: \xff\n").unwrap();
    let (code, _, err) = validate(&dir, &["binary.yaml"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "binary.yaml: not UTF-8 (byte 6)\n1 error")
    );
    assert!(!dir.join("data").exists(), "no data dir was created");
    let _ = std::fs::remove_dir_all(&dir);
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slipway-{label}-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The seed's two example manifests as the seed shows them, with the parent link its comment
/// asks for.
const SEED_EXAMPLES: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: my-service
  github-connection: pvotal-tech
spec:
  strategy: GITHUB_FLOW # or GIT_FLOW, TRUNK_BASED
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

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn tool(name: &str) -> PathBuf {
    let path = repo_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

/// Runs a checker over `files` (in batches, to keep command lines short); panics with its
/// output when it refuses any.
fn check_with(what: &str, program: &Path, args: &[&str], files: &[PathBuf]) {
    for batch in files.chunks(200) {
        let output = Command::new(program)
            .args(args)
            .args(batch)
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            output.status.success(),
            "{what} refused generated files:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// actionlint (which runs shellcheck on every `run:` script when shellcheck is installed) and
/// GitHub's workflow schema on every workflow; the ruleset request schema on every ruleset.
fn check_rendered(out: &Path) {
    let all = files_under(out);
    let workflows: Vec<PathBuf> = all
        .iter()
        .filter(|f| f.contains(".github/workflows/"))
        .map(|f| out.join(f))
        .collect();
    let rulesets: Vec<PathBuf> = all
        .iter()
        .filter(|f| f.contains("/rulesets/"))
        .map(|f| out.join(f))
        .collect();
    assert!(!workflows.is_empty() && !rulesets.is_empty());
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(
            shellcheck.is_ok(),
            "shellcheck is missing: run scripts/setup"
        );
    }
    check_with(
        "actionlint",
        &tool("actionlint"),
        &["-no-color"],
        &workflows,
    );
    check_with(
        "check-jsonschema (github-workflows)",
        &tool("check-jsonschema"),
        &["--builtin-schema", "vendor.github-workflows"],
        &workflows,
    );
    let schema = repo_root().join("server/tests/schemas/github-create-repo-ruleset.schema.json");
    check_with(
        "check-jsonschema (create-repo-ruleset)",
        &tool("check-jsonschema"),
        &["--schemafile", schema.to_str().unwrap()],
        &rulesets,
    );
}

#[test]
fn manifests_render_writes_the_seeds_examples_as_snapshots_the_real_tools_accept() {
    let dir = temp_dir("render");
    std::fs::write(dir.join("my-service.yaml"), SEED_EXAMPLES).unwrap();
    let (code, stdout, stderr) = manifests(&dir, &["render", "--out", "out", "my-service.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "my-service: GITHUB_FLOW (pvotal-tech), 9 files, 1 ruleset\nwrote 10 files under out"
    );
    let out = dir.join("out");
    let files = files_under(&out);
    assert_eq!(
        files,
        [
            "managed-workflows-private/.github/workflows/my-service-my-service-feature-branch-pull_request.yml",
            "managed-workflows-private/.github/workflows/my-service-my-service-feature-branch-push.yml",
            "managed-workflows-private/.github/workflows/my-service-my-service-primary-branch-pull_request.yml",
            "managed-workflows-private/.github/workflows/my-service-my-service-primary-branch-push.yml",
            "my-service/.github/CODEOWNERS",
            "my-service/.github/workflows/my-service-feature-branch-pull_request.yml",
            "my-service/.github/workflows/my-service-feature-branch-push.yml",
            "my-service/.github/workflows/my-service-primary-branch-pull_request.yml",
            "my-service/.github/workflows/my-service-primary-branch-push.yml",
            "my-service/rulesets/slipway-primary-branch.json",
        ]
    );
    for file in &files {
        let contents = std::fs::read_to_string(out.join(file)).unwrap();
        insta::assert_snapshot!(format!("render__{}", file.replace('/', "__")), contents);
    }
    check_rendered(&out);
    // The CODEOWNERS parser agrees on who owns what.
    let script = "import sys\nfrom codeowners import CodeOwners\nowners = CodeOwners(open(sys.argv[1]).read())\nfor path in sys.argv[2:]:\n    print(path, ' '.join(o[1] for o in owners.of(path)))\n";
    let output = Command::new(tool("python"))
        .args(["-c", script])
        .arg(out.join("my-service/.github/CODEOWNERS"))
        .args(["cmd/server/main.go", ".github/workflows/x.yml"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "cmd/server/main.go @pvotal-tech/platform-team\n.github/workflows/x.yml @pvotal-tech/platform-team\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Rendering again writes the same bytes.
    let first: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
        .collect();
    let (code, _, _) = manifests(&dir, &["render", "--out", "out", "my-service.yaml"]);
    assert_eq!(code, 0);
    let second: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
        .collect();
    assert_eq!(first, second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_strategy_with_every_build_type_renders_files_the_real_tools_accept() {
    use app::domain::manifests::BuildType;
    use app::domain::versioning::Strategy;
    let dir = temp_dir("render-all");
    let mut text = String::new();
    for strategy in Strategy::ALL {
        for build in BuildType::ALL {
            let name = format!(
                "{}-{}",
                strategy.as_str().to_lowercase().replace('_', "-"),
                build.as_str().to_lowercase().replace('_', "-")
            );
            let stages: Vec<&str> = build.stages().iter().map(|s| s.as_str()).collect();
            let settings = match build {
                BuildType::Golang => "  golang:\n    versions: [\"1.23\", \"1.24\"]\n    buildType: bin\n    target: ./cmd/app\n",
                BuildType::Java => "  java:\n    versions: [\"17\", \"21\"]\n    distribution: corretto\n",
                BuildType::Python => "  python:\n    versions: [\"3.12\"]\n    directory: src/pkg\n",
                BuildType::Helm => "  helm:\n    chart: charts/app\n",
                BuildType::Terraform => "  terraform:\n    directory: modules/net\n    version: 1.9.8\n",
                _ => "",
            };
            let containerize = if stages.contains(&"containerize") {
                format!("  containerize:\n    - name: {name}\n      registries: [core-registry, eu-mirror]\n    - name: {name}-worker\n      registries: [core-registry]\n")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "---\napiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: {name}\nspec:\n  strategy: {}\n  permissions:\n    administrators:\n      groups: [platform]\n      users: [ada]\n  codeOwners:\n    - path: /docs/\n      groups: [writers]\n---\napiVersion: lowops.manifests.v1\nkind: BuildDefinition\nmetadata:\n  name: {name}\n  parent: GithubRepository/{name}\nspec:\n  type: {}\n  stages: [{}]\n{settings}{containerize}",
                strategy.as_str(),
                build.as_str(),
                stages.join(", ")
            ));
        }
    }
    std::fs::write(dir.join("all.yaml"), &text).unwrap();
    let (code, stdout, stderr) = manifests(
        &dir,
        &["render", "--org", "acme", "--out", "out", "all.yaml"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 31, "{stdout}");
    let out = dir.join("out");
    let files = files_under(&out);
    // Per build type: GitHub Flow 2 branches, Git Flow 5, Trunk-Based 3; each with push and
    // pull_request, caller and managed; plus CODEOWNERS and a ruleset per protected branch.
    let workflows = files
        .iter()
        .filter(|f| f.contains(".github/workflows/"))
        .count();
    assert_eq!(workflows, 10 * (2 + 5 + 3) * 2 * 2);
    let rulesets = files.iter().filter(|f| f.contains("/rulesets/")).count();
    assert_eq!(rulesets, 10 * (1 + 4 + 2));
    check_rendered(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifests_render_refuses_bad_input_and_writes_nothing() {
    let dir = temp_dir("render-bad");
    std::fs::write(
        dir.join("bad.yaml"),
        SEED_EXAMPLES
            .replace("target: ./cmd/server", "target: ../../etc")
            .replace("groups: [platform-team]", "groups: [platform team]"),
    )
    .unwrap();
    let (code, stdout, stderr) = manifests(&dir, &["render", "--out", "out", "bad.yaml"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "bad.yaml:10:16: spec.permissions.administrators.groups \"platform team\" must be letters, digits, '-', '_' or '.', starting with a letter or digit (at most 100)",
            "bad.yaml:30:13: spec.golang.target \"../../etc\": must not leave the repository (`..`)",
            "2 errors",
        ]
    );
    std::fs::write(dir.join("ok.yaml"), SEED_EXAMPLES).unwrap();
    let (code, _, stderr) = manifests(
        &dir,
        &["render", "--org", "../x", "--out", "out", "ok.yaml"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("--org \"../x\": must be letters"),
        "{stderr}"
    );
    std::fs::write(dir.join("nothing.yaml"), "").unwrap();
    let (code, _, stderr) = manifests(&dir, &["render", "--out", "out", "nothing.yaml"]);
    assert_eq!(
        (code, stderr.as_str()),
        (1, "no GithubRepository among the manifests\n1 error")
    );
    assert!(!dir.join("out").exists(), "nothing was written");
    let _ = std::fs::remove_dir_all(&dir);
}

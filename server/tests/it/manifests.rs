//! `slipway manifests validate` as a CI pipeline or a person runs it on manifest files: what
//! they define, or every error as file:line:column, with no configuration or database.

use std::path::Path;
use std::process::Command;

fn validate(dir: &Path, files: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .arg("manifests")
        .arg("validate")
        .args(files)
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

use super::*;

#[test]
fn the_seeds_build_type_table() {
    let table = [
        (
            "GOLANG",
            "analysis, security-scan, test, build, release, containerize",
            "Docker (Artifact Registry)",
        ),
        ("DOCKER", "containerize", "Docker"),
        (
            "FLUTTER",
            "analysis, test, publish",
            "Dart (custom registry)",
        ),
        (
            "FLUTTER_WEB",
            "analysis, test, build, containerize",
            "Docker",
        ),
        (
            "JAVA",
            "analysis, security-scan, test, build, publish, containerize",
            "Maven (Artifact Registry)",
        ),
        (
            "PYTHON",
            "analysis, test, build, publish, containerize",
            "PyPI (Artifact Registry)",
        ),
        ("PROTOBUF", "analysis, test, publish", "Buf Schema Registry"),
        ("HELM", "analysis, test, publish", "Helm (OCI Registry)"),
        ("TERRAFORM", "validate, plan, publish", "Terraform Registry"),
        ("MOJO", "test, build, publish", "Custom"),
    ];
    assert_eq!(table.len(), BuildType::ALL.len());
    for (name, stages, registry) in table {
        let build = BuildType::parse(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(build.as_str(), name);
        let listed: Vec<&str> = build.stages().iter().map(|s| s.as_str()).collect();
        assert_eq!(listed.join(", "), stages, "{name}");
        assert_eq!(build.registry(), registry, "{name}");
    }
    assert_eq!(BuildType::parse("golang"), None, "names are exact");
}

#[test]
fn pull_requests_run_analysis_security_scan_test_and_build_only() {
    let on_pulls: Vec<&str> = Stage::ALL
        .into_iter()
        .filter(|s| s.runs_on_pull_requests())
        .map(Stage::as_str)
        .collect();
    assert_eq!(on_pulls, ["analysis", "security-scan", "test", "build"]);
    for stage in Stage::ALL {
        assert_eq!(Stage::parse(stage.as_str()), Some(stage));
    }
}

/// The seed's two example manifests (with the parent its comment asks for).
pub(crate) const REPOSITORY: &str = "apiVersion: lowops.manifests.v1
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
";

pub(crate) const BUILD: &str = "apiVersion: lowops.manifests.v1
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

fn errors(text: &str) -> Vec<String> {
    load("m.yaml", text)
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn the_seeds_examples_load_as_one_file_of_two_documents() {
    let both = format!("{REPOSITORY}---\n{BUILD}");
    let manifests = load("my-service.yaml", &both).unwrap();
    assert_eq!(manifests.len(), 2);
    let Manifest::GithubRepository(repo) = &manifests[0] else {
        panic!()
    };
    assert_eq!(repo.metadata.name, "my-service");
    assert_eq!(
        repo.metadata.github_connection.as_deref(),
        Some("pvotal-tech")
    );
    assert_eq!(
        repo.strategy,
        super::super::versioning::Strategy::GithubFlow
    );
    assert_eq!(repo.administrators.groups, ["platform-team"]);
    assert_eq!(repo.contributors.groups, ["backend-engineers"]);
    let Manifest::BuildDefinition(build) = &manifests[1] else {
        panic!()
    };
    assert_eq!(build.build_type, BuildType::Golang);
    assert_eq!(
        build.stages,
        [
            Stage::Analysis,
            Stage::SecurityScan,
            Stage::Test,
            Stage::Build,
            Stage::Containerize
        ]
    );
    assert_eq!(
        build.settings,
        vec![
            ("versions".to_string(), vec!["stable".to_string()]),
            ("buildType".to_string(), vec!["bin".to_string()]),
            ("target".to_string(), vec!["./cmd/server".to_string()]),
        ]
    );
    assert_eq!(
        build.containerize,
        [Containerize {
            name: "my-service".into(),
            registries: vec!["core-registry".into()]
        }]
    );
    assert_eq!(
        build.metadata.parent,
        Some(("GithubRepository".into(), "my-service".into()))
    );
    let files: Vec<(String, Manifest)> = manifests
        .into_iter()
        .map(|m| ("my-service.yaml".to_string(), m))
        .collect();
    assert_eq!(check_links(&files), Vec::new());
}

#[test]
fn bad_manifests_are_refused_with_every_error_where_it_is() {
    assert_eq!(
        errors(&REPOSITORY.replace("  strategy:", "  stratgy:")),
        [
            "m.yaml:7:3: unknown field `stratgy`; did you mean `strategy`?",
            "m.yaml:7:3: spec needs `strategy`",
        ]
    );
    assert_eq!(
        errors(&REPOSITORY.replace("GITHUB_FLOW", "GITFLOW")),
        ["m.yaml:7:13: unknown strategy `GITFLOW`; did you mean `GIT_FLOW`?"]
    );
    assert_eq!(
            errors(&BUILD.replace("    - build\n", "    - build\n    - publish\n")),
            ["m.yaml:13:7: stage `publish` is not available for GOLANG; it has analysis, security-scan, test, build, release, containerize"]
        );
    assert_eq!(
        errors(&BUILD.replace("type: GOLANG", "type: GOLANGG")),
        [
            "m.yaml:7:9: unknown build type `GOLANGG`; did you mean `GOLANG`?",
            "m.yaml:14:3: unknown field `golang`; expected one of `type`, `stages`, `containerize`",
        ]
    );
    assert_eq!(
        errors(&BUILD.replace("apiVersion: lowops.manifests.v1", "apiVersion: v2")),
        ["m.yaml:1:13: apiVersion must be lowops.manifests.v1"]
    );
    assert_eq!(
            errors(&BUILD.replace("  name: my-service\n  parent", "  name: ../etc\n  parent")),
            ["m.yaml:4:9: metadata.name \"../etc\" must be letters, digits, '-', '_' or '.', starting with a letter or digit (at most 100)"]
        );
    assert_eq!(errors("kind: Nope\n"), [
            "m.yaml:1:1: a manifest needs `apiVersion`",
            "m.yaml:1:7: unknown kind `Nope`; expected one of `GithubRepository`, `BuildDefinition`, `Application`, `ApplicationSet`, `ReleaseTrack`, `DeploymentConfig`, `Policy`, `FreezeWindow`",
            "m.yaml:1:1: a manifest needs `metadata`",
            "m.yaml:1:1: a manifest needs `spec`",
        ]);
    assert_eq!(
        errors("a: [\n"),
        ["m.yaml:2:1: while parsing a node, did not find expected node content"]
    );
    assert_eq!(
        errors("- 1\n"),
        ["m.yaml:1:1: a manifest must be a mapping, not a list"]
    );
}

#[test]
fn a_build_definition_needs_its_repository() {
    let orphan = load(
        "b.yaml",
        &BUILD.replace("  parent: GithubRepository/my-service\n", ""),
    )
    .unwrap();
    let wrong = BUILD
        .replace("GithubRepository/my-service", "GithubRepository/other")
        .replace("  name: my-service\n  parent", "  name: other\n  parent");
    let wrong = load("c.yaml", &wrong).unwrap();
    let repo = load("r.yaml", REPOSITORY).unwrap();
    let mut files: Vec<(String, Manifest)> = Vec::new();
    files.extend(repo.clone().into_iter().map(|m| ("r.yaml".to_string(), m)));
    files.extend(orphan.into_iter().map(|m| ("b.yaml".to_string(), m)));
    files.extend(wrong.into_iter().map(|m| ("c.yaml".to_string(), m)));
    files.extend(repo.into_iter().map(|m| ("d.yaml".to_string(), m)));
    let found: Vec<String> = check_links(&files).iter().map(|e| e.to_string()).collect();
    assert_eq!(found, [
            "d.yaml:4:3: GithubRepository my-service is defined twice (first at r.yaml:4:3)",
            "b.yaml:4:3: a BuildDefinition must be the child of a GithubRepository: add metadata.parent: GithubRepository/<name>",
            "c.yaml:4:3: the parent GithubRepository/other is not among the manifests",
        ]);
}

#[test]
fn near_misses_are_named() {
    let fields = ["apiVersion", "kind", "metadata", "spec"];
    assert_eq!(did_you_mean("apiversion", &fields), Some("apiVersion"));
    assert_eq!(did_you_mean("metdata", &fields), Some("metadata"));
    assert_eq!(did_you_mean("sepc", &fields), Some("spec"));
    assert_eq!(did_you_mean("kinds", &fields), Some("kind"));
    assert_eq!(did_you_mean("status", &fields), None);
    assert_eq!(did_you_mean("", &fields), None);
    let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        unknown("stage", "securityscan", &stages),
        "unknown stage `securityscan`; did you mean `security-scan`?"
    );
    assert_eq!(
        unknown("field", "zzz", &fields),
        "unknown field `zzz`; expected one of `apiVersion`, `kind`, `metadata`, `spec`"
    );
    let error = ManifestError {
        file: "repo.yaml".into(),
        pos: Pos { line: 3, column: 5 },
        message: unknown("field", "sepc", &fields),
    };
    assert_eq!(
        error.to_string(),
        "repo.yaml:3:5: unknown field `sepc`; did you mean `spec`?"
    );
}

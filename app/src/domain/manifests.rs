//! Manifests (seed 002, sections 1 and 2): the build types with the stages each allows and the
//! registry it publishes to, and the errors manifests are refused with — `file:line:column:
//! message`, with a "did you mean" for a name that is nearly right.

use super::yaml::{Node, Pos, Value};
use std::fmt;

/// A CI stage a BuildDefinition may list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Validate,
    Analysis,
    SecurityScan,
    Test,
    Plan,
    Build,
    Release,
    Publish,
    Containerize,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Validate,
        Stage::Analysis,
        Stage::SecurityScan,
        Stage::Test,
        Stage::Plan,
        Stage::Build,
        Stage::Release,
        Stage::Publish,
        Stage::Containerize,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Analysis => "analysis",
            Stage::SecurityScan => "security-scan",
            Stage::Test => "test",
            Stage::Plan => "plan",
            Stage::Build => "build",
            Stage::Release => "release",
            Stage::Publish => "publish",
            Stage::Containerize => "containerize",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Pull request workflows run only these (seed: "they never tag, containerize, or
    /// deploy").
    pub fn runs_on_pull_requests(self) -> bool {
        matches!(
            self,
            Stage::Analysis | Stage::SecurityScan | Stage::Test | Stage::Build
        )
    }
}

/// The seed's "Supported Build Types" table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildType {
    Golang,
    Docker,
    Flutter,
    FlutterWeb,
    Java,
    Python,
    Protobuf,
    Helm,
    Terraform,
    Mojo,
}

impl BuildType {
    pub const ALL: [BuildType; 10] = [
        BuildType::Golang,
        BuildType::Docker,
        BuildType::Flutter,
        BuildType::FlutterWeb,
        BuildType::Java,
        BuildType::Python,
        BuildType::Protobuf,
        BuildType::Helm,
        BuildType::Terraform,
        BuildType::Mojo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuildType::Golang => "GOLANG",
            BuildType::Docker => "DOCKER",
            BuildType::Flutter => "FLUTTER",
            BuildType::FlutterWeb => "FLUTTER_WEB",
            BuildType::Java => "JAVA",
            BuildType::Python => "PYTHON",
            BuildType::Protobuf => "PROTOBUF",
            BuildType::Helm => "HELM",
            BuildType::Terraform => "TERRAFORM",
            BuildType::Mojo => "MOJO",
        }
    }

    pub fn parse(text: &str) -> Option<BuildType> {
        BuildType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The stages this type may list, in the table's order.
    pub fn stages(self) -> &'static [Stage] {
        use Stage::*;
        match self {
            BuildType::Golang => &[Analysis, SecurityScan, Test, Build, Release, Containerize],
            BuildType::Docker => &[Containerize],
            BuildType::Flutter => &[Analysis, Test, Publish],
            BuildType::FlutterWeb => &[Analysis, Test, Build, Containerize],
            BuildType::Java => &[Analysis, SecurityScan, Test, Build, Publish, Containerize],
            BuildType::Python => &[Analysis, Test, Build, Publish, Containerize],
            BuildType::Protobuf => &[Analysis, Test, Publish],
            BuildType::Helm => &[Analysis, Test, Publish],
            BuildType::Terraform => &[Validate, Plan, Publish],
            BuildType::Mojo => &[Test, Build, Publish],
        }
    }

    /// Where its packages go.
    pub fn registry(self) -> &'static str {
        match self {
            BuildType::Golang => "Docker (Artifact Registry)",
            BuildType::Docker => "Docker",
            BuildType::Flutter => "Dart (custom registry)",
            BuildType::FlutterWeb => "Docker",
            BuildType::Java => "Maven (Artifact Registry)",
            BuildType::Python => "PyPI (Artifact Registry)",
            BuildType::Protobuf => "Buf Schema Registry",
            BuildType::Helm => "Helm (OCI Registry)",
            BuildType::Terraform => "Terraform Registry",
            BuildType::Mojo => "Custom",
        }
    }
}

/// One setting a build type takes under its lower-case name (`golang: {target: ./cmd/server}`):
/// its key, whether it is a list, and the check each value passes. Values end up in generated
/// workflows as command arguments, so each check admits only what cannot escape its place.
pub struct Setting {
    pub key: &'static str,
    pub many: bool,
    pub help: &'static str,
    pub check: fn(&str) -> Result<(), String>,
}

/// A path inside the repository: relative, no `..` segment, no option-like start, only
/// letters, digits and `._/-`.
pub fn check_relative_path(value: &str) -> Result<(), String> {
    if value.len() > 200 {
        return Err("is longer than 200 characters".into());
    }
    if value.starts_with('/') || value.starts_with('-') {
        return Err("must be a relative path inside the repository, as ./cmd/server".into());
    }
    if value.split('/').any(|segment| segment == "..") {
        return Err("must not leave the repository (`..`)".into());
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed in a path (letters, digits, '.', '_', '/', '-')"
        ));
    }
    Ok(())
}

/// A tool version or channel: `stable`, `1.22`, `1.22.x`, `3.12`, `21`.
pub fn check_version(value: &str) -> Result<(), String> {
    let ok = value.len() <= 32
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err("must be a version or channel, as 1.22, 3.12.x or stable".into())
    }
}

fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(match did_you_mean(value, allowed) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("must be one of {}", allowed.join(", ")),
        })
    }
}

impl BuildType {
    /// The settings this type takes under its lower-case name (none is required; the
    /// generated workflow says which default it used).
    pub fn settings(self) -> &'static [Setting] {
        const GO_VERSIONS: Setting = Setting {
            key: "versions",
            many: true,
            help: "Go versions to test with (default: stable)",
            check: check_version,
        };
        match self {
            BuildType::Golang => &[
                GO_VERSIONS,
                Setting {
                    key: "buildType",
                    many: false,
                    help: "bin (a program: built from target) or lib (a library)",
                    check: |v| one_of(v, &["bin", "lib"]),
                },
                Setting {
                    key: "target",
                    many: false,
                    help: "the main package of a bin build (default: .)",
                    check: check_relative_path,
                },
            ],
            BuildType::Docker => &[
                Setting {
                    key: "dockerfile",
                    many: false,
                    help: "the Dockerfile (default: Dockerfile)",
                    check: check_relative_path,
                },
                Setting {
                    key: "context",
                    many: false,
                    help: "the build context (default: .)",
                    check: check_relative_path,
                },
            ],
            BuildType::Flutter | BuildType::FlutterWeb => &[Setting {
                key: "version",
                many: false,
                help: "the Flutter version (default: the stable channel's latest)",
                check: check_version,
            }],
            BuildType::Java => &[
                Setting {
                    key: "versions",
                    many: true,
                    help: "Java versions to test with (default: 21)",
                    check: check_version,
                },
                Setting {
                    key: "distribution",
                    many: false,
                    help: "the JDK distribution (default: temurin)",
                    check: |v| {
                        one_of(
                            v,
                            &[
                                "temurin",
                                "zulu",
                                "corretto",
                                "microsoft",
                                "liberica",
                                "oracle",
                                "semeru",
                            ],
                        )
                    },
                },
            ],
            BuildType::Python => &[
                Setting {
                    key: "versions",
                    many: true,
                    help: "Python versions to test with (default: 3.12)",
                    check: check_version,
                },
                Setting {
                    key: "directory",
                    many: false,
                    help: "the project directory holding pyproject.toml (default: .)",
                    check: check_relative_path,
                },
            ],
            BuildType::Protobuf => &[Setting {
                key: "directory",
                many: false,
                help: "the buf module directory (default: .)",
                check: check_relative_path,
            }],
            BuildType::Helm => &[Setting {
                key: "chart",
                many: false,
                help: "the chart directory (default: chart)",
                check: check_relative_path,
            }],
            BuildType::Terraform => &[
                Setting {
                    key: "directory",
                    many: false,
                    help: "the module directory (default: .)",
                    check: check_relative_path,
                },
                Setting {
                    key: "version",
                    many: false,
                    help: "the Terraform version (default: 1.9.8)",
                    check: check_version,
                },
            ],
            BuildType::Mojo => &[
                Setting {
                    key: "version",
                    many: false,
                    help: "the Mojo package version (default: latest)",
                    check: check_version,
                },
                Setting {
                    key: "target",
                    many: false,
                    help: "the program to build (default: main.mojo)",
                    check: check_relative_path,
                },
            ],
        }
    }
}

/// A manifest refused: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub file: String,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.pos, self.message)
    }
}

/// Edit distance in characters (insert, delete, substitute, swap two neighbours).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        rows[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The candidate `word` was most likely meant to be: the nearest one by edit distance
/// (ignoring case), if it is near enough — at most a third of the word's length, and at most 3.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "unknown X `word`" with the nearest candidate, or the list when none is near.
pub fn unknown(what: &str, word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates) {
        Some(near) => format!("unknown {what} `{word}`; did you mean `{near}`?"),
        None => format!(
            "unknown {what} `{word}`; expected one of {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
            "m.yaml:1:7: unknown kind `Nope`; expected one of `GithubRepository`, `BuildDefinition`, `Application`, `ApplicationSet`, `ReleaseTrack`, `DeploymentConfig`",
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
}

pub const API_VERSION: &str = "lowops.manifests.v1";

use super::release_manifests::{application, application_set, deployment_config, release_track};
pub use super::release_manifests::{
    Application, ApplicationSet, DeploymentConfig, ReleaseTrack, SignOff, TrackStage,
};

/// Who a permission or code owner entry names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    pub groups: Vec<String>,
    pub users: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    /// `Kind/name` of the parent manifest.
    pub parent: Option<(String, String)>,
    pub github_connection: Option<String>,
    pub pos: Pos,
}

/// `codeOwners`: a path pattern and who owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeOwner {
    pub path: String,
    pub owners: Principals,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GithubRepository {
    pub metadata: Metadata,
    pub strategy: super::versioning::Strategy,
    pub administrators: Principals,
    pub contributors: Principals,
    pub code_owners: Vec<CodeOwner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Containerize {
    pub name: String,
    pub registries: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildDefinition {
    pub metadata: Metadata,
    pub build_type: BuildType,
    pub stages: Vec<Stage>,
    /// The type's own settings (`golang: {versions, buildType, target}`, …): each key with its
    /// value or values.
    pub settings: Vec<(String, Vec<String>)>,
    pub containerize: Vec<Containerize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    GithubRepository(GithubRepository),
    BuildDefinition(BuildDefinition),
    Application(Application),
    ApplicationSet(ApplicationSet),
    ReleaseTrack(ReleaseTrack),
    DeploymentConfig(DeploymentConfig),
}

impl Manifest {
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::GithubRepository(_) => "GithubRepository",
            Manifest::BuildDefinition(_) => "BuildDefinition",
            Manifest::Application(_) => "Application",
            Manifest::ApplicationSet(_) => "ApplicationSet",
            Manifest::ReleaseTrack(_) => "ReleaseTrack",
            Manifest::DeploymentConfig(_) => "DeploymentConfig",
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Manifest::GithubRepository(m) => &m.metadata,
            Manifest::BuildDefinition(m) => &m.metadata,
            Manifest::Application(m) => &m.metadata,
            Manifest::ApplicationSet(m) => &m.metadata,
            Manifest::ReleaseTrack(m) => &m.metadata,
            Manifest::DeploymentConfig(m) => &m.metadata,
        }
    }
}

const KINDS: [&str; 6] = [
    "GithubRepository",
    "BuildDefinition",
    "Application",
    "ApplicationSet",
    "ReleaseTrack",
    "DeploymentConfig",
];

/// Reads one mapping's fields, remembering which were asked for, so that the rest can be
/// reported as unknown (with the nearest known name).
pub(super) struct Fields<'a> {
    node: &'a Node,
    entries: &'a [(Node, Node)],
}

impl<'a> Fields<'a> {
    pub(super) fn of(node: &'a Node, what: &str, errors: &mut Errors) -> Option<Fields<'a>> {
        match &node.value {
            Value::Mapping(entries) => Some(Fields { node, entries }),
            _ => {
                errors.at(
                    node.pos,
                    format!("{what} must be a mapping, not {}", node.kind()),
                );
                None
            }
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    pub(super) fn required(&self, key: &str, what: &str, errors: &mut Errors) -> Option<&'a Node> {
        let found = self.get(key);
        if found.is_none() {
            errors.at(self.node.pos, format!("{what} needs `{key}`"));
        }
        found
    }

    /// Reports every key that is not in `known`.
    pub(super) fn only(&self, known: &[&str], errors: &mut Errors) {
        for (key, _) in self.entries {
            let name = key.as_str().unwrap_or_default();
            if !known.contains(&name) {
                errors.at(key.pos, unknown("field", name, known));
            }
        }
    }
}

pub(super) struct Errors<'f> {
    file: &'f str,
    list: Vec<ManifestError>,
}

impl Errors<'_> {
    pub(super) fn at(&mut self, pos: Pos, message: String) {
        self.list.push(ManifestError {
            file: self.file.to_string(),
            pos,
            message,
        });
    }
}

pub(super) fn text(node: &Node, what: &str, errors: &mut Errors) -> Option<String> {
    match node.as_str() {
        Some(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a non-empty text, not {}", node.kind()),
            );
            None
        }
    }
}

fn texts(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items.iter().filter_map(|i| text(i, what, errors)).collect(),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a list, not {}", node.kind()),
            );
            Vec::new()
        }
    }
}

/// A name that becomes a path, a branch or a workflow file name: letters, digits, `-`, `_`, `.`,
/// starting with a letter or digit, at most 100 characters.
pub fn check_name(value: &str) -> Result<(), String> {
    let ok = value.len() <= 100
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.contains("..");
    if ok {
        Ok(())
    } else {
        Err("must be letters, digits, '-', '_' or '.', starting with a letter or digit (at most 100)".into())
    }
}

pub(super) fn safe_name(node: &Node, what: &str, errors: &mut Errors) -> Option<String> {
    let value = text(node, what, errors)?;
    match check_name(&value) {
        Ok(()) => Some(value),
        Err(why) => {
            errors.at(node.pos, format!("{what} {value:?} {why}"));
            None
        }
    }
}

/// A list of names that each pass [`safe_name`].
pub(super) fn names(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items
            .iter()
            .filter_map(|i| safe_name(i, what, errors))
            .collect(),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a list, not {}", node.kind()),
            );
            Vec::new()
        }
    }
}

/// GitHub logins: letters, digits and single hyphens, not at either end, at most 39.
fn logins(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("{what} must be a list, not {}", node.kind()),
        );
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in items {
        let Some(value) = text(item, what, errors) else {
            continue;
        };
        let value = value.strip_prefix('@').unwrap_or(&value).to_string();
        let ok = !value.is_empty()
            && value.len() <= 39
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--")
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            found.push(value);
        } else {
            errors.at(
                item.pos,
                format!("{what}: {value:?} is not a GitHub login (letters, digits and single hyphens, at most 39)"),
            );
        }
    }
    found
}

/// A CODEOWNERS path pattern: no whitespace, comment, negation, escape or character class
/// (GitHub's CODEOWNERS supports none of those).
fn owned_path(node: &Node, errors: &mut Errors) -> Option<String> {
    let value = text(node, "codeOwners.path", errors)?;
    let bad = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '\\' | '[' | ']' | '!'));
    match bad {
        _ if value.len() > 255 => {
            errors.at(
                node.pos,
                "codeOwners.path is longer than 255 characters".into(),
            );
            None
        }
        Some(c) => {
            errors.at(
                node.pos,
                format!("codeOwners.path {value:?}: {c:?} is not allowed in a CODEOWNERS pattern"),
            );
            None
        }
        None => Some(value),
    }
}

fn principals(node: &Node, what: &str, errors: &mut Errors) -> Principals {
    let Some(fields) = Fields::of(node, what, errors) else {
        return Principals::default();
    };
    fields.only(&["groups", "users"], errors);
    Principals {
        groups: fields
            .get("groups")
            .map(|n| names(n, &format!("{what}.groups"), errors))
            .unwrap_or_default(),
        users: fields
            .get("users")
            .map(|n| logins(n, &format!("{what}.users"), errors))
            .unwrap_or_default(),
    }
}

fn metadata(node: &Node, errors: &mut Errors) -> Option<Metadata> {
    let fields = Fields::of(node, "metadata", errors)?;
    fields.only(&["name", "parent", "github-connection"], errors);
    let name = fields
        .required("name", "metadata", errors)
        .and_then(|n| safe_name(n, "metadata.name", errors));
    let parent = fields.get("parent").and_then(|n| {
        let value = text(n, "metadata.parent", errors)?;
        match value.split_once('/') {
            Some((kind, parent)) if KINDS.contains(&kind) && !parent.is_empty() => {
                Some((kind.to_string(), parent.to_string()))
            }
            Some((kind, _)) if !KINDS.contains(&kind) => {
                errors.at(n.pos, unknown("kind", kind, &KINDS));
                None
            }
            _ => {
                errors.at(n.pos, format!("metadata.parent {value:?} must be Kind/name, as GithubRepository/my-service"));
                None
            }
        }
    });
    let github_connection = fields
        .get("github-connection")
        .and_then(|n| safe_name(n, "metadata.github-connection", errors));
    Some(Metadata {
        name: name?,
        parent,
        github_connection,
        pos: node.pos,
    })
}

fn github_repository(meta: Metadata, spec: &Node, errors: &mut Errors) -> Option<GithubRepository> {
    use super::versioning::Strategy;
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(&["strategy", "permissions", "codeOwners"], errors);
    let strategies: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
    let strategy = fields.required("strategy", "spec", errors).and_then(|n| {
        let value = text(n, "spec.strategy", errors)?;
        let found = Strategy::parse(&value);
        if found.is_none() {
            errors.at(n.pos, unknown("strategy", &value, &strategies));
        }
        found
    });
    let (mut administrators, mut contributors) = (Principals::default(), Principals::default());
    if let Some(node) = fields.get("permissions") {
        if let Some(permissions) = Fields::of(node, "spec.permissions", errors) {
            permissions.only(&["administrators", "contributors"], errors);
            if let Some(n) = permissions.get("administrators") {
                administrators = principals(n, "spec.permissions.administrators", errors);
            }
            if let Some(n) = permissions.get("contributors") {
                contributors = principals(n, "spec.permissions.contributors", errors);
            }
        }
    }
    let mut code_owners = Vec::new();
    if let Some(node) = fields.get("codeOwners") {
        match &node.value {
            Value::Sequence(items) => {
                for item in items {
                    let Some(entry) = Fields::of(item, "a codeOwners entry", errors) else {
                        continue;
                    };
                    entry.only(&["path", "groups", "users"], errors);
                    let path = entry
                        .required("path", "a codeOwners entry", errors)
                        .and_then(|n| owned_path(n, errors));
                    let owners = Principals {
                        groups: entry
                            .get("groups")
                            .map(|n| names(n, "codeOwners.groups", errors))
                            .unwrap_or_default(),
                        users: entry
                            .get("users")
                            .map(|n| logins(n, "codeOwners.users", errors))
                            .unwrap_or_default(),
                    };
                    if owners.groups.is_empty() && owners.users.is_empty() {
                        errors.at(item.pos, "a codeOwners entry needs groups or users".into());
                    }
                    if let Some(path) = path {
                        code_owners.push(CodeOwner { path, owners });
                    }
                }
            }
            _ => errors.at(
                node.pos,
                format!("spec.codeOwners must be a list, not {}", node.kind()),
            ),
        }
    }
    Some(GithubRepository {
        metadata: meta,
        strategy: strategy?,
        administrators,
        contributors,
        code_owners,
    })
}

fn build_definition(meta: Metadata, spec: &Node, errors: &mut Errors) -> Option<BuildDefinition> {
    let fields = Fields::of(spec, "spec", errors)?;
    let types: Vec<&str> = BuildType::ALL.iter().map(|t| t.as_str()).collect();
    let build_type = fields.required("type", "spec", errors).and_then(|n| {
        let value = text(n, "spec.type", errors)?;
        let found = BuildType::parse(&value);
        if found.is_none() {
            errors.at(n.pos, unknown("build type", &value, &types));
        }
        found
    });
    // The type's settings live under its name in lower case (`golang:`, `flutter_web:`).
    let settings_key = build_type.map(|t| t.as_str().to_lowercase());
    let mut known = vec!["type", "stages", "containerize"];
    if let Some(key) = &settings_key {
        known.push(key);
    }
    fields.only(&known, errors);
    let mut stages = Vec::new();
    if let Some(node) = fields.required("stages", "spec", errors) {
        match &node.value {
            Value::Sequence(items) => {
                for item in items {
                    let Some(value) = text(item, "a stage", errors) else {
                        continue;
                    };
                    let all: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
                    match Stage::parse(&value) {
                        None => errors.at(item.pos, unknown("stage", &value, &all)),
                        Some(stage) if stages.contains(&stage) => {
                            errors.at(item.pos, format!("stage `{value}` is listed twice"))
                        }
                        Some(stage) => match build_type {
                            Some(t) if !t.stages().contains(&stage) => errors.at(
                                item.pos,
                                format!(
                                    "stage `{value}` is not available for {}; it has {}",
                                    t.as_str(),
                                    t.stages()
                                        .iter()
                                        .map(|s| s.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ),
                            _ => stages.push(stage),
                        },
                    }
                }
                if items.is_empty() {
                    errors.at(node.pos, "spec.stages lists no stage".into());
                }
            }
            _ => errors.at(
                node.pos,
                format!("spec.stages must be a list, not {}", node.kind()),
            ),
        }
    }
    let mut settings = Vec::new();
    if let (Some(node), Some(build_type)) = (
        settings_key.as_deref().and_then(|k| fields.get(k)),
        build_type,
    ) {
        let what = format!("spec.{}", settings_key.as_deref().unwrap_or_default());
        if let Some(own) = Fields::of(node, &what, errors) {
            let schema = build_type.settings();
            let names: Vec<&str> = schema.iter().map(|s| s.key).collect();
            own.only(&names, errors);
            for setting in schema {
                let Some(value) = own.get(setting.key) else {
                    continue;
                };
                let key = format!("{what}.{}", setting.key);
                let values = if setting.many {
                    texts(value, &key, errors)
                } else {
                    text(value, &key, errors).into_iter().collect()
                };
                let mut good = true;
                for v in &values {
                    if let Err(why) = (setting.check)(v) {
                        errors.at(value.pos, format!("{key} {v:?}: {why}"));
                        good = false;
                    }
                }
                if good && !values.is_empty() {
                    settings.push((setting.key.to_string(), values));
                }
            }
        }
    }
    let mut containerize = Vec::new();
    if let Some(node) = fields.get("containerize") {
        if !stages.contains(&Stage::Containerize) {
            errors.at(
                node.pos,
                "containerize targets need the `containerize` stage".into(),
            );
        }
        match &node.value {
            Value::Sequence(items) => {
                for item in items {
                    let Some(target) = Fields::of(item, "a containerize target", errors) else {
                        continue;
                    };
                    target.only(&["name", "registries"], errors);
                    let name = target
                        .required("name", "a containerize target", errors)
                        .and_then(|n| safe_name(n, "containerize.name", errors));
                    let registries = target
                        .required("registries", "a containerize target", errors)
                        .map(|n| names(n, "containerize.registries", errors))
                        .unwrap_or_default();
                    if let Some(name) = name {
                        containerize.push(Containerize { name, registries });
                    }
                }
            }
            _ => errors.at(
                node.pos,
                format!("spec.containerize must be a list, not {}", node.kind()),
            ),
        }
    }
    Some(BuildDefinition {
        metadata: meta,
        build_type: build_type?,
        stages,
        settings,
        containerize,
    })
}

/// Every manifest of one file (documents separated by `---`), or every error in it.
pub fn load(file: &str, source: &str) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    let mut errors = Errors {
        file,
        list: Vec::new(),
    };
    let documents = match super::yaml::documents(source) {
        Ok(documents) => documents,
        Err(e) => {
            errors.at(e.pos, e.message);
            return Err(errors.list);
        }
    };
    let mut manifests = Vec::new();
    for document in &documents {
        let Some(fields) = Fields::of(document, "a manifest", &mut errors) else {
            continue;
        };
        fields.only(&["apiVersion", "kind", "metadata", "spec"], &mut errors);
        if let Some(node) = fields.required("apiVersion", "a manifest", &mut errors) {
            if node.as_str() != Some(API_VERSION) {
                errors.at(node.pos, format!("apiVersion must be {API_VERSION}"));
            }
        }
        let kind = fields
            .required("kind", "a manifest", &mut errors)
            .and_then(|n| {
                let value = text(n, "kind", &mut errors)?;
                if KINDS.contains(&value.as_str()) {
                    Some(value)
                } else {
                    errors.at(n.pos, unknown("kind", &value, &KINDS));
                    None
                }
            });
        let meta = fields
            .required("metadata", "a manifest", &mut errors)
            .and_then(|n| metadata(n, &mut errors));
        let spec = fields.required("spec", "a manifest", &mut errors);
        let (Some(kind), Some(meta), Some(spec)) = (kind, meta, spec) else {
            continue;
        };
        let manifest = match kind.as_str() {
            "GithubRepository" => {
                github_repository(meta, spec, &mut errors).map(Manifest::GithubRepository)
            }
            "BuildDefinition" => {
                build_definition(meta, spec, &mut errors).map(Manifest::BuildDefinition)
            }
            "Application" => application(meta, spec, &mut errors).map(Manifest::Application),
            "ApplicationSet" => {
                application_set(meta, spec, &mut errors).map(Manifest::ApplicationSet)
            }
            "ReleaseTrack" => release_track(meta, spec, &mut errors).map(Manifest::ReleaseTrack),
            _ => deployment_config(meta, spec, &mut errors).map(Manifest::DeploymentConfig),
        };
        manifests.extend(manifest);
    }
    if errors.list.is_empty() {
        Ok(manifests)
    } else {
        Err(errors.list)
    }
}

/// Checks the links between manifests (of any number of files, as `(file, manifest)`): names
/// are unique per kind, and every BuildDefinition is the child of a GithubRepository that is
/// there.
pub fn check_links(manifests: &[(String, Manifest)]) -> Vec<ManifestError> {
    let mut errors = Vec::new();
    let mut seen: Vec<(&str, &str, &str, Pos)> = Vec::new();
    for (file, manifest) in manifests {
        let meta = manifest.metadata();
        if let Some((_, first_file, _, first)) = seen
            .iter()
            .find(|(kind, _, name, _)| *kind == manifest.kind() && *name == meta.name)
        {
            errors.push(ManifestError {
                file: file.clone(),
                pos: meta.pos,
                message: format!(
                    "{} {} is defined twice (first at {first_file}:{first})",
                    manifest.kind(),
                    meta.name
                ),
            });
        } else {
            seen.push((manifest.kind(), file, &meta.name, meta.pos));
        }
    }
    for (file, manifest) in manifests {
        let Manifest::BuildDefinition(build) = manifest else {
            continue;
        };
        let message = match &build.metadata.parent {
            None => Some("a BuildDefinition must be the child of a GithubRepository: add metadata.parent: GithubRepository/<name>".to_string()),
            Some((kind, _)) if kind != "GithubRepository" => Some(format!("a BuildDefinition's parent must be a GithubRepository, not a {kind}")),
            Some((_, parent)) if !seen.iter().any(|(k, _, n, _)| *k == "GithubRepository" && n == parent) => {
                Some(format!("the parent GithubRepository/{parent} is not among the manifests"))
            }
            _ => None,
        };
        if let Some(message) = message {
            errors.push(ManifestError {
                file: file.clone(),
                pos: build.metadata.pos,
                message,
            });
        }
    }
    errors
}

//! Build definitions: the stages and build types of the seed's table, and their settings.

use super::*;

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

pub(crate) fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
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
    // Long: a table: every build type's settings, with their help and checks
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

//! Manifests (seed 002, sections 1 and 2): the build types with the stages each allows and the
//! registry it publishes to, and the errors manifests are refused with — `file:line:column:
//! message`, with a "did you mean" for a name that is nearly right.

use super::yaml::Pos;
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
mod tests {
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

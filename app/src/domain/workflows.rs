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

/// An action at a pinned commit, with the inputs its `action.yml` declares there (checked by
/// the tests against what the generated steps pass).
pub struct Pin {
    pub action: &'static str,
    pub tag: &'static str,
    pub sha: &'static str,
    pub inputs: &'static [&'static str],
}

/// The pin table: each action at the newest release tag, resolved to its commit. Updating a
/// pin is a reviewed change to this table; generated workflows never name a tag.
pub const PINS: [Pin; 13] = [
    Pin {
        action: "actions/checkout",
        tag: "v7.0.1",
        sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
        inputs: &["fetch-depth", "persist-credentials", "ref"],
    },
    Pin {
        action: "actions/setup-go",
        tag: "v7.0.0",
        sha: "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e",
        inputs: &["go-version", "cache"],
    },
    Pin {
        action: "actions/setup-java",
        tag: "v5.7.0",
        sha: "b6effb05e454b25005698d916606bdc6ffcbf961",
        inputs: &["distribution", "java-version", "cache"],
    },
    Pin {
        action: "actions/setup-python",
        tag: "v7.0.0",
        sha: "5fda3b95a4ea91299a34e894583c3862153e4b97",
        inputs: &["python-version", "cache"],
    },
    Pin {
        action: "subosito/flutter-action",
        tag: "v2.23.0",
        sha: "1a449444c387b1966244ae4d4f8c696479add0b2",
        inputs: &["channel", "flutter-version", "cache"],
    },
    Pin {
        action: "bufbuild/buf-action",
        tag: "v1.5.0",
        sha: "8c6a16e16f12ba20b6470afa9c2ba9b5ba8c97c3",
        inputs: &["setup_only", "github_token"],
    },
    Pin {
        action: "Azure/setup-helm",
        tag: "v5.0.1",
        sha: "9bc31f4ebc9c6b171d7bfbaa5d006ae7abdb4310",
        inputs: &["version"],
    },
    Pin {
        action: "hashicorp/setup-terraform",
        tag: "v4.0.1",
        sha: "dfe3c3f87815947d99a8997f908cb6525fc44e9e",
        inputs: &["terraform_version", "terraform_wrapper"],
    },
    Pin {
        action: "aquasecurity/trivy-action",
        tag: "v0.36.0",
        sha: "ed142fd0673e97e23eac54620cfb913e5ce36c25",
        inputs: &[
            "scan-type",
            "scan-ref",
            "format",
            "output",
            "severity",
            "exit-code",
            "ignore-unfixed",
        ],
    },
    Pin {
        action: "github/codeql-action/upload-sarif",
        tag: "v4.36.2",
        sha: "8aad20d150bbac5944a9f9d289da16a4b0d87c1e",
        inputs: &["sarif_file", "category"],
    },
    Pin {
        action: "google-github-actions/auth",
        tag: "v3.0.0",
        sha: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        inputs: &[
            "workload_identity_provider",
            "service_account",
            "token_format",
        ],
    },
    Pin {
        action: "docker/setup-buildx-action",
        tag: "v4.3.0",
        sha: "37fe631027851001ddb9b187196cc803df7f5f0e",
        inputs: &[],
    },
    Pin {
        action: "docker/build-push-action",
        tag: "v7.3.0",
        sha: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a",
        inputs: &["context", "file", "push", "tags", "provenance", "sbom"],
    },
];

fn pin(action: &str) -> &'static Pin {
    PINS.iter()
        .find(|p| p.action == action)
        .unwrap_or_else(|| panic!("{action} is not in the pin table"))
}

/// The runner every job uses.
pub const RUNNER: &str = "ubuntu-24.04";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Push,
    PullRequest,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Push => "push",
            Event::PullRequest => "pull_request",
        }
    }
}

/// A file Slipway writes into a repository.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GeneratedFile {
    /// The repository it goes to (the governed one, or the managed-workflows one).
    pub repository: String,
    pub path: String,
    pub contents: String,
}

/// Where the workflows go and what they are called.
pub struct Target<'a> {
    pub org: &'a str,
    pub repository: &'a str,
    pub managed_repository: &'a str,
    pub strategy: Strategy,
}

#[derive(Default)]
struct Step {
    name: String,
    id: Option<String>,
    uses: Option<&'static Pin>,
    with: Vec<(&'static str, String)>,
    env: Vec<(String, String)>,
    run: Option<String>,
    when: Option<String>,
}

impl Step {
    fn run(name: &str, script: &str) -> Step {
        Step {
            name: name.into(),
            run: Some(script.into()),
            ..Step::default()
        }
    }

    fn uses(name: &str, action: &str) -> Step {
        Step {
            name: name.into(),
            uses: Some(pin(action)),
            ..Step::default()
        }
    }

    fn with(mut self, key: &'static str, value: impl Into<String>) -> Step {
        self.with.push((key, value.into()));
        self
    }

    fn env(mut self, key: &str, value: impl Into<String>) -> Step {
        self.env.push((key.into(), value.into()));
        self
    }

    fn id(mut self, id: &str) -> Step {
        self.id = Some(id.into());
        self
    }

    fn when(mut self, condition: &str) -> Step {
        self.when = Some(condition.into());
        self
    }

    fn yaml(&self) -> Yaml {
        let mut m = Yaml::map().text("name", &self.name);
        if let Some(id) = &self.id {
            m.push("id", Yaml::str(id));
        }
        if let Some(when) = &self.when {
            m.push("if", Yaml::str(when));
        }
        if let Some(pin) = self.uses {
            m.push(
                "uses",
                Yaml::Noted(format!("{}@{}", pin.action, pin.sha), pin.tag.into()),
            );
        }
        if !self.with.is_empty() {
            m.push(
                "with",
                Yaml::Map(
                    self.with
                        .iter()
                        .map(|(k, v)| {
                            let value = if v.contains('\n') {
                                Yaml::Block(v.clone())
                            } else {
                                Yaml::str(v)
                            };
                            (k.to_string(), value)
                        })
                        .collect(),
                ),
            );
        }
        if !self.env.is_empty() {
            m.push(
                "env",
                Yaml::Map(
                    self.env
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        if let Some(run) = &self.run {
            m.push("run", Yaml::Block(run.clone()));
        }
        m.build()
    }
}

#[derive(Default)]
struct Job {
    id: String,
    name: String,
    needs: Vec<String>,
    when: Option<String>,
    permissions: Vec<(&'static str, &'static str)>,
    matrix: Option<Vec<String>>,
    env: Vec<(String, String)>,
    outputs: Vec<(String, String)>,
    steps: Vec<Step>,
}

impl Job {
    fn yaml(&self) -> Yaml {
        let mut m = Yaml::map().text("name", &self.name);
        if !self.needs.is_empty() {
            m.push("needs", Yaml::seq(self.needs.iter().cloned()));
        }
        if let Some(when) = &self.when {
            m.push("if", Yaml::str(when));
        }
        m.push("runs-on", Yaml::str(RUNNER));
        m.push("timeout-minutes", Yaml::Plain("30".into()));
        m.push("permissions", permissions_yaml(&self.permissions));
        if let Some(values) = &self.matrix {
            m.push(
                "strategy",
                Yaml::map()
                    .with("fail-fast", Yaml::Plain("false".into()))
                    .with(
                        "matrix",
                        Yaml::map()
                            .with("version", Yaml::seq(values.iter().cloned()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.outputs.is_empty() {
            m.push(
                "outputs",
                Yaml::Map(
                    self.outputs
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        if !self.env.is_empty() {
            m.push(
                "env",
                Yaml::Map(
                    self.env
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        m.push(
            "steps",
            Yaml::Seq(self.steps.iter().map(Step::yaml).collect()),
        );
        m.build()
    }
}

fn permissions_yaml(permissions: &[(&'static str, &'static str)]) -> Yaml {
    Yaml::Map(
        permissions
            .iter()
            .map(|(k, v)| (k.to_string(), Yaml::str(*v)))
            .collect(),
    )
}

/// The union of the jobs' permissions, the stronger level winning: what the caller must grant
/// (a called workflow can only narrow what its caller gives).
fn union(jobs: &[Job]) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&'static str, &'static str)> = Vec::new();
    for (scope, level) in jobs.iter().flat_map(|j| j.permissions.iter().copied()) {
        match all.iter_mut().find(|(s, _)| *s == scope) {
            Some(existing) if level == "write" => existing.1 = "write",
            Some(_) => {}
            None => all.push((scope, level)),
        }
    }
    all.sort_by_key(|(scope, _)| *scope);
    all
}

fn setting<'b>(build: &'b BuildDefinition, key: &str) -> Option<&'b [String]> {
    build
        .settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

fn first_setting(build: &BuildDefinition, key: &str, default: &str) -> String {
    setting(build, key)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn checkout(full_history: bool) -> Step {
    let step = Step::uses("Check out", "actions/checkout").with("persist-credentials", "false");
    if full_history {
        step.with("fetch-depth", "0")
    } else {
        step
    }
}

fn install_slipway() -> Step {
    Step::run(
        "Install the Slipway CLI",
        "curl --fail --silent --show-error --location \"$SLIPWAY_URL/cli/slipway\" --output \"$RUNNER_TEMP/slipway\"\n\
         chmod +x \"$RUNNER_TEMP/slipway\"\n\
         echo \"$RUNNER_TEMP\" >> \"$GITHUB_PATH\"\n",
    )
    .env("SLIPWAY_URL", "${{ vars.SLIPWAY_URL }}")
}

const CHECK_COMMITS: &str = "status=0
for commit in $(git rev-list --no-merges \"$range\"); do
  if ! git log -1 --format=%B \"$commit\" | slipway commit check - > /dev/null; then
    echo \"::error title=Not a Conventional Commit::commit $commit\"
    status=1
  fi
done
";

/// The toolchain a type's jobs set up; `version` is the matrix value when there is one.
fn toolchain(build: &BuildDefinition, version: Option<&str>) -> Vec<Step> {
    let chosen = |key: &str, default: &str| {
        version
            .map(str::to_string)
            .unwrap_or_else(|| first_setting(build, key, default))
    };
    match build.build_type {
        BuildType::Golang => vec![Step::uses("Set up Go", "actions/setup-go")
            .with("go-version", chosen("versions", "stable"))
            .with("cache", "true")],
        BuildType::Java => vec![Step::uses("Set up Java", "actions/setup-java")
            .with("distribution", first_setting(build, "distribution", "temurin"))
            .with("java-version", chosen("versions", "21"))
            .with("cache", "maven")],
        BuildType::Python => vec![Step::uses("Set up Python", "actions/setup-python")
            .with("python-version", chosen("versions", "3.12"))],
        BuildType::Flutter | BuildType::FlutterWeb => {
            let step = Step::uses("Set up Flutter", "subosito/flutter-action")
                .with("channel", "stable")
                .with("cache", "true");
            vec![match setting(build, "version").and_then(|v| v.first()) {
                Some(v) => step.with("flutter-version", v.clone()),
                None => step,
            }]
        }
        BuildType::Protobuf => vec![Step::uses("Set up buf", "bufbuild/buf-action")
            .with("setup_only", "true")
            .with("github_token", "${{ github.token }}")],
        BuildType::Helm => vec![Step::uses("Set up Helm", "Azure/setup-helm")],
        BuildType::Terraform => vec![Step::uses("Set up Terraform", "hashicorp/setup-terraform")
            .with("terraform_version", first_setting(build, "version", "1.9.8"))
            .with("terraform_wrapper", "false")],
        BuildType::Mojo => vec![
            Step::uses("Set up Python", "actions/setup-python").with("python-version", "3.12"),
            Step::run(
                "Install Mojo",
                "if [ -n \"$MOJO_VERSION\" ]; then\n  python -m pip install \"mojo==$MOJO_VERSION\"\nelse\n  python -m pip install mojo\nfi\n",
            )
            .env("MOJO_VERSION", first_setting(build, "version", "")),
        ],
        BuildType::Docker => Vec::new(),
    }
}

fn gcp_auth() -> Step {
    Step::uses(
        "Authenticate to Google Cloud (Workload Identity Federation)",
        "google-github-actions/auth",
    )
    .id("auth")
    .with(
        "workload_identity_provider",
        "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
    )
    .with("service_account", "${{ vars.GCP_SERVICE_ACCOUNT }}")
    .with("token_format", "access_token")
}

/// A registry's repository variable: `core-registry` → `REGISTRY_CORE_REGISTRY`.
pub fn registry_variable(registry: &str) -> String {
    let upper: String = registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("REGISTRY_{upper}")
}

/// A GitHub release with the given assets (the tag is created at the built commit).
fn github_release(assets: &str) -> Step {
    Step::run(
        "Publish the GitHub release",
        &format!(
            "if gh release view \"$VERSION\" > /dev/null 2>&1; then\n  echo \"release $VERSION exists\"\nelse\n  gh release create \"$VERSION\" --target \"$GITHUB_SHA\" --title \"$VERSION\" --generate-notes {assets}\nfi\n"
        ),
    )
    .env("GH_TOKEN", "${{ github.token }}")
}

/// The steps of one stage after checkout and the toolchain; the job's permissions beyond
/// `contents: read`; and its outputs.
fn stage_steps(
    build: &BuildDefinition,
    stage: Stage,
    event: Event,
) -> (Vec<Step>, Vec<(&'static str, &'static str)>) {
    use BuildType::*;
    let t = build.build_type;
    let name = &build.metadata.name;
    let dir = |key: &str| first_setting(build, key, ".");
    let mut extra = Vec::new();
    let mojo_build = || {
        Step::run(
            "Build",
            "mkdir -p dist\nmojo build \"$TARGET\" -o \"dist/$NAME\"\n",
        )
        .env("TARGET", first_setting(build, "target", "main.mojo"))
        .env("NAME", name.clone())
    };
    let steps = match (stage, t) {
        (Stage::SecurityScan, _) => {
            extra.push(("security-events", "write"));
            vec![
                Step::uses("Scan dependencies and configuration (Trivy)", "aquasecurity/trivy-action")
                    .with("scan-type", "fs")
                    .with("scan-ref", ".")
                    .with("format", "sarif")
                    .with("output", "trivy.sarif")
                    .with("severity", "CRITICAL,HIGH")
                    .with("ignore-unfixed", "true")
                    .with("exit-code", "1"),
                Step::uses("Upload the SARIF report", "github/codeql-action/upload-sarif")
                    .when("always()")
                    .with("sarif_file", "trivy.sarif")
                    .with("category", "trivy"),
            ]
        }
        (Stage::Containerize, _) => {
            extra.push(("id-token", "write"));
            let mut login = String::new();
            let mut variables: Vec<String> = Vec::new();
            for target in &build.containerize {
                for registry in &target.registries {
                    let var = registry_variable(registry);
                    if !variables.contains(&var) {
                        variables.push(var);
                    }
                }
            }
            for var in &variables {
                login.push_str(&format!(
                    ": \"${{{var}:?set the repository variable {var} to the registry path, as europe-docker.pkg.dev/PROJECT/REPOSITORY}}\"\n\
                     printf '%s' \"$TOKEN\" | docker login --username oauth2accesstoken --password-stdin \"${{{var}%%/*}}\"\n"
                ));
            }
            let mut login_step = Step::run("Log in to the registries", &login)
                .env("TOKEN", "${{ steps.auth.outputs.access_token }}");
            for var in &variables {
                login_step = login_step.env(var, format!("${{{{ vars.{var} }}}}"));
            }
            let mut steps = vec![
                gcp_auth(),
                Step::uses("Set up Docker Buildx", "docker/setup-buildx-action"),
                login_step,
            ];
            let (file, context) = if t == Docker {
                (first_setting(build, "dockerfile", "Dockerfile"), dir("context"))
            } else {
                ("Dockerfile".to_string(), ".".to_string())
            };
            let mut record = String::from("images='[]'\n");
            let mut record_env = Vec::new();
            for (i, target) in build.containerize.iter().enumerate() {
                let tags: Vec<String> = target
                    .registries
                    .iter()
                    .flat_map(|r| {
                        let var = registry_variable(r);
                        [
                            format!("${{{{ vars.{var} }}}}/{}:${{{{ env.VERSION }}}}", target.name),
                            format!("${{{{ vars.{var} }}}}/{}:sha-${{{{ github.sha }}}}", target.name),
                        ]
                    })
                    .collect();
                steps.push(
                    Step::uses(&format!("Build and push {}", target.name), "docker/build-push-action")
                        .id(&format!("image_{i}"))
                        .with("context", context.clone())
                        .with("file", file.clone())
                        .with("push", "true")
                        .with("provenance", "mode=max")
                        .with("sbom", "true")
                        .with("tags", tags.join("\n") + "\n"),
                );
                record.push_str(&format!(
                    "images=$(jq -c --arg name \"$NAME_{i}\" --arg digest \"$DIGEST_{i}\" '. + [{{name: $name, digest: $digest}}]' <<< \"$images\")\n"
                ));
                record_env.push((format!("NAME_{i}"), target.name.clone()));
                record_env.push((format!("DIGEST_{i}"), format!("${{{{ steps.image_{i}.outputs.digest }}}}")));
            }
            record.push_str("echo \"images=$images\" >> \"$GITHUB_OUTPUT\"\n");
            let mut record_step = Step::run("Record the image digests", &record).id("images");
            for (k, v) in record_env {
                record_step = record_step.env(&k, v);
            }
            steps.push(record_step);
            steps
        }
        (Stage::Analysis, Golang) => vec![
            Step::run("Check formatting", "unformatted=$(gofmt -l .)\nif [ -n \"$unformatted\" ]; then\n  echo \"$unformatted\"\n  echo \"::error::gofmt would change these files\"\n  exit 1\nfi\n"),
            Step::run("Vet", "go vet ./...\n"),
        ],
        (Stage::Test, Golang) => vec![Step::run("Test", "go test -race -count=1 ./...\n")],
        (Stage::Build | Stage::Release, Golang) => {
            let bin = first_setting(build, "buildType", "bin") == "bin";
            let mut steps = vec![if !bin {
                Step::run("Build", "go build ./...\n")
            } else if stage == Stage::Build {
                Step::run(
                    "Build",
                    "go build -trimpath -ldflags \"-s -w -X main.version=${VERSION:-dev}\" -o \"dist/$NAME\" \"$TARGET\"\n",
                )
                .env("NAME", name.clone())
                .env("TARGET", first_setting(build, "target", "."))
            } else {
                Step::run(
                    "Build the release binaries",
                    "for platform in linux/amd64 linux/arm64 darwin/arm64 windows/amd64; do\n  os=${platform%/*} arch=${platform#*/} ext=\"\"\n  if [ \"$os\" = windows ]; then ext=.exe; fi\n  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w -X main.version=$VERSION\" -o \"dist/$NAME-$os-$arch$ext\" \"$TARGET\"\ndone\n(cd dist && sha256sum -- * > SHA256SUMS)\n",
                )
                .env("NAME", name.clone())
                .env("TARGET", first_setting(build, "target", "."))
            }];
            if stage == Stage::Release {
                extra.push(("contents", "write"));
                steps.push(github_release(if bin { "dist/*" } else { "" }));
            }
            steps
        }
        (Stage::Analysis, Flutter | FlutterWeb) => vec![Step::run("Analyze", "flutter pub get\nflutter analyze\n")],
        (Stage::Test, Flutter | FlutterWeb) => vec![Step::run("Test", "flutter pub get\nflutter test\n")],
        (Stage::Build, FlutterWeb) => vec![Step::run("Build", "flutter pub get\nflutter build web --release\n")],
        (Stage::Publish, Flutter) => vec![Step::run(
            "Publish the package",
            ": \"${PUB_HOSTED_URL:?set the repository variable PUB_HOSTED_URL to the package registry}\"\nsed -i \"s/^version: .*/version: ${VERSION#v}/\" pubspec.yaml\ndart pub token add \"$PUB_HOSTED_URL\" --env-var PUB_TOKEN\nflutter pub publish --force\n",
        )
        .env("PUB_HOSTED_URL", "${{ vars.PUB_HOSTED_URL }}")
        .env("PUB_TOKEN", "${{ secrets.PUB_TOKEN }}")],
        (Stage::Analysis, Java) => vec![Step::run("Compile and run the build's checks", "mvn --batch-mode --no-transfer-progress -DskipTests verify\n")],
        (Stage::Test, Java) => vec![Step::run("Test", "mvn --batch-mode --no-transfer-progress test\n")],
        (Stage::Build, Java) => vec![Step::run("Package", "mvn --batch-mode --no-transfer-progress -DskipTests package\n")],
        (Stage::Publish, Java) => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run(
                    "Deploy to the Maven repository",
                    "mvn --batch-mode --no-transfer-progress versions:set -DnewVersion=\"${VERSION#v}\" -DgenerateBackupPoms=false\nmvn --batch-mode --no-transfer-progress -DskipTests deploy\n",
                ),
            ]
        }
        (Stage::Analysis, Python) => vec![Step::run("Lint", "python -m pip install ruff\nruff check \"$PROJECT\"\n").env("PROJECT", dir("directory"))],
        (Stage::Test, Python) => vec![Step::run("Test", "cd \"$PROJECT\"\npython -m pip install . pytest\npython -m pytest\n").env("PROJECT", dir("directory"))],
        (Stage::Build, Python) => vec![Step::run("Build the distributions", "python -m pip install build\npython -m build \"$PROJECT\" --outdir dist\n").env("PROJECT", dir("directory"))],
        (Stage::Publish, Python) => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run(
                    "Upload to the package index",
                    ": \"${PYPI_REPOSITORY_URL:?set the repository variable PYPI_REPOSITORY_URL}\"\npython -m pip install build twine keyrings.google-artifactregistry-auth\npython -m build \"$PROJECT\" --outdir dist\npython -m twine upload --repository-url \"$PYPI_REPOSITORY_URL\" dist/*\n",
                )
                .env("PROJECT", dir("directory"))
                .env("PYPI_REPOSITORY_URL", "${{ vars.PYPI_REPOSITORY_URL }}"),
            ]
        }
        (Stage::Analysis, Protobuf) => vec![Step::run("Lint and check formatting", "buf lint \"$MODULE\"\nbuf format --diff --exit-code \"$MODULE\"\n").env("MODULE", dir("directory"))],
        (Stage::Test, Protobuf) => vec![Step::run(
            "Build and check for breaking changes",
            "buf build \"$MODULE\"\nif [ -n \"$BASE\" ]; then\n  buf breaking \"$MODULE\" --against \".git#ref=$BASE,subdir=$MODULE\"\nfi\n",
        )
        .env("MODULE", dir("directory"))
        .env("BASE", if event == Event::PullRequest { "${{ github.event.pull_request.base.sha }}" } else { "" })],
        (Stage::Publish, Protobuf) => vec![Step::run("Push to the Buf Schema Registry", "buf push \"$MODULE\" --label \"$VERSION\"\n")
            .env("MODULE", dir("directory"))
            .env("BUF_TOKEN", "${{ secrets.BUF_TOKEN }}")],
        (Stage::Analysis, Helm) => vec![Step::run("Lint the chart", "helm lint \"$CHART\"\n").env("CHART", first_setting(build, "chart", "chart"))],
        (Stage::Test, Helm) => vec![Step::run("Render the chart", "helm dependency build \"$CHART\"\nhelm template \"$CHART\" > /dev/null\n").env("CHART", first_setting(build, "chart", "chart"))],
        (Stage::Publish, Helm) => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run(
                    "Push the chart",
                    ": \"${HELM_REPOSITORY:?set the repository variable HELM_REPOSITORY, as europe-docker.pkg.dev/PROJECT/charts}\"\nprintf '%s' \"$TOKEN\" | helm registry login --username oauth2accesstoken --password-stdin \"${HELM_REPOSITORY%%/*}\"\nhelm dependency build \"$CHART\"\nhelm package \"$CHART\" --version \"${VERSION#v}\" --destination dist\nhelm push dist/*.tgz \"oci://$HELM_REPOSITORY\"\n",
                )
                .env("CHART", first_setting(build, "chart", "chart"))
                .env("TOKEN", "${{ steps.auth.outputs.access_token }}")
                .env("HELM_REPOSITORY", "${{ vars.HELM_REPOSITORY }}"),
            ]
        }
        (Stage::Validate, Terraform) => vec![Step::run(
            "Validate",
            "cd \"$MODULE\"\nterraform fmt -check -recursive\nterraform init -backend=false -input=false\nterraform validate\n",
        )
        .env("MODULE", dir("directory"))],
        (Stage::Plan, Terraform) => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run("Plan", "cd \"$MODULE\"\nterraform init -input=false\nterraform plan -input=false -lock=false\n").env("MODULE", dir("directory")),
            ]
        }
        (Stage::Publish, Terraform) => {
            extra.push(("contents", "write"));
            vec![
                Step::run("Package the module", "mkdir -p dist\ntar --create --gzip --file \"dist/$NAME-$VERSION.tar.gz\" --exclude=.git --exclude=dist --directory \"$MODULE\" .\n")
                    .env("NAME", name.clone())
                    .env("MODULE", dir("directory")),
                github_release("dist/*"),
            ]
        }
        (Stage::Test, Mojo) => vec![Step::run("Test", "mojo test\n")],
        (Stage::Build, Mojo) => vec![mojo_build()],
        (Stage::Publish, Mojo) => {
            extra.push(("contents", "write"));
            vec![mojo_build(), github_release("dist/*")]
        }
        (stage, t) => unreachable!("{} has no stage {}", t.as_str(), stage.as_str()),
    };
    (steps, extra)
}

fn stage_title(stage: Stage) -> String {
    let s = stage.as_str().replace('-', " ");
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The stages a workflow runs, in the type's order.
fn stages_for(build: &BuildDefinition, event: Event) -> Vec<Stage> {
    build
        .build_type
        .stages()
        .iter()
        .copied()
        .filter(|s| build.stages.contains(s))
        .filter(|s| event == Event::Push || s.runs_on_pull_requests())
        .collect()
}

fn stage_job(
    build: &BuildDefinition,
    stage: Stage,
    event: Event,
    after: Vec<String>,
    versioned: bool,
) -> Job {
    let (steps, extra) = stage_steps(build, stage, event);
    let versions = setting(build, "versions").unwrap_or(&[]);
    let matrix = (stage == Stage::Test && versions.len() > 1).then(|| versions.to_vec());
    let mut all = vec![checkout(
        stage == Stage::Test && build.build_type == BuildType::Protobuf,
    )];
    if !matches!(stage, Stage::SecurityScan | Stage::Containerize) {
        all.extend(toolchain(
            build,
            matrix.as_ref().map(|_| "${{ matrix.version }}"),
        ));
    }
    all.extend(steps);
    let mut permissions = vec![("contents", "read")];
    for (scope, level) in extra {
        match permissions.iter_mut().find(|(s, _)| *s == scope) {
            Some(existing) => existing.1 = level,
            None => permissions.push((scope, level)),
        }
    }
    let mut job = Job {
        id: stage.as_str().to_string(),
        name: match &matrix {
            Some(_) => format!("{} (${{{{ matrix.version }}}})", stage_title(stage)),
            None => stage_title(stage),
        },
        needs: after,
        permissions,
        matrix,
        steps: all,
        ..Job::default()
    };
    if versioned {
        job.when = Some("needs.initialize.outputs.skip != 'true'".into());
        job.env.push((
            "VERSION".into(),
            "${{ needs.initialize.outputs.version }}".into(),
        ));
    }
    if stage == Stage::Containerize {
        job.outputs
            .push(("images".into(), "${{ steps.images.outputs.images }}".into()));
    }
    job
}

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
    let containerized = jobs.iter().any(|j| j.id == Stage::Containerize.as_str());
    let notify = "body=$(jq -cn --arg repository \"$GITHUB_REPOSITORY\" --arg application \"$APPLICATION\" \\\n  --arg version \"$VERSION\" --arg commit \"$GITHUB_SHA\" --arg branch \"$GITHUB_REF_NAME\" \\\n  --arg run \"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\" --argjson images \"$IMAGES\" \\\n  '{repository: $repository, application: $application, version: $version, commit: $commit, branch: $branch, run: $run, images: $images}')\ntimestamp=$(date +%s)\nsignature=$(printf '%s.%s' \"$timestamp\" \"$body\" | openssl dgst -sha256 -hmac \"$SLIPWAY_WEBHOOK_SECRET\" -r | cut -d' ' -f1)\ncurl --fail-with-body --silent --show-error --request POST \"$SLIPWAY_URL/hooks/build-completed\" \\\n  --header 'Content-Type: application/json' \\\n  --header \"X-Slipway-Timestamp: $timestamp\" \\\n  --header \"X-Slipway-Signature: sha256=$signature\" \\\n  --data \"$body\"\n";
    let finalize = Job {
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
    };
    jobs.push(finalize);
    jobs
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

/// The caller and managed workflow files for one BuildDefinition under the target's strategy.
pub fn workflows(target: &Target, build: &BuildDefinition) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    for policy in policies(target.strategy) {
        for event in [Event::Push, Event::PullRequest] {
            let base = format!(
                "{}-{}-{}",
                build.metadata.name,
                policy.role.slug(),
                event.as_str()
            );
            let caller_path = format!(".github/workflows/{base}.yml");
            let managed_file = format!("{}-{base}.yml", target.repository);
            let managed_path = format!(".github/workflows/{managed_file}");
            let jobs = match event {
                Event::Push => push_jobs(build, &policy),
                Event::PullRequest => pull_request_jobs(build),
            };
            let title = format!(
                "{} {} {}",
                build.metadata.name,
                policy.role.slug(),
                event.as_str()
            );
            let branches = Yaml::seq(policy.role.patterns());
            // The managed workflow.
            let mut call = Yaml::map();
            let secrets = secrets_used(&jobs);
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
                .text("name", format!("{title} (managed)"))
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
            files.push(GeneratedFile {
                repository: target.managed_repository.to_string(),
                path: managed_path.clone(),
                contents: header(
                    build,
                    &[format!(
                        "Called by {}/{caller_path} ({} on {}).",
                        target.repository,
                        event.as_str(),
                        policy.role.shown()
                    )],
                ) + &print(&managed),
            });
            // The caller.
            let trigger = match event {
                Event::Push => Yaml::map().with("branches", branches).build(),
                Event::PullRequest => Yaml::map()
                    .with("branches", branches)
                    .with(
                        "types",
                        Yaml::seq(["opened", "edited", "synchronize", "reopened"]),
                    )
                    .build(),
            };
            let caller = Yaml::map()
                .text("name", title)
                .with("on", Yaml::map().with(event.as_str(), trigger).build())
                .with("permissions", permissions_yaml(&union(&jobs)))
                .with(
                    "concurrency",
                    Yaml::map()
                        .text("group", "${{ github.workflow }}-${{ github.ref }}")
                        .with(
                            "cancel-in-progress",
                            Yaml::Plain((event == Event::PullRequest).to_string()),
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
                                .text(
                                    "uses",
                                    format!(
                                        "{}/{}/{managed_path}@main",
                                        target.org, target.managed_repository
                                    ),
                                )
                                .text("secrets", "inherit")
                                .build(),
                        )
                        .build(),
                )
                .build();
            files.push(GeneratedFile {
                repository: target.repository.to_string(),
                path: caller_path,
                contents: header(
                    build,
                    &[format!(
                        "Runs {}/{}/{managed_path}, which holds the pipeline.",
                        target.org, target.managed_repository
                    )],
                ) + &print(&caller),
            });
        }
    }
    files
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

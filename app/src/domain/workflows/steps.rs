//! The steps of each stage of a build definition, by build type.

use super::*;

pub(super) fn setting<'b>(build: &'b BuildDefinition, key: &str) -> Option<&'b [String]> {
    build
        .settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

pub(super) fn first_setting(build: &BuildDefinition, key: &str, default: &str) -> String {
    setting(build, key)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

pub(super) fn checkout(full_history: bool) -> Step {
    let step = Step::uses("Check out", "actions/checkout").with("persist-credentials", "false");
    if full_history {
        step.with("fetch-depth", "0")
    } else {
        step
    }
}

pub(super) fn install_slipway() -> Step {
    Step::run(
        "Install the Slipway CLI",
        "curl --fail --silent --show-error --location \"$SLIPWAY_URL/cli/slipway\" --output \"$RUNNER_TEMP/slipway\"\n\
         chmod +x \"$RUNNER_TEMP/slipway\"\n\
         echo \"$RUNNER_TEMP\" >> \"$GITHUB_PATH\"\n",
    )
    .env("SLIPWAY_URL", "${{ vars.SLIPWAY_URL }}")
}

pub(super) const CHECK_COMMITS: &str = "status=0
for commit in $(git rev-list --no-merges \"$range\"); do
  if ! git log -1 --format=%B \"$commit\" | slipway commit check - > /dev/null; then
    echo \"::error title=Not a Conventional Commit::commit $commit\"
    status=1
  fi
done
";

/// The toolchain a type's jobs set up; `version` is the matrix value when there is one.
pub(super) fn toolchain(build: &BuildDefinition, version: Option<&str>) -> Vec<Step> {
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

pub(super) fn gcp_auth() -> Step {
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
pub(super) fn github_release(assets: &str) -> Step {
    Step::run(
        "Publish the GitHub release",
        &format!(
            "if gh release view \"$VERSION\" > /dev/null 2>&1; then\n  echo \"release $VERSION exists\"\nelse\n  gh release create \"$VERSION\" --target \"$GITHUB_SHA\" --title \"$VERSION\" --generate-notes {assets}\nfi\n"
        ),
    )
    .env("GH_TOKEN", "${{ github.token }}")
}

/// The steps of one stage after checkout and the toolchain; the job's permissions beyond
/// `contents: read`; and its outputs. Scanning and containerizing are the same for every
/// build type; the rest is the build type's own.
pub(super) fn stage_steps(
    build: &BuildDefinition,
    stage: Stage,
    event: Event,
) -> (Vec<Step>, Vec<(&'static str, &'static str)>) {
    use BuildType::*;
    let t = build.build_type;
    let mut extra = Vec::new();
    let steps = match stage {
        Stage::SecurityScan => {
            extra.push(("security-events", "write"));
            vec![
                Step::uses(
                    "Scan dependencies and configuration (Trivy)",
                    "aquasecurity/trivy-action",
                )
                .with("scan-type", "fs")
                .with("scan-ref", ".")
                .with("format", "sarif")
                .with("output", "trivy.sarif")
                .with("severity", "CRITICAL,HIGH")
                .with("ignore-unfixed", "true")
                .with("exit-code", "1"),
                Step::uses(
                    "Upload the SARIF report",
                    "github/codeql-action/upload-sarif",
                )
                .when("always()")
                .with("sarif_file", "trivy.sarif")
                .with("category", "trivy"),
            ]
        }
        Stage::Containerize => {
            extra.push(("id-token", "write"));
            containerize_steps(build)
        }
        _ => match t {
            Golang => golang_steps(build, stage, &mut extra),
            Flutter | FlutterWeb => flutter_steps(build, stage),
            Java => java_steps(stage, &mut extra),
            Python => python_steps(build, stage, &mut extra),
            Protobuf => protobuf_steps(build, stage, event),
            Helm => helm_steps(build, stage, &mut extra),
            Terraform => terraform_steps(build, stage, &mut extra),
            Mojo => mojo_steps(build, stage, &mut extra),
            Docker => None,
        }
        .unwrap_or_else(|| unreachable!("{} has no stage {}", t.as_str(), stage.as_str())),
    };
    (steps, extra)
}

/// Go: gofmt and vet, race-checked tests, a binary (or the release binaries of four platforms with a GitHub release).
fn golang_steps(
    build: &BuildDefinition,
    stage: Stage,
    extra: &mut Vec<(&'static str, &'static str)>,
) -> Option<Vec<Step>> {
    let name = &build.metadata.name;
    Some(match stage {
        Stage::Analysis => vec![
            Step::run("Check formatting", "unformatted=$(gofmt -l .)\nif [ -n \"$unformatted\" ]; then\n  echo \"$unformatted\"\n  echo \"::error::gofmt would change these files\"\n  exit 1\nfi\n"),
            Step::run("Vet", "go vet ./...\n"),
        ],
        Stage::Test => vec![Step::run("Test", "go test -race -count=1 ./...\n")],
        Stage::Build | Stage::Release => {
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
        _ => return None,
    })
}

/// Flutter packages and web apps: analyze, test, build the web app, publish the package.
fn flutter_steps(build: &BuildDefinition, stage: Stage) -> Option<Vec<Step>> {
    use BuildType::*;
    let t = build.build_type;
    Some(match (stage, t) {
        (Stage::Analysis, Flutter | FlutterWeb) => vec![Step::run("Analyze", "flutter pub get\nflutter analyze\n")],
        (Stage::Test, Flutter | FlutterWeb) => vec![Step::run("Test", "flutter pub get\nflutter test\n")],
        (Stage::Build, FlutterWeb) => vec![Step::run("Build", "flutter pub get\nflutter build web --release\n")],
        (Stage::Publish, Flutter) => vec![Step::run(
            "Publish the package",
            ": \"${PUB_HOSTED_URL:?set the repository variable PUB_HOSTED_URL to the package registry}\"\nsed -i \"s/^version: .*/version: ${VERSION#v}/\" pubspec.yaml\ndart pub token add \"$PUB_HOSTED_URL\" --env-var PUB_TOKEN\nflutter pub publish --force\n",
        )
        .env("PUB_HOSTED_URL", "${{ vars.PUB_HOSTED_URL }}")
        .env("PUB_TOKEN", "${{ secrets.PUB_TOKEN }}")],
        _ => return None,
    })
}

/// Java with Maven: verify, test, package, deploy to the Maven repository.
fn java_steps(stage: Stage, extra: &mut Vec<(&'static str, &'static str)>) -> Option<Vec<Step>> {
    Some(match stage {
        Stage::Analysis => vec![Step::run(
            "Compile and run the build's checks",
            "mvn --batch-mode --no-transfer-progress -DskipTests verify\n",
        )],
        Stage::Test => vec![Step::run(
            "Test",
            "mvn --batch-mode --no-transfer-progress test\n",
        )],
        Stage::Build => vec![Step::run(
            "Package",
            "mvn --batch-mode --no-transfer-progress -DskipTests package\n",
        )],
        Stage::Publish => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run(
                    "Deploy to the Maven repository",
                    "mvn --batch-mode --no-transfer-progress versions:set -DnewVersion=\"${VERSION#v}\" -DgenerateBackupPoms=false\nmvn --batch-mode --no-transfer-progress -DskipTests deploy\n",
                ),
            ]
        }
        _ => return None,
    })
}

/// Python: ruff, pytest, the distributions, an upload to the package index.
fn python_steps(
    build: &BuildDefinition,
    stage: Stage,
    extra: &mut Vec<(&'static str, &'static str)>,
) -> Option<Vec<Step>> {
    let dir = |key: &str| first_setting(build, key, ".");
    Some(match stage {
        Stage::Analysis => vec![Step::run(
            "Lint",
            "python -m pip install ruff\nruff check \"$PROJECT\"\n",
        )
        .env("PROJECT", dir("directory"))],
        Stage::Test => vec![Step::run(
            "Test",
            "cd \"$PROJECT\"\npython -m pip install . pytest\npython -m pytest\n",
        )
        .env("PROJECT", dir("directory"))],
        Stage::Build => vec![Step::run(
            "Build the distributions",
            "python -m pip install build\npython -m build \"$PROJECT\" --outdir dist\n",
        )
        .env("PROJECT", dir("directory"))],
        Stage::Publish => {
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
        _ => return None,
    })
}

/// Protobuf with Buf: lint and format, breaking-change checks against the base, push to the BSR.
fn protobuf_steps(build: &BuildDefinition, stage: Stage, event: Event) -> Option<Vec<Step>> {
    let dir = |key: &str| first_setting(build, key, ".");
    Some(match stage {
        Stage::Analysis => vec![Step::run("Lint and check formatting", "buf lint \"$MODULE\"\nbuf format --diff --exit-code \"$MODULE\"\n").env("MODULE", dir("directory"))],
        Stage::Test => vec![Step::run(
            "Build and check for breaking changes",
            "buf build \"$MODULE\"\nif [ -n \"$BASE\" ]; then\n  buf breaking \"$MODULE\" --against \".git#ref=$BASE,subdir=$MODULE\"\nfi\n",
        )
        .env("MODULE", dir("directory"))
        .env("BASE", if event == Event::PullRequest { "${{ github.event.pull_request.base.sha }}" } else { "" })],
        Stage::Publish => vec![Step::run("Push to the Buf Schema Registry", "buf push \"$MODULE\" --label \"$VERSION\"\n")
            .env("MODULE", dir("directory"))
            .env("BUF_TOKEN", "${{ secrets.BUF_TOKEN }}")],
        _ => return None,
    })
}

/// Helm charts: lint, render, push to an OCI chart repository.
fn helm_steps(
    build: &BuildDefinition,
    stage: Stage,
    extra: &mut Vec<(&'static str, &'static str)>,
) -> Option<Vec<Step>> {
    Some(match stage {
        Stage::Analysis => vec![Step::run("Lint the chart", "helm lint \"$CHART\"\n")
            .env("CHART", first_setting(build, "chart", "chart"))],
        Stage::Test => vec![Step::run(
            "Render the chart",
            "helm dependency build \"$CHART\"\nhelm template \"$CHART\" > /dev/null\n",
        )
        .env("CHART", first_setting(build, "chart", "chart"))],
        Stage::Publish => {
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
        _ => return None,
    })
}

/// Terraform modules: fmt and validate, plan, a packaged module on a GitHub release.
fn terraform_steps(
    build: &BuildDefinition,
    stage: Stage,
    extra: &mut Vec<(&'static str, &'static str)>,
) -> Option<Vec<Step>> {
    let name = &build.metadata.name;
    let dir = |key: &str| first_setting(build, key, ".");
    Some(match stage {
        Stage::Validate => vec![Step::run(
            "Validate",
            "cd \"$MODULE\"\nterraform fmt -check -recursive\nterraform init -backend=false -input=false\nterraform validate\n",
        )
        .env("MODULE", dir("directory"))],
        Stage::Plan => {
            extra.push(("id-token", "write"));
            vec![
                gcp_auth(),
                Step::run("Plan", "cd \"$MODULE\"\nterraform init -input=false\nterraform plan -input=false -lock=false\n").env("MODULE", dir("directory")),
            ]
        }
        Stage::Publish => {
            extra.push(("contents", "write"));
            vec![
                Step::run("Package the module", "mkdir -p dist\ntar --create --gzip --file \"dist/$NAME-$VERSION.tar.gz\" --exclude=.git --exclude=dist --directory \"$MODULE\" .\n")
                    .env("NAME", name.clone())
                    .env("MODULE", dir("directory")),
                github_release("dist/*"),
            ]
        }
        _ => return None,
    })
}

/// Mojo: test, build, a GitHub release with the binary.
fn mojo_steps(
    build: &BuildDefinition,
    stage: Stage,
    extra: &mut Vec<(&'static str, &'static str)>,
) -> Option<Vec<Step>> {
    let mojo_build = || {
        Step::run(
            "Build",
            "mkdir -p dist\nmojo build \"$TARGET\" -o \"dist/$NAME\"\n",
        )
        .env("TARGET", first_setting(build, "target", "main.mojo"))
        .env("NAME", build.metadata.name.clone())
    };
    Some(match stage {
        Stage::Test => vec![Step::run("Test", "mojo test\n")],
        Stage::Build => vec![mojo_build()],
        Stage::Publish => {
            extra.push(("contents", "write"));
            vec![mojo_build(), github_release("dist/*")]
        }
        _ => return None,
    })
}

pub(super) fn stage_title(stage: Stage) -> String {
    let s = stage.as_str().replace('-', " ");
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The stages a workflow runs, in the type's order.
pub(super) fn stages_for(build: &BuildDefinition, event: Event) -> Vec<Stage> {
    build
        .build_type
        .stages()
        .iter()
        .copied()
        .filter(|s| build.stages.contains(s))
        .filter(|s| event == Event::Push || s.runs_on_pull_requests())
        .collect()
}

pub(super) fn stage_job(
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

/// The containerize stage: Workload Identity to Google Cloud, a login to each registry named by
/// a repository variable, one build-and-push per image (provenance and SBOM attached, tagged
/// with the version and the commit), then the digests recorded as the job's output.
fn containerize_steps(build: &BuildDefinition) -> Vec<Step> {
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
    let (file, context) = if build.build_type == BuildType::Docker {
        (
            first_setting(build, "dockerfile", "Dockerfile"),
            first_setting(build, "context", "."),
        )
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
                    format!(
                        "${{{{ vars.{var} }}}}/{}:${{{{ env.VERSION }}}}",
                        target.name
                    ),
                    format!(
                        "${{{{ vars.{var} }}}}/{}:sha-${{{{ github.sha }}}}",
                        target.name
                    ),
                ]
            })
            .collect();
        steps.push(
            Step::uses(
                &format!("Build and push {}", target.name),
                "docker/build-push-action",
            )
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
        record_env.push((
            format!("DIGEST_{i}"),
            format!("${{{{ steps.image_{i}.outputs.digest }}}}"),
        ));
    }
    record.push_str("echo \"images=$images\" >> \"$GITHUB_OUTPUT\"\n");
    let mut record_step = Step::run("Record the image digests", &record).id("images");
    for (k, v) in record_env {
        record_step = record_step.env(&k, v);
    }
    steps.push(record_step);
    steps
}

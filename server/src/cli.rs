//! The `slipway` command line: serve, migrate, admin grant, audit verify.

use crate::config::{Config, Sources};
use crate::{db, demo, router};
use app::domain::rbac::Role;
use app::server::Actor;
use clap::{Parser, Subcommand, ValueEnum};
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "slipway",
    version,
    about = "Slipway: infrastructure workspaces and releases, in one portal."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (applies pending migrations first unless told not to).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SLIPWAY_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Seed demo users (one per role) and enable one-click demo sign-in at /auth/demo.
        #[arg(long)]
        demo: bool,
        /// Do not apply migrations at start-up (for replicas, after `slipway migrate`).
        #[arg(long)]
        skip_migrations: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administer users and roles.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Work with the local forge (Git repositories under the data dir).
    Forge {
        #[command(subcommand)]
        command: ForgeCommand,
    },
    /// Conventional Commits (needs no database or configuration).
    Commit {
        #[command(subcommand)]
        command: CommitCommand,
    },
    /// Automatic semantic versions (needs no database or configuration).
    Version {
        #[command(subcommand)]
        command: VersionCommand,
    },
    /// Repository and build manifests (needs no database or configuration).
    Manifests {
        #[command(subcommand)]
        command: ManifestsCommand,
    },
}

#[derive(Subcommand)]
enum ManifestsCommand {
    /// Check manifest files (several documents per file, separated by ---) and the links
    /// between them: prints what they define, or every error as file:line:column (exit 1).
    Validate {
        /// The manifest files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Compute each repository's plan and write it under DIR: DIR/<repo>/.github/workflows/,
    /// DIR/<repo>/.github/CODEOWNERS, DIR/<repo>/rulesets/<name>.json and the managed workflows
    /// under DIR/<managed-repository>/.github/workflows/. Nothing is written when a manifest
    /// has an error.
    Render {
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The GitHub organisation of the repositories and teams (default: each repository's
        /// metadata.github-connection).
        #[arg(long)]
        org: Option<String>,
        /// The repository that holds the managed workflows.
        #[arg(long, default_value = app::domain::repositories::MANAGED_REPOSITORY)]
        managed_repository: String,
        /// The manifest files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum CommitCommand {
    /// Check a commit message or pull request title: prints the release label it derives
    /// (release/major, release/minor or none), or the error with its line and column (exit 1).
    Check {
        /// The message or title; `-` (or nothing, with --file absent) reads standard input.
        message: Option<String>,
        /// Read the message from this file (e.g. .git/COMMIT_EDITMSG in a commit-msg hook).
        #[arg(long, conflicts_with = "message")]
        file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum VersionCommand {
    /// The next version of a repository's HEAD: a version, `skip` (HEAD already carries it) or
    /// `none` (the branch gets no version).
    Compute {
        /// The repository (work tree or bare).
        #[arg(long, default_value = ".")]
        repo: std::path::PathBuf,
        /// LATEST, ALPHA, BETA, HOTFIX or NONE; or give --branch and --strategy instead.
        #[arg(long, conflicts_with_all = ["branch", "strategy"])]
        release_type: Option<String>,
        /// The branch being built, whose release type --strategy decides.
        #[arg(long, requires = "strategy")]
        branch: Option<String>,
        /// GITHUB_FLOW, GIT_FLOW or TRUNK_BASED.
        #[arg(long, requires = "branch")]
        strategy: Option<String>,
        /// The merged pull request's release label: release/major or release/minor (none:
        /// a patch bump).
        #[arg(long)]
        label: Option<String>,
        /// Print the base tag, bump, reason and commit as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ForgeCommand {
    /// Create a repository (with a first commit on main), ready to register as a workspace.
    CreateRepo {
        /// ORG/NAME
        repository: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give a user a global role (the user must have signed in once).
    Grant {
        /// The user's login or email.
        login_or_email: String,
        /// The role to grant.
        role: RoleArg,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain; names the first event changed, inserted or removed.
    Verify,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Viewer,
    Member,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Member => Role::Member,
            RoleArg::Admin => Role::Admin,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The CI-pipeline commands touch no configuration, data dir or database.
    match cli.command {
        Command::Commit { command } => return commit_command(command),
        Command::Version { command } => return version_command(command),
        Command::Manifests { command } => return manifests_command(command),
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_sessions=warn".into()),
        )
        .with_writer(crate::log_lines::OneLine(std::io::stderr))
        .init();
    let config = match Sources::load().and_then(|sources| Config::from_sources(&sources)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    let db = db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot connect: {e}"))?;
    match command {
        Command::Migrate => {
            let pending = db::pending_migrations(&db).await?;
            db::migrate(&db).await?;
            if pending.is_empty() {
                println!("The database is up to date.");
            } else {
                println!(
                    "Applied {} migrations: {}",
                    pending.len(),
                    pending.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::Grant {
                    login_or_email,
                    role,
                },
        } => {
            let role: Role = role.into();
            let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let actor = Actor::system(&format!("cli:{operator}"));
            match app::server::directory::grant_global_role(&db, &actor, &login_or_email, role)
                .await
            {
                Ok((user, true)) => println!(
                    "Granted {role} on everything to {} ({}).",
                    user.login, user.name
                ),
                Ok((user, false)) => println!(
                    "{} already holds {role} on everything; nothing changed.",
                    user.login
                ),
                Err(error) => {
                    eprintln!("error: {error}");
                    return Ok(ExitCode::FAILURE);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => match app::server::audit::verify(&db).await? {
            Ok(count) => {
                println!("The audit log is intact: {count} events verified.");
                Ok(ExitCode::SUCCESS)
            }
            Err(found) => {
                println!("The audit log has been tampered with: {found}.");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Commit { command } => Ok(commit_command(command)),
        Command::Version { command } => Ok(version_command(command)),
        Command::Manifests { command } => Ok(manifests_command(command)),
        Command::Forge {
            command: ForgeCommand::CreateRepo { repository },
        } => {
            let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let actor = Actor::system(&format!("cli:{operator}"));
            let state = router::state(
                &config,
                db.clone(),
                false,
                LeptosOptions::builder().output_name("slipway").build(),
            )?;
            match app::server::workspaces::create_local_repository(&state.ctx, &actor, &repository)
                .await
            {
                Ok(created) => {
                    println!(
                        "Created {}/{} (default branch {}); clone it from {}",
                        created.organization,
                        created.name,
                        created.default_branch,
                        created.https_url
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Serve {
            addr,
            demo,
            skip_migrations,
        } => {
            if !skip_migrations {
                db::migrate(&db).await?;
            }
            let leptos = crate::site::SiteNames::leptos_options(&config.site_root, addr);
            let state = router::state(&config, db.clone(), demo, leptos)?;
            if demo {
                demo::seed(&state.ctx, &config, demo::Estate::Both)
                    .await
                    .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
            }
            crate::jobs::Worker::new(state.ctx.clone(), &config).spawn();
            let app = router::router(state);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("--addr {addr}: cannot listen: {e}"))?;
            spawn_session_cleanup(db);
            println!("Slipway is serving on http://{addr}");
            if demo {
                println!("Demo sign-in: http://{addr}/auth/demo — users:");
                for user in &demo::DEMO_USERS {
                    println!(
                        "  {:<6} {:<16} {:<26} group {}",
                        user.login, user.name, user.role, user.group
                    );
                }
            }
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn commit_command(command: CommitCommand) -> ExitCode {
    use app::domain::conventional::Commit;
    use std::io::Read;
    let CommitCommand::Check { message, file } = command;
    let from_file = file.is_some();
    let bytes = match (message, file) {
        (Some(message), None) if message != "-" => message.into_bytes(),
        (_, Some(path)) => match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        },
        _ => {
            let mut bytes = Vec::new();
            if let Err(error) = std::io::stdin().read_to_end(&mut bytes) {
                eprintln!("error: standard input: {error}");
                return ExitCode::from(2);
            }
            bytes
        }
    };
    // A commit-msg hook's file holds git's comment lines, which git strips from the message.
    let bytes = match std::str::from_utf8(&bytes) {
        Ok(text) if from_file => text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
        _ => bytes,
    };
    match Commit::parse_bytes(&bytes) {
        Ok(commit) => {
            println!("{}", commit.label());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(line) = String::from_utf8_lossy(&bytes).lines().nth(error.line - 1) {
                let shown: String = line.chars().take(120).collect();
                if error.column <= 121 {
                    eprintln!("  {shown}");
                    eprintln!("  {}^", " ".repeat(error.column - 1));
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// Every manifest of `files` with its file name, or every error (as `file:line:column: …`).
fn load_manifests(
    files: &[std::path::PathBuf],
) -> Result<Vec<(String, app::domain::manifests::Manifest)>, Vec<String>> {
    use app::domain::manifests::{check_links, load};
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    errors.push(format!(
                        "{name}: not UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ));
                    continue;
                }
            },
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        match load(&name, &text) {
            Ok(manifests) => loaded.extend(manifests.into_iter().map(|m| (name.clone(), m))),
            Err(found) => errors.extend(found.iter().map(|e| e.to_string())),
        }
    }
    if errors.is_empty() {
        errors.extend(check_links(&loaded).iter().map(|e| e.to_string()));
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

fn report_errors(errors: &[String]) -> ExitCode {
    for error in errors {
        eprintln!("{error}");
    }
    eprintln!(
        "{} error{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    ExitCode::FAILURE
}

fn manifests_command(command: ManifestsCommand) -> ExitCode {
    match command {
        ManifestsCommand::Validate { files } => match load_manifests(&files) {
            Err(errors) => report_errors(&errors),
            Ok(loaded) => {
                for (file, manifest) in &loaded {
                    println!("{file}: {} {}", manifest.kind(), manifest.metadata().name);
                }
                ExitCode::SUCCESS
            }
        },
        ManifestsCommand::Render {
            out,
            org,
            managed_repository,
            files,
        } => {
            use app::domain::manifests::check_name;
            let mut errors = Vec::new();
            if let Some(org) = &org {
                if let Err(why) = check_name(org) {
                    errors.push(format!("--org {org:?}: {why}"));
                }
            }
            if let Err(why) = check_name(&managed_repository) {
                errors.push(format!(
                    "--managed-repository {managed_repository:?}: {why}"
                ));
            }
            if !errors.is_empty() {
                return report_errors(&errors);
            }
            let loaded = match load_manifests(&files) {
                Ok(loaded) => loaded,
                Err(errors) => return report_errors(&errors),
            };
            let manifests: Vec<_> = loaded.into_iter().map(|(_, m)| m).collect();
            let plans = match app::domain::repositories::compute_all(
                &manifests,
                org.as_deref(),
                &managed_repository,
            ) {
                Ok(plans) => plans,
                Err(error) => return report_errors(&[error]),
            };
            if plans.is_empty() {
                return report_errors(&["no GithubRepository among the manifests".into()]);
            }
            let mut written = 0;
            let mut write = |path: std::path::PathBuf, contents: &str| -> Result<(), String> {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
                written += 1;
                Ok(())
            };
            for plan in &plans {
                let result = plan
                    .files
                    .iter()
                    .try_for_each(|f| write(out.join(&f.repository).join(&f.path), &f.contents))
                    .and_then(|()| {
                        plan.rulesets.iter().try_for_each(|r| {
                            write(
                                out.join(&plan.repository)
                                    .join("rulesets")
                                    .join(format!("{}.json", r.name)),
                                &r.json,
                            )
                        })
                    });
                if let Err(error) = result {
                    eprintln!("error: {error}");
                    return ExitCode::FAILURE;
                }
                println!(
                    "{}: {} ({}), {} file{}, {} ruleset{}",
                    plan.repository,
                    plan.strategy.as_str(),
                    plan.org,
                    plan.files.len(),
                    if plan.files.len() == 1 { "" } else { "s" },
                    plan.rulesets.len(),
                    if plan.rulesets.len() == 1 { "" } else { "s" },
                );
            }
            println!("wrote {written} files under {}", out.display());
            ExitCode::SUCCESS
        }
    }
}

fn version_command(command: VersionCommand) -> ExitCode {
    use app::domain::conventional::Label;
    use app::domain::versioning::{Outcome, ReleaseType, Strategy};
    let VersionCommand::Compute {
        repo,
        release_type,
        branch,
        strategy,
        label,
        json,
    } = command;
    let usage = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    let release = match (release_type, &branch, strategy) {
        (Some(text), _, _) => match ReleaseType::parse(&text) {
            Some(release) => release,
            None => {
                return usage(format!(
                    "--release-type {text:?}: must be LATEST, ALPHA, BETA, HOTFIX or NONE"
                ))
            }
        },
        (None, Some(branch), Some(text)) => match Strategy::parse(&text) {
            Some(strategy) => strategy.release_type(branch),
            None => {
                return usage(format!(
                    "--strategy {text:?}: must be GITHUB_FLOW, GIT_FLOW or TRUNK_BASED"
                ))
            }
        },
        _ => return usage("give --release-type, or --branch with --strategy".into()),
    };
    let label = match label.as_deref().map(Label::parse) {
        None => Label::None,
        Some(Some(label)) => label,
        Some(None) => {
            return usage(format!(
                "--label {:?}: must be release/major or release/minor",
                label.unwrap_or_default()
            ))
        }
    };
    let (computation, versions) =
        match crate::adapters::version_tags::compute_at(&repo, release, label) {
            Ok(result) => result,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
    let (outcome, version) = match &computation.outcome {
        Outcome::Version(v) => ("version", Some(v.tag())),
        Outcome::Skip(v) => ("skip", Some(v.tag())),
        Outcome::None => ("none", None),
    };
    if json {
        let value = serde_json::json!({
            "outcome": outcome,
            "version": version,
            "skip": outcome == "skip",
            "release_type": release.as_str(),
            "branch": branch,
            "label": label.as_str(),
            "base_tag": computation.base_found.then(|| computation.base.tag()),
            "bump": computation.bump.map(|b| b.as_str()),
            "reason": computation.reason,
            "commit": versions.head,
            "ignored_tags": versions.ignored,
        });
        println!("{value:#}");
    } else {
        match &computation.outcome {
            Outcome::Version(v) => println!("{}", v.tag()),
            Outcome::Skip(_) => println!("skip"),
            Outcome::None => println!("none"),
        }
    }
    ExitCode::SUCCESS
}

fn spawn_session_cleanup(db: sea_orm::DatabaseConnection) {
    let store = crate::session_store::DbSessionStore::new(db);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!("expired sessions were not removed: {error}");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

//! The `slipway` command line: serve, migrate, admin grant, audit verify.

use crate::config::{Config, Sources};
use crate::{db, demo, router};
use app::domain::rbac::Role;
use app::server::Actor;
use clap::{Parser, Subcommand, ValueEnum};
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::process::ExitCode;

mod manifests;
mod versioning;
#[allow(unused_imports)]
use {manifests::*, versioning::*};

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
        Command::Migrate => migrate(&db).await,
        Command::Admin {
            command:
                AdminCommand::Grant {
                    login_or_email,
                    role,
                },
        } => Ok(grant(&db, &login_or_email, role.into()).await),
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
        } => create_repo(&config, db, &repository).await,
        Command::Serve {
            addr,
            demo,
            skip_migrations,
        } => serve(&config, db, addr, demo, skip_migrations).await,
    }
}

/// Who a command run by an operator acts as in the audit log.
fn operator() -> Actor {
    let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Actor::system(&format!("cli:{operator}"))
}

async fn migrate(db: &sea_orm::DatabaseConnection) -> anyhow::Result<ExitCode> {
    let pending = db::pending_migrations(db).await?;
    db::migrate(db).await?;
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

async fn grant(db: &sea_orm::DatabaseConnection, login_or_email: &str, role: Role) -> ExitCode {
    match app::server::directory::grant_global_role(db, &operator(), login_or_email, role).await {
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
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

async fn create_repo(
    config: &Config,
    db: sea_orm::DatabaseConnection,
    repository: &str,
) -> anyhow::Result<ExitCode> {
    let state = router::state(
        config,
        db,
        false,
        LeptosOptions::builder().output_name("slipway").build(),
    )?;
    match app::server::workspaces::create_local_repository(&state.ctx, &operator(), repository)
        .await
    {
        Ok(created) => {
            println!(
                "Created {}/{} (default branch {}); clone it from {}",
                created.organization, created.name, created.default_branch, created.https_url
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn serve(
    config: &Config,
    db: sea_orm::DatabaseConnection,
    addr: std::net::SocketAddr,
    demo: bool,
    skip_migrations: bool,
) -> anyhow::Result<ExitCode> {
    if !skip_migrations {
        db::migrate(&db).await?;
    }
    let leptos = crate::site::SiteNames::leptos_options(&config.site_root, addr);
    let state = router::state(config, db.clone(), demo, leptos)?;
    if demo {
        demo::seed(&state.ctx, config, demo::Estate::Both)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
    }
    let mut worker = crate::jobs::Worker::new(state.ctx.clone(), config);
    if demo {
        let ip = match addr.ip() {
            ip if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            ip => ip,
        };
        let reach = std::net::SocketAddr::new(ip, addr.port());
        worker = worker.with_demo_cloud(format!("http://{reach}/demo-cloud"));
    }
    worker.spawn();
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

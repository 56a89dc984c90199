//! Server-only half of the app: the context every request sees, the entities, and the services
//! that server functions and routes call. Compiled only with the `ssr` feature.

pub mod access;
pub mod audit;
pub mod cache;
pub mod catalog;
pub mod deployments;
pub mod diff;
pub mod directory;
pub mod entities;
pub mod executors;
pub mod forge_access;
pub mod freezes;
pub mod governance;
pub mod integrations;
pub mod jobs;
pub mod live;
pub mod modules;
pub mod needs;
pub mod notifications;
pub mod plans;
pub mod policies;
pub mod ports;
pub mod registry;
pub mod release_manifests;
pub mod releases;
pub mod repositories;
pub mod request;
pub mod resources;
pub mod rules;
pub mod secrets;
pub mod sources;
pub mod tokens;
pub mod versioning;
pub mod workspaces;

use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Everything a request handler needs, cloned cheaply into each request.
#[derive(Clone)]
pub struct AppCtx {
    pub db: DatabaseConnection,
    pub portal: Arc<PortalSettings>,
    /// Seals and opens secrets at rest (integration tokens, sensitive variables).
    pub secrets: secrets::SecretBox,
    /// Source repositories: mirrors, module files, connection tests.
    pub repos: Arc<dyn ports::SourceRepos>,
    /// Forge APIs (repository metadata, pull requests), by the workspace's provider.
    pub forge: Arc<dyn ports::Forge>,
    /// Git work on workspace repositories (mirrors, branches, pushes).
    pub workspace_git: Arc<dyn ports::WorkspaceGit>,
    /// Git on the local forge's governed repositories (provisioned files, gated merges).
    pub local_git: Arc<dyn ports::LocalGit>,
    /// Where release tags go (the embedded registry records them in the database).
    pub registry: Arc<dyn ports::Registry>,
    /// How notifications leave the server: SMTP, Slack and webhooks.
    pub messenger: Arc<dyn ports::Messenger>,
    /// Wakes this replica's job worker when a job is queued (others find it on their next poll).
    pub jobs_wake: Arc<tokio::sync::Notify>,
    /// This replica's read caches, kept exact by the audit head (`cache`).
    pub cache: Arc<cache::ReadCache>,
    /// The changes open pages follow (`live`).
    pub live: Arc<live::Live>,
}

/// Settings the portal's pages and server functions read; built by the server from its config.
#[derive(Clone, Debug, Default)]
pub struct PortalSettings {
    /// `--demo`: seeded users and the one-click demo sign-in.
    pub demo: bool,
    /// The sign-in methods configured, in the order the sign-in page shows them.
    pub sign_in_methods: Vec<crate::wire::session::SignInMethod>,
    /// Logins or emails made global admin the first time they sign in.
    pub admins: Vec<String>,
    /// Where people reach the portal (links in commit statuses and notifications).
    pub public_url: String,
    /// The workspace whose repository holds the environments' DeploymentConfigs
    /// (`SLIPWAY_ENVIRONMENTS_WORKSPACE`); `None`: the local forge's `local/environments`.
    pub environments_workspace: Option<String>,
}

/// Who performed a change, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(user_id: i64, login: &str) -> Actor {
        Actor {
            user_id: Some(user_id),
            label: login.to_string(),
        }
    }

    /// Changes made by Slipway itself or by an operator on the command line.
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            label: label.to_string(),
        }
    }
}

/// A moment as pages show it, to the minute.
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A save of a revisioned row (a repository, a release manifest, a resource) made from the
/// revision its editor read: refused (409, "reload to see the changes") when the row has moved on
/// since, whether before the save began (`check`) or while it ran (`advance`).
pub struct RevisionedSave {
    /// What is saved, as the refusal names it: "Repository web".
    pub what: String,
    /// The row's revision as this save read it.
    pub current: i32,
    /// The revision the editor read.
    pub base: i32,
}

impl RevisionedSave {
    fn stale(&self, now: i32) -> crate::error::AppError {
        crate::error::AppError::Conflict(format!(
            "{} is at revision {now} now (you edited revision {}): reload to see the changes, then edit again.",
            self.what, self.base
        ))
    }

    /// Refused when the row is no longer at the editor's revision.
    pub fn check(&self) -> crate::error::AppResult<()> {
        if self.base == self.current {
            Ok(())
        } else {
            Err(self.stale(self.current))
        }
    }

    /// Moves the row from revision `base` to `base + 1`, only if it is still at `base`: a
    /// compare-and-set in the row's own `UPDATE`, so two saves from one revision end in one
    /// success and one refusal on PostgreSQL as on SQLite, never in a unique-index error. Called
    /// before the row's other columns are written.
    pub async fn advance<E, C>(
        &self,
        txn: &C,
        id: E::Column,
        id_value: i64,
        revision: E::Column,
    ) -> crate::error::AppResult<()>
    where
        E: sea_orm::EntityTrait,
        C: sea_orm::ConnectionTrait,
    {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.check()?;
        let moved = E::update_many()
            .col_expr(revision, sea_orm::sea_query::Expr::value(self.base + 1))
            .filter(id.eq(id_value))
            .filter(revision.eq(self.base))
            .exec(txn)
            .await?;
        if moved.rows_affected == 1 {
            Ok(())
        } else {
            Err(self.stale(self.base + 1))
        }
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades a read lock; PostgreSQL ignores the mode.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

//! Connecting to SQLite or PostgreSQL with one code path, and running migrations.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

/// Opens the database; for SQLite the file (and its folder) is created when missing and put in
/// WAL mode so readers never wait for the writer.
pub async fn connect(database_url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut url = database_url.to_string();
    if let Some(path) = url.strip_prefix("sqlite://").map(str::to_string) {
        let file = path.split('?').next().unwrap_or_default();
        if !file.is_empty() && file != ":memory:" {
            if let Some(parent) = std::path::Path::new(file).parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    DbErr::Custom(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
    }
    let sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(if sqlite { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        // SQLite has one writer at a time; a write waits its turn for up to 30 s (sqlx's
        // default is 5 s) rather than failing when several replicas or many requests write.
        .map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::from_secs(30)));
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The migrations not yet applied, by name.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect())
}

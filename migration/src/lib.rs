//! Database migrations for Slipway. One code path for SQLite and PostgreSQL; named
//! `mYYYYMMDD_HHMMSS_what` so they sort in the order they run.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_identity_and_access;
mod m20261123_000002_audit;
mod m20261123_000003_sessions;
mod m20261123_000004_templates;
mod m20261123_000005_sources_and_resources;
mod m20261123_000006_jobs_and_executors;
mod m20261123_000007_workspaces;
mod m20261123_000008_repositories;
mod m20261124_000009_release_manifests;
mod m20261124_000010_deployments;
mod m20261124_000011_releases;
mod m20261124_000012_deployment_indexes;
mod m20261206_000013_reviews_bind_commits;
mod m20261206_000014_merge_record;
mod m20261207_000015_plans_and_state;
mod m20261208_000016_drift;
mod m20261209_000017_freezes;
mod m20261209_000018_stage_gates;
mod m20261209_000019_rollbacks;
mod m20261210_000020_notifications;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_identity_and_access::Migration),
            Box::new(m20261123_000002_audit::Migration),
            Box::new(m20261123_000003_sessions::Migration),
            Box::new(m20261123_000004_templates::Migration),
            Box::new(m20261123_000005_sources_and_resources::Migration),
            Box::new(m20261123_000006_jobs_and_executors::Migration),
            Box::new(m20261123_000007_workspaces::Migration),
            Box::new(m20261123_000008_repositories::Migration),
            Box::new(m20261124_000009_release_manifests::Migration),
            Box::new(m20261124_000010_deployments::Migration),
            Box::new(m20261124_000011_releases::Migration),
            Box::new(m20261124_000012_deployment_indexes::Migration),
            Box::new(m20261206_000013_reviews_bind_commits::Migration),
            Box::new(m20261206_000014_merge_record::Migration),
            Box::new(m20261207_000015_plans_and_state::Migration),
            Box::new(m20261208_000016_drift::Migration),
            Box::new(m20261209_000017_freezes::Migration),
            Box::new(m20261209_000018_stage_gates::Migration),
            Box::new(m20261209_000019_rollbacks::Migration),
            Box::new(m20261210_000020_notifications::Migration),
        ]
    }
}

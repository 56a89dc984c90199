//! Workspace services (seed 000): registering repositories from forge metadata, the folder each
//! resource's code lives in, and the durable jobs that sync code into a branch and pull request
//! and approve (merge) or reject (close) it.
//!
//! Every job step checks before it acts — the branch already right, a pull request already
//! open, already merged — so a job resumed after a crash does nothing twice. What a job did is
//! recorded in one transaction with the job's end: pull request row, statuses, audit event.

use crate::server::audit::{self, Change};

use crate::server::diff::diff_lines;

use crate::server::entities::{
    integrations, jobs as job_rows, pull_requests, resources, templates, users,
    workspace_resources, workspaces,
};

use crate::server::jobs::{self, Outcome};

use crate::server::ports::{
    BranchChange, ExternalError, ForgePull, ForgeRepo, NewPull, PullState, TreeEdit,
};

use crate::server::{Actor, AppCtx};

use crate::wire::sources::IntegrationChoice;

use crate::wire::workspaces::{
    ForgeRepository, JobView, NewWorkspace, PullDetail, PullFile, PullRow, ResourceWorkspace,
    WorkspaceDetail, WorkspaceResourceRow, WorkspaceRow,
};

use crate::domain::integrations::{IntegrationKind, Provider};

use crate::domain::names::validate_text;

use crate::domain::jobs::JobStatus;

use crate::domain::resources::{ResourceState, ResourceStatus};

use crate::domain::workspaces::{
    branch_name, commit_message, folder_slug, parse_labels, pull_request_text, resource_folder,
    validate_repository, workspace_slug, Initiator, RepoConfig, SyncKind, WorkspaceStatus,
};

use crate::error::{AppError, AppResult};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

pub const SYNC_JOB: &str = "workspace.sync";

pub const REVIEW_JOB: &str = "workspace.review";

/// Writes a resource's code to its workspace branch and opens (or updates) its pull request.
pub(crate) struct SyncJob;

impl crate::server::jobs::JobKind for SyncJob {
    const NAME: &'static str = SYNC_JOB;
    type Payload = SyncPayload;
}

/// Merges (approves) or closes a resource's pull request.
pub(crate) struct ReviewJob;

impl crate::server::jobs::JobKind for ReviewJob {
    const NAME: &'static str = REVIEW_JOB;
    type Payload = ReviewPayload;
}

/// Attempts per job: transient forge errors back off 2, 4, 8, 16, 32 s between them.
pub(crate) const ATTEMPTS: i32 = 6;

/// Jobs of one workspace run one at a time, in order.
pub fn serial_key(workspace_id: i64) -> String {
    format!("workspace:{workspace_id}")
}

use crate::server::when;

mod record;
mod register;
mod review;
mod sync_job;
mod views;
pub use record::*;
#[allow(unused_imports)]
pub(crate) use record::*;
pub use register::*;
#[allow(unused_imports)]
pub(crate) use register::*;
pub use review::*;
#[allow(unused_imports)]
pub(crate) use review::*;
pub use sync_job::*;
#[allow(unused_imports)]
pub(crate) use sync_job::*;
pub use views::*;
#[allow(unused_imports)]
pub(crate) use views::*;

pub(crate) async fn row<C: ConnectionTrait>(
    db: &C,
    model: &workspaces::Model,
) -> AppResult<WorkspaceRow> {
    let integration = integrations::Entity::find_by_id(model.integration_id)
        .one(db)
        .await?
        .map(|i| i.slug)
        .unwrap_or_default();
    let resources = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .count(db)
        .await?;
    let open_pulls = pull_requests::Entity::find()
        .filter(pull_requests::Column::WorkspaceId.eq(model.id))
        .filter(pull_requests::Column::State.eq(PullState::Open))
        .count(db)
        .await?;
    Ok(WorkspaceRow {
        slug: model.slug.clone(),
        name: model.name.clone(),
        provider: model.provider,
        integration,
        repository: model.repository.clone(),
        config: serde_json::from_str(&model.configuration).map_err(AppError::internal)?,
        description: model.description.clone(),
        labels: serde_json::from_str(&model.labels).map_err(AppError::internal)?,
        status: model.status,
        status_message: model.status_message.clone(),
        resources,
        open_pulls,
        created_by: model.created_by.clone(),
        created_at: when(&model.created_at),
        drift_interval_minutes: model.drift_interval_minutes,
        drift_next_at: model.drift_next_at.as_ref().map(when),
    })
}

/// The forge-side handle of a workspace: its provider, repository and opened credentials.
pub(crate) async fn forge_repo<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    integration_id: i64,
    repository: &str,
) -> AppResult<ForgeRepo> {
    let integration = crate::server::integrations::find_by_id(db, integration_id).await?;
    Ok(ForgeRepo {
        provider: integration.provider,
        repository: repository.to_string(),
        settings: integration.settings,
        secrets: crate::server::integrations::open_secrets(db, &ctx.secrets, integration_id)
            .await?,
    })
}

/// A registered workspace's configuration and its forge-side handle.
pub(crate) async fn reach<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    workspace: &workspaces::Model,
) -> AppResult<(RepoConfig, ForgeRepo)> {
    let config = serde_json::from_str(&workspace.configuration).map_err(AppError::internal)?;
    let repo = forge_repo(ctx, db, workspace.integration_id, &workspace.repository).await?;
    Ok((config, repo))
}

//! Builds and pre-release deployments. A governed repository's CI signs each build-completed
//! notification with the repository's build secret (`sha256=` HMAC of `<timestamp>.<body>`);
//! Slipway accepts it once, records the build, and a durable job deploys that one application to
//! the pre-release stages of its release tracks: one commit per environment on the environment
//! configuration repository, writing the application's DeploymentConfig (Argo CD or Flux applies
//! it). Unsigned, wrongly signed, stale and replayed notifications are refused and audited.

use super::audit::{self, Change};
use super::entities::{builds, deployments, repositories};
use super::{begin_write, Actor, AppCtx};
use crate::domain::manifests::Manifest;
use crate::domain::releases::{
    build_kind, deployment_config, deployment_path, BuildKind, BuildNotification,
};
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

mod history;
mod notifications;
mod prerelease;
mod rollback;
pub use history::*;
pub use notifications::*;
pub use prerelease::*;
pub use rollback::*;
#[allow(unused_imports)]
use {history::*, notifications::*, prerelease::*, rollback::*};

/// The local forge repository that holds the environments' DeploymentConfigs
/// (`<environment>/<application>.yaml` on `main`) unless `SLIPWAY_ENVIRONMENTS_WORKSPACE`
/// names a workspace whose repository does.
pub const ENVIRONMENTS_REPOSITORY: &str = "local/environments";

/// Commits `files` onto the environment configuration repository's default branch, with
/// `message`, and returns the commit that holds them (the head, when they were there already:
/// written before a crash, or the same versions deployed again). The repository is the
/// workspace `SLIPWAY_ENVIRONMENTS_WORKSPACE` names, on any forge — pushed without force, so a
/// commit made meanwhile is never dropped: the forge refuses the push and the job tries again
/// on the new head — or else the local forge's `local/environments`, written compare-and-swap.
pub(crate) async fn commit_deployment(
    ctx: &AppCtx,
    files: &[(String, String)],
    message: &str,
) -> Result<String, super::ports::ExternalError> {
    use super::ports::{BranchChange, ExternalError, TreeEdit};
    let Some(slug) = &ctx.portal.environments_workspace else {
        ctx.local_git
            .ensure(ENVIRONMENTS_REPOSITORY, &[], "Slipway")
            .await?;
        let written = ctx
            .local_git
            .write(
                ENVIRONMENTS_REPOSITORY,
                "main",
                "main",
                files,
                message,
                "Slipway",
            )
            .await?;
        return match written {
            Some(commit) => Ok(commit),
            None => Ok(ctx
                .local_git
                .head(ENVIRONMENTS_REPOSITORY, "main")
                .await?
                .unwrap_or_default()),
        };
    };
    let workspace = super::entities::workspaces::Entity::find()
        .filter(super::entities::workspaces::Column::Slug.eq(slug))
        .one(&ctx.db)
        .await
        .map_err(|e| ExternalError::transient(e.to_string()))?
        .ok_or_else(|| {
            ExternalError::permanent(format!(
                "SLIPWAY_ENVIRONMENTS_WORKSPACE names {slug}, which is not a registered workspace"
            ))
        })?;
    let (config, repo) = super::workspaces::reach(ctx, &ctx.db, &workspace)
        .await
        .map_err(|e| ExternalError::transient(e.to_string()))?;
    let change = BranchChange {
        base: config.default_branch.clone(),
        branch: config.default_branch.clone(),
        edit: TreeEdit::Files(files.to_vec()),
        message: message.to_string(),
        author_name: "Slipway".into(),
        author_email: "slipway@localhost".into(),
    };
    Ok(ctx
        .workspace_git
        .push_change(&repo, &config, &change)
        .await?
        .commit)
}

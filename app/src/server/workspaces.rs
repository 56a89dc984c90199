//! Workspace services (seed 000): registering repositories from forge metadata, the folder each
//! resource's code lives in, and the durable jobs that sync code into a branch and pull request
//! and approve (merge) or reject (close) it.
//!
//! Every job step checks before it acts — the branch already right, a pull request already
//! open, already merged — so a job resumed after a crash does nothing twice. What a job did is
//! recorded in one transaction with the job's end: pull request row, statuses, audit event.

use super::audit::{self, Change};
use super::diff::diff_lines;
use super::entities::{
    integrations, jobs as job_rows, pull_requests, resources, templates, users,
    workspace_resources, workspaces,
};
use super::jobs::{self, Outcome};
use super::ports::{BranchChange, ForgeError, ForgePull, ForgeRepo, NewPull, PullState, TreeEdit};
use super::{Actor, AppCtx};
use crate::api::sources::IntegrationChoice;
use crate::api::workspaces::{
    ForgeRepository, JobView, NewWorkspace, PullDetail, PullFile, PullRow, ResourceWorkspace,
    WorkspaceDetail, WorkspaceResourceRow, WorkspaceRow,
};
use crate::domain::integrations::{IntegrationKind, Provider};
use crate::domain::names::validate_text;
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
/// Attempts per job: transient forge errors back off 2, 4, 8, 16, 32 s between them.
const ATTEMPTS: i32 = 6;

/// Jobs of one workspace run one at a time, in order.
pub fn serial_key(workspace_id: i64) -> String {
    format!("workspace:{workspace_id}")
}

use super::when;

fn status_of(value: &str) -> WorkspaceStatus {
    WorkspaceStatus::parse(value).unwrap_or(WorkspaceStatus::Error)
}

async fn row<C: ConnectionTrait>(db: &C, model: &workspaces::Model) -> AppResult<WorkspaceRow> {
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
        .filter(pull_requests::Column::State.eq(PullState::Open.as_str()))
        .count(db)
        .await?;
    Ok(WorkspaceRow {
        slug: model.slug.clone(),
        name: model.name.clone(),
        provider: Provider::parse(&model.provider)
            .ok_or_else(|| AppError::internal(format!("unknown provider {}", model.provider)))?,
        integration,
        repository: model.repository.clone(),
        config: serde_json::from_str(&model.configuration).map_err(AppError::internal)?,
        description: model.description.clone(),
        labels: serde_json::from_str(&model.labels).map_err(AppError::internal)?,
        status: status_of(&model.status),
        status_message: model.status_message.clone(),
        resources,
        open_pulls,
        created_by: model.created_by.clone(),
        created_at: when(&model.created_at),
    })
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<WorkspaceRow>> {
    let mut rows = Vec::new();
    for model in workspaces::Entity::find()
        .order_by_asc(workspaces::Column::Slug)
        .all(db)
        .await?
    {
        rows.push(row(db, &model).await?);
    }
    Ok(rows)
}

/// Workspaces a new resource may use: (slug, "org/name · provider").
pub async fn choices<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(String, String)>> {
    Ok(workspaces::Entity::find()
        .order_by_asc(workspaces::Column::Slug)
        .all(db)
        .await?
        .into_iter()
        .map(|w| {
            let provider = Provider::parse(&w.provider).map_or("?", |p| p.label());
            (w.slug, format!("{} · {provider}", w.repository))
        })
        .collect())
}

pub async fn git_integrations(db: &DatabaseConnection) -> AppResult<Vec<IntegrationChoice>> {
    super::integrations::choices(db, integrations::Column::Kind.eq("git")).await
}

pub(crate) async fn by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> AppResult<workspaces::Model> {
    workspaces::Entity::find()
        .filter(workspaces::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The workspace {slug:?}")))
}

/// Why the workspace cannot be deleted now: resources in it, or a job queued or running.
async fn delete_blocker<C: ConnectionTrait>(
    db: &C,
    model: &workspaces::Model,
) -> AppResult<Option<String>> {
    let members = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .all(db)
        .await?;
    if !members.is_empty() {
        let ids: Vec<i64> = members.iter().map(|m| m.resource_id).collect();
        let names: Vec<String> = resources::Entity::find()
            .filter(resources::Column::Id.is_in(ids))
            .order_by_asc(resources::Column::Slug)
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.slug)
            .collect();
        return Ok(Some(format!(
            "{} resource{} keep{} code in it ({}); destroy them first",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            if names.len() == 1 { "s" } else { "" },
            names.join(", ")
        )));
    }
    if let Some(job) = job_rows::Entity::find()
        .filter(job_rows::Column::SerialKey.eq(serial_key(model.id)))
        .filter(job_rows::Column::Status.is_in([jobs::QUEUED, jobs::RUNNING]))
        .one(db)
        .await?
    {
        return Ok(Some(format!(
            "job #{} for it is {}; wait for it to finish",
            job.id, job.status
        )));
    }
    Ok(None)
}

pub async fn detail(db: &DatabaseConnection, slug: &str) -> AppResult<WorkspaceDetail> {
    let model = by_slug(db, slug).await?;
    let members = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .order_by_asc(workspace_resources::Column::Folder)
        .all(db)
        .await?;
    let mut rows = Vec::new();
    let mut slugs: BTreeMap<i64, String> = BTreeMap::new();
    for member in &members {
        let Some(resource) = resources::Entity::find_by_id(member.resource_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let template_key = templates::Entity::find_by_id(resource.template_id)
            .one(db)
            .await?
            .map(|t| t.key)
            .unwrap_or_default();
        slugs.insert(resource.id, resource.slug.clone());
        rows.push(WorkspaceResourceRow {
            slug: resource.slug,
            name: resource.name,
            template_key,
            folder: member.folder.clone(),
            state: ResourceState::parse(&resource.state).unwrap_or(ResourceState::Provision),
            status: status_of(&member.status),
            status_message: member.status_message.clone(),
        });
    }
    let pulls = pull_requests::Entity::find()
        .filter(pull_requests::Column::WorkspaceId.eq(model.id))
        .order_by_desc(pull_requests::Column::Number)
        .all(db)
        .await?;
    let mut pull_rows = Vec::new();
    for pull in pulls {
        let resource = match (
            pull.resource_id,
            pull.resource_id.and_then(|id| slugs.get(&id)),
        ) {
            (_, Some(slug)) => Some(slug.clone()),
            (Some(id), None) => resources::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|r| r.slug),
            _ => None,
        };
        pull_rows.push(pull_row(&pull, resource));
    }
    Ok(WorkspaceDetail {
        workspace: row(db, &model).await?,
        resources: rows,
        pulls: pull_rows,
        can_edit: false,
        can_delete: false,
        delete_blocker: delete_blocker(db, &model).await?,
    })
}

/// Everyone who wrote into a pull request: none of them may approve it.
pub(crate) fn pull_authors(pull: &pull_requests::Model) -> Vec<String> {
    pull.authors
        .as_deref()
        .and_then(|a| serde_json::from_str::<Vec<String>>(a).ok())
        .unwrap_or_else(|| vec![pull.created_by.clone()])
}

/// `authors` with `label` added (once), as stored.
fn with_author(mut authors: Vec<String>, label: &str) -> String {
    if !authors.iter().any(|a| a == label) {
        authors.push(label.to_string());
    }
    serde_json::to_string(&authors).unwrap_or_else(|_| "[]".into())
}

fn pull_row(pull: &pull_requests::Model, resource: Option<String>) -> PullRow {
    PullRow {
        number: pull.number,
        kind: pull.kind.clone(),
        resource,
        title: pull.title.clone(),
        head_branch: pull.head_branch.clone(),
        base_branch: pull.base_branch.clone(),
        state: pull.state.clone(),
        url: pull.url.clone(),
        created_by: pull.created_by.clone(),
        authors: pull_authors(pull),
        head_commit: pull.head_commit.clone(),
        created_at: when(&pull.created_at),
    }
}

/// The forge-side handle of a workspace: its provider, repository and opened credentials.
pub(crate) async fn forge_repo<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    integration_id: i64,
    repository: &str,
) -> AppResult<ForgeRepo> {
    let integration = super::integrations::find_by_id(db, integration_id).await?;
    Ok(ForgeRepo {
        provider: integration.provider,
        repository: repository.to_string(),
        settings: integration.settings,
        secrets: super::integrations::open_secrets(db, &ctx.secrets, integration_id).await?,
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

pub async fn register(
    ctx: &AppCtx,
    actor: &Actor,
    input: &NewWorkspace,
) -> AppResult<WorkspaceRow> {
    // Every field is checked, and every problem reported at once.
    let mut problems: Vec<(String, String)> = Vec::new();
    let description = input.description.trim().to_string();
    if let Err(m) = validate_text(&description, 2000) {
        problems.push(("description".into(), m.to_string()));
    }
    let labels = parse_labels(&input.labels).unwrap_or_else(|m| {
        problems.push(("labels".into(), m.to_string()));
        Default::default()
    });
    let integration = integrations::Entity::find()
        .filter(integrations::Column::Slug.eq(input.integration.trim()))
        .one(&ctx.db)
        .await?;
    let integration = match integration {
        Some(integration) => {
            let row = super::integrations::row(&integration)?;
            if row.kind == IntegrationKind::Git {
                Some((integration, row))
            } else {
                problems.push((
                    "integration".into(),
                    format!("{} is not a git integration", integration.slug),
                ));
                None
            }
        }
        None => {
            problems.push((
                "integration".into(),
                "choose one of the git integrations".into(),
            ));
            None
        }
    };
    let repository = match &integration {
        Some((_, row)) => validate_repository(row.provider, &input.repository)
            .map_err(|m| problems.push(("repository".into(), m.to_string())))
            .ok(),
        None => None,
    };
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let (Some((integration, integration_row)), Some(repository)) = (integration, repository) else {
        return Err(AppError::internal("checked fields missing"));
    };
    if let Some(existing) = workspaces::Entity::find()
        .filter(workspaces::Column::Provider.eq(integration_row.provider.as_str()))
        .filter(workspaces::Column::Repository.eq(&repository))
        .one(&ctx.db)
        .await?
    {
        return Err(AppError::invalid(
            "repository",
            format!("already registered as workspace {}", existing.slug),
        ));
    }
    // Ask the forge before writing anything: a repository it cannot show is refused outright.
    let repo = forge_repo(ctx, &ctx.db, integration.id, &repository).await?;
    let config = ctx
        .forge
        .metadata(&repo)
        .await
        .map_err(|e| AppError::invalid("repository", e.message))?;
    let mut slug = workspace_slug(&config.organization, &config.name);
    let txn = super::begin_write(&ctx.db).await?;
    if workspaces::Entity::find()
        .filter(workspaces::Column::Slug.eq(&slug))
        .one(&txn)
        .await?
        .is_some()
    {
        slug = format!(
            "{slug}-{}",
            integration_row.provider.as_str().replace('_', "-")
        );
        if by_slug(&txn, &slug).await.is_ok() {
            return Err(AppError::invalid(
                "repository",
                format!("a workspace named {slug} already exists"),
            ));
        }
    }
    let now = chrono::Utc::now();
    let created = workspaces::ActiveModel {
        slug: Set(slug),
        name: Set(config.name.clone()),
        provider: Set(integration_row.provider.as_str().into()),
        integration_id: Set(integration.id),
        repository: Set(repository),
        configuration: Set(serde_json::to_string(&config).map_err(AppError::internal)?),
        description: Set(description),
        labels: Set(serde_json::to_string(&labels).map_err(AppError::internal)?),
        status: Set(WorkspaceStatus::Done.as_str().into()),
        status_message: Set(None),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = row(&txn, &created).await?;
    audit::record(
        &txn,
        actor,
        Change::new("workspace.create", "workspace", &after.slug).after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Creates a repository in the local forge (`ORG/NAME`), ready to register as a workspace.
pub async fn create_local_repository(
    ctx: &AppCtx,
    actor: &Actor,
    repository: &str,
) -> AppResult<RepoConfig> {
    let repository = validate_repository(Provider::LocalGit, repository)
        .map_err(|m| AppError::invalid("repository", m))?;
    let repo = ForgeRepo {
        provider: Provider::LocalGit,
        repository: repository.clone(),
        settings: Default::default(),
        secrets: Default::default(),
    };
    let config = ctx
        .forge
        .create_repository(&repo, &actor.label)
        .await
        .map_err(|e| AppError::invalid("repository", e.message))?;
    let txn = super::begin_write(&ctx.db).await?;
    audit::record(
        &txn,
        actor,
        Change::new("forge.create_repository", "workspace", &repository).after(&config),
    )
    .await?;
    txn.commit().await?;
    Ok(config)
}

/// Only the description and labels change; everything the forge said stays as registered.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    description: &str,
    labels: &str,
) -> AppResult<WorkspaceRow> {
    let description = description.trim().to_string();
    validate_text(&description, 2000).map_err(|m| AppError::invalid("description", m))?;
    let labels = parse_labels(labels).map_err(|m| AppError::invalid("labels", m))?;
    let txn = super::begin_write(db).await?;
    let model = by_slug(&txn, slug).await?;
    let before = row(&txn, &model).await?;
    let mut active: workspaces::ActiveModel = model.into();
    active.description = Set(description);
    active.labels = Set(serde_json::to_string(&labels).map_err(AppError::internal)?);
    active.updated_at = Set(chrono::Utc::now());
    let updated = active.update(&txn).await?;
    let after = row(&txn, &updated).await?;
    audit::record(
        &txn,
        actor,
        Change::new("workspace.update", "workspace", slug)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Removes the record (never the repository), refused while resources or jobs depend on it.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, slug: &str) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    let model = by_slug(&txn, slug).await?;
    if let Some(reason) = delete_blocker(&txn, &model).await? {
        return Err(AppError::Conflict(format!(
            "workspace {slug} cannot be deleted: {reason}"
        )));
    }
    let before = row(&txn, &model).await?;
    workspaces::Entity::delete_by_id(model.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Change::new("workspace.delete", "workspace", slug).before(&before),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The slug of the workspace a local-forge repository is registered as (404 when none).
pub async fn workspace_of_repository(
    db: &DatabaseConnection,
    repository: &str,
) -> AppResult<String> {
    Ok(local_workspace(db, repository).await?.slug)
}

/// The workspace a resource's code is in, if any.
pub async fn workspace_of_resource_if_any(
    db: &DatabaseConnection,
    resource_slug: &str,
) -> AppResult<Option<String>> {
    match workspace_of_resource(db, resource_slug).await {
        Ok(slug) => Ok(Some(slug)),
        Err(AppError::Conflict(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The slug of the workspace holding a resource's code.
pub async fn workspace_of_resource(
    db: &DatabaseConnection,
    resource_slug: &str,
) -> AppResult<String> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(resource_slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {resource_slug:?}")))?;
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!("resource {resource_slug} is not in a workspace"))
        })?;
    Ok(workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's workspace is missing"))?
        .slug)
}

async fn local_workspace(
    db: &DatabaseConnection,
    repository: &str,
) -> AppResult<workspaces::Model> {
    workspaces::Entity::find()
        .filter(workspaces::Column::Provider.eq(Provider::LocalGit.as_str()))
        .filter(workspaces::Column::Repository.eq(repository))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format_args!(
                "The local repository {repository:?} (as a workspace)"
            ))
        })
}

pub async fn pull_detail(ctx: &AppCtx, repository: &str, number: i64) -> AppResult<PullDetail> {
    let workspace = local_workspace(&ctx.db, repository).await?;
    let pull = pull_requests::Entity::find()
        .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
        .filter(pull_requests::Column::Number.eq(number))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format_args!("Pull request #{number} of {repository}"))
        })?;
    let resource = match pull.resource_id {
        Some(id) => resources::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .map(|r| r.slug),
        None => None,
    };
    let files = match &pull.head_commit {
        Some(commit) => {
            let (config, repo) = reach(ctx, &ctx.db, &workspace).await?;
            ctx.workspace_git
                .commit_changes(&repo, &config, commit)
                .await?
                .into_iter()
                .map(|f| PullFile {
                    change: match (&f.before, &f.after) {
                        (None, _) => "added",
                        (_, None) => "removed",
                        _ => "changed",
                    }
                    .into(),
                    lines: diff_lines(
                        f.before.as_deref().unwrap_or(""),
                        f.after.as_deref().unwrap_or(""),
                    ),
                    path: f.path,
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(PullDetail {
        workspace: workspace.slug,
        repository: workspace.repository,
        head_commit: pull.head_commit.clone(),
        merge_commit: pull.merge_commit.clone(),
        pull: pull_row(&pull, resource),
        files,
    })
}

pub async fn forge_repository(ctx: &AppCtx, repository: &str) -> AppResult<ForgeRepository> {
    let workspace = local_workspace(&ctx.db, repository).await?;
    let (config, repo) = reach(ctx, &ctx.db, &workspace).await?;
    let files = ctx
        .workspace_git
        .read_folder(&repo, &config, &config.default_branch, "")
        .await?
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let pulls = pull_requests::Entity::find()
        .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
        .order_by_desc(pull_requests::Column::Number)
        .all(&ctx.db)
        .await?
        .iter()
        .map(|p| pull_row(p, None))
        .collect();
    Ok(ForgeRepository {
        workspace: workspace.slug,
        repository: workspace.repository,
        clone_url: config.https_url,
        default_branch: config.default_branch,
        files,
        pulls,
    })
}

/// The resource page's workspace panel.
pub async fn resource_workspace(
    db: &DatabaseConnection,
    resource_slug: &str,
    after: i32,
) -> AppResult<Option<ResourceWorkspace>> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(resource_slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {resource_slug:?}")))?;
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let workspace = workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's workspace is missing"))?;
    let config: RepoConfig =
        serde_json::from_str(&workspace.configuration).map_err(AppError::internal)?;
    let open_pull = pull_requests::Entity::find()
        .filter(pull_requests::Column::ResourceId.eq(resource.id))
        .filter(pull_requests::Column::State.eq(PullState::Open.as_str()))
        .order_by_desc(pull_requests::Column::Id)
        .one(db)
        .await?
        .map(|p| pull_row(&p, Some(resource.slug.clone())));
    let job = match member.last_job_id {
        Some(id) => job_rows::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let lines = match &job {
        Some(job) => jobs::log_after(db, job.id, after, 500).await?,
        None => Vec::new(),
    };
    let done = job
        .as_ref()
        .is_none_or(|j| j.status == jobs::SUCCEEDED || j.status == jobs::FAILED);
    Ok(Some(ResourceWorkspace {
        workspace: workspace.slug,
        repository: workspace.repository,
        url: config.url,
        default_branch: config.default_branch,
        folder: member.folder,
        status: status_of(&member.status),
        status_message: member.status_message,
        open_pull,
        job: job.map(|j| JobView {
            id: j.id,
            title: job_title(&j),
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            created_at: when(&j.created_at),
        }),
        lines,
        done,
        can_review: false,
        is_author: false,
        can_retry: false,
        recreatable: resource.state == ResourceState::Provisioned.as_str()
            && resource.status != ResourceStatus::InProgress.as_str(),
    }))
}

fn job_title(job: &job_rows::Model) -> String {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    match job.kind.as_str() {
        SYNC_JOB if payload["kind"] == "delete" => "Delete from the workspace".into(),
        SYNC_JOB => "Sync to the workspace".into(),
        REVIEW_JOB if payload["approve"] == true => "Approve (merge)".into(),
        REVIEW_JOB if payload["delete_resource"] == true => "Delete (close, then delete)".into(),
        REVIEW_JOB => "Reject (close)".into(),
        other => other.to_string(),
    }
}

/// Puts a new resource's code in `workspace`: its folder is fixed now, from its name (seed
/// "Folder Layout"), and must be free in that workspace.
pub async fn attach<C: ConnectionTrait>(
    db: &C,
    workspace: &str,
    resource: &resources::Model,
    template_key: &str,
) -> AppResult<workspace_resources::Model> {
    let model = workspaces::Entity::find()
        .filter(workspaces::Column::Slug.eq(workspace.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid("workspace", format!("no workspace is named {workspace:?}"))
        })?;
    let slug = folder_slug(&resource.name).map_err(|m| AppError::invalid("name", m))?;
    let folder = resource_folder(template_key, &slug).map_err(|m| AppError::invalid("name", m))?;
    if let Some(taken) = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .filter(workspace_resources::Column::Folder.eq(&folder))
        .one(db)
        .await?
    {
        let other = resources::Entity::find_by_id(taken.resource_id)
            .one(db)
            .await?
            .map(|r| r.slug)
            .unwrap_or_default();
        return Err(AppError::invalid(
            "name",
            format!(
                "the folder {folder}/ in workspace {} already holds resource {other}; \
                 choose a name that gives another folder",
                model.slug
            ),
        ));
    }
    Ok(workspace_resources::ActiveModel {
        resource_id: Set(resource.id),
        workspace_id: Set(model.id),
        folder: Set(folder),
        folder_slug: Set(slug),
        status: Set(WorkspaceStatus::Done.as_str().into()),
        status_message: Set(None),
        merged_commit: Set(None),
        merged_revision: Set(None),
        last_job_id: Set(None),
    }
    .insert(db)
    .await?)
}

#[derive(Debug, Serialize, Deserialize)]
struct SyncPayload {
    resource_id: i64,
    kind: SyncKind,
    /// Recreate: merge the pull request as soon as it is open (a review job chained on).
    #[serde(default)]
    merge: bool,
    revision: i32,
    initiator_id: Option<i64>,
    initiator: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ReviewPayload {
    resource_id: i64,
    pull_id: i64,
    approve: bool,
    /// Approving: the head commit approved, the only one the merge may take. (Absent in jobs
    /// queued before approvals bound to commits: such a merge is refused.)
    #[serde(default)]
    commit: Option<String>,
    /// Delete the resource once its pull request is closed (a never-provisioned resource
    /// deleted while its code awaited review).
    #[serde(default)]
    delete_resource: bool,
    initiator_id: Option<i64>,
    initiator: String,
}

/// Marks the resource, its folder and the workspace in progress (within the caller's
/// transaction, whose audit event covers it).
async fn mark_in_progress<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    member: &workspace_resources::Model,
    job_id: i64,
) -> AppResult<()> {
    let mut active: workspace_resources::ActiveModel = member.clone().into();
    active.last_job_id = Set(Some(job_id));
    active.status = Set(WorkspaceStatus::InProgress.as_str().into());
    active.status_message = Set(None);
    active.update(db).await?;
    let mut active: resources::ActiveModel = resource.clone().into();
    active.status = Set(ResourceStatus::InProgress.as_str().into());
    active.update(db).await?;
    workspaces::Entity::update_many()
        .col_expr(
            workspaces::Column::Status,
            sea_orm::sea_query::Expr::value(WorkspaceStatus::InProgress.as_str()),
        )
        .filter(workspaces::Column::Id.eq(member.workspace_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Queues the sync (or delete) of a resource's folder, if the resource is in a workspace.
/// Returns whether a job was queued; the caller wakes the worker after committing.
pub async fn enqueue_sync<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    kind: SyncKind,
    actor: &Actor,
) -> AppResult<bool> {
    enqueue_sync_job(db, resource, kind, false, actor).await
}

async fn enqueue_sync_job<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    kind: SyncKind,
    merge: bool,
    actor: &Actor,
) -> AppResult<bool> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let payload = SyncPayload {
        resource_id: resource.id,
        kind,
        merge,
        revision: resource.revision,
        initiator_id: actor.user_id,
        initiator: actor.label.clone(),
    };
    let job = jobs::enqueue(
        db,
        SYNC_JOB,
        &serde_json::to_value(&payload).map_err(AppError::internal)?,
        None,
        Some(&serial_key(member.workspace_id)),
        ATTEMPTS,
    )
    .await?;
    mark_in_progress(db, resource, &member, job.id).await?;
    Ok(true)
}

/// The resource, if no work on it is under way.
async fn idle_resource<C: ConnectionTrait>(db: &C, slug: &str) -> AppResult<resources::Model> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {slug:?}")))?;
    if resource.status == ResourceStatus::InProgress.as_str() {
        return Err(AppError::Conflict(
            "work on this resource is in progress; wait for it to finish".into(),
        ));
    }
    Ok(resource)
}

/// Queues the merge (approve) or close of a recorded pull request, on the workspace's serial key.
/// Queues a review: `approve` is the head commit approved (the merge takes exactly it); `None`
/// closes the pull request.
async fn enqueue_review<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
    workspace_id: i64,
    pull_id: i64,
    approve: Option<String>,
    delete_resource: bool,
    actor: &Actor,
) -> AppResult<job_rows::Model> {
    let payload = ReviewPayload {
        resource_id,
        pull_id,
        approve: approve.is_some(),
        commit: approve,
        delete_resource,
        initiator_id: actor.user_id,
        initiator: actor.label.clone(),
    };
    jobs::enqueue(
        db,
        REVIEW_JOB,
        &serde_json::to_value(&payload).map_err(AppError::internal)?,
        None,
        Some(&serial_key(workspace_id)),
        ATTEMPTS,
    )
    .await
}

/// Recreate: writes a provisioned resource's code to its folder again and merges it, as one
/// flow (a sync job whose end queues the merge). For code changed or lost on the default
/// branch outside Slipway.
pub async fn recreate(ctx: &AppCtx, actor: &Actor, resource_slug: &str) -> AppResult<()> {
    let txn = super::begin_write(&ctx.db).await?;
    let resource = idle_resource(&txn, resource_slug).await?;
    if resource.state != ResourceState::Provisioned.as_str() {
        return Err(AppError::Conflict(format!(
            "only a provisioned resource can be recreated; {resource_slug} is {}",
            resource.state
        )));
    }
    // Recreate merges on the initiator's word alone, so it may only write back code someone
    // else approved: the revision last merged. A change since (an edit whose pull request was
    // rejected, say) goes through review like any other.
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(&txn)
        .await?;
    if let Some(member) = &member {
        if member.merged_revision != Some(resource.revision) {
            return Err(AppError::Conflict(format!(
                "resource {resource_slug} changed since its code was last approved ({}; now revision {}): recreate writes back approved code only; sync it and have someone else approve the pull request",
                member
                    .merged_revision
                    .map_or("no approved revision on record".to_string(), |r| format!("revision {r} was merged")),
                resource.revision
            )));
        }
    }
    if !enqueue_sync_job(&txn, &resource, SyncKind::Update, true, actor).await? {
        return Err(AppError::Conflict(format!(
            "resource {resource_slug} is not in a workspace"
        )));
    }
    audit::record(
        &txn,
        actor,
        Change::new("resource.recreate", "resource", resource.id)
            .after(&serde_json::json!({ "revision": resource.revision })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The resource's last job, when it failed: what a Retry would run again.
pub async fn failed_job<C: ConnectionTrait>(
    db: &C,
    resource_slug: &str,
) -> AppResult<Option<job_rows::Model>> {
    Ok(failed(db, resource_slug).await?.map(|(_, _, job)| job))
}

/// The resource, its place in a workspace and its last job, when that job failed.
async fn failed<C: ConnectionTrait>(
    db: &C,
    resource_slug: &str,
) -> AppResult<
    Option<(
        resources::Model,
        workspace_resources::Model,
        job_rows::Model,
    )>,
> {
    let resource = resources::Entity::find()
        .filter(resources::Column::Slug.eq(resource_slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {resource_slug:?}")))?;
    if resource.status != ResourceStatus::Error.as_str() {
        return Ok(None);
    }
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let job = match member.last_job_id {
        Some(id) => job_rows::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(job
        .filter(|job| job.status == jobs::FAILED)
        .map(|job| (resource, member, job)))
}

/// Retry: runs the resource's failed job again, as a new job with its attempts afresh. A sync
/// is written by whoever retries it (they become its author); a review keeps its reviewer and
/// the commit they approved.
pub async fn retry(ctx: &AppCtx, actor: &Actor, resource_slug: &str) -> AppResult<i64> {
    let txn = super::begin_write(&ctx.db).await?;
    let (resource, member, failed) = failed(&txn, resource_slug).await?.ok_or_else(|| {
        AppError::Conflict(format!(
            "the last job of {resource_slug} did not fail: there is nothing to retry"
        ))
    })?;
    let mut payload: serde_json::Value =
        serde_json::from_str(&failed.payload).map_err(AppError::internal)?;
    if failed.kind == SYNC_JOB {
        payload["revision"] = resource.revision.into();
        payload["initiator_id"] = actor.user_id.into();
        payload["initiator"] = actor.label.clone().into();
    }
    let job = jobs::enqueue(
        &txn,
        &failed.kind,
        &payload,
        None,
        Some(&serial_key(member.workspace_id)),
        ATTEMPTS,
    )
    .await?;
    mark_in_progress(&txn, &resource, &member, job.id).await?;
    audit::record(
        &txn,
        actor,
        Change::new("workspace.job_retried", "resource", resource.id).after(&serde_json::json!({
            "failed_job": failed.id,
            "job": job.id,
            "kind": failed.kind,
        })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(job.id)
}

/// Asks for the resource's open pull request to be merged (approve) or closed (reject).
/// Approving names the head commit the reviewer saw: the merge takes exactly that commit, and
/// nobody whose change is in the pull request may approve it.
pub async fn review(
    ctx: &AppCtx,
    actor: &Actor,
    resource_slug: &str,
    approve: bool,
    commit: &str,
) -> AppResult<()> {
    let txn = super::begin_write(&ctx.db).await?;
    let resource = idle_resource(&txn, resource_slug).await?;
    let member = workspace_resources::Entity::find_by_id(resource.id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!("resource {resource_slug} is not in a workspace"))
        })?;
    let pull = pull_requests::Entity::find()
        .filter(pull_requests::Column::ResourceId.eq(resource.id))
        .filter(pull_requests::Column::State.eq(PullState::Open.as_str()))
        .order_by_desc(pull_requests::Column::Id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "resource {resource_slug} has no open pull request to {}",
                if approve { "approve" } else { "reject" }
            ))
        })?;
    let approved = if approve {
        Some(approvable(&pull, actor, commit)?)
    } else {
        None
    };
    let job = enqueue_review(
        &txn,
        resource.id,
        member.workspace_id,
        pull.id,
        approved,
        false,
        actor,
    )
    .await?;
    mark_in_progress(&txn, &resource, &member, job.id).await?;
    audit::record(
        &txn,
        actor,
        Change::new(
            if approve {
                "resource.approve"
            } else {
                "resource.reject"
            },
            "resource",
            resource.id,
        )
        .after(&serde_json::json!({ "pull_request": pull.number, "branch": pull.head_branch, "commit": pull.head_commit })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The commit `actor` may approve in `pull`: the head they reviewed, if it is still the head and
/// none of the change is theirs.
fn approvable(pull: &pull_requests::Model, actor: &Actor, reviewed: &str) -> AppResult<String> {
    if pull_authors(pull).contains(&actor.label) {
        return Err(AppError::Forbidden(format!(
            "Pull request #{} holds your change: someone else must approve it.",
            pull.number
        )));
    }
    let head = pull.head_commit.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "Pull request #{} has no recorded head commit; sync the resource again.",
            pull.number
        ))
    })?;
    still_the_head(pull.number, &head, reviewed)?;
    Ok(head)
}

/// Refuses an approval of pull request `number` unless `reviewed` (what the page showed) is its
/// `head` now: an approval covers exactly the commit reviewed. Workspace and governed pull
/// requests alike.
pub(crate) fn still_the_head(number: i64, head: &str, reviewed: &str) -> AppResult<()> {
    let reviewed = reviewed.trim();
    if reviewed.is_empty() {
        return Err(AppError::invalid(
            "commit",
            "name the head commit you reviewed: an approval covers exactly that commit",
        ));
    }
    if reviewed != head {
        return Err(AppError::Conflict(format!(
            "Pull request #{number} changed since you reviewed it: its head is now {}, you reviewed {}. Review the new commits.",
            short(head),
            short(reviewed)
        )));
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..12.min(commit.len())]
}

/// Deleting a never-provisioned resource whose code awaits review: its open pull request is
/// closed first, by a job on the workspace's queue, and the resource is deleted when that job
/// ends (in its transaction). Returns the pull request's number when that is how the delete
/// goes; `None` when there is nothing open and the caller deletes at once.
pub async fn close_then_delete<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    actor: &Actor,
) -> AppResult<Option<i64>> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource.id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Asked again after the close failed for good (the forge lost the pull request, say):
    // the person has seen why, and the resource goes at once.
    if let Some(last) = member.last_job_id {
        if let Some(job) = job_rows::Entity::find_by_id(last).one(db).await? {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            if job.kind == REVIEW_JOB
                && payload["delete_resource"] == true
                && job.status == jobs::FAILED
            {
                return Ok(None);
            }
        }
    }
    let Some(pull) = pull_requests::Entity::find()
        .filter(pull_requests::Column::ResourceId.eq(resource.id))
        .filter(pull_requests::Column::State.eq(PullState::Open.as_str()))
        .order_by_desc(pull_requests::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let job = enqueue_review(
        db,
        resource.id,
        member.workspace_id,
        pull.id,
        None,
        true,
        actor,
    )
    .await?;
    mark_in_progress(db, resource, &member, job.id).await?;
    Ok(Some(pull.number))
}

/// What a job did at the forge, recorded when it ends.
enum Done {
    Synced {
        kind: SyncKind,
        branch: String,
        commit: String,
        /// The resource revision the code renders.
        revision: i32,
        /// None: the default branch already held exactly this code.
        pull: Option<ForgePull>,
        title: String,
        body: String,
        /// Merge it next (recreate).
        merge: bool,
    },
    Reviewed {
        pull_id: i64,
        approve: bool,
        pull: ForgePull,
        delete_resource: bool,
    },
}

/// Everything a job needs about its resource and workspace.
struct Context {
    resource: resources::Model,
    member: workspace_resources::Model,
    workspace: workspaces::Model,
    config: RepoConfig,
    repo: ForgeRepo,
    template_key: String,
}

async fn job_context(ctx: &AppCtx, resource_id: i64) -> Result<Context, ForgeError> {
    let gone = |what: &str| ForgeError::permanent(format!("{what} no longer exists"));
    let internal = |e: AppError| ForgeError::transient(e.to_string());
    let db = &ctx.db;
    let resource = resources::Entity::find_by_id(resource_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the resource"))?;
    let member = workspace_resources::Entity::find_by_id(resource_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the resource's workspace folder"))?;
    let workspace = workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the workspace"))?;
    let (config, repo) = reach(ctx, db, &workspace).await.map_err(internal)?;
    let template_key = templates::Entity::find_by_id(resource.template_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .map(|t| t.key)
        .unwrap_or_default();
    Ok(Context {
        resource,
        member,
        workspace,
        config,
        repo,
        template_key,
    })
}

async fn initiator(db: &DatabaseConnection, id: Option<i64>, label: &str) -> Initiator {
    let user = match id {
        Some(id) => users::Entity::find_by_id(id).one(db).await.ok().flatten(),
        None => None,
    };
    match user {
        Some(user) => Initiator {
            login: user.login.clone(),
            name: if user.name.is_empty() {
                user.login.clone()
            } else {
                user.name.clone()
            },
            email: user
                .email
                .clone()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| format!("{}@users.slipway.invalid", user.login)),
        },
        None => Initiator {
            login: label.to_string(),
            name: label.to_string(),
            email: "slipway@localhost".into(),
        },
    }
}

async fn sync(
    ctx: &AppCtx,
    payload: &SyncPayload,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(Context, Done), ForgeError> {
    let job = job_context(ctx, payload.resource_id).await?;
    let who = initiator(&ctx.db, payload.initiator_id, &payload.initiator).await;
    let files = match payload.kind {
        SyncKind::Update => Some(
            super::resources::current_files(&ctx.db, job.resource.id)
                .await
                .map_err(|e| ForgeError::transient(e.to_string()))?,
        ),
        SyncKind::Delete => None,
    };
    let branch = branch_name(payload.kind, &job.member.folder_slug);
    let revision = job.resource.revision;
    say(format!(
        "{} {}/ in {} on branch {branch}, cut from {}",
        match payload.kind {
            SyncKind::Update => "writing",
            SyncKind::Delete => "removing",
        },
        job.member.folder,
        job.workspace.repository,
        job.config.default_branch
    ));
    let change = BranchChange {
        base: job.config.default_branch.clone(),
        branch: branch.clone(),
        edit: TreeEdit::Folder {
            folder: job.member.folder.clone(),
            files,
        },
        message: commit_message(
            payload.kind,
            &job.template_key,
            &job.member.folder_slug,
            revision,
            &who,
        ),
        author_name: who.name.clone(),
        author_email: who.email.clone(),
    };
    let pushed = ctx
        .workspace_git
        .push_change(&job.repo, &job.config, &change)
        .await?;
    let (title, body) = pull_request_text(
        payload.kind,
        &job.template_key,
        &job.member.folder_slug,
        revision,
        &who,
    );
    if !pushed.differs {
        say(format!(
            "{} already holds exactly this; there is nothing to review",
            job.config.default_branch
        ));
        return Ok((
            job,
            Done::Synced {
                kind: payload.kind,
                branch,
                commit: pushed.commit,
                revision,
                pull: None,
                title,
                body,
                merge: payload.merge,
            },
        ));
    }
    if pushed.pushed {
        say(format!(
            "pushed {} to {branch} (forced)",
            &pushed.commit[..12.min(pushed.commit.len())]
        ));
    } else {
        say(format!(
            "{branch} already holds this change at {}; nothing pushed",
            &pushed.commit[..12.min(pushed.commit.len())]
        ));
    }
    let pull = match ctx.forge.find_open_pull(&job.repo, &branch).await? {
        Some(open) => {
            say(format!(
                "pull request #{} is already open for {branch}; not opening another",
                open.number
            ));
            open
        }
        None => {
            let created = ctx
                .forge
                .create_pull(
                    &job.repo,
                    &NewPull {
                        head_branch: branch.clone(),
                        base_branch: job.config.default_branch.clone(),
                        title: title.clone(),
                        body: body.clone(),
                        author: who.login.clone(),
                    },
                )
                .await?;
            say(format!(
                "opened pull request #{}: {}",
                created.number, created.url
            ));
            created
        }
    };
    Ok((
        job,
        Done::Synced {
            kind: payload.kind,
            branch,
            commit: pushed.commit,
            revision,
            pull: Some(pull),
            title,
            body,
            merge: payload.merge,
        },
    ))
}

async fn review_job(
    ctx: &AppCtx,
    payload: &ReviewPayload,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(Context, Done), ForgeError> {
    let job = job_context(ctx, payload.resource_id).await?;
    let pull = pull_requests::Entity::find_by_id(payload.pull_id)
        .one(&ctx.db)
        .await
        .map_err(|e| ForgeError::transient(e.to_string()))?
        .ok_or_else(|| ForgeError::permanent("the pull request record no longer exists"))?;
    let result = if payload.approve {
        say(format!(
            "merging pull request #{} ({} into {})",
            pull.number, pull.head_branch, pull.base_branch
        ));
        let message = format!(
            "Merge pull request #{} from {}\n\n{}\n\nApproved in Slipway by {}.\n",
            pull.number, pull.head_branch, pull.title, payload.initiator
        );
        // Exactly the commit approved, or nothing (a review queued before approvals named
        // their commit merges nothing: it is reviewed again).
        let approved = payload.commit.as_deref().ok_or_else(|| {
            ForgeError::permanent(
                "this approval names no commit; approve the pull request again from its page",
            )
        })?;
        ctx.forge
            .merge_pull(&job.repo, pull.number, &message, approved)
            .await?
    } else {
        say(format!(
            "closing pull request #{} without merging{}",
            pull.number,
            if payload.delete_resource {
                "; the resource is deleted once it is closed"
            } else {
                ""
            }
        ));
        ctx.forge.close_pull(&job.repo, pull.number).await?
    };
    say(format!(
        "pull request #{} is {}",
        result.number,
        result.state.as_str()
    ));
    Ok((
        job,
        Done::Reviewed {
            pull_id: pull.id,
            approve: payload.approve,
            pull: result,
            delete_resource: payload.delete_resource,
        },
    ))
}

/// Performs one attempt of a workspace job and records its end: what it did, the statuses,
/// the audit event and the job's own row, in one transaction.
/// What a workspace job did, to be recorded by [`record`] once its log is written (so a page
/// that shows the job's end also shows every line that led to it).
pub struct Performed {
    job_id: i64,
    resource_id: i64,
    actor: Actor,
    outcome: Outcome,
    result: Result<(Context, Done), ForgeError>,
}

pub async fn perform(
    ctx: &AppCtx,
    job: &job_rows::Model,
    say: &(dyn Fn(String) + Send + Sync),
) -> AppResult<Performed> {
    let (resource_id, initiator_id, initiator_label, result) = match job.kind.as_str() {
        SYNC_JOB => {
            let payload: SyncPayload =
                serde_json::from_str(&job.payload).map_err(AppError::internal)?;
            let result = sync(ctx, &payload, say).await;
            (
                payload.resource_id,
                payload.initiator_id,
                payload.initiator,
                result,
            )
        }
        REVIEW_JOB => {
            let payload: ReviewPayload =
                serde_json::from_str(&job.payload).map_err(AppError::internal)?;
            let result = review_job(ctx, &payload, say).await;
            (
                payload.resource_id,
                payload.initiator_id,
                payload.initiator,
                result,
            )
        }
        other => return Err(AppError::internal(format!("not a workspace job: {other}"))),
    };
    let actor = Actor {
        user_id: initiator_id,
        label: initiator_label,
    };
    let outcome = match &result {
        Ok(_) => Outcome::Succeeded,
        Err(e) => match (e.retryable, e.retry_after) {
            (true, Some(seconds)) => Outcome::RetryAfter(e.message.clone(), seconds),
            (true, None) => Outcome::Retry(e.message.clone()),
            (false, _) => Outcome::Fail(e.message.clone()),
        },
    };
    if let Some(message) = outcome.error() {
        say(format!("failed: {message}"));
    }
    Ok(Performed {
        job_id: job.id,
        resource_id,
        actor,
        outcome,
        result,
    })
}

/// Records a workspace job's end: the job's status, and the resource's and workspace's.
pub async fn record(ctx: &AppCtx, worker: &str, performed: Performed) -> AppResult<()> {
    let Performed {
        job_id,
        resource_id,
        actor,
        outcome,
        result,
    } = performed;
    let txn = super::begin_write(&ctx.db).await?;
    let status = jobs::finish(&txn, job_id, worker, &outcome).await?;
    match (status.as_str(), result) {
        (jobs::SUCCEEDED, Ok((context, done))) => record_done(&txn, &actor, context, done).await?,
        (jobs::FAILED, result) => {
            let message = outcome.error().unwrap_or_default().to_string();
            drop(result);
            record_failure(&txn, &actor, resource_id, &message).await?
        }
        // Queued again for a retry: statuses stay in progress until it ends.
        _ => {}
    }
    txn.commit().await?;
    Ok(())
}

async fn set_workspace_status<C: ConnectionTrait>(
    db: &C,
    workspace_id: i64,
    status: WorkspaceStatus,
    message: Option<String>,
) -> AppResult<()> {
    workspaces::Entity::update_many()
        .col_expr(
            workspaces::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .col_expr(
            workspaces::Column::StatusMessage,
            sea_orm::sea_query::Expr::value(message),
        )
        .col_expr(
            workspaces::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(workspaces::Column::Id.eq(workspace_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn record_done<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    context: Context,
    done: Done,
) -> AppResult<()> {
    let Context {
        resource,
        member,
        workspace,
        ..
    } = context;
    let now = chrono::Utc::now();
    let state = ResourceState::parse(&resource.state).unwrap_or(ResourceState::Provision);
    let mut member_active: workspace_resources::ActiveModel = member.clone().into();
    let mut resource_active: resources::ActiveModel = resource.clone().into();
    resource_active.status = Set(ResourceStatus::Done.as_str().into());
    member_active.status = Set(WorkspaceStatus::Done.as_str().into());
    let mut remove_member = false;
    let mut remove_resource = false;
    let mut chained = false;
    let (action, after) = match done {
        Done::Synced {
            kind,
            branch,
            commit,
            revision,
            pull,
            title,
            body,
            merge,
        } => match pull {
            None => {
                // The code is already on the default branch: nothing to review, the state
                // settles as a merge would settle it.
                let settled = settle(state);
                resource_active.state = Set(settled.as_str().into());
                remove_member = settled == ResourceState::Destroyed;
                member_active.status_message =
                    Set(Some("the default branch already holds this code".into()));
                member_active.merged_commit = Set(Some(commit.clone()));
                member_active.merged_revision = Set(Some(revision));
                (
                    "workspace.sync",
                    serde_json::json!({ "branch": branch, "commit": commit, "pull_request": null }),
                )
            }
            Some(pull) => {
                let existing = pull_requests::Entity::find()
                    .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
                    .filter(pull_requests::Column::Number.eq(pull.number))
                    .one(db)
                    .await?;
                let row = match existing {
                    Some(existing) => {
                        let authors = with_author(pull_authors(&existing), &actor.label);
                        let mut active: pull_requests::ActiveModel = existing.into();
                        active.authors = Set(Some(authors));
                        active.revision = Set(Some(revision));
                        active.head_commit = Set(Some(commit.clone()));
                        active.resource_id = Set(Some(resource.id));
                        active.updated_at = Set(now);
                        active.update(db).await?
                    }
                    None => {
                        pull_requests::ActiveModel {
                            workspace_id: Set(workspace.id),
                            resource_id: Set(Some(resource.id)),
                            kind: Set(kind.as_str().into()),
                            number: Set(pull.number),
                            head_branch: Set(pull.head_branch.clone()),
                            base_branch: Set(pull.base_branch.clone()),
                            title: Set(title),
                            body: Set(body),
                            url: Set(pull.url.clone()),
                            state: Set(pull.state.as_str().into()),
                            head_commit: Set(Some(commit.clone())),
                            revision: Set(Some(revision)),
                            merge_commit: Set(None),
                            created_by: Set(actor.label.clone()),
                            authors: Set(Some(with_author(Vec::new(), &actor.label))),
                            created_at: Set(now),
                            updated_at: Set(now),
                            ..Default::default()
                        }
                        .insert(db)
                        .await?
                    }
                };
                if merge {
                    // Recreate: the merge follows at once, as the initiator's approval.
                    let job = enqueue_review(
                        db,
                        resource.id,
                        workspace.id,
                        row.id,
                        Some(commit.clone()),
                        false,
                        actor,
                    )
                    .await?;
                    chained = true;
                    resource_active.status = Set(ResourceStatus::InProgress.as_str().into());
                    member_active.status = Set(WorkspaceStatus::InProgress.as_str().into());
                    member_active.last_job_id = Set(Some(job.id));
                    member_active.status_message = Set(Some(format!(
                        "pull request #{} opened; merging it (recreate)",
                        pull.number
                    )));
                } else {
                    // Waiting for a person: the state's work is not done until the merge.
                    resource_active.status = Set(ResourceStatus::Ready.as_str().into());
                    member_active.status_message = Set(Some(format!(
                        "pull request #{} awaits approval",
                        pull.number
                    )));
                }
                (
                    "workspace.sync",
                    serde_json::json!({ "branch": branch, "commit": commit, "pull_request": pull.number }),
                )
            }
        },
        Done::Reviewed {
            pull_id,
            approve,
            pull,
            delete_resource,
        } => {
            remove_resource = delete_resource;
            let mut merged_revision = None;
            if let Some(row) = pull_requests::Entity::find_by_id(pull_id).one(db).await? {
                merged_revision = row.revision;
                let mut active: pull_requests::ActiveModel = row.into();
                active.state = Set(pull.state.as_str().into());
                active.merge_commit = Set(pull.merge_commit.clone());
                active.updated_at = Set(now);
                active.update(db).await?;
            }
            if approve {
                let settled = settle(state);
                resource_active.state = Set(settled.as_str().into());
                remove_member = settled == ResourceState::Destroyed;
                member_active.merged_commit = Set(pull.merge_commit.clone());
                member_active.merged_revision = Set(merged_revision);
                member_active.status_message =
                    Set(Some(format!("pull request #{} merged", pull.number)));
            } else {
                resource_active.status = Set(ResourceStatus::Ready.as_str().into());
                member_active.status_message =
                    Set(Some(format!("pull request #{} was rejected", pull.number)));
            }
            (
                if approve {
                    "workspace.merge"
                } else {
                    "workspace.close"
                },
                serde_json::json!({ "pull_request": pull.number, "state": pull.state.as_str(), "merge_commit": pull.merge_commit, "resource_deleted": remove_resource }),
            )
        }
    };
    resource_active.updated_at = Set(now);
    if remove_resource {
        // Its folder and pull request records go with it (cascade, set null).
        resources::Entity::delete_by_id(resource.id)
            .exec(db)
            .await?;
    } else {
        resource_active.update(db).await?;
        if remove_member {
            // Destroyed: the folder is gone from the default branch; the name is free again.
            workspace_resources::Entity::delete_by_id(member.resource_id)
                .exec(db)
                .await?;
        } else {
            member_active.update(db).await?;
        }
    }
    if !chained {
        set_workspace_status(db, workspace.id, WorkspaceStatus::Done, None).await?;
    }
    audit::record(
        db,
        actor,
        Change::new(action, "resource", resource.id).after(&after),
    )
    .await?;
    Ok(())
}

/// The state a merged change leaves: provisioned after provisioning, destroyed after
/// destroying.
fn settle(state: ResourceState) -> ResourceState {
    match state {
        ResourceState::Provision | ResourceState::Provisioned => ResourceState::Provisioned,
        ResourceState::Destroy | ResourceState::Destroyed => ResourceState::Destroyed,
    }
}

async fn record_failure<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    resource_id: i64,
    message: &str,
) -> AppResult<()> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut active: workspace_resources::ActiveModel = member.clone().into();
    active.status = Set(WorkspaceStatus::Error.as_str().into());
    active.status_message = Set(Some(message.to_string()));
    active.update(db).await?;
    if let Some(resource) = resources::Entity::find_by_id(resource_id).one(db).await? {
        let mut active: resources::ActiveModel = resource.into();
        active.status = Set(ResourceStatus::Error.as_str().into());
        active.updated_at = Set(chrono::Utc::now());
        active.update(db).await?;
    }
    set_workspace_status(
        db,
        member.workspace_id,
        WorkspaceStatus::Error,
        Some(message.to_string()),
    )
    .await?;
    audit::record(
        db,
        actor,
        Change::new("workspace.job_failed", "resource", resource_id)
            .after(&serde_json::json!({ "error": message })),
    )
    .await?;
    Ok(())
}

/// Records a push over smart HTTP: the refs it changed, before and after (`None`: absent).
pub async fn record_push(
    db: &DatabaseConnection,
    actor: &Actor,
    repository: &str,
    changed: &BTreeMap<String, (Option<String>, Option<String>)>,
) -> AppResult<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let before: BTreeMap<_, _> = changed.iter().map(|(r, (b, _))| (r, b)).collect();
    let after: BTreeMap<_, _> = changed.iter().map(|(r, (_, a))| (r, a)).collect();
    let txn = super::begin_write(db).await?;
    audit::record(
        &txn,
        actor,
        Change::new("forge.push", "workspace", repository)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

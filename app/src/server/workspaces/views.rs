//! What the pages read: a workspace, its pull requests, a resource's workspace panel.

use super::*;

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
            state: resource.state,
            status: member.status,
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
pub(crate) fn with_author(mut authors: Vec<String>, label: &str) -> String {
    if !authors.iter().any(|a| a == label) {
        authors.push(label.to_string());
    }
    serde_json::to_string(&authors).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn pull_row(pull: &pull_requests::Model, resource: Option<String>) -> PullRow {
    PullRow {
        number: pull.number,
        kind: pull.kind,
        resource,
        title: pull.title.clone(),
        head_branch: pull.head_branch.clone(),
        base_branch: pull.base_branch.clone(),
        state: pull.state,
        url: pull.url.clone(),
        created_by: pull.created_by.clone(),
        authors: pull_authors(pull),
        head_commit: pull.head_commit.clone(),
        created_at: when(&pull.created_at),
    }
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

pub(crate) async fn local_workspace(
    db: &DatabaseConnection,
    repository: &str,
) -> AppResult<workspaces::Model> {
    workspaces::Entity::find()
        .filter(workspaces::Column::Provider.eq(Provider::LocalGit))
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
        .filter(pull_requests::Column::State.eq(PullState::Open))
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
    let done = job.as_ref().is_none_or(|j| j.status.is_done());
    let plan = crate::server::plans::latest_plan(db, resource.id).await?;
    Ok(Some(ResourceWorkspace {
        plan,
        workspace: workspace.slug,
        repository: workspace.repository,
        url: config.url,
        default_branch: config.default_branch,
        folder: member.folder,
        status: member.status,
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
        recreatable: resource.state == ResourceState::Provisioned
            && resource.status != ResourceStatus::InProgress,
    }))
}

pub(crate) fn job_title(job: &job_rows::Model) -> String {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    match job.kind.as_str() {
        SYNC_JOB if payload["kind"] == "delete" => "Delete from the workspace".into(),
        SYNC_JOB => "Sync to the workspace".into(),
        REVIEW_JOB if payload["approve"] == true => "Approve (merge)".into(),
        REVIEW_JOB if payload["delete_resource"] == true => "Delete (close, then delete)".into(),
        REVIEW_JOB => "Reject (close)".into(),
        crate::server::plans::PLAN_JOB => format!("Plan #{}", payload["plan_id"]),
        crate::server::plans::APPLY_JOB => format!("Apply plan #{}", payload["plan_id"]),
        other => other.to_string(),
    }
}

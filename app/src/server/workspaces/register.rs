//! Registering, listing, changing and deleting workspaces.

use super::*;

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
            let provider = w.provider.label();
            (w.slug, format!("{} · {provider}", w.repository))
        })
        .collect())
}

pub async fn git_integrations(db: &DatabaseConnection) -> AppResult<Vec<IntegrationChoice>> {
    crate::server::integrations::choices(db, integrations::Column::Kind.eq("git")).await
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
pub(crate) async fn delete_blocker<C: ConnectionTrait>(
    db: &C,
    model: &workspaces::Model,
) -> AppResult<Option<String>> {
    let members = workspace_resources::Entity::find()
        .filter(workspace_resources::Column::WorkspaceId.eq(model.id))
        .all(db)
        .await?;
    if !members.is_empty() {
        let ids: Vec<i64> = members.iter().map(|m| m.resource_id).collect();
        let names = crate::server::resources::slugs_of(db, ids).await?;
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
        .filter(job_rows::Column::Status.is_in(JobStatus::ACTIVE))
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

/// A registration with every field checked.
struct Registration {
    description: String,
    labels: Vec<String>,
    integration: integrations::Model,
    provider: Provider,
    repository: String,
}

/// Checks every field of a registration and reports every problem at once.
async fn checked(ctx: &AppCtx, input: &NewWorkspace) -> AppResult<Registration> {
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
        Some(integration) if integration.kind == IntegrationKind::Git => Some(integration),
        Some(integration) => {
            problems.push((
                "integration".into(),
                format!("{} is not a git integration", integration.slug),
            ));
            None
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
        Some(integration) => validate_repository(integration.provider, &input.repository)
            .map_err(|m| problems.push(("repository".into(), m.to_string())))
            .ok(),
        None => None,
    };
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let (Some(integration), Some(repository)) = (integration, repository) else {
        return Err(AppError::internal("checked fields missing"));
    };
    Ok(Registration {
        description,
        labels,
        provider: integration.provider,
        integration,
        repository,
    })
}

pub async fn register(
    ctx: &AppCtx,
    actor: &Actor,
    input: &NewWorkspace,
) -> AppResult<WorkspaceRow> {
    let Registration {
        description,
        labels,
        integration,
        provider,
        repository,
    } = checked(ctx, input).await?;
    if let Some(existing) = workspaces::Entity::find()
        .filter(workspaces::Column::Provider.eq(provider))
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
    audit::audited(&ctx.db, actor, async |txn| {
        if workspaces::Entity::find()
            .filter(workspaces::Column::Slug.eq(&slug))
            .one(txn)
            .await?
            .is_some()
        {
            slug = format!("{slug}-{}", provider.as_str().replace('_', "-"));
            if by_slug(txn, &slug).await.is_ok() {
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
            provider: Set(provider),
            integration_id: Set(integration.id),
            repository: Set(repository),
            configuration: Set(serde_json::to_string(&config).map_err(AppError::internal)?),
            description: Set(description),
            labels: Set(serde_json::to_string(&labels).map_err(AppError::internal)?),
            status: Set(WorkspaceStatus::Done),
            status_message: Set(None),
            created_by: Set(actor.label.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let after = row(txn, &created).await?;
        let change = Change::new("workspace.create", "workspace", &after.slug).after(&after);
        Ok((after, change))
    })
    .await
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
    let change = Change::new("forge.create_repository", "workspace", &repository).after(&config);
    audit::event(&ctx.db, actor, change).await?;
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
    audit::audited(db, actor, async |txn| {
        let model = by_slug(txn, slug).await?;
        let before = row(txn, &model).await?;
        let mut active: workspaces::ActiveModel = model.into();
        active.description = Set(description);
        active.labels = Set(serde_json::to_string(&labels).map_err(AppError::internal)?);
        active.updated_at = Set(chrono::Utc::now());
        let updated = active.update(txn).await?;
        let after = row(txn, &updated).await?;
        let change = Change::new("workspace.update", "workspace", slug)
            .before(&before)
            .after(&after);
        Ok((after, change))
    })
    .await
}

/// Removes the record (never the repository), refused while resources or jobs depend on it.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, slug: &str) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let model = by_slug(txn, slug).await?;
        if let Some(reason) = delete_blocker(txn, &model).await? {
            return Err(AppError::Conflict(format!(
                "workspace {slug} cannot be deleted: {reason}"
            )));
        }
        let before = row(txn, &model).await?;
        workspaces::Entity::delete_by_id(model.id).exec(txn).await?;
        let change = Change::new("workspace.delete", "workspace", slug).before(&before);
        Ok(((), change))
    })
    .await
}

//! Source code services: repositories (mirrored by the `SourceRepos` port) and the versions of
//! them that templates use, with the module interface discovered at the chosen ref.

use super::audit::{self, Change};
use super::entities::{integrations, resources, source_code_versions, source_codes, templates};
use super::modules::{discover_interface, ModuleError, ModuleFile};
use super::ports::RepoAccess;
use super::{Actor, AppCtx};
use crate::domain::names::validate_text;
use crate::domain::resource_code::{
    validate_git_ref, validate_module_path, validate_repository_url,
};
use crate::error::{AppError, AppResult};
use crate::wire::sources::{IntegrationChoice, NewSource, NewVersion, SourceCodeRow, VersionRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::BTreeMap;

async fn integration_slugs<C: ConnectionTrait>(db: &C) -> AppResult<BTreeMap<i64, String>> {
    Ok(integrations::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.slug))
        .collect())
}

fn row(model: &source_codes::Model, slugs: &BTreeMap<i64, String>) -> AppResult<SourceCodeRow> {
    Ok(SourceCodeRow {
        id: model.id,
        url: model.url.clone(),
        integration: slugs
            .get(&model.integration_id)
            .cloned()
            .unwrap_or_default(),
        description: model.description.clone(),
        listing: serde_json::from_str(&model.listing).map_err(AppError::internal)?,
        refreshed_at: model
            .refreshed_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        last_error: model.last_error.clone(),
    })
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<SourceCodeRow>> {
    let slugs = integration_slugs(db).await?;
    source_codes::Entity::find()
        .order_by_asc(source_codes::Column::Url)
        .all(db)
        .await?
        .iter()
        .map(|m| row(m, &slugs))
        .collect()
}

pub async fn git_integrations(db: &DatabaseConnection) -> AppResult<Vec<IntegrationChoice>> {
    super::integrations::choices(db, integrations::Column::Kind.eq("git")).await
}

/// The URL and the opened credentials of the integration a repository is reached through.
pub async fn access<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    url: &str,
    integration_id: i64,
) -> AppResult<RepoAccess> {
    let integration = super::integrations::find_by_id(db, integration_id).await?;
    Ok(RepoAccess {
        url: url.to_string(),
        provider: integration.provider,
        settings: integration.settings,
        secrets: super::integrations::open_secrets(db, &ctx.secrets, integration_id).await?,
    })
}

pub async fn create(ctx: &AppCtx, actor: &Actor, input: &NewSource) -> AppResult<SourceCodeRow> {
    let url = input.url.trim().to_string();
    validate_repository_url(&url).map_err(|m| AppError::invalid("url", m))?;
    let description = input.description.trim().to_string();
    validate_text(&description, 2000).map_err(|m| AppError::invalid("description", m))?;
    let integration = integrations::Entity::find()
        .filter(integrations::Column::Slug.eq(input.integration.trim()))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::invalid("integration", "choose one of the git integrations"))?;
    if integration.kind != crate::domain::integrations::IntegrationKind::Git {
        return Err(AppError::invalid(
            "integration",
            format!("{} is not a git integration", integration.slug),
        ));
    }
    if source_codes::Entity::find()
        .filter(source_codes::Column::Url.eq(&url))
        .one(&ctx.db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "url",
            "this repository is already registered",
        ));
    }
    // Fetch before writing anything: an unreachable repository is refused outright.
    let access = access(ctx, &ctx.db, &url, integration.id).await?;
    let listing = ctx.repos.refresh(&access).await?;
    audit::audited(&ctx.db, actor, async |txn| {
        let now = chrono::Utc::now();
        let created = source_codes::ActiveModel {
            url: Set(url),
            integration_id: Set(integration.id),
            description: Set(description),
            listing: Set(serde_json::to_string(&listing).map_err(AppError::internal)?),
            refreshed_at: Set(Some(now)),
            last_error: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| unique_violation(e, "url", "this repository is already registered"))?;
        let slugs = integration_slugs(txn).await?;
        let after = row(&created, &slugs)?;
        let change = Change::new("source_code.create", "source_code", after.id).after(&after);
        Ok((after, change))
    })
    .await
}

/// A unique index caught a race the check before it missed: say so as the check would have.
fn unique_violation(error: sea_orm::DbErr, field: &str, message: &str) -> AppError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::invalid(field, message),
        _ => AppError::from(error),
    }
}

async fn source_model<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<source_codes::Model> {
    source_codes::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The source code #{id}")))
}

/// Fetches again; a failure is kept on the row (and shown) rather than lost.
pub async fn refresh(ctx: &AppCtx, actor: &Actor, id: i64) -> AppResult<SourceCodeRow> {
    let stored = source_model(&ctx.db, id).await?;
    let access = access(ctx, &ctx.db, &stored.url, stored.integration_id).await?;
    let outcome = ctx.repos.refresh(&access).await;
    let after = audit::audited(&ctx.db, actor, async |txn| {
        let stored = source_model(txn, id).await?;
        let slugs = integration_slugs(txn).await?;
        let before = row(&stored, &slugs)?;
        let mut active: source_codes::ActiveModel = stored.into();
        match &outcome {
            Ok(listing) => {
                active.listing = Set(serde_json::to_string(listing).map_err(AppError::internal)?);
                active.refreshed_at = Set(Some(chrono::Utc::now()));
                active.last_error = Set(None);
            }
            Err(error) => active.last_error = Set(Some(error.to_string())),
        }
        let after = row(&active.update(txn).await?, &slugs)?;
        let change = Change::new("source_code.refresh", "source_code", id)
            .before(&before)
            .after(&after);
        Ok((after, change))
    })
    .await?;
    outcome.map(|_| after)
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let stored = source_model(txn, id).await?;
        let versions = source_code_versions::Entity::find()
            .filter(source_code_versions::Column::SourceCodeId.eq(id))
            .count(txn)
            .await?;
        if versions > 0 {
            return Err(AppError::Conflict(format!(
                "{} is used by {versions} template version(s); delete those first",
                stored.url
            )));
        }
        let before = row(&stored, &integration_slugs(txn).await?)?;
        source_codes::Entity::delete_by_id(id).exec(txn).await?;
        let change = Change::new("source_code.delete", "source_code", id).before(&before);
        Ok(((), change))
    })
    .await
}

pub async fn version_row<C: ConnectionTrait>(
    db: &C,
    version: &source_code_versions::Model,
) -> AppResult<VersionRow> {
    let template = templates::Entity::find_by_id(version.template_id)
        .one(db)
        .await?
        .map(|t| t.key)
        .unwrap_or_default();
    let source = source_model(db, version.source_code_id).await?;
    let resources = resources::Entity::find()
        .filter(resources::Column::SourceCodeVersionId.eq(version.id))
        .count(db)
        .await? as usize;
    Ok(VersionRow {
        id: version.id,
        template,
        source_id: source.id,
        source_url: source.url,
        git_ref: version.git_ref.clone(),
        commit: version.commit.clone(),
        module_path: version.module_path.clone(),
        interface: serde_json::from_str(&version.interface).map_err(AppError::internal)?,
        created_at: version.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        resources,
    })
}

async fn template_by_key<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<templates::Model> {
    templates::Entity::find()
        .filter(templates::Column::Key.eq(key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The template {:?}", key.trim())))
}

pub async fn versions_of<C: ConnectionTrait>(db: &C, template: &str) -> AppResult<Vec<VersionRow>> {
    let template = template_by_key(db, template).await?;
    let mut rows = Vec::new();
    for version in source_code_versions::Entity::find()
        .filter(source_code_versions::Column::TemplateId.eq(template.id))
        .order_by_desc(source_code_versions::Column::CreatedAt)
        .order_by_desc(source_code_versions::Column::Id)
        .all(db)
        .await?
    {
        rows.push(version_row(db, &version).await?);
    }
    Ok(rows)
}

pub async fn create_version(
    ctx: &AppCtx,
    actor: &Actor,
    input: &NewVersion,
) -> AppResult<VersionRow> {
    let template = template_by_key(&ctx.db, &input.template).await?;
    if template.is_abstract {
        return Err(AppError::invalid(
            "template",
            format!(
                "{} is abstract; only concrete templates have source code",
                template.key
            ),
        ));
    }
    let source_id: i64 = input.source_id.trim().parse().map_err(|_| {
        AppError::invalid("source_id", "choose one of the source code repositories")
    })?;
    let git_ref = input.git_ref.trim().to_string();
    validate_git_ref(&git_ref).map_err(|m| AppError::invalid("git_ref", m))?;
    let module_path = validate_module_path(&input.module_path)
        .map_err(|m| AppError::invalid("module_path", m))?;
    let source = source_model(&ctx.db, source_id).await?;
    let access = access(ctx, &ctx.db, &source.url, source.integration_id).await?;
    let snapshot = ctx
        .repos
        .read_module(&access, &git_ref, &module_path)
        .await?;
    let files: Vec<ModuleFile> = snapshot
        .files
        .iter()
        .map(|(path, text)| ModuleFile { path, text })
        .collect();
    let interface = discover_interface(&files).map_err(|e| match e {
        ModuleError::Empty => AppError::invalid("module_path", "the folder holds no .tf files"),
        other => AppError::invalid("module_path", other.to_string()),
    })?;
    audit::audited(&ctx.db, actor, async |txn| {
        let duplicate = source_code_versions::Entity::find()
            .filter(source_code_versions::Column::TemplateId.eq(template.id))
            .filter(source_code_versions::Column::SourceCodeId.eq(source.id))
            .filter(source_code_versions::Column::GitRef.eq(&git_ref))
            .filter(source_code_versions::Column::ModulePath.eq(&module_path))
            .one(txn)
            .await?;
        if duplicate.is_some() {
            return Err(AppError::invalid(
                "git_ref",
                format!("{} already has {git_ref} of this module", template.key),
            ));
        }
        let created = source_code_versions::ActiveModel {
            template_id: Set(template.id),
            source_code_id: Set(source.id),
            git_ref: Set(git_ref),
            commit: Set(snapshot.commit),
            module_path: Set(module_path),
            interface: Set(serde_json::to_string(&interface).map_err(AppError::internal)?),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| unique_violation(e, "git_ref", "the template already has this version"))?;
        let after = version_row(txn, &created).await?;
        let change = Change::new(
            "source_code_version.create",
            "source_code_version",
            after.id,
        )
        .after(&serde_json::json!({
            "template": after.template,
            "source": after.source_url,
            "ref": after.git_ref,
            "commit": after.commit,
            "module_path": after.module_path,
            "variables": after.interface.variables.len(),
            "outputs": after.interface.outputs.len(),
        }));
        Ok((after, change))
    })
    .await
}

pub async fn delete_version(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let version = source_code_versions::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("The source code version #{id}")))?;
        let before = version_row(txn, &version).await?;
        if before.resources > 0 {
            return Err(AppError::Conflict(format!(
                "{} resource(s) were created from {} {}; they keep it",
                before.resources, before.template, before.git_ref
            )));
        }
        source_code_versions::Entity::delete_by_id(id)
            .exec(txn)
            .await?;
        let change =
            Change::new("source_code_version.delete", "source_code_version", id).before(&before);
        Ok(((), change))
    })
    .await
}

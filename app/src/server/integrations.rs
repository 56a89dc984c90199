//! Integration services. Secrets are sealed as one JSON object bound to the integration's slug;
//! they are opened only to hand them to a git or OpenTofu process, never returned, never
//! logged, and an audit event records only which secret fields changed.

use super::audit::{self, Change};
use super::entities::{integrations, resource_integrations, resources, source_codes};
use super::secrets::SecretBox;
use super::Actor;
use crate::domain::integrations::{check_fields, Fields, Provider};
use crate::domain::names::{validate_slug, validate_text};
use crate::error::{AppError, AppResult};
use crate::wire::integrations::{IntegrationInput, IntegrationRow};
use crate::wire::sources::IntegrationChoice;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

fn purpose(slug: &str) -> String {
    format!("integration:{slug}:secrets")
}

pub fn row(model: &integrations::Model) -> AppResult<IntegrationRow> {
    Ok(IntegrationRow {
        id: model.id,
        slug: model.slug.clone(),
        name: model.name.clone(),
        description: model.description.clone(),
        kind: model.kind,
        provider: model.provider,
        settings: serde_json::from_str(&model.settings).map_err(AppError::internal)?,
        secrets_set: serde_json::from_str(&model.secret_names).map_err(AppError::internal)?,
        updated_at: model.updated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    })
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<IntegrationRow>> {
    integrations::Entity::find()
        .order_by_asc(integrations::Column::Kind)
        .order_by_asc(integrations::Column::Slug)
        .all(db)
        .await?
        .iter()
        .map(row)
        .collect()
}

async fn model<C: ConnectionTrait>(db: &C, slug: &str) -> AppResult<integrations::Model> {
    integrations::Entity::find()
        .filter(integrations::Column::Slug.eq(slug.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The integration {:?}", slug.trim())))
}

pub async fn find(db: &DatabaseConnection, slug: &str) -> AppResult<IntegrationRow> {
    row(&model(db, slug).await?)
}

pub async fn find_by_id<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<IntegrationRow> {
    let found = integrations::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The integration #{id}")))?;
    row(&found)
}

/// The integration's secrets, opened. Only for handing to git or an OpenTofu process.
pub async fn open_secrets<C: ConnectionTrait>(
    db: &C,
    secrets: &SecretBox,
    id: i64,
) -> AppResult<Fields> {
    let found = integrations::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The integration #{id}")))?;
    match &found.secrets {
        None => Ok(Fields::new()),
        Some(sealed) => {
            let json = secrets
                .open(&purpose(&found.slug), sealed)
                .map_err(|e| AppError::internal(format!("integration {}: {e}", found.slug)))?;
            serde_json::from_str(&json).map_err(AppError::internal)
        }
    }
}

/// Integrations matching `filter`, by slug, as pickers and links show them.
pub async fn choices<C: ConnectionTrait>(
    db: &C,
    filter: sea_orm::sea_query::SimpleExpr,
) -> AppResult<Vec<IntegrationChoice>> {
    Ok(integrations::Entity::find()
        .filter(filter)
        .order_by_asc(integrations::Column::Slug)
        .all(db)
        .await?
        .into_iter()
        .map(|i| IntegrationChoice {
            slug: i.slug,
            name: i.name,
            provider: i.provider,
        })
        .collect())
}

/// What refers to the integration: source code repositories and resources.
pub async fn used_by<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Vec<String>> {
    let mut uses: Vec<String> = source_codes::Entity::find()
        .filter(source_codes::Column::IntegrationId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| format!("source code {}", s.url))
        .collect();
    let resource_ids: Vec<i64> = resource_integrations::Entity::find()
        .filter(resource_integrations::Column::IntegrationId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.resource_id)
        .collect();
    if !resource_ids.is_empty() {
        for resource in resources::Entity::find()
            .filter(resources::Column::Id.is_in(resource_ids))
            .all(db)
            .await?
        {
            uses.push(format!("resource {}", resource.slug));
        }
    }
    Ok(uses)
}

/// The slug, name and description, with every problem they have.
fn checked_text(input: &IntegrationInput) -> ((String, String, String), Vec<(String, String)>) {
    let slug = input.slug.trim().to_string();
    let name = input.name.trim().to_string();
    let description = input.description.trim().to_string();
    let mut problems = Vec::new();
    if let Err(m) = validate_slug(&slug) {
        problems.push(("slug".to_string(), m.to_string()));
    }
    if name.is_empty() {
        problems.push(("name".into(), "must not be empty".into()));
    } else if let Err(m) = validate_text(&name, 200) {
        problems.push(("name".into(), m.to_string()));
    }
    if let Err(m) = validate_text(&description, 2000) {
        problems.push(("description".into(), m.to_string()));
    }
    ((slug, name, description), problems)
}

/// Every problem of a submission as one refusal (`problems` and `fields` not both empty).
fn refusal(
    mut problems: Vec<(String, String)>,
    fields: Vec<crate::domain::integrations::FieldError>,
) -> AppError {
    problems.extend(fields.into_iter().map(|e| (e.field, e.message)));
    AppError::invalid_all(problems)
        .unwrap_or_else(|| AppError::internal("a refusal without a problem"))
}

fn names(secrets: &Fields) -> String {
    serde_json::to_string(&secrets.keys().collect::<Vec<_>>()).expect("strings serialize")
}

pub async fn create(
    db: &DatabaseConnection,
    secret_box: &SecretBox,
    actor: &Actor,
    input: &IntegrationInput,
) -> AppResult<IntegrationRow> {
    let ((slug, name, description), mut problems) = checked_text(input);
    let provider = Provider::parse(input.provider.trim());
    if provider.is_none() {
        problems.push((
            "provider".into(),
            "choose one of the listed providers".into(),
        ));
    }
    let checked = match provider {
        Some(p) => check_fields(p, &input.settings, &input.secrets, &[]).map(|c| (p, c)),
        None => Err(Vec::new()),
    };
    let (provider, checked) = match checked {
        Ok(checked) if problems.is_empty() => checked,
        Ok(_) => return Err(refusal(problems, Vec::new())),
        Err(fields) => return Err(refusal(problems, fields)),
    };
    audit::audited(db, actor, async |txn| {
        if integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(&slug))
            .one(txn)
            .await?
            .is_some()
        {
            return Err(AppError::invalid(
                "slug",
                format!("an integration with the slug {slug:?} already exists"),
            ));
        }
        let now = chrono::Utc::now();
        let sealed = (!checked.secrets.is_empty()).then(|| {
            secret_box.seal(
                &purpose(&slug),
                &serde_json::to_string(&checked.secrets).expect("strings serialize"),
            )
        });
        let created = integrations::ActiveModel {
            slug: Set(slug),
            name: Set(name),
            description: Set(description),
            kind: Set(provider.kind()),
            provider: Set(provider),
            settings: Set(serde_json::to_string(&checked.settings).expect("strings serialize")),
            secrets: Set(sealed),
            secret_names: Set(names(&checked.secrets)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let after = row(&created)?;
        let change = Change::new("integration.create", "integration", after.id).after(&after);
        Ok((after, change))
    })
    .await
}

/// Changes name, description and settings; secrets typed replace the stored ones (rotation),
/// secrets left blank stay as they are.
pub async fn update(
    db: &DatabaseConnection,
    secret_box: &SecretBox,
    actor: &Actor,
    input: &IntegrationInput,
) -> AppResult<IntegrationRow> {
    let ((slug, name, description), problems) = checked_text(input);
    audit::audited(db, actor, async |txn| {
        let stored = model(txn, &slug).await?;
        let before = row(&stored)?;
        if !input.provider.trim().is_empty() && input.provider.trim() != before.provider.as_str() {
            return Err(AppError::invalid(
                "provider",
                "an integration's provider cannot change; create a new integration",
            ));
        }
        let checked = match check_fields(
            before.provider,
            &input.settings,
            &input.secrets,
            &before.secrets_set,
        ) {
            Ok(checked) if problems.is_empty() => checked,
            Ok(_) => return Err(refusal(problems, Vec::new())),
            Err(fields) => return Err(refusal(problems, fields)),
        };
        let mut secrets = open_secrets(txn, secret_box, stored.id).await?;
        let rotated: Vec<String> = checked.secrets.keys().cloned().collect();
        secrets.extend(checked.secrets);
        // Optional secrets the provider no longer knows are dropped with the rest of the form.
        secrets.retain(|k, _| before.provider.fields().iter().any(|f| f.name == k));
        let mut active: integrations::ActiveModel = stored.into();
        active.name = Set(name);
        active.description = Set(description);
        active.settings = Set(serde_json::to_string(&checked.settings).expect("strings serialize"));
        active.secrets = Set((!secrets.is_empty()).then(|| {
            secret_box.seal(
                &purpose(&slug),
                &serde_json::to_string(&secrets).expect("strings serialize"),
            )
        }));
        active.secret_names = Set(names(&secrets));
        active.updated_at = Set(chrono::Utc::now());
        let after = row(&active.update(txn).await?)?;
        let change = Change::new("integration.update", "integration", after.id)
            .before(&before)
            .after(&serde_json::json!({ "integration": &after, "secrets_rotated": rotated }));
        Ok((after, change))
    })
    .await
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, slug: &str) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let stored = model(txn, slug).await?;
        let uses = used_by(txn, stored.id).await?;
        if !uses.is_empty() {
            return Err(AppError::Conflict(format!(
                "{} is used by {}; remove those first",
                stored.slug,
                uses.join(", ")
            )));
        }
        let before = row(&stored)?;
        integrations::Entity::delete_by_id(stored.id)
            .exec(txn)
            .await?;
        let change = Change::new("integration.delete", "integration", before.id).before(&before);
        Ok(((), change))
    })
    .await
}

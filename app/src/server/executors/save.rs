//! Creating and changing an executor: every field checked before anything is written.

use super::{row, Actor};
use crate::domain::executors::{check_arguments, split_arguments, Runtime};
use crate::domain::integrations::IntegrationKind;
use crate::domain::names::{validate_slug, validate_text};
use crate::domain::resource_code::{validate_git_ref, validate_module_path};
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{executor_integrations, executors, integrations, source_codes};
use crate::wire::executors::{ExecutorInput, ExecutorRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

/// An executor form with every field checked.
struct Checked {
    slug: String,
    name: String,
    description: String,
    runtime: Runtime,
    arguments: Vec<String>,
    git_ref: String,
    module_path: String,
    source_id: i64,
}

/// Checks every field of the form and reports every problem at once.
fn checked(input: &ExecutorInput) -> AppResult<Checked> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut problem = |field: &str, message: String| problems.push((field.to_string(), message));
    let slug = input.slug.trim().to_string();
    if let Err(m) = validate_slug(&slug) {
        problem("slug", m.to_string());
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problem("name", "must not be empty".into());
    } else if let Err(m) = validate_text(&name, 200) {
        problem("name", m.to_string());
    }
    let description = input.description.trim().to_string();
    if let Err(m) = validate_text(&description, 2000) {
        problem("description", m.to_string());
    }
    let runtime = Runtime::parse(input.runtime.trim());
    if runtime.is_none() {
        problem("runtime", "choose opentofu or terraform".into());
    }
    let arguments = match split_arguments(&input.command)
        .and_then(|arguments| check_arguments(&arguments).map(|()| arguments))
    {
        Ok(arguments) => arguments,
        Err(m) => {
            problem("command", m.to_string());
            Vec::new()
        }
    };
    let git_ref = input.git_ref.trim().to_string();
    if let Err(m) = validate_git_ref(&git_ref) {
        problem("git_ref", m.to_string());
    }
    let module_path = validate_module_path(&input.module_path).unwrap_or_else(|m| {
        problem("module_path", m.to_string());
        String::new()
    });
    let source_id: Option<i64> = input.source_id.trim().parse().ok();
    if source_id.is_none() {
        problem("source_id", "choose a source code repository".into());
    }
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let (Some(runtime), Some(source_id)) = (runtime, source_id) else {
        return Err(AppError::internal("checked fields missing"));
    };
    Ok(Checked {
        slug,
        name,
        description,
        runtime,
        arguments,
        git_ref,
        module_path,
        source_id,
    })
}

/// The ticked integrations' ids: cloud and git integrations only (a run never signs anyone in).
async fn chosen_integrations<C: ConnectionTrait>(
    txn: &C,
    input: &ExecutorInput,
) -> AppResult<Vec<i64>> {
    let mut chosen = Vec::new();
    for integration in input.integrations.keys() {
        let found = integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(integration.as_str()))
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "integrations",
                    format!("no integration is named {integration:?}"),
                )
            })?;
        if found.kind == IntegrationKind::Auth {
            return Err(AppError::invalid(
                "integrations",
                format!(
                    "{} is a sign-in integration; runs use cloud and git integrations",
                    found.slug
                ),
            ));
        }
        chosen.push(found.id);
    }
    Ok(chosen)
}

/// Creates (`new`) or changes an executor. Everything is checked before anything is written.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ExecutorInput,
    new: bool,
) -> AppResult<ExecutorRow> {
    let form = checked(input)?;
    audit::audited(db, actor, async |txn| {
        source_codes::Entity::find_by_id(form.source_id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::invalid("source_id", "choose a source code repository"))?;
        let chosen = chosen_integrations(txn, input).await?;
        let existing = executors::Entity::find()
            .filter(executors::Column::Slug.eq(&form.slug))
            .one(txn)
            .await?;
        let (saved, change) = match (new, existing) {
            (true, Some(_)) => {
                return Err(AppError::invalid(
                    "slug",
                    format!("an executor named {:?} already exists", form.slug),
                ));
            }
            (false, None) => {
                return Err(AppError::not_found(format_args!(
                    "The executor {:?}",
                    form.slug
                )))
            }
            (true, None) => {
                let saved = insert(txn, actor, form).await?;
                let change = Change::new("executor.create", "executor", saved.id);
                (saved, change)
            }
            (false, Some(model)) => {
                let before = row(txn, &model).await?;
                let saved = update(txn, model, form).await?;
                let change = Change::new("executor.update", "executor", saved.id).before(&before);
                (saved, change)
            }
        };
        link_integrations(txn, saved.id, chosen).await?;
        let after = row(txn, &saved).await?;
        let change = change.after(&after);
        Ok((after, change))
    })
    .await
}

async fn insert<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    form: Checked,
) -> AppResult<executors::Model> {
    let now = chrono::Utc::now();
    Ok(executors::ActiveModel {
        slug: Set(form.slug),
        name: Set(form.name),
        description: Set(form.description),
        runtime: Set(form.runtime),
        arguments: Set(serde_json::to_string(&form.arguments).map_err(AppError::internal)?),
        source_code_id: Set(form.source_id),
        git_ref: Set(form.git_ref),
        module_path: Set(form.module_path),
        state: Set(ResourceState::Provision),
        status: Set(ResourceStatus::Ready),
        tf_state: Set(None),
        outputs: Set("{}".into()),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

async fn update<C: ConnectionTrait>(
    txn: &C,
    model: executors::Model,
    form: Checked,
) -> AppResult<executors::Model> {
    let mut active: executors::ActiveModel = model.into();
    active.name = Set(form.name);
    active.description = Set(form.description);
    active.runtime = Set(form.runtime);
    active.arguments = Set(serde_json::to_string(&form.arguments).map_err(AppError::internal)?);
    active.source_code_id = Set(form.source_id);
    active.git_ref = Set(form.git_ref);
    active.module_path = Set(form.module_path);
    active.updated_at = Set(chrono::Utc::now());
    Ok(active.update(txn).await?)
}

/// Replaces the executor's integrations with the chosen ones.
async fn link_integrations<C: ConnectionTrait>(
    txn: &C,
    executor_id: i64,
    chosen: Vec<i64>,
) -> AppResult<()> {
    executor_integrations::Entity::delete_many()
        .filter(executor_integrations::Column::ExecutorId.eq(executor_id))
        .exec(txn)
        .await?;
    for integration_id in chosen {
        executor_integrations::ActiveModel {
            executor_id: Set(executor_id),
            integration_id: Set(integration_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

//! Resource services. Every create and edit is checked whole (template, version, parents,
//! integrations, each variable against its type) and its code generated before anything is
//! written; then the resource, its links, a new revision and the audit event commit together.
//! Sensitive values are sealed at rest and appear in revisions only as "set in revision N".

use super::audit::{self, Change};
use super::diff::diff_lines;
use super::entities::{
    integrations, resource_integrations, resource_parents, resource_revisions, resources,
    source_code_versions, source_codes, template_parents, templates,
};
use super::{Actor, AppCtx};
use crate::api::integrations::IntegrationRow;
use crate::api::resources::{
    CodeFile, FieldChange, FileDiff, ParentRef, ResourceDetail, ResourceForm, ResourceInput,
    ResourceListRow, ResourcePage, RevisionDiff, RevisionRow, VariableValue, PAGE_SIZE,
};
use crate::domain::integrations::{terraform_backend, terraform_provider, IntegrationKind};
use crate::domain::modules::ModuleInterface;
use crate::domain::names::{validate_slug, validate_text};
use crate::domain::resource_code::{
    generate, BackendBlock, CloudBlocks, ModuleSource, ProviderBlock, MAX_VALUE_BYTES,
};
use crate::domain::resources::{
    check_parents, transition, ResourceAction, ResourceState, ResourceStatus,
};
use crate::domain::variable_types::{to_form, TypeConstraint};
use crate::domain::workspaces::SyncKind;
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The `variables` column: plain values as JSON, sensitive ones sealed, and the revision each
/// sensitive value was last typed in.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct StoredValues {
    plain: BTreeMap<String, Value>,
    sealed: BTreeMap<String, String>,
    sensitive_set_in: BTreeMap<String, i32>,
}

/// What a revision keeps: everything the revision page shows and diffs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    name: String,
    version: String,
    parents: Vec<String>,
    integrations: Vec<String>,
    /// Values as shown: plain JSON text, or "(sensitive, set in revision N)".
    variables: BTreeMap<String, String>,
    files: Vec<CodeFile>,
    summary: String,
}

fn sealed_purpose(slug: &str, variable: &str) -> String {
    format!("resource:{slug}:variable:{variable}")
}

use super::when;

fn state_of(model: &resources::Model) -> AppResult<(ResourceState, ResourceStatus)> {
    Ok((
        ResourceState::parse(&model.state)
            .ok_or_else(|| AppError::internal(format!("unknown state {:?}", model.state)))?,
        ResourceStatus::parse(&model.status)
            .ok_or_else(|| AppError::internal(format!("unknown status {:?}", model.status)))?,
    ))
}

async fn resource_by_slug<C: ConnectionTrait>(db: &C, slug: &str) -> AppResult<resources::Model> {
    resources::Entity::find()
        .filter(resources::Column::Slug.eq(slug.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {:?}", slug.trim())))
}

async fn template_by_key<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<templates::Model> {
    templates::Entity::find()
        .filter(templates::Column::Key.eq(key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "template",
                format!("no template has the key {:?}", key.trim()),
            )
        })
}

/// The template's parents as (key, is_abstract).
async fn parents_of_template<C: ConnectionTrait>(
    db: &C,
    template_id: i64,
) -> AppResult<Vec<(String, bool)>> {
    let ids: Vec<i64> = template_parents::Entity::find()
        .filter(template_parents::Column::TemplateId.eq(template_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.parent_id)
        .collect();
    Ok(templates::Entity::find()
        .filter(templates::Column::Id.is_in(ids))
        .order_by_asc(templates::Column::Key)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.key, t.is_abstract))
        .collect())
}

/// A form or a stored row, checked and turned into everything a write needs.
struct Prepared {
    name: String,
    template: templates::Model,
    version: source_code_versions::Model,
    parents: Vec<resources::Model>,
    integrations: Vec<IntegrationRow>,
    stored: StoredValues,
    snapshot: Snapshot,
}

async fn prepare<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    slug: &str,
    input: &ResourceInput,
    existing: Option<&StoredValues>,
    revision: i32,
) -> AppResult<Prepared> {
    // Every problem of the submission is collected and reported at once; only a template or
    // version that cannot be found stops the checking early.
    let mut problems: Vec<(String, String)> = Vec::new();
    macro_rules! problem {
        ($field:expr, $message:expr $(,)?) => {
            problems.push((($field).to_string(), $message))
        };
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problem!("name", "must not be empty".into());
    } else if let Err(m) = validate_text(&name, 200) {
        problem!("name", m);
    }
    let template = template_by_key(db, &input.template).await?;
    if template.is_abstract {
        return Err(AppError::invalid(
            "template",
            format!(
                "{} is abstract; resources come from concrete templates",
                template.key
            ),
        ));
    }
    let version_id: i64 = input.version_id.trim().parse().map_err(|_| {
        AppError::invalid(
            "version_id",
            "choose one of the template's source code versions",
        )
    })?;
    let version = source_code_versions::Entity::find_by_id(version_id)
        .one(db)
        .await?
        .filter(|v| v.template_id == template.id)
        .ok_or_else(|| {
            AppError::invalid(
                "version_id",
                format!("{} has no such version", template.key),
            )
        })?;
    let interface: ModuleInterface =
        serde_json::from_str(&version.interface).map_err(AppError::internal)?;
    let source = source_codes::Entity::find_by_id(version.source_code_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a version's source code is missing"))?;

    // Parents: ticked resources, each an instance of one of the template's parents.
    let parent_slugs: Vec<&String> = input.parents.keys().collect();
    if parent_slugs.iter().any(|p| p.as_str() == slug) {
        problem!("parents", "a resource cannot be its own parent".into());
    }
    let parents = if parent_slugs.is_empty() {
        vec![]
    } else {
        resources::Entity::find()
            .filter(resources::Column::Slug.is_in(parent_slugs.iter().map(|s| s.as_str())))
            .order_by_asc(resources::Column::Slug)
            .all(db)
            .await?
    };
    if let Some(missing) = parent_slugs
        .iter()
        .find(|s| !parents.iter().any(|p| &p.slug == **s))
    {
        problem!("parents", format!("no resource is named {missing:?}"));
    }
    let template_keys: BTreeMap<i64, String> = templates::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect();
    let chosen: Vec<(String, String)> = parents
        .iter()
        .map(|p| {
            (
                p.slug.clone(),
                template_keys
                    .get(&p.template_id)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    if let Err(m) = check_parents(&parents_of_template(db, template.id).await?, &chosen) {
        if !problems.iter().any(|(f, _)| f == "parents") {
            problem!("parents", m);
        }
    }

    // Cloud integrations give provider blocks (credentials go to runs as environment).
    let mut chosen_integrations = Vec::new();
    for integration_slug in input.integrations.keys() {
        let Some(found) = integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(integration_slug.as_str()))
            .one(db)
            .await?
        else {
            problem!(
                "integrations",
                format!("no integration is named {integration_slug:?}"),
            );
            continue;
        };
        let row = super::integrations::row(&found)?;
        if row.kind != IntegrationKind::Cloud {
            problem!(
                "integrations",
                format!("{} is not a cloud integration", row.slug),
            );
            continue;
        }
        chosen_integrations.push(row);
    }

    // Variables: unknown names refused, each typed value checked, required ones present.
    for key in input.values.keys() {
        if !interface.variables.iter().any(|v| &v.name == key) {
            problem!(
                &format!("values.{key}"),
                format!(
                    "{key} is not a variable of {} {}",
                    template.key, version.git_ref
                ),
            );
        }
    }
    let mut stored = StoredValues::default();
    let mut shown = BTreeMap::new();
    // What the module's validation rules see as `var`: the values given, else the defaults.
    let mut known = serde_json::Map::new();
    for variable in &interface.variables {
        let field = format!("values.{}", variable.name);
        let text = input
            .values
            .get(&variable.name)
            .map(String::as_str)
            .unwrap_or("");
        if text.len() > MAX_VALUE_BYTES {
            problem!(
                &field,
                format!(
                    "is {} KiB; a value may be at most {} KiB",
                    text.len() / 1024,
                    MAX_VALUE_BYTES / 1024
                ),
            );
            continue;
        }
        let constraint = match TypeConstraint::parse(variable.type_expr.as_deref()) {
            Ok(constraint) => constraint,
            Err(m) => {
                problem!(&field, format!("the module's type does not parse: {m}"));
                continue;
            }
        };
        let value = match constraint.from_form(text, &variable.name) {
            Ok(value) => value,
            Err(m) => {
                problem!(&field, m);
                continue;
            }
        };
        match (&value, &variable.default) {
            (Some(value), _) | (None, Some(value)) => {
                known.insert(variable.name.clone(), value.clone());
            }
            (None, None) => {}
        }
        if variable.sensitive {
            match value {
                Some(value) => {
                    let json = serde_json::to_string(&value).map_err(AppError::internal)?;
                    stored.sealed.insert(
                        variable.name.clone(),
                        ctx.secrets
                            .seal(&sealed_purpose(slug, &variable.name), &json),
                    );
                    stored
                        .sensitive_set_in
                        .insert(variable.name.clone(), revision);
                }
                None => {
                    let kept = existing.and_then(|e| {
                        e.sealed
                            .get(&variable.name)
                            .map(|s| (s.clone(), e.sensitive_set_in.get(&variable.name).copied()))
                    });
                    match kept {
                        Some((sealed, set_in)) => {
                            stored.sealed.insert(variable.name.clone(), sealed);
                            stored
                                .sensitive_set_in
                                .insert(variable.name.clone(), set_in.unwrap_or(revision));
                        }
                        None if variable.is_required() => {
                            problem!(&field, "is required".into());
                        }
                        None => {}
                    }
                }
            }
            if let Some(set_in) = stored.sensitive_set_in.get(&variable.name) {
                shown.insert(
                    variable.name.clone(),
                    format!("(sensitive, set in revision {set_in})"),
                );
            }
        } else {
            match value {
                Some(value) => {
                    shown.insert(variable.name.clone(), to_form(&value));
                    stored.plain.insert(variable.name.clone(), value);
                }
                None if variable.is_required() => {
                    problem!(&field, "is required".into());
                }
                None => {}
            }
        }
    }

    // The module's own rules, as the plan would apply them, with the module's messages.
    for variable in &interface.variables {
        for rule in &variable.validations {
            if let super::rules::Verdict::Broken(reason) =
                super::rules::check(&rule.condition, &known)
            {
                let message = match reason {
                    Some(reason) => format!("{} ({reason})", rule.error_message),
                    None => rule.error_message.clone(),
                };
                problem!(&format!("values.{}", variable.name), message);
            }
        }
    }

    let providers: Vec<ProviderBlock> = chosen_integrations
        .iter()
        .filter_map(|i| terraform_provider(i.provider, &i.settings))
        .map(|(name, source, arguments)| ProviderBlock {
            name: name.to_string(),
            source: source.to_string(),
            arguments: arguments
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
        .collect();
    // State goes where the workspace keeps the code: `<template>/<resource>`.
    let state_key = format!("{}/{slug}", template.key);
    let mut backends = chosen_integrations.iter().filter_map(|i| {
        terraform_backend(i.provider, &i.settings, &state_key).map(|(kind, arguments)| {
            (
                i.slug.clone(),
                BackendBlock {
                    kind: kind.to_string(),
                    arguments: arguments
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                },
            )
        })
    });
    let backend = backends.next();
    if let (Some((first, _)), Some((second, _))) = (&backend, backends.next()) {
        problem!(
            "integrations",
            format!(
                "{first} and {second} both keep remote state; a resource's state lives in one \
                 place, so choose one of them"
            ),
        );
    }
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let cloud = CloudBlocks {
        providers,
        backend: backend.map(|(_, block)| block),
    };
    let files = generate(
        slug,
        &ModuleSource {
            repository_url: source.url.clone(),
            module_path: version.module_path.clone(),
            git_ref: version.git_ref.clone(),
        },
        &interface,
        &stored.plain,
        &cloud,
    )
    .map_err(|e| {
        let field = if interface.variables.iter().any(|v| v.name == e.field) {
            format!("values.{}", e.field)
        } else {
            e.field
        };
        AppError::invalid(field, e.message)
    })?;
    let snapshot = Snapshot {
        name: name.clone(),
        version: version_label(&version),
        parents: parents.iter().map(|p| p.slug.clone()).collect(),
        integrations: chosen_integrations.iter().map(|i| i.slug.clone()).collect(),
        variables: shown,
        files: files
            .into_iter()
            .map(|f| CodeFile {
                name: f.name.to_string(),
                contents: f.contents,
            })
            .collect(),
        summary: String::new(),
    };
    Ok(Prepared {
        name,
        template,
        version,
        parents,
        integrations: chosen_integrations,
        stored,
        snapshot,
    })
}

fn version_label(version: &source_code_versions::Model) -> String {
    let path = if version.module_path.is_empty() {
        "/".to_string()
    } else {
        version.module_path.clone()
    };
    format!(
        "{} · {} · {}",
        version.git_ref,
        path,
        &version.commit[..version.commit.len().min(12)]
    )
}

/// Which fields differ between two snapshots (files are diffed separately).
fn field_changes(before: &Snapshot, after: &Snapshot) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |field: String, a: String, b: String| {
        if a != b {
            changes.push(FieldChange {
                field,
                before: a,
                after: b,
            });
        }
    };
    push("name".into(), before.name.clone(), after.name.clone());
    push(
        "version".into(),
        before.version.clone(),
        after.version.clone(),
    );
    push(
        "parents".into(),
        before.parents.join(", "),
        after.parents.join(", "),
    );
    push(
        "integrations".into(),
        before.integrations.join(", "),
        after.integrations.join(", "),
    );
    let names: BTreeSet<&String> = before
        .variables
        .keys()
        .chain(after.variables.keys())
        .collect();
    for name in names {
        push(
            name.clone(),
            before
                .variables
                .get(name)
                .cloned()
                .unwrap_or_else(|| "(default)".into()),
            after
                .variables
                .get(name)
                .cloned()
                .unwrap_or_else(|| "(default)".into()),
        );
    }
    changes
}

async fn write_links<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
    prepared: &Prepared,
) -> AppResult<()> {
    resource_parents::Entity::delete_many()
        .filter(resource_parents::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    for parent in &prepared.parents {
        resource_parents::ActiveModel {
            resource_id: Set(resource_id),
            parent_id: Set(parent.id),
        }
        .insert(db)
        .await?;
    }
    resource_integrations::Entity::delete_many()
        .filter(resource_integrations::Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    for integration in &prepared.integrations {
        resource_integrations::ActiveModel {
            resource_id: Set(resource_id),
            integration_id: Set(integration.id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

async fn write_revision<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
    revision: i32,
    snapshot: &Snapshot,
    actor: &Actor,
) -> AppResult<()> {
    resource_revisions::ActiveModel {
        resource_id: Set(resource_id),
        revision: Set(revision),
        snapshot: Set(serde_json::to_string(snapshot).map_err(AppError::internal)?),
        author: Set(actor.label.clone()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The audit view of a snapshot: everything but the generated files.
fn audit_view(snapshot: &Snapshot, state: ResourceState, revision: i32) -> Value {
    serde_json::json!({
        "name": snapshot.name,
        "version": snapshot.version,
        "parents": snapshot.parents,
        "integrations": snapshot.integrations,
        "variables": snapshot.variables,
        "state": state,
        "revision": revision,
    })
}

pub async fn create(
    ctx: &AppCtx,
    actor: &Actor,
    input: &ResourceInput,
) -> AppResult<ResourceListRow> {
    let slug = input.slug.trim().to_string();
    validate_slug(&slug).map_err(|m| AppError::invalid("slug", m))?;
    let txn = super::begin_write(&ctx.db).await?;
    if resources::Entity::find()
        .filter(resources::Column::Slug.eq(&slug))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "slug",
            format!("a resource named {slug:?} already exists"),
        ));
    }
    let mut prepared = prepare(ctx, &txn, &slug, input, None, 1).await?;
    prepared.snapshot.summary = format!(
        "Created from {} {}",
        prepared.template.key, prepared.version.git_ref
    );
    let now = chrono::Utc::now();
    let created = resources::ActiveModel {
        slug: Set(slug.clone()),
        name: Set(prepared.name.clone()),
        template_id: Set(prepared.template.id),
        source_code_version_id: Set(prepared.version.id),
        state: Set(ResourceState::Provision.as_str().into()),
        status: Set(ResourceStatus::Ready.as_str().into()),
        variables: Set(serde_json::to_string(&prepared.stored).map_err(AppError::internal)?),
        outputs: Set("{}".into()),
        revision: Set(1),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_links(&txn, created.id, &prepared).await?;
    write_revision(&txn, created.id, 1, &prepared.snapshot, actor).await?;
    let workspace = input.workspace.trim();
    if !workspace.is_empty() {
        super::workspaces::attach(&txn, workspace, &created, &prepared.template.key).await?;
        super::workspaces::enqueue_sync(&txn, &created, SyncKind::Update, actor).await?;
    }
    audit::record(
        &txn,
        actor,
        Change::new("resource.create", "resource", created.id).after(&audit_view(
            &prepared.snapshot,
            ResourceState::Provision,
            1,
        )),
    )
    .await?;
    let row = query_rows(&txn, Some(created.id), 0).await?.remove(0);
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(row)
}

pub async fn update(
    ctx: &AppCtx,
    actor: &Actor,
    input: &ResourceInput,
) -> AppResult<ResourceListRow> {
    let txn = super::begin_write(&ctx.db).await?;
    let existing = resource_by_slug(&txn, &input.slug).await?;
    let (state, status) = state_of(&existing)?;
    let (next_state, next_status) =
        transition(state, status, ResourceAction::Edit).map_err(AppError::Conflict)?;
    let stored: StoredValues =
        serde_json::from_str(&existing.variables).map_err(AppError::internal)?;
    let revision = existing.revision + 1;
    let mut prepared = prepare(ctx, &txn, &existing.slug, input, Some(&stored), revision).await?;
    let previous = latest_snapshot(&txn, existing.id).await?;
    let changes = field_changes(&previous, &prepared.snapshot);
    let files_changed = previous.files != prepared.snapshot.files;
    if changes.is_empty() && !files_changed {
        return Err(AppError::invalid(
            "name",
            "nothing changed; no new revision was made",
        ));
    }
    prepared.snapshot.summary = if changes.is_empty() {
        "Regenerated code".into()
    } else {
        format!(
            "Changed {}",
            changes
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut active: resources::ActiveModel = existing.clone().into();
    active.name = Set(prepared.name.clone());
    active.source_code_version_id = Set(prepared.version.id);
    active.state = Set(next_state.as_str().into());
    active.status = Set(next_status.as_str().into());
    active.variables = Set(serde_json::to_string(&prepared.stored).map_err(AppError::internal)?);
    active.revision = Set(revision);
    active.updated_at = Set(chrono::Utc::now());
    let updated = active.update(&txn).await?;
    write_links(&txn, updated.id, &prepared).await?;
    write_revision(&txn, updated.id, revision, &prepared.snapshot, actor).await?;
    super::workspaces::enqueue_sync(&txn, &updated, SyncKind::Update, actor).await?;
    audit::record(
        &txn,
        actor,
        Change::new("resource.update", "resource", updated.id)
            .before(&audit_view(&previous, state, existing.revision))
            .after(&audit_view(&prepared.snapshot, next_state, revision)),
    )
    .await?;
    let row = query_rows(&txn, Some(updated.id), 0).await?.remove(0);
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(row)
}

async fn snapshots<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Vec<(resource_revisions::Model, Snapshot)>> {
    resource_revisions::Entity::find()
        .filter(resource_revisions::Column::ResourceId.eq(resource_id))
        .order_by_desc(resource_revisions::Column::Revision)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let snapshot = serde_json::from_str(&r.snapshot).map_err(AppError::internal)?;
            Ok((r, snapshot))
        })
        .collect()
}

/// The generated files of the resource's latest revision, as (name, contents).
pub async fn current_files<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Vec<(String, String)>> {
    Ok(latest_snapshot(db, resource_id)
        .await?
        .files
        .into_iter()
        .map(|f| (f.name, f.contents))
        .collect())
}

async fn latest_snapshot<C: ConnectionTrait>(db: &C, resource_id: i64) -> AppResult<Snapshot> {
    let latest = resource_revisions::Entity::find()
        .filter(resource_revisions::Column::ResourceId.eq(resource_id))
        .order_by_desc(resource_revisions::Column::Revision)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource has no revision"))?;
    serde_json::from_str(&latest.snapshot).map_err(AppError::internal)
}

fn revision_row(model: &resource_revisions::Model, snapshot: &Snapshot) -> RevisionRow {
    RevisionRow {
        revision: model.revision,
        author: model.author.clone(),
        created_at: when(&model.created_at),
        summary: snapshot.summary.clone(),
    }
}

/// List rows, most recently changed first: the page (or the one resource `only`) joined with its
/// template and version in one query, and its parents' and integrations' slugs in a second.
async fn query_rows<C: ConnectionTrait>(
    db: &C,
    only: Option<i64>,
    page: u64,
) -> AppResult<Vec<ResourceListRow>> {
    use resources::Column as R;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, UnionType};
    let mut select = Query::select();
    select
        .columns([
            (resources::Entity, R::Id),
            (resources::Entity, R::Slug),
            (resources::Entity, R::Name),
            (resources::Entity, R::State),
            (resources::Entity, R::Status),
            (resources::Entity, R::Revision),
            (resources::Entity, R::UpdatedAt),
        ])
        .expr_as(
            Expr::col((templates::Entity, templates::Column::Key)),
            Alias::new("template_key"),
        )
        .expr_as(
            Expr::col((templates::Entity, templates::Column::Name)),
            Alias::new("template_name"),
        )
        .expr_as(
            Expr::col((
                source_code_versions::Entity,
                source_code_versions::Column::GitRef,
            )),
            Alias::new("git_ref"),
        )
        .from(resources::Entity)
        .inner_join(
            templates::Entity,
            Expr::col((templates::Entity, templates::Column::Id))
                .equals((resources::Entity, R::TemplateId)),
        )
        .inner_join(
            source_code_versions::Entity,
            Expr::col((
                source_code_versions::Entity,
                source_code_versions::Column::Id,
            ))
            .equals((resources::Entity, R::SourceCodeVersionId)),
        )
        .order_by((resources::Entity, R::UpdatedAt), Order::Desc)
        .order_by((resources::Entity, R::Id), Order::Desc);
    match only {
        Some(id) => {
            select.and_where(Expr::col((resources::Entity, R::Id)).eq(id));
        }
        None => {
            select.limit(PAGE_SIZE).offset(page * PAGE_SIZE);
        }
    }
    let rows = db.query_all(&select).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    let mut parents: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut linked: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    if !ids.is_empty() {
        let mut links = Query::select();
        links
            .expr_as(
                Expr::col((
                    resource_parents::Entity,
                    resource_parents::Column::ResourceId,
                )),
                Alias::new("owner"),
            )
            .expr_as(Expr::cust("'p'"), Alias::new("kind"))
            .expr_as(Expr::col((resources::Entity, R::Slug)), Alias::new("slug"))
            .from(resource_parents::Entity)
            .inner_join(
                resources::Entity,
                Expr::col((resources::Entity, R::Id))
                    .equals((resource_parents::Entity, resource_parents::Column::ParentId)),
            )
            .and_where(
                Expr::col((
                    resource_parents::Entity,
                    resource_parents::Column::ResourceId,
                ))
                .is_in(ids.clone()),
            );
        let mut integration_links = Query::select();
        integration_links
            .expr_as(
                Expr::col((
                    resource_integrations::Entity,
                    resource_integrations::Column::ResourceId,
                )),
                Alias::new("owner"),
            )
            .expr_as(Expr::cust("'i'"), Alias::new("kind"))
            .expr_as(
                Expr::col((integrations::Entity, integrations::Column::Slug)),
                Alias::new("slug"),
            )
            .from(resource_integrations::Entity)
            .inner_join(
                integrations::Entity,
                Expr::col((integrations::Entity, integrations::Column::Id)).equals((
                    resource_integrations::Entity,
                    resource_integrations::Column::IntegrationId,
                )),
            )
            .and_where(
                Expr::col((
                    resource_integrations::Entity,
                    resource_integrations::Column::ResourceId,
                ))
                .is_in(ids.clone()),
            );
        links.union(UnionType::All, integration_links);
        for link in db.query_all(&links).await? {
            let owner: i64 = link.try_get("", "owner")?;
            let kind: String = link.try_get("", "kind")?;
            let slug: String = link.try_get("", "slug")?;
            if kind == "p" {
                &mut parents
            } else {
                &mut linked
            }
            .entry(owner)
            .or_default()
            .push(slug);
        }
    }
    rows.into_iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id")?;
            let state: String = r.try_get("", "state")?;
            let status: String = r.try_get("", "status")?;
            let updated_at: chrono::DateTime<chrono::Utc> = r.try_get("", "updated_at")?;
            let mut parents = parents.remove(&id).unwrap_or_default();
            parents.sort();
            let mut integrations = linked.remove(&id).unwrap_or_default();
            integrations.sort();
            Ok(ResourceListRow {
                slug: r.try_get("", "slug")?,
                name: r.try_get("", "name")?,
                template_key: r.try_get("", "template_key")?,
                template_name: r.try_get("", "template_name")?,
                version: r.try_get("", "git_ref")?,
                state: ResourceState::parse(&state)
                    .ok_or_else(|| AppError::internal(format!("unknown state {state:?}")))?,
                status: ResourceStatus::parse(&status)
                    .ok_or_else(|| AppError::internal(format!("unknown status {status:?}")))?,
                integrations,
                parents,
                revision: r.try_get("", "revision")?,
                updated_at: when(&updated_at),
            })
        })
        .collect()
}

/// One page, most recently changed first, and the total: three queries however many rows.
pub async fn list<C: ConnectionTrait>(db: &C, page: u64) -> AppResult<ResourcePage> {
    let total = resources::Entity::find().count(db).await?;
    let last_page = total.saturating_sub(1) / PAGE_SIZE;
    let page = page.min(last_page);
    Ok(ResourcePage {
        rows: query_rows(db, None, page).await?,
        total,
        page,
        per_page: PAGE_SIZE,
        can_create: false,
    })
}

fn parent_ref(model: &resources::Model, keys: &BTreeMap<i64, String>) -> ParentRef {
    ParentRef {
        slug: model.slug.clone(),
        name: model.name.clone(),
        template: keys.get(&model.template_id).cloned().unwrap_or_default(),
    }
}

pub async fn detail(ctx: &AppCtx, slug: &str) -> AppResult<ResourceDetail> {
    let db = &ctx.db;
    let model = resource_by_slug(db, slug).await?;
    let (state, status) = state_of(&model)?;
    let template = templates::Entity::find_by_id(model.template_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's template is missing"))?;
    let version_model = source_code_versions::Entity::find_by_id(model.source_code_version_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's version is missing"))?;
    let version = super::sources::version_row(db, &version_model).await?;
    let keys: BTreeMap<i64, String> = templates::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect();
    let parent_ids: Vec<i64> = resource_parents::Entity::find()
        .filter(resource_parents::Column::ResourceId.eq(model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.parent_id)
        .collect();
    let child_ids: Vec<i64> = resource_parents::Entity::find()
        .filter(resource_parents::Column::ParentId.eq(model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.resource_id)
        .collect();
    let named = |ids: Vec<i64>| async move {
        AppResult::Ok(
            resources::Entity::find()
                .filter(resources::Column::Id.is_in(ids))
                .order_by_asc(resources::Column::Slug)
                .all(db)
                .await?,
        )
    };
    let parents = named(parent_ids)
        .await?
        .iter()
        .map(|p| parent_ref(p, &keys))
        .collect();
    let children = named(child_ids)
        .await?
        .iter()
        .map(|p| parent_ref(p, &keys))
        .collect();
    let integration_ids: Vec<i64> = resource_integrations::Entity::find()
        .filter(resource_integrations::Column::ResourceId.eq(model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.integration_id)
        .collect();
    let integrations =
        super::integrations::choices(db, integrations::Column::Id.is_in(integration_ids)).await?;
    let stored: StoredValues =
        serde_json::from_str(&model.variables).map_err(AppError::internal)?;
    let variables = version
        .interface
        .variables
        .iter()
        .map(|v| VariableValue {
            name: v.name.clone(),
            value: stored.plain.get(&v.name).map(to_form),
            sensitive: v.sensitive,
            sensitive_set: stored.sealed.contains_key(&v.name),
        })
        .collect();
    let history = snapshots(db, model.id).await?;
    let files = history
        .first()
        .map(|(_, s)| s.files.clone())
        .unwrap_or_default();
    Ok(ResourceDetail {
        id: model.id,
        slug: model.slug.clone(),
        name: model.name.clone(),
        template_key: template.key,
        template_name: template.name,
        version,
        state,
        status,
        parents,
        children,
        integrations,
        variables,
        outputs: serde_json::from_str(&model.outputs).map_err(AppError::internal)?,
        revision: model.revision,
        revisions: history.iter().map(|(m, s)| revision_row(m, s)).collect(),
        files,
        created_by: model.created_by.clone(),
        created_at: when(&model.created_at),
        updated_at: when(&model.updated_at),
        can_edit: false,
        can_delete: false,
    })
}

pub async fn form(ctx: &AppCtx, template: &str, resource: Option<&str>) -> AppResult<ResourceForm> {
    let db = &ctx.db;
    let current = match resource {
        Some(slug) => Some(detail(ctx, slug).await?),
        None => None,
    };
    let template_key = current
        .as_ref()
        .map(|c| c.template_key.clone())
        .unwrap_or_else(|| template.trim().to_string());
    let with_versions: BTreeSet<i64> = source_code_versions::Entity::find()
        .select_only()
        .column(source_code_versions::Column::TemplateId)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let all_templates = templates::Entity::find()
        .order_by_asc(templates::Column::Name)
        .all(db)
        .await?;
    let keys: BTreeMap<i64, String> = all_templates
        .iter()
        .map(|t| (t.id, t.key.clone()))
        .collect();
    let choices = all_templates
        .iter()
        .filter(|t| !t.is_abstract && with_versions.contains(&t.id))
        .map(|t| (t.key.clone(), t.name.clone()))
        .collect();
    let Some(chosen) = all_templates.iter().find(|t| t.key == template_key) else {
        if template_key.is_empty() {
            return Ok(ResourceForm {
                template_key,
                template_name: String::new(),
                versions: vec![],
                parent_candidates: vec![],
                parent_required: false,
                cloud_integrations: vec![],
                current,
                templates: choices,
                workspaces: vec![],
            });
        }
        return Err(AppError::not_found(format_args!(
            "The template {template_key:?}"
        )));
    };
    let parent_templates = parents_of_template(db, chosen.id).await?;
    let parent_template_ids: Vec<i64> = keys
        .iter()
        .filter(|(_, k)| parent_templates.iter().any(|(p, _)| p == *k))
        .map(|(id, _)| *id)
        .collect();
    let parent_candidates = resources::Entity::find()
        .filter(resources::Column::TemplateId.is_in(parent_template_ids))
        .order_by_asc(resources::Column::Slug)
        .all(db)
        .await?
        .iter()
        .map(|r| parent_ref(r, &keys))
        .collect();
    let cloud_integrations =
        super::integrations::choices(db, integrations::Column::Kind.eq("cloud")).await?;
    Ok(ResourceForm {
        template_key: chosen.key.clone(),
        template_name: chosen.name.clone(),
        versions: super::sources::versions_of(db, &chosen.key).await?,
        parent_candidates,
        parent_required: parent_templates.iter().any(|(_, is_abstract)| !is_abstract),
        cloud_integrations,
        current,
        templates: choices,
        workspaces: super::workspaces::choices(db).await?,
    })
}

pub async fn act(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    slug: &str,
    action: &str,
) -> AppResult<()> {
    let action = match action {
        "destroy" => ResourceAction::Destroy,
        "cancel_destroy" => ResourceAction::CancelDestroy,
        "delete" => ResourceAction::Delete,
        other => {
            return Err(AppError::invalid(
                "action",
                format!("unknown action {other:?}"),
            ))
        }
    };
    let txn = super::begin_write(db).await?;
    let model = resource_by_slug(&txn, slug).await?;
    let (state, status) = state_of(&model)?;
    let (next_state, next_status) =
        transition(state, status, action).map_err(AppError::Conflict)?;
    let before =
        serde_json::json!({ "state": state, "status": status, "revision": model.revision });
    if action == ResourceAction::Delete {
        let children: Vec<i64> = resource_parents::Entity::find()
            .filter(resource_parents::Column::ParentId.eq(model.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.resource_id)
            .collect();
        if !children.is_empty() {
            let names: Vec<String> = resources::Entity::find()
                .filter(resources::Column::Id.is_in(children))
                .order_by_asc(resources::Column::Slug)
                .all(&txn)
                .await?
                .into_iter()
                .map(|r| r.slug)
                .collect();
            return Err(AppError::Conflict(format!(
                "{} is the parent of {}; delete those first",
                model.slug,
                names.join(", ")
            )));
        }
        let closing = super::workspaces::close_then_delete(&txn, &model, actor).await?;
        if closing.is_none() {
            resources::Entity::delete_by_id(model.id).exec(&txn).await?;
        }
        audit::record(
            &txn,
            actor,
            Change::new("resource.delete", "resource", model.id)
                .before(&before)
                .after(&serde_json::json!({ "slug": model.slug, "closing_pull_request": closing })),
        )
        .await?;
    } else {
        let mut active: resources::ActiveModel = model.clone().into();
        active.state = Set(next_state.as_str().into());
        active.status = Set(next_status.as_str().into());
        active.updated_at = Set(chrono::Utc::now());
        let updated = active.update(&txn).await?;
        if action == ResourceAction::Destroy {
            // Its code leaves the workspace through a delete pull request.
            super::workspaces::enqueue_sync(&txn, &updated, SyncKind::Delete, actor).await?;
        }
        let name = if action == ResourceAction::Destroy {
            "resource.destroy"
        } else {
            "resource.cancel_destroy"
        };
        audit::record(
            &txn,
            actor,
            Change::new(name, "resource", model.id)
                .before(&before)
                .after(&serde_json::json!({ "state": next_state, "status": next_status, "revision": model.revision })),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn diff<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    from: i32,
    to: i32,
) -> AppResult<RevisionDiff> {
    let model = resource_by_slug(db, slug).await?;
    let history = snapshots(db, model.id).await?;
    let find = |n: i32, field: &str| {
        history
            .iter()
            .find(|(m, _)| m.revision == n)
            .ok_or_else(|| AppError::invalid(field, format!("{slug} has no revision {n}")))
    };
    let (from_model, before) = find(from, "from")?;
    let (to_model, after) = find(to, "to")?;
    let names: BTreeSet<&String> = before
        .files
        .iter()
        .chain(after.files.iter())
        .map(|f| &f.name)
        .collect();
    let contents = |s: &Snapshot, name: &str| {
        s.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.contents.clone())
            .unwrap_or_default()
    };
    let mut ordered: Vec<&String> = names.into_iter().collect();
    let rank = |n: &str| {
        ["main.tf", "variables.tf", "outputs.tf", "providers.tf"]
            .iter()
            .position(|x| *x == n)
            .unwrap_or(9)
    };
    ordered.sort_by_key(|n| rank(n));
    let files = ordered
        .into_iter()
        .map(|name| {
            let (a, b) = (contents(before, name), contents(after, name));
            FileDiff {
                name: name.clone(),
                changed: a != b,
                lines: diff_lines(&a, &b),
            }
        })
        .collect();
    Ok(RevisionDiff {
        slug: model.slug.clone(),
        name: model.name.clone(),
        from: revision_row(from_model, before),
        to: revision_row(to_model, after),
        revisions: history.iter().map(|(m, s)| revision_row(m, s)).collect(),
        fields: field_changes(before, after),
        files,
    })
}

//! Resource services. Every create and edit is checked whole (template, version, parents,
//! integrations, each variable against its type) and its code generated before anything is
//! written; then the resource, its links, a new revision and the audit event commit together.
//! Sensitive values are sealed at rest and appear in revisions only as "set in revision N".

use crate::server::audit::{self, Change};

use crate::server::diff::diff_lines;

use crate::server::entities::{
    integrations, resource_integrations, resource_parents, resource_revisions, resources,
    source_code_versions, source_codes, template_parents, templates,
};

use crate::server::{Actor, AppCtx};

use crate::wire::integrations::IntegrationRow;

use crate::wire::resources::{
    CodeFile, FieldChange, FileDiff, ParentRef, ResourceDetail, ResourceForm, ResourceInput,
    ResourceListRow, ResourcePage, RevisionDiff, RevisionRow, VariableValue, PAGE_SIZE,
};

use crate::domain::integrations::{terraform_backend, terraform_provider, IntegrationKind};

use crate::domain::modules::{ModuleInterface, ModuleVariable};

use crate::domain::names::{validate_slug, validate_text};

use crate::domain::resource_code::{
    generate_bound, BackendBlock, CloudBlocks, ModuleSource, ProviderBlock, MAX_VALUE_BYTES,
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
pub(crate) struct StoredValues {
    pub(crate) plain: BTreeMap<String, Value>,
    pub(crate) sealed: BTreeMap<String, String>,
    pub(crate) sensitive_set_in: BTreeMap<String, i32>,
    /// Variables taken from a parent's output when planned: variable → (parent, output).
    #[serde(default)]
    pub(crate) bound: crate::domain::resource_code::Bindings,
}

/// What a revision keeps: everything the revision page shows and diffs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) parents: Vec<String>,
    pub(crate) integrations: Vec<String>,
    /// Values as shown: plain JSON text, or "(sensitive, set in revision N)".
    pub(crate) variables: BTreeMap<String, String>,
    pub(crate) files: Vec<CodeFile>,
    pub(crate) summary: String,
}

pub(crate) fn sealed_purpose(slug: &str, variable: &str) -> String {
    format!("resource:{slug}:variable:{variable}")
}

use crate::server::when;

mod prepare;
mod read;
mod write;
pub(crate) use prepare::*;
pub use read::*;
#[allow(unused_imports)]
pub(crate) use read::*;
pub use write::*;
#[allow(unused_imports)]
pub(crate) use write::*;

/// The slugs of the resources `ids` names, in order: for refusals that say what is in the way.
pub(crate) async fn slugs_of<C: ConnectionTrait>(db: &C, ids: Vec<i64>) -> AppResult<Vec<String>> {
    Ok(resources::Entity::find()
        .filter(resources::Column::Id.is_in(ids))
        .order_by_asc(resources::Column::Slug)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.slug)
        .collect())
}

/// The ids of the resources `parent_id` is a parent of.
pub(crate) async fn children_of<C: ConnectionTrait>(db: &C, parent_id: i64) -> AppResult<Vec<i64>> {
    Ok(resource_parents::Entity::find()
        .filter(resource_parents::Column::ParentId.eq(parent_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.resource_id)
        .collect())
}

pub(crate) async fn resource_by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> AppResult<resources::Model> {
    resources::Entity::find()
        .filter(resources::Column::Slug.eq(slug.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The resource {:?}", slug.trim())))
}

pub(crate) async fn template_by_key<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> AppResult<templates::Model> {
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
pub(crate) async fn parents_of_template<C: ConnectionTrait>(
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

pub(crate) fn version_label(version: &source_code_versions::Model) -> String {
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

/// The audit view of a snapshot: everything but the generated files.
pub(crate) fn audit_view(snapshot: &Snapshot, state: ResourceState, revision: i32) -> Value {
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

pub(crate) fn parent_ref(model: &resources::Model, keys: &BTreeMap<i64, String>) -> ParentRef {
    ParentRef {
        slug: model.slug.clone(),
        name: model.name.clone(),
        template: keys.get(&model.template_id).cloned().unwrap_or_default(),
    }
}

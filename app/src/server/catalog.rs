//! Catalog services: templates and the hierarchy they form. Every change is checked against
//! the whole hierarchy (no unknown parent, no cycle) before anything is written, and commits with
//! its audit event.

use super::audit::{self, Change};
use super::entities::{resources, source_code_versions, template_parents, templates};
use super::Actor;
use crate::domain::names::{validate_slug, validate_text};
use crate::domain::templates::{
    layout_tree, validate_hierarchy, HierarchyError, TemplateNode, TreeBox,
};
use crate::error::{AppError, AppResult};
use crate::wire::catalog::{NewTemplate, TemplateRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::BTreeMap;

async fn load<C: ConnectionTrait>(db: &C) -> AppResult<Vec<TemplateRow>> {
    let all = templates::Entity::find()
        .order_by_asc(templates::Column::Key)
        .all(db)
        .await?;
    let keys: BTreeMap<i64, String> = all.iter().map(|t| (t.id, t.key.clone())).collect();
    let mut parents: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for link in template_parents::Entity::find().all(db).await? {
        if let Some(key) = keys.get(&link.parent_id) {
            parents
                .entry(link.template_id)
                .or_default()
                .push(key.clone());
        }
    }
    Ok(all
        .into_iter()
        .map(|t| {
            let mut parent_keys = parents.remove(&t.id).unwrap_or_default();
            parent_keys.sort();
            TemplateRow {
                id: t.id,
                key: t.key,
                name: t.name,
                description: t.description,
                is_abstract: t.is_abstract,
                parents: parent_keys,
            }
        })
        .collect())
}

pub async fn list_templates(db: &DatabaseConnection) -> AppResult<Vec<TemplateRow>> {
    load(db).await
}

fn nodes(rows: &[TemplateRow]) -> Vec<TemplateNode> {
    rows.iter()
        .map(|t| TemplateNode {
            key: t.key.clone(),
            name: t.name.clone(),
            is_abstract: t.is_abstract,
            parents: t.parents.clone(),
        })
        .collect()
}

pub fn tree(rows: &[TemplateRow]) -> Vec<TreeBox> {
    layout_tree(&nodes(rows))
}

fn hierarchy_error(error: HierarchyError) -> AppError {
    AppError::invalid("parents", error.to_string())
}

/// The form's fields, trimmed and validated: (key, name, description, parents).
fn checked_input(input: &NewTemplate) -> AppResult<(&str, &str, &str, Vec<String>)> {
    let key = input.key.trim();
    let name = input.name.trim();
    let description = input.description.trim();
    validate_slug(key).map_err(|m| AppError::invalid("key", m))?;
    if name.is_empty() {
        return Err(AppError::invalid("name", "must not be empty"));
    }
    validate_text(name, 200).map_err(|m| AppError::invalid("name", m))?;
    validate_text(description, 2000).map_err(|m| AppError::invalid("description", m))?;
    let mut parents: Vec<String> = input
        .parents
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    parents.sort();
    parents.dedup();
    Ok((key, name, description, parents))
}

/// Replaces a template's parent links with `parents` (keys known to exist in `all`).
async fn link_parents<C: ConnectionTrait>(
    db: &C,
    template_id: i64,
    parents: &[String],
    all: &[TemplateRow],
) -> AppResult<()> {
    template_parents::Entity::delete_many()
        .filter(template_parents::Column::TemplateId.eq(template_id))
        .exec(db)
        .await?;
    for parent in parents {
        let parent_id = all
            .iter()
            .find(|t| &t.key == parent)
            .map(|t| t.id)
            .ok_or_else(|| {
                AppError::invalid("parents", format!("no template has the key {parent:?}"))
            })?;
        template_parents::ActiveModel {
            template_id: Set(template_id),
            parent_id: Set(parent_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn create_template(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &NewTemplate,
) -> AppResult<TemplateRow> {
    let (key, name, description, parents) = checked_input(input)?;
    audit::audited(db, actor, async |txn| {
        let existing = load(txn).await?;
        if existing.iter().any(|t| t.key == key) {
            return Err(AppError::invalid(
                "key",
                format!("a template with the key {key:?} already exists"),
            ));
        }
        let mut catalog = nodes(&existing);
        catalog.push(TemplateNode {
            key: key.to_string(),
            name: name.to_string(),
            is_abstract: input.is_abstract.is_some(),
            parents: parents.clone(),
        });
        validate_hierarchy(&catalog).map_err(hierarchy_error)?;

        let now = chrono::Utc::now();
        let created = templates::ActiveModel {
            key: Set(key.to_string()),
            name: Set(name.to_string()),
            description: Set(description.to_string()),
            is_abstract: Set(input.is_abstract.is_some()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        link_parents(txn, created.id, &parents, &existing).await?;
        let row = TemplateRow {
            id: created.id,
            key: created.key,
            name: created.name,
            description: created.description,
            is_abstract: created.is_abstract,
            parents,
        };
        let change = Change::new("template.create", "template", row.id).after(&row);
        Ok((row, change))
    })
    .await
}

/// Changes a template's name, description, kind and parents (its key never changes). The
/// whole hierarchy is checked with the change applied, so a new parent cannot close a cycle.
pub async fn update_template(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &NewTemplate,
) -> AppResult<TemplateRow> {
    let (key, name, description, parents) = checked_input(input)?;
    audit::audited(db, actor, async |txn| {
        let all = load(txn).await?;
        let before = all
            .iter()
            .find(|t| t.key == key)
            .cloned()
            .ok_or_else(|| AppError::not_found(format_args!("The template {key:?}")))?;
        let mut catalog = nodes(&all);
        for node in catalog.iter_mut().filter(|n| n.key == key) {
            node.name = name.to_string();
            node.is_abstract = input.is_abstract.is_some();
            node.parents = parents.clone();
        }
        validate_hierarchy(&catalog).map_err(hierarchy_error)?;
        let mut active: templates::ActiveModel = templates::Entity::find_by_id(before.id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("The template {key:?}")))?
            .into();
        active.name = Set(name.to_string());
        active.description = Set(description.to_string());
        active.is_abstract = Set(input.is_abstract.is_some());
        active.updated_at = Set(chrono::Utc::now());
        active.update(txn).await?;
        link_parents(txn, before.id, &parents, &all).await?;
        let after = TemplateRow {
            name: name.to_string(),
            description: description.to_string(),
            is_abstract: input.is_abstract.is_some(),
            parents,
            ..before.clone()
        };
        let change = Change::new("template.update", "template", before.id)
            .before(&before)
            .after(&after);
        Ok((after, change))
    })
    .await
}

/// Deletes a template nobody hangs under and no resource was made from, with its versions.
pub async fn delete_template(db: &DatabaseConnection, actor: &Actor, key: &str) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let all = load(txn).await?;
        let template = all
            .iter()
            .find(|t| t.key == key)
            .ok_or_else(|| AppError::not_found(format_args!("The template {key:?}")))?;
        let children: Vec<&str> = all
            .iter()
            .filter(|t| t.parents.iter().any(|p| p == key))
            .map(|t| t.key.as_str())
            .collect();
        if !children.is_empty() {
            return Err(AppError::Conflict(format!(
                "{key} is the parent of {}; delete or re-parent those first",
                children.join(", ")
            )));
        }
        let mut used_by: Vec<String> = resources::Entity::find()
            .filter(resources::Column::TemplateId.eq(template.id))
            .all(txn)
            .await?
            .into_iter()
            .map(|r| r.slug)
            .collect();
        if !used_by.is_empty() {
            used_by.sort();
            let count = used_by.len() as u64;
            return Err(AppError::Conflict(format!(
                "{key} is used by {}: {}; delete {} first",
                crate::domain::names::counted(count, "resource", "resources"),
                used_by.join(", "),
                if count == 1 { "it" } else { "them" }
            )));
        }
        source_code_versions::Entity::delete_many()
            .filter(source_code_versions::Column::TemplateId.eq(template.id))
            .exec(txn)
            .await?;
        template_parents::Entity::delete_many()
            .filter(template_parents::Column::TemplateId.eq(template.id))
            .exec(txn)
            .await?;
        templates::Entity::delete_by_id(template.id)
            .exec(txn)
            .await?;
        let change = Change::new("template.delete", "template", template.id).before(template);
        Ok(((), change))
    })
    .await
}

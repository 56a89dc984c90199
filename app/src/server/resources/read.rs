//! What the pages read: the resources list, a resource, its form, its revisions and their diff.

use super::*;

pub(crate) async fn snapshots<C: ConnectionTrait>(
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

pub(crate) async fn latest_snapshot<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Snapshot> {
    let latest = resource_revisions::Entity::find()
        .filter(resource_revisions::Column::ResourceId.eq(resource_id))
        .order_by_desc(resource_revisions::Column::Revision)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource has no revision"))?;
    serde_json::from_str(&latest.snapshot).map_err(AppError::internal)
}

pub(crate) fn revision_row(model: &resource_revisions::Model, snapshot: &Snapshot) -> RevisionRow {
    RevisionRow {
        revision: model.revision,
        author: model.author.clone(),
        created_at: when(&model.created_at),
        summary: snapshot.summary.clone(),
    }
}

/// List rows, most recently changed first: the page (or the one resource `only`) joined with its
/// template and version in one query, and its parents' and integrations' slugs in a second.
pub(crate) async fn query_rows<C: ConnectionTrait>(
    db: &C,
    only: Option<i64>,
    page: u64,
) -> AppResult<Vec<ResourceListRow>> {
    let rows = db.query_all(&rows_query(only, page)).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    let (mut parents, mut linked) = links_of(db, ids).await?;
    rows.into_iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id")?;
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
                state: r.try_get("", "state")?,
                status: r.try_get("", "status")?,
                integrations,
                parents,
                revision: r.try_get("", "revision")?,
                updated_at: when(&updated_at),
            })
        })
        .collect()
}

/// The page's resources (or the one resource `only`) with their template and version.
fn rows_query(only: Option<i64>, page: u64) -> sea_orm::sea_query::SelectStatement {
    use resources::Column as R;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
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
    select
}

/// Each resource's parents' and integrations' slugs, by resource id, in one query.
async fn links_of<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> AppResult<(BTreeMap<i64, Vec<String>>, BTreeMap<i64, Vec<String>>)> {
    use resources::Column as R;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UnionType};
    let mut parents: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut linked: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok((parents, linked));
    }
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
    Ok((parents, linked))
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

/// A resource's parents and children, by slug.
async fn relatives<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<(Vec<ParentRef>, Vec<ParentRef>)> {
    let keys: BTreeMap<i64, String> = templates::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect();
    let links = resource_parents::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(resource_parents::Column::ResourceId.eq(id))
                .add(resource_parents::Column::ParentId.eq(id)),
        )
        .all(db)
        .await?;
    let parent_ids = links
        .iter()
        .filter(|l| l.resource_id == id)
        .map(|l| l.parent_id);
    let child_ids = links
        .iter()
        .filter(|l| l.parent_id == id)
        .map(|l| l.resource_id);
    let named = async |ids: Vec<i64>| -> AppResult<Vec<ParentRef>> {
        Ok(resources::Entity::find()
            .filter(resources::Column::Id.is_in(ids))
            .order_by_asc(resources::Column::Slug)
            .all(db)
            .await?
            .iter()
            .map(|p| parent_ref(p, &keys))
            .collect())
    };
    Ok((
        named(parent_ids.collect()).await?,
        named(child_ids.collect()).await?,
    ))
}

pub async fn detail(ctx: &AppCtx, slug: &str) -> AppResult<ResourceDetail> {
    let db = &ctx.db;
    let model = resource_by_slug(db, slug).await?;
    let (state, status) = (model.state, model.status);
    let template = templates::Entity::find_by_id(model.template_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's template is missing"))?;
    let version_model = source_code_versions::Entity::find_by_id(model.source_code_version_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a resource's version is missing"))?;
    let version = crate::server::sources::version_row(db, &version_model).await?;
    let (parents, children) = relatives(db, model.id).await?;
    let integration_ids: Vec<i64> = resource_integrations::Entity::find()
        .filter(resource_integrations::Column::ResourceId.eq(model.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.integration_id)
        .collect();
    let integrations =
        crate::server::integrations::choices(db, integrations::Column::Id.is_in(integration_ids))
            .await?;
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
            bound_from: stored
                .bound
                .get(&v.name)
                .map(|(parent, output)| format!("{parent}.{output}")),
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
        parent_changed: model.parent_changed.clone(),
        parents,
        children,
        integrations,
        variables,
        outputs: crate::server::plans::output_rows(&model.outputs),
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
                parent_outputs: vec![],
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
    let parent_rows = resources::Entity::find()
        .filter(resources::Column::TemplateId.is_in(parent_template_ids))
        .order_by_asc(resources::Column::Slug)
        .all(db)
        .await?;
    let parent_candidates = parent_rows.iter().map(|r| parent_ref(r, &keys)).collect();
    let parent_outputs = output_names(db, &parent_rows).await?;
    let cloud_integrations =
        crate::server::integrations::choices(db, integrations::Column::Kind.eq("cloud")).await?;
    Ok(ResourceForm {
        template_key: chosen.key.clone(),
        template_name: chosen.name.clone(),
        versions: crate::server::sources::versions_of(db, &chosen.key).await?,
        parent_candidates,
        parent_outputs,
        parent_required: parent_templates.iter().any(|(_, is_abstract)| !is_abstract),
        cloud_integrations,
        current,
        templates: choices,
        workspaces: crate::server::workspaces::choices(db).await?,
    })
}

/// `(resource slug, output name)` of each output the resources' versions declare: what a
/// child's variable may be bound to.
pub(crate) async fn output_names<C: ConnectionTrait>(
    db: &C,
    rows: &[resources::Model],
) -> AppResult<Vec<(String, String)>> {
    let versions: BTreeMap<i64, ModuleInterface> = source_code_versions::Entity::find()
        .filter(
            source_code_versions::Column::Id.is_in(
                rows.iter()
                    .map(|r| r.source_code_version_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|v| Some((v.id, serde_json::from_str(&v.interface).ok()?)))
        .collect();
    Ok(rows
        .iter()
        .flat_map(|r| {
            versions
                .get(&r.source_code_version_id)
                .into_iter()
                .flat_map(|i| i.outputs.iter())
                .map(|o| (r.slug.clone(), o.name.clone()))
        })
        .collect())
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

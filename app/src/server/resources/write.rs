//! Creating, changing and acting on resources, each with its revision, sync job and audit event.

use super::*;

pub(crate) async fn write_links<C: ConnectionTrait>(
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

pub(crate) async fn write_revision<C: ConnectionTrait>(
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

pub async fn create(
    ctx: &AppCtx,
    actor: &Actor,
    input: &ResourceInput,
) -> AppResult<ResourceListRow> {
    let slug = input.slug.trim().to_string();
    validate_slug(&slug).map_err(|m| AppError::invalid("slug", m))?;
    let value = audit::audited(&ctx.db, actor, async |txn| {
        if resources::Entity::find()
            .filter(resources::Column::Slug.eq(&slug))
            .one(txn)
            .await?
            .is_some()
        {
            return Err(AppError::invalid(
                "slug",
                format!("a resource named {slug:?} already exists"),
            ));
        }
        let mut prepared = prepare(ctx, txn, &slug, input, None, 1).await?;
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
            state: Set(ResourceState::Provision),
            status: Set(ResourceStatus::Ready),
            variables: Set(serde_json::to_string(&prepared.stored).map_err(AppError::internal)?),
            outputs: Set("{}".into()),
            revision: Set(1),
            created_by: Set(actor.label.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        write_links(txn, created.id, &prepared).await?;
        write_revision(txn, created.id, 1, &prepared.snapshot, actor).await?;
        let workspace = input.workspace.trim();
        if !workspace.is_empty() {
            crate::server::workspaces::attach(txn, workspace, &created, &prepared.template.key)
                .await?;
            crate::server::workspaces::enqueue_sync(txn, &created, SyncKind::Update, actor).await?;
        }
        let change = Change::new("resource.create", "resource", created.id).after(&audit_view(
            &prepared.snapshot,
            ResourceState::Provision,
            1,
        ));
        let row = query_rows(txn, Some(created.id), 0).await?.remove(0);
        Ok((row, Some(change)))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(value)
}

pub async fn update(
    ctx: &AppCtx,
    actor: &Actor,
    input: &ResourceInput,
) -> AppResult<ResourceListRow> {
    let value = audit::audited(&ctx.db, actor, async |txn| {
        let existing = resource_by_slug(txn, &input.slug).await?;
        let (state, status) = (existing.state, existing.status);
        let (next_state, next_status) =
            transition(state, status, ResourceAction::Edit).map_err(AppError::Conflict)?;
        let stored: StoredValues =
            serde_json::from_str(&existing.variables).map_err(AppError::internal)?;
        // The revision the form was filled from: someone else's save since is not overwritten.
        let save = crate::server::RevisionedSave {
            what: format!("Resource {}", existing.slug),
            current: existing.revision,
            base: input.base_revision.unwrap_or(existing.revision),
        };
        save.check()?;
        let revision = existing.revision + 1;
        let mut prepared =
            prepare(ctx, txn, &existing.slug, input, Some(&stored), revision).await?;
        let previous = latest_snapshot(txn, existing.id).await?;
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
        save.advance::<resources::Entity, _>(
            txn,
            resources::Column::Id,
            existing.id,
            resources::Column::Revision,
        )
        .await?;
        let mut active: resources::ActiveModel = existing.clone().into();
        active.name = Set(prepared.name.clone());
        active.source_code_version_id = Set(prepared.version.id);
        active.state = Set(next_state);
        active.status = Set(next_status);
        active.variables =
            Set(serde_json::to_string(&prepared.stored).map_err(AppError::internal)?);
        active.revision = Set(revision);
        active.updated_at = Set(chrono::Utc::now());
        let updated = active.update(txn).await?;
        write_links(txn, updated.id, &prepared).await?;
        write_revision(txn, updated.id, revision, &prepared.snapshot, actor).await?;
        crate::server::workspaces::enqueue_sync(txn, &updated, SyncKind::Update, actor).await?;
        let change = Change::new("resource.update", "resource", updated.id)
            .before(&audit_view(&previous, state, existing.revision))
            .after(&audit_view(&prepared.snapshot, next_state, revision));
        let row = query_rows(txn, Some(updated.id), 0).await?.remove(0);
        Ok((row, Some(change)))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(value)
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
    audit::audited(db, actor, async |txn| {
        let model = resource_by_slug(txn, slug).await?;
        let (state, status) = (model.state, model.status);
        let (next_state, next_status) =
            transition(state, status, action).map_err(AppError::Conflict)?;
        let before =
            serde_json::json!({ "state": state, "status": status, "revision": model.revision });
        let change = if action == ResourceAction::Delete {
            let children = children_of(txn, model.id).await?;
            if !children.is_empty() {
                let names = slugs_of(txn, children).await?;
                return Err(AppError::Conflict(format!(
                    "{} is the parent of {}; delete those first",
                    model.slug,
                    names.join(", ")
                )));
            }
            let closing = crate::server::workspaces::close_then_delete(txn, &model, actor).await?;
            if closing.is_none() {
                resources::Entity::delete_by_id(model.id).exec(txn).await?;
            }
            Change::new("resource.delete", "resource", model.id)
                .before(&before)
                .after(&serde_json::json!({ "slug": model.slug, "closing_pull_request": closing }))
        } else {
            if action == ResourceAction::Destroy {
                refuse_with_live_children(txn, &model).await?;
            }
            let mut active: resources::ActiveModel = model.clone().into();
            active.state = Set(next_state);
            active.status = Set(next_status);
            active.updated_at = Set(chrono::Utc::now());
            let updated = active.update(txn).await?;
            if action == ResourceAction::Destroy {
                // Its code leaves the workspace through a delete pull request.
                crate::server::workspaces::enqueue_sync(txn, &updated, SyncKind::Delete, actor)
                    .await?;
            }
            let name = if action == ResourceAction::Destroy {
                "resource.destroy"
            } else {
                "resource.cancel_destroy"
            };
            Change::new(name, "resource", model.id)
                .before(&before)
                .after(&serde_json::json!({ "state": next_state, "status": next_status, "revision": model.revision }))
        };
        Ok(((), Some(change)))
    })
    .await
}

/// A parent is not destroyed while children built on its outputs still exist: they are named,
/// to be destroyed first.
async fn refuse_with_live_children<C: ConnectionTrait>(
    db: &C,
    parent: &resources::Model,
) -> AppResult<()> {
    let children = children_of(db, parent.id).await?;
    let live: Vec<i64> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(children))
        .filter(
            resources::Column::State.is_in([ResourceState::Provisioned, ResourceState::Destroy]),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    let names = slugs_of(db, live).await?;
    Err(AppError::Conflict(format!(
        "{} has provisioned children ({}): destroy them first",
        parent.slug,
        names.join(", ")
    )))
}

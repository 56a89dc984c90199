//! Recording a job's outcome: the resource's state, the workspace's status, pushes.

use super::*;

/// Records a workspace job's end: the job's status, and the resource's and workspace's.
pub async fn record(ctx: &AppCtx, worker: &str, performed: Performed) -> AppResult<()> {
    let Performed {
        job_id,
        resource_id,
        actor,
        outcome,
        result,
    } = performed;
    let txn = crate::server::begin_write(&ctx.db).await?;
    let status = jobs::finish(&txn, job_id, worker, &outcome).await?;
    match (status.as_str(), result) {
        (jobs::SUCCEEDED, Ok((context, done))) => record_done(&txn, &actor, context, done).await?,
        (jobs::FAILED, result) => {
            let message = outcome.error().unwrap_or_default().to_string();
            drop(result);
            record_failure(&txn, &actor, resource_id, &message).await?
        }
        // Queued again for a retry: statuses stay in progress until it ends.
        _ => {}
    }
    txn.commit().await?;
    Ok(())
}

pub(crate) async fn set_workspace_status<C: ConnectionTrait>(
    db: &C,
    workspace_id: i64,
    status: WorkspaceStatus,
    message: Option<String>,
) -> AppResult<()> {
    workspaces::Entity::update_many()
        .col_expr(
            workspaces::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .col_expr(
            workspaces::Column::StatusMessage,
            sea_orm::sea_query::Expr::value(message),
        )
        .col_expr(
            workspaces::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(workspaces::Column::Id.eq(workspace_id))
        .exec(db)
        .await?;
    Ok(())
}

pub(crate) async fn record_done<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    context: Context,
    done: Done,
) -> AppResult<()> {
    let Context {
        resource,
        member,
        workspace,
        ..
    } = context;
    let now = chrono::Utc::now();
    let state = ResourceState::parse(&resource.state).unwrap_or(ResourceState::Provision);
    let mut member_active: workspace_resources::ActiveModel = member.clone().into();
    let mut resource_active: resources::ActiveModel = resource.clone().into();
    resource_active.status = Set(ResourceStatus::Done.as_str().into());
    member_active.status = Set(WorkspaceStatus::Done.as_str().into());
    let mut remove_member = false;
    let mut remove_resource = false;
    let mut chained = false;
    let (action, after) = match done {
        Done::Synced {
            kind,
            branch,
            commit,
            revision,
            pull,
            title,
            body,
            merge,
        } => match pull {
            None => {
                // The code is already on the default branch: nothing to review, the state
                // settles as a merge would settle it.
                let settled = settle(state);
                resource_active.state = Set(settled.as_str().into());
                remove_member = settled == ResourceState::Destroyed;
                member_active.status_message =
                    Set(Some("the default branch already holds this code".into()));
                member_active.merged_commit = Set(Some(commit.clone()));
                member_active.merged_revision = Set(Some(revision));
                (
                    "workspace.sync",
                    serde_json::json!({ "branch": branch, "commit": commit, "pull_request": null }),
                )
            }
            Some(pull) => {
                let existing = pull_requests::Entity::find()
                    .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
                    .filter(pull_requests::Column::Number.eq(pull.number))
                    .one(db)
                    .await?;
                let row = match existing {
                    Some(existing) => {
                        let authors = with_author(pull_authors(&existing), &actor.label);
                        let mut active: pull_requests::ActiveModel = existing.into();
                        active.authors = Set(Some(authors));
                        active.revision = Set(Some(revision));
                        active.head_commit = Set(Some(commit.clone()));
                        active.resource_id = Set(Some(resource.id));
                        active.updated_at = Set(now);
                        active.update(db).await?
                    }
                    None => {
                        pull_requests::ActiveModel {
                            workspace_id: Set(workspace.id),
                            resource_id: Set(Some(resource.id)),
                            kind: Set(kind.as_str().into()),
                            number: Set(pull.number),
                            head_branch: Set(pull.head_branch.clone()),
                            base_branch: Set(pull.base_branch.clone()),
                            title: Set(title),
                            body: Set(body),
                            url: Set(pull.url.clone()),
                            state: Set(pull.state.as_str().into()),
                            head_commit: Set(Some(commit.clone())),
                            revision: Set(Some(revision)),
                            merge_commit: Set(None),
                            created_by: Set(actor.label.clone()),
                            authors: Set(Some(with_author(Vec::new(), &actor.label))),
                            created_at: Set(now),
                            updated_at: Set(now),
                            ..Default::default()
                        }
                        .insert(db)
                        .await?
                    }
                };
                if merge {
                    // Recreate: the merge follows at once, as the initiator's approval.
                    let job = enqueue_review(
                        db,
                        resource.id,
                        workspace.id,
                        row.id,
                        Some(commit.clone()),
                        false,
                        actor,
                    )
                    .await?;
                    chained = true;
                    resource_active.status = Set(ResourceStatus::InProgress.as_str().into());
                    member_active.status = Set(WorkspaceStatus::InProgress.as_str().into());
                    member_active.last_job_id = Set(Some(job.id));
                    member_active.status_message = Set(Some(format!(
                        "pull request #{} opened; merging it (recreate)",
                        pull.number
                    )));
                } else {
                    // Waiting for a person: the state's work is not done until the merge.
                    resource_active.status = Set(ResourceStatus::Ready.as_str().into());
                    member_active.status_message = Set(Some(format!(
                        "pull request #{} awaits approval",
                        pull.number
                    )));
                }
                (
                    "workspace.sync",
                    serde_json::json!({ "branch": branch, "commit": commit, "pull_request": pull.number }),
                )
            }
        },
        Done::Reviewed {
            pull_id,
            approve,
            pull,
            delete_resource,
        } => {
            remove_resource = delete_resource;
            let mut merged_revision = None;
            if let Some(row) = pull_requests::Entity::find_by_id(pull_id).one(db).await? {
                merged_revision = row.revision;
                let mut active: pull_requests::ActiveModel = row.into();
                active.state = Set(pull.state.as_str().into());
                active.merge_commit = Set(pull.merge_commit.clone());
                active.updated_at = Set(now);
                active.update(db).await?;
            }
            if approve {
                let settled = settle(state);
                resource_active.state = Set(settled.as_str().into());
                remove_member = settled == ResourceState::Destroyed;
                member_active.merged_commit = Set(pull.merge_commit.clone());
                member_active.merged_revision = Set(merged_revision);
                member_active.status_message =
                    Set(Some(format!("pull request #{} merged", pull.number)));
            } else {
                resource_active.status = Set(ResourceStatus::Ready.as_str().into());
                member_active.status_message =
                    Set(Some(format!("pull request #{} was rejected", pull.number)));
            }
            (
                if approve {
                    "workspace.merge"
                } else {
                    "workspace.close"
                },
                serde_json::json!({ "pull_request": pull.number, "state": pull.state.as_str(), "merge_commit": pull.merge_commit, "resource_deleted": remove_resource }),
            )
        }
    };
    resource_active.updated_at = Set(now);
    if remove_resource {
        // Its folder and pull request records go with it (cascade, set null).
        resources::Entity::delete_by_id(resource.id)
            .exec(db)
            .await?;
    } else {
        resource_active.update(db).await?;
        if remove_member {
            // Destroyed: the folder is gone from the default branch; the name is free again.
            workspace_resources::Entity::delete_by_id(member.resource_id)
                .exec(db)
                .await?;
        } else {
            member_active.update(db).await?;
        }
    }
    if !chained {
        set_workspace_status(db, workspace.id, WorkspaceStatus::Done, None).await?;
    }
    audit::record(
        db,
        actor,
        Change::new(action, "resource", resource.id).after(&after),
    )
    .await?;
    Ok(())
}

/// The state a merged change leaves: provisioned after provisioning, destroyed after
/// destroying.
pub(crate) fn settle(state: ResourceState) -> ResourceState {
    match state {
        ResourceState::Provision | ResourceState::Provisioned => ResourceState::Provisioned,
        ResourceState::Destroy | ResourceState::Destroyed => ResourceState::Destroyed,
    }
}

pub(crate) async fn record_failure<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    resource_id: i64,
    message: &str,
) -> AppResult<()> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut active: workspace_resources::ActiveModel = member.clone().into();
    active.status = Set(WorkspaceStatus::Error.as_str().into());
    active.status_message = Set(Some(message.to_string()));
    active.update(db).await?;
    if let Some(resource) = resources::Entity::find_by_id(resource_id).one(db).await? {
        let mut active: resources::ActiveModel = resource.into();
        active.status = Set(ResourceStatus::Error.as_str().into());
        active.updated_at = Set(chrono::Utc::now());
        active.update(db).await?;
    }
    set_workspace_status(
        db,
        member.workspace_id,
        WorkspaceStatus::Error,
        Some(message.to_string()),
    )
    .await?;
    audit::record(
        db,
        actor,
        Change::new("workspace.job_failed", "resource", resource_id)
            .after(&serde_json::json!({ "error": message })),
    )
    .await?;
    Ok(())
}

/// Records a push over smart HTTP: the refs it changed, before and after (`None`: absent).
pub async fn record_push(
    db: &DatabaseConnection,
    actor: &Actor,
    repository: &str,
    changed: &BTreeMap<String, (Option<String>, Option<String>)>,
) -> AppResult<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let before: BTreeMap<_, _> = changed.iter().map(|(r, (b, _))| (r, b)).collect();
    let after: BTreeMap<_, _> = changed.iter().map(|(r, (_, a))| (r, a)).collect();
    let txn = crate::server::begin_write(db).await?;
    audit::record(
        &txn,
        actor,
        Change::new("forge.push", "workspace", repository)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

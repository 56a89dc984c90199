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
    match (status, result) {
        (JobStatus::Succeeded, Ok((context, done))) => {
            record_done(&txn, &actor, context, done).await?
        }
        (JobStatus::Failed, result) => {
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
            sea_orm::sea_query::Expr::value(status),
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

/// How a finished sync or review leaves the resource and its place in the workspace.
enum Ending {
    /// The change is on the default branch: the state settles (provisioned, or destroyed and
    /// the folder's name free again), with the commit and revision that carried it.
    Settled {
        commit: Option<String>,
        revision: Option<i32>,
        message: String,
    },
    /// A pull request waits for a person (or was rejected): ready, the state unchanged.
    Waiting { message: String },
    /// Recreate: the merge follows at once, as a chained review job.
    Chained { job: i64, message: String },
    /// A pull request opened or updated: its plan runs before anyone may approve it.
    Planning { job: i64, message: String },
    /// The change is merged: the approved plan is applied next; the state settles when it is.
    Applying {
        commit: Option<String>,
        revision: Option<i32>,
        job: i64,
        message: String,
    },
    /// The review deleted the resource itself.
    Deleted,
}

/// Records what a workspace job did: the pull request row, the resource's state and status,
/// its membership in the workspace, the workspace's status, and the audit event.
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
    let (ending, action, after) = match done {
        Done::Synced {
            branch,
            commit,
            revision,
            pull: None,
            ..
        } => {
            // The code is already on the default branch: nothing to review, the state settles
            // as a merge would settle it.
            let after =
                serde_json::json!({ "branch": branch, "commit": commit, "pull_request": null });
            let ending = Ending::Settled {
                commit: Some(commit),
                revision: Some(revision),
                message: "the default branch already holds this code".into(),
            };
            (ending, "workspace.sync", after)
        }
        Done::Synced {
            kind,
            branch,
            commit,
            revision,
            pull: Some(pull),
            title,
            body,
            merge,
        } => {
            let after = serde_json::json!({ "branch": branch, "commit": commit, "pull_request": pull.number });
            let opened = OpenedPull {
                kind,
                commit: &commit,
                revision,
                pull: &pull,
                title,
                body,
            };
            let ending = opened
                .record(db, actor, &resource, &member, &workspace, merge)
                .await?;
            (ending, "workspace.sync", after)
        }
        Done::Reviewed {
            pull_id,
            approve,
            plan_id,
            pull,
            delete_resource,
        } => {
            let after = serde_json::json!({ "pull_request": pull.number, "state": pull.state.as_str(), "merge_commit": pull.merge_commit, "resource_deleted": delete_resource, "plan": plan_id });
            let mut ending = reviewed(db, pull_id, approve, &pull, delete_resource).await?;
            if let (
                Some(plan_id),
                Ending::Settled {
                    commit, revision, ..
                },
            ) = (plan_id, &ending)
            {
                let job = crate::server::plans::enqueue_apply(db, plan_id, &member).await?;
                ending = Ending::Applying {
                    commit: commit.clone(),
                    revision: *revision,
                    job: job.id,
                    message: format!(
                        "pull request #{} merged; applying plan #{plan_id}",
                        pull.number
                    ),
                };
            }
            let action = if approve {
                "workspace.merge"
            } else {
                "workspace.close"
            };
            (ending, action, after)
        }
    };
    let chained = matches!(ending, Ending::Chained { .. });
    let member = workspace_resources::Entity::find_by_id(member.resource_id)
        .one(db)
        .await?
        .unwrap_or(member);
    end_resource(db, resource.clone(), member, ending).await?;
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

/// A review's outcome on its pull request row, and how it leaves the resource: merged (the
/// state settles at the revision the pull request carried), rejected, or the resource deleted.
async fn reviewed<C: ConnectionTrait>(
    db: &C,
    pull_id: i64,
    approve: bool,
    pull: &ForgePull,
    delete_resource: bool,
) -> AppResult<Ending> {
    let mut merged_revision = None;
    if let Some(row) = pull_requests::Entity::find_by_id(pull_id).one(db).await? {
        merged_revision = row.revision;
        let mut active: pull_requests::ActiveModel = row.into();
        active.state = Set(pull.state);
        active.merge_commit = Set(pull.merge_commit.clone());
        active.updated_at = Set(chrono::Utc::now());
        active.update(db).await?;
    }
    Ok(match (delete_resource, approve) {
        (true, _) => Ending::Deleted,
        (false, true) => Ending::Settled {
            commit: pull.merge_commit.clone(),
            revision: merged_revision,
            message: format!("pull request #{} merged", pull.number),
        },
        (false, false) => Ending::Waiting {
            message: format!("pull request #{} was rejected", pull.number),
        },
    })
}

/// A pull request the sync opened (or found open) for the resource's change.
struct OpenedPull<'a> {
    kind: SyncKind,
    commit: &'a str,
    revision: i32,
    pull: &'a ForgePull,
    title: String,
    body: String,
}

impl OpenedPull<'_> {
    /// Keeps the pull request's row, and says what follows: a person's review, or (recreate)
    /// the merge at once as a chained review job.
    async fn record<C: ConnectionTrait>(
        self,
        db: &C,
        actor: &Actor,
        resource: &resources::Model,
        member: &workspace_resources::Model,
        workspace: &workspaces::Model,
        merge: bool,
    ) -> AppResult<Ending> {
        let number = self.pull.number;
        let commit = self.commit.to_string();
        let kind = self.kind;
        let row = self.upsert(db, actor, resource, workspace).await?;
        if !merge {
            // A destroy plans the folder as it was last merged: the delete branch has none.
            let code_commit = match kind {
                SyncKind::Update => commit.clone(),
                SyncKind::Delete => member.merged_commit.clone().unwrap_or(commit.clone()),
            };
            let order = crate::server::plans::PlanOrder {
                resource,
                member,
                pull_id: Some(row.id),
                mode: kind,
                commit,
                code_commit,
            };
            let plan = crate::server::plans::enqueue_plan(db, order, actor).await?;
            return Ok(Ending::Planning {
                job: plan.job_id,
                message: format!(
                    "pull request #{number} opened; planning it (plan #{})",
                    plan.id
                ),
            });
        }
        let order = ReviewOrder {
            resource_id: resource.id,
            workspace_id: workspace.id,
            pull_id: row.id,
            merge: Some(commit),
            plan_id: None,
            delete_resource: false,
        };
        let job = enqueue_review(db, order, actor).await?;
        Ok(Ending::Chained {
            job: job.id,
            message: format!("pull request #{number} opened; merging it (recreate)"),
        })
    }

    /// The pull request's row: made, or brought to this commit and revision with the actor
    /// among its authors (the authors may not approve it).
    async fn upsert<C: ConnectionTrait>(
        self,
        db: &C,
        actor: &Actor,
        resource: &resources::Model,
        workspace: &workspaces::Model,
    ) -> AppResult<pull_requests::Model> {
        let now = chrono::Utc::now();
        let existing = pull_requests::Entity::find()
            .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
            .filter(pull_requests::Column::Number.eq(self.pull.number))
            .one(db)
            .await?;
        Ok(match existing {
            Some(existing) => {
                let authors = with_author(pull_authors(&existing), &actor.label);
                let mut active: pull_requests::ActiveModel = existing.into();
                active.authors = Set(Some(authors));
                active.revision = Set(Some(self.revision));
                active.head_commit = Set(Some(self.commit.to_string()));
                active.resource_id = Set(Some(resource.id));
                active.updated_at = Set(now);
                active.update(db).await?
            }
            None => {
                pull_requests::ActiveModel {
                    workspace_id: Set(workspace.id),
                    resource_id: Set(Some(resource.id)),
                    kind: Set(self.kind),
                    number: Set(self.pull.number),
                    head_branch: Set(self.pull.head_branch.clone()),
                    base_branch: Set(self.pull.base_branch.clone()),
                    title: Set(self.title),
                    body: Set(self.body),
                    url: Set(self.pull.url.clone()),
                    state: Set(self.pull.state),
                    head_commit: Set(Some(self.commit.to_string())),
                    revision: Set(Some(self.revision)),
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
        })
    }
}

/// Writes the resource and its workspace membership as the ending leaves them.
async fn end_resource<C: ConnectionTrait>(
    db: &C,
    resource: resources::Model,
    member: workspace_resources::Model,
    ending: Ending,
) -> AppResult<()> {
    let now = chrono::Utc::now();
    let state = resource.state;
    let resource_id = resource.id;
    let mut resource_active: resources::ActiveModel = resource.into();
    resource_active.updated_at = Set(now);
    let mut member_active: workspace_resources::ActiveModel = member.clone().into();
    match ending {
        Ending::Deleted => {
            // Its folder and pull request records go with it (cascade, set null).
            resources::Entity::delete_by_id(resource_id)
                .exec(db)
                .await?;
            return Ok(());
        }
        Ending::Settled {
            commit,
            revision,
            message,
        } => {
            let settled = settle(state);
            resource_active.state = Set(settled);
            resource_active.status = Set(ResourceStatus::Done);
            resource_active.update(db).await?;
            if settled == ResourceState::Destroyed {
                // Destroyed: the folder is gone from the default branch; the name is free again.
                workspace_resources::Entity::delete_by_id(member.resource_id)
                    .exec(db)
                    .await?;
                return Ok(());
            }
            member_active.status = Set(WorkspaceStatus::Done);
            member_active.status_message = Set(Some(message));
            member_active.merged_commit = Set(commit);
            member_active.merged_revision = Set(revision);
        }
        Ending::Waiting { message } => {
            resource_active.status = Set(ResourceStatus::Ready);
            resource_active.update(db).await?;
            member_active.status = Set(WorkspaceStatus::Done);
            member_active.status_message = Set(Some(message));
        }
        Ending::Chained { job, message } => {
            resource_active.status = Set(ResourceStatus::InProgress);
            resource_active.update(db).await?;
            member_active.status = Set(WorkspaceStatus::InProgress);
            member_active.last_job_id = Set(Some(job));
            member_active.status_message = Set(Some(message));
        }
        Ending::Planning { job, message } => {
            // In progress until the plan is shown: nobody approves what is not planned yet.
            resource_active.status = Set(ResourceStatus::InProgress);
            resource_active.update(db).await?;
            member_active.status = Set(WorkspaceStatus::InProgress);
            member_active.last_job_id = Set(Some(job));
            member_active.status_message = Set(Some(message));
        }
        Ending::Applying {
            commit,
            revision,
            job,
            message,
        } => {
            resource_active.status = Set(ResourceStatus::InProgress);
            resource_active.update(db).await?;
            member_active.status = Set(WorkspaceStatus::InProgress);
            member_active.last_job_id = Set(Some(job));
            member_active.status_message = Set(Some(message));
            member_active.merged_commit = Set(commit);
            member_active.merged_revision = Set(revision);
        }
    }
    member_active.update(db).await?;
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
    active.status = Set(WorkspaceStatus::Error);
    active.status_message = Set(Some(message.to_string()));
    active.update(db).await?;
    if let Some(resource) = resources::Entity::find_by_id(resource_id).one(db).await? {
        let mut active: resources::ActiveModel = resource.into();
        active.status = Set(ResourceStatus::Error);
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
    audit::event(
        db,
        actor,
        Change::new("forge.push", "workspace", repository)
            .before(&before)
            .after(&after),
    )
    .await
}

//! The sync and review jobs: writing a resource's code into its workspace through a pull request.

use super::*;

/// What a job did at the forge, recorded when it ends.
pub(crate) enum Done {
    Synced {
        kind: SyncKind,
        branch: String,
        commit: String,
        /// The resource revision the code renders.
        revision: i32,
        /// None: the default branch already held exactly this code.
        pull: Option<ForgePull>,
        title: String,
        body: String,
        /// Merge it next (recreate).
        merge: bool,
    },
    Reviewed {
        pull_id: i64,
        approve: bool,
        /// The plan the approval covered: applied now that the change is merged.
        plan_id: Option<i64>,
        pull: ForgePull,
        delete_resource: bool,
    },
}

/// Everything a job needs about its resource and workspace.
pub(crate) struct Context {
    pub(crate) resource: resources::Model,
    pub(crate) member: workspace_resources::Model,
    pub(crate) workspace: workspaces::Model,
    pub(crate) config: RepoConfig,
    pub(crate) repo: ForgeRepo,
    pub(crate) template_key: String,
}

pub(crate) async fn job_context(ctx: &AppCtx, resource_id: i64) -> Result<Context, ExternalError> {
    let gone = |what: &str| ExternalError::permanent(format!("{what} no longer exists"));
    let internal = |e: AppError| ExternalError::transient(e.to_string());
    let db = &ctx.db;
    let resource = resources::Entity::find_by_id(resource_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the resource"))?;
    let member = workspace_resources::Entity::find_by_id(resource_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the resource's workspace folder"))?;
    let workspace = workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .ok_or_else(|| gone("the workspace"))?;
    let (config, repo) = reach(ctx, db, &workspace).await.map_err(internal)?;
    let template_key = templates::Entity::find_by_id(resource.template_id)
        .one(db)
        .await
        .map_err(|e| internal(e.into()))?
        .map(|t| t.key)
        .unwrap_or_default();
    Ok(Context {
        resource,
        member,
        workspace,
        config,
        repo,
        template_key,
    })
}

pub(crate) async fn initiator(db: &DatabaseConnection, id: Option<i64>, label: &str) -> Initiator {
    let user = match id {
        Some(id) => users::Entity::find_by_id(id).one(db).await.ok().flatten(),
        None => None,
    };
    match user {
        Some(user) => Initiator {
            login: user.login.clone(),
            name: if user.name.is_empty() {
                user.login.clone()
            } else {
                user.name.clone()
            },
            email: user
                .email
                .clone()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| format!("{}@users.slipway.invalid", user.login)),
        },
        None => Initiator {
            login: label.to_string(),
            name: label.to_string(),
            email: "slipway@localhost".into(),
        },
    }
}

pub(crate) async fn sync(
    ctx: &AppCtx,
    payload: &SyncPayload,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(Context, Done), ExternalError> {
    let job = job_context(ctx, payload.resource_id).await?;
    let who = initiator(&ctx.db, payload.initiator_id, &payload.initiator).await;
    let files = match payload.kind {
        SyncKind::Update => Some(
            crate::server::resources::current_files(&ctx.db, job.resource.id)
                .await
                .map_err(|e| ExternalError::transient(e.to_string()))?,
        ),
        SyncKind::Delete => None,
    };
    let slug = &job.member.folder_slug;
    let branch = match payload.reconcile {
        true => crate::domain::workspaces::reconcile_branch(slug),
        false => branch_name(payload.kind, slug),
    };
    let revision = job.resource.revision;
    say(format!(
        "{} {}/ in {} on branch {branch}, cut from {}",
        match (payload.kind, payload.reconcile) {
            (_, true) => "reconciling (an empty commit: the code as it is, applied again)",
            (SyncKind::Update, false) => "writing",
            (SyncKind::Delete, false) => "removing",
        },
        job.member.folder,
        job.workspace.repository,
        job.config.default_branch
    ));
    let change = BranchChange {
        base: job.config.default_branch.clone(),
        branch: branch.clone(),
        edit: match payload.reconcile {
            true => TreeEdit::Nothing,
            false => TreeEdit::Folder {
                folder: job.member.folder.clone(),
                files,
            },
        },
        message: match payload.reconcile {
            true => crate::domain::workspaces::reconcile_commit_message(
                &job.template_key,
                slug,
                revision,
                &who,
            ),
            false => commit_message(payload.kind, &job.template_key, slug, revision, &who),
        },
        author_name: who.name.clone(),
        author_email: who.email.clone(),
    };
    let pushed = ctx
        .workspace_git
        .push_change(&job.repo, &job.config, &change)
        .await?;
    let (title, body) = match payload.reconcile {
        true => crate::domain::workspaces::reconcile_pull_request_text(
            &job.template_key,
            &job.member.folder_slug,
            &who,
        ),
        false => pull_request_text(
            payload.kind,
            &job.template_key,
            &job.member.folder_slug,
            revision,
            &who,
        ),
    };
    let pull = if pushed.differs {
        let short = &pushed.commit[..12.min(pushed.commit.len())];
        say(if pushed.pushed {
            format!("pushed {short} to {branch} (forced)")
        } else {
            format!("{branch} already holds this change at {short}; nothing pushed")
        });
        let new_pull = NewPull {
            head_branch: branch.clone(),
            base_branch: job.config.default_branch.clone(),
            title: title.clone(),
            body: body.clone(),
            author: who.login.clone(),
        };
        Some(open_pull(ctx, &job.repo, new_pull, say).await?)
    } else {
        say(format!(
            "{} already holds exactly this; there is nothing to review",
            job.config.default_branch
        ));
        None
    };
    let done = Done::Synced {
        kind: payload.kind,
        branch,
        commit: pushed.commit,
        revision,
        pull,
        title,
        body,
        merge: payload.merge,
    };
    Ok((job, done))
}

/// The branch's open pull request, or a new one: never a second for the same branch (a job
/// resumed after a crash finds the one it opened).
async fn open_pull(
    ctx: &AppCtx,
    repo: &ForgeRepo,
    new: NewPull,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<ForgePull, ExternalError> {
    if let Some(open) = ctx.forge.find_open_pull(repo, &new.head_branch).await? {
        say(format!(
            "pull request #{} is already open for {}; not opening another",
            open.number, new.head_branch
        ));
        return Ok(open);
    }
    let created = ctx.forge.create_pull(repo, &new).await?;
    say(format!(
        "opened pull request #{}: {}",
        created.number, created.url
    ));
    Ok(created)
}

pub(crate) async fn review_job(
    ctx: &AppCtx,
    payload: &ReviewPayload,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(Context, Done), ExternalError> {
    let job = job_context(ctx, payload.resource_id).await?;
    let pull = pull_requests::Entity::find_by_id(payload.pull_id)
        .one(&ctx.db)
        .await
        .map_err(|e| ExternalError::transient(e.to_string()))?
        .ok_or_else(|| ExternalError::permanent("the pull request record no longer exists"))?;
    let result = if payload.approve {
        say(format!(
            "merging pull request #{} ({} into {})",
            pull.number, pull.head_branch, pull.base_branch
        ));
        let message = format!(
            "Merge pull request #{} from {}\n\n{}\n\nApproved in Slipway by {}.\n",
            pull.number, pull.head_branch, pull.title, payload.initiator
        );
        // Exactly the commit approved, or nothing (a review queued before approvals named
        // their commit merges nothing: it is reviewed again).
        let approved = payload.commit.as_deref().ok_or_else(|| {
            ExternalError::permanent(
                "this approval names no commit; approve the pull request again from its page",
            )
        })?;
        ctx.forge
            .merge_pull(&job.repo, pull.number, &message, approved)
            .await?
    } else {
        say(format!(
            "closing pull request #{} without merging{}",
            pull.number,
            if payload.delete_resource {
                "; the resource is deleted once it is closed"
            } else {
                ""
            }
        ));
        ctx.forge.close_pull(&job.repo, pull.number).await?
    };
    say(format!(
        "pull request #{} is {}",
        result.number,
        result.state.as_str()
    ));
    Ok((
        job,
        Done::Reviewed {
            pull_id: pull.id,
            approve: payload.approve,
            plan_id: payload.plan_id,
            pull: result,
            delete_resource: payload.delete_resource,
        },
    ))
}

/// Performs one attempt of a workspace job and records its end: what it did, the statuses,
/// the audit event and the job's own row, in one transaction.
/// What a workspace job did, to be recorded by [`record`] once its log is written (so a page
/// that shows the job's end also shows every line that led to it).
pub struct Performed {
    pub(crate) job_id: i64,
    pub(crate) resource_id: i64,
    pub(crate) actor: Actor,
    pub(crate) outcome: Outcome,
    pub(crate) result: Result<(Context, Done), ExternalError>,
}

pub async fn perform(
    ctx: &AppCtx,
    job: &job_rows::Model,
    say: &(dyn Fn(String) + Send + Sync),
) -> AppResult<Performed> {
    let (resource_id, initiator_id, initiator_label, result) = match job.kind.as_str() {
        SYNC_JOB => {
            let payload = jobs::payload_of::<SyncJob>(job).map_err(AppError::internal)?;
            let result = sync(ctx, &payload, say).await;
            (
                payload.resource_id,
                payload.initiator_id,
                payload.initiator,
                result,
            )
        }
        REVIEW_JOB => {
            let payload = jobs::payload_of::<ReviewJob>(job).map_err(AppError::internal)?;
            let result = review_job(ctx, &payload, say).await;
            (
                payload.resource_id,
                payload.initiator_id,
                payload.initiator,
                result,
            )
        }
        other => return Err(AppError::internal(format!("not a workspace job: {other}"))),
    };
    let actor = Actor {
        user_id: initiator_id,
        label: initiator_label,
    };
    let outcome = match &result {
        Ok(_) => Outcome::Succeeded,
        Err(e) => Outcome::of_error(e),
    };
    if let Some(message) = outcome.error() {
        say(format!("failed: {message}"));
    }
    Ok(Performed {
        job_id: job.id,
        resource_id,
        actor,
        outcome,
        result,
    })
}

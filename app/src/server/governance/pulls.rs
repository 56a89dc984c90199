//! Pull requests of governed repositories on the local forge: opened, approved, and merged only when Merge Authorized passes.

use super::*;

/// The strategy in force on the local forge: the applied revision's.
/// The governed repository `repository` (`org/name`) is on the local forge, with the strategy
/// in force there (None before one is applied); None when it is not one.
pub async fn local_governed<C: ConnectionTrait>(
    db: &C,
    repository: &str,
) -> AppResult<Option<(String, Option<Strategy>)>> {
    let Some((_, name)) = repository.split_once('/') else {
        return Ok(None);
    };
    let t = match target(db, name).await {
        Ok(t) => t,
        Err(AppError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    if t.github.is_some() || t.forge != repository {
        return Ok(None);
    }
    let strategy = strategy_in_force(db, &t).await?;
    Ok(Some((t.model.name, strategy)))
}

pub(crate) async fn pull_model<C: ConnectionTrait>(
    db: &C,
    repository: &str,
    number: i64,
) -> AppResult<local_pulls::Model> {
    local_pulls::Entity::find()
        .filter(local_pulls::Column::Repository.eq(repository))
        .filter(local_pulls::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Pull request #{number} of {repository}")))
}

/// Who approved `head` of the pull request: an approval of an earlier commit does not count
/// for a later one.
pub(crate) async fn approvers<C: ConnectionTrait>(
    db: &C,
    repository: &str,
    number: i64,
    head: &str,
) -> AppResult<Vec<String>> {
    Ok(local_pull_reviews::Entity::find()
        .filter(local_pull_reviews::Column::Repository.eq(repository))
        .filter(local_pull_reviews::Column::Number.eq(number))
        .filter(local_pull_reviews::Column::Commit.eq(head))
        .order_by_asc(local_pull_reviews::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.reviewer)
        .collect())
}

/// A pull request with the verdict Merge Authorized gives it now (for `method`, when known).
pub(crate) async fn assess(
    ctx: &AppCtx,
    t: &Target,
    row: &local_pulls::Model,
    managed: bool,
    method: Option<MergeMethod>,
) -> AppResult<GovernedPull> {
    let open = row.state == PullState::Open;
    let head = if open {
        ctx.local_git
            .head(&row.repository, &row.head_branch)
            .await?
    } else {
        row.head_commit.clone()
    };
    let approvals = match &head {
        Some(head) => approvers(&ctx.db, &row.repository, row.number, head).await?,
        None => Vec::new(),
    };
    let (commits, files) = brought(ctx, row, open, head.as_deref()).await?;
    let strategy = if managed {
        None
    } else {
        strategy_in_force(&ctx.db, t).await?
    };
    let too_many = commits.len() > crate::server::ports::MAX_PULL_COMMITS;
    let verdict = match (strategy, open) {
        (Some(strategy), true) => Some(authorize(
            strategy,
            &PullRequestFacts {
                source: row.head_branch.clone(),
                target: row.base_branch.clone(),
                title: row.title.clone(),
                commits: commits.clone(),
                author: row.author.clone(),
                approvers: approvals.clone(),
                method,
            },
        )),
        _ => None,
    };
    let verdict = verdict.map(|mut v| {
        if too_many {
            v.checks.push(too_many_commits());
        }
        v
    });
    let allowed = strategy
        .and_then(|s| policy_for(s, &row.base_branch))
        .map_or(MergeMethod::ALL.to_vec(), |p| p.methods);
    // The managed-workflows repository has no strategy of its own: what merges there runs in
    // every governed repository's CI, so someone other than its author must approve it (the API
    // lets only platform admins approve there).
    let verdict = match (managed && open, verdict) {
        // Merged: the verdict it passed, as recorded then.
        (false, None) if row.state == PullState::Merged => row
            .merge_verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok()),
        (true, _) => Some(managed_verdict(&approvals, &row.author)),
        (false, verdict) => verdict,
    };
    Ok(GovernedPull {
        row: pull_row(row),
        head_commit: head,
        approvals,
        commits: commits
            .into_iter()
            .map(|(id, message)| {
                (
                    id.chars().take(7).collect(),
                    message.lines().next().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        strategy,
        verdict,
        methods: allowed
            .into_iter()
            .filter(|m| *m != MergeMethod::Rebase)
            .collect(),
        merge_commit: row.merge_commit.clone(),
        files,
        merged_by: row.merged_by.clone(),
        merged_at: row.merged_at.as_ref().map(when),
        merge_method: row.merge_method.clone(),
        can_review: false,
        is_author: false,
    })
}

/// The commits and file changes a pull request brings: while open, what the head brings over the
/// base branch; once merged, over the base as it was before the merge (the branches have moved
/// on since).
async fn brought(
    ctx: &AppCtx,
    row: &local_pulls::Model,
    open: bool,
    head: Option<&str>,
) -> AppResult<(Vec<(String, String)>, crate::domain::resources::FileChanges)> {
    let range = match (open, head) {
        (true, Some(head)) => Some((row.base_branch.clone(), head.to_string())),
        (false, Some(head)) => row.base_commit.clone().map(|base| (base, head.to_string())),
        (_, None) => None,
    };
    Ok(match &range {
        Some((base, head)) => (
            ctx.local_git.commits(&row.repository, base, head).await?,
            ctx.local_git.changes(&row.repository, base, head).await?,
        ),
        None => Default::default(),
    })
}

/// The failed check of a pull request with more commits than one check reads.
fn too_many_commits() -> crate::domain::branching::Check {
    crate::domain::branching::Check {
        rule: crate::domain::branching::Rule::CommitMessages,
        passed: false,
        detail: format!(
            "more than {} commits: too many to check in one pull request; split it",
            crate::server::ports::MAX_PULL_COMMITS
        ),
    }
}

/// The managed-workflows repository's verdict: what merges there runs in every governed
/// repository's CI, so someone other than its author must approve it.
fn managed_verdict(approvals: &[String], author: &str) -> crate::domain::branching::Verdict {
    let approved = approvals.iter().any(|a| a != author);
    crate::domain::branching::Verdict {
        checks: vec![crate::domain::branching::Check {
            rule: crate::domain::branching::Rule::Approvals,
            passed: approved,
            detail: if approved {
                format!("approved by {}", approvals.join(", "))
            } else {
                "the managed workflows run in every governed repository: a platform admin other than its author must approve this commit".into()
            },
        }],
    }
}

pub async fn pull(ctx: &AppCtx, name: &str, number: i64, managed: bool) -> AppResult<GovernedPull> {
    let t = target(&ctx.db, name).await?;
    local_only(&t)?;
    let repository = if managed { &t.managed } else { &t.forge };
    let row = pull_model(&ctx.db, repository, number).await?;
    assess(ctx, &t, &row, managed, None).await
}

pub async fn open_pull(
    ctx: &AppCtx,
    actor: &Actor,
    name: &str,
    head: &str,
    base: &str,
    title: &str,
) -> AppResult<GovernedPullRow> {
    use crate::domain::resource_code::validate_git_ref;
    validate_git_ref(head).map_err(|m| AppError::invalid("head", m))?;
    validate_git_ref(base).map_err(|m| AppError::invalid("base", m))?;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 256 || title.contains('\n') {
        return Err(AppError::invalid(
            "title",
            "a title is one line of 1 to 256 characters",
        ));
    }
    if head == base {
        return Err(AppError::invalid(
            "head",
            "a pull request merges one branch into another",
        ));
    }
    let t = target(&ctx.db, name).await?;
    local_only(&t)?;
    let pull = ctx
        .forge
        .create_pull(
            &local(&t.forge),
            &NewPull {
                head_branch: head.into(),
                base_branch: base.into(),
                title: title.into(),
                body: String::new(),
                author: actor.label.clone(),
            },
        )
        .await
        .map_err(|e| AppError::invalid("head", e.message))?;
    let row = pull_model(&ctx.db, &t.forge, pull.number).await?;
    let opened = pull_row(&row);
    let change = Change::new("pull_request.open", "repository", name).after(&opened);
    audit::event(&ctx.db, actor, change).await?;
    Ok(opened)
}

/// Approves `commit`, the head the reviewer saw: a commit pushed later needs its own approval.
pub async fn approve(
    ctx: &AppCtx,
    actor: &Actor,
    name: &str,
    number: i64,
    managed: bool,
    commit: &str,
) -> AppResult<()> {
    let t = target(&ctx.db, name).await?;
    local_only(&t)?;
    let repository = if managed { &t.managed } else { &t.forge };
    audit::audited(&ctx.db, actor, async |txn| {
        let row = pull_model(txn, repository, number).await?;
        if row.state != PullState::Open {
            return Err(AppError::Conflict(format!(
                "Pull request #{number} is {}: there is nothing to approve.",
                row.state
            )));
        }
        if row.author == actor.label {
            return Err(AppError::Conflict(format!(
                "You opened pull request #{number}: someone else must approve it."
            )));
        }
        let head = ctx
            .local_git
            .head(repository, &row.head_branch)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "The branch {} of pull request #{number} is gone.",
                    row.head_branch
                ))
            })?;
        crate::server::workspaces::still_the_head(number, &head, commit)?;
        if approvers(txn, repository, number, &head)
            .await?
            .contains(&actor.label)
        {
            return Ok(((), None));
        }
        // One review per person: an approval of an earlier commit is moved to this one.
        let earlier = local_pull_reviews::Entity::find()
            .filter(local_pull_reviews::Column::Repository.eq(repository.as_str()))
            .filter(local_pull_reviews::Column::Number.eq(number))
            .filter(local_pull_reviews::Column::Reviewer.eq(actor.label.as_str()))
            .one(txn)
            .await?;
        match earlier {
            Some(review) => {
                let mut active: local_pull_reviews::ActiveModel = review.into();
                active.commit = Set(Some(head.clone()));
                active.created_at = Set(chrono::Utc::now());
                active.update(txn).await?;
            }
            None => {
                local_pull_reviews::ActiveModel {
                    repository: Set(repository.clone()),
                    number: Set(number),
                    reviewer: Set(actor.label.clone()),
                    commit: Set(Some(head.clone())),
                    created_at: Set(chrono::Utc::now()),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
        let change = Change::new("pull_request.approve", "repository", name).after(
            &serde_json::json!({ "repository": repository, "number": number, "commit": head }),
        );
        Ok(((), Some(change)))
    })
    .await
}

/// Why Merge Authorized refuses the pull request, if it does: every failing rule.
fn refusal(number: i64, verdict: &crate::domain::branching::Verdict) -> Option<AppError> {
    if verdict.allowed() {
        return None;
    }
    let reasons: Vec<String> = verdict.failures().map(|c| c.detail.clone()).collect();
    Some(AppError::Conflict(format!(
        "Merge Authorized refuses pull request #{number}: {}",
        reasons.join("; ")
    )))
}

/// The merge commit's message: a squash carries the pull request's title and body, a merge
/// names the pull request and its branch.
fn merge_message(row: &local_pulls::Model, method: MergeMethod) -> String {
    let number = row.number;
    match method {
        MergeMethod::Squash => format!("{} (#{number})\n\n{}", row.title, row.body)
            .trim_end()
            .to_string(),
        _ => format!(
            "Merge pull request #{number} from {}\n\n{}",
            row.head_branch, row.title
        ),
    }
}

/// Merges when Merge Authorized passes for `method`; otherwise refuses with every failing
/// rule's reason and changes nothing.
pub async fn merge(
    ctx: &AppCtx,
    actor: &Actor,
    name: &str,
    number: i64,
    managed: bool,
    method: MergeMethod,
) -> AppResult<()> {
    let t = target(&ctx.db, name).await?;
    local_only(&t)?;
    let repository = if managed {
        t.managed.clone()
    } else {
        t.forge.clone()
    };
    let row = pull_model(&ctx.db, &repository, number).await?;
    if row.state != PullState::Open {
        return Err(AppError::Conflict(format!(
            "Pull request #{number} is {}.",
            row.state
        )));
    }
    let assessed = assess(ctx, &t, &row, managed, Some(method)).await?;
    if let Some(refused) = assessed.verdict.as_ref().and_then(|v| refusal(number, v)) {
        return Err(refused);
    }
    let message = merge_message(&row, method);
    // Exactly the commit assessed (and approved) is merged: a push since is refused.
    let assessed_head = assessed.head_commit.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "The branch {} of pull request #{number} is gone.",
            row.head_branch
        ))
    })?;
    let (base, head, merged) = ctx
        .local_git
        .merge(
            &repository,
            &row.base_branch,
            &row.head_branch,
            method,
            &message,
            (number, &assessed_head),
        )
        .await
        .map_err(|e| AppError::Conflict(e.message))?;
    audit::audited(&ctx.db, actor, async |txn| {
        let current = pull_model(txn, &repository, number).await?;
        if current.state != PullState::Open {
            // Merged by someone else meanwhile: theirs is the record.
            return Ok(((), None));
        }
        let mut active: local_pulls::ActiveModel = current.into();
        active.state = Set(PullState::Merged);
        active.base_commit = Set(Some(base));
        active.head_commit = Set(Some(head));
        active.merge_commit = Set(Some(merged.clone()));
        let now = chrono::Utc::now();
        active.updated_at = Set(now);
        active.merged_by = Set(Some(actor.label.clone()));
        active.merged_at = Set(Some(now));
        active.merge_method = Set(Some(method.as_str().into()));
        active.merge_verdict = Set(assessed
            .verdict
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string()))?);
        active.update(txn).await?;
        let change =
            Change::new("pull_request.merge", "repository", name).after(&serde_json::json!({
                "repository": repository,
                "number": number,
                "method": method.as_str(),
                "merge_commit": merged,
            }));
        Ok(((), Some(change)))
    })
    .await
}

/// Who reviews (approves, merges) a governed pull request: approve on the repository; in the
/// managed-workflows repository, whose workflows every governed repository's CI runs,
/// administer on repositories (platform admins).
pub fn reviewer_needs(
    name: &str,
    managed: bool,
) -> (
    crate::domain::rbac::Action,
    crate::domain::rbac::ResourceRef,
) {
    use crate::domain::rbac::{Action, EntityType, ResourceRef};
    if managed {
        (
            Action::Administer,
            ResourceRef::of_type(EntityType::Repository),
        )
    } else {
        (
            Action::Approve,
            ResourceRef::entity(EntityType::Repository, name.trim().to_string()),
        )
    }
}

/// The open pull requests of the governed repositories on the local forge, each with its
/// repository's name and whether it is in the managed-workflows repository (from that
/// repository's provisioning branch), oldest first.
pub async fn open_local_pulls<C: ConnectionTrait>(
    db: &C,
) -> AppResult<Vec<(String, bool, local_pulls::Model)>> {
    let mut open = Vec::new();
    for model in repositories::Entity::find()
        .order_by_asc(repositories::Column::Name)
        .all(db)
        .await?
    {
        let t = match target(db, &model.name).await {
            Ok(t) => t,
            // A repository whose stored manifests no longer load has no pulls to offer.
            Err(AppError::Internal(_)) => continue,
            Err(other) => return Err(other),
        };
        if t.github.is_some() {
            continue;
        }
        let rows = local_pulls::Entity::find()
            .filter(local_pulls::Column::State.eq(PullState::Open))
            .filter(super::provisioning::local_pulls_of(&t))
            .order_by_asc(local_pulls::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            let managed = row.repository == t.managed;
            open.push((t.model.name.clone(), managed, row));
        }
    }
    Ok(open)
}

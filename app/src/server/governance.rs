//! Governed repositories on the local forge: provisioning the reviewed way (a pull request with
//! the generated files on the repository and one on the managed-workflows repository, the
//! rulesets stored as applied), and the Merge Authorized gate Slipway enforces itself before it
//! merges a pull request there. A repository `NAME` whose manifests name organisation `ORG`
//! (`github-connection`, else `local`) is the local forge's `ORG/NAME`.

use super::audit::{self, Change};
use super::entities::{local_pull_reviews, local_pulls, repositories, repository_revisions};
use super::ports::{ForgeRepo, NewPull, PullState};
use super::{begin_write, when, Actor, AppCtx};
use crate::api::repositories::{GovernedPull, GovernedPullRow, PlannedFile, ProvisionView};
use crate::domain::branching::{authorize, policy_for, MergeMethod, PullRequestFacts};
use crate::domain::integrations::Provider;
use crate::domain::repositories::{
    parse_source, RepositoryManifests, RulesetPlan, MANAGED_REPOSITORY,
};
use crate::domain::resources::{diff_lines, DiffLine};
use crate::domain::versioning::Strategy;
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// The branch provisioning pull requests come from: a conventional-commit branch, so the
/// strategy's own gate accepts it like any other change.
pub const PROVISION_BRANCH: &str = "chore/slipway-provision";

struct Target {
    model: repositories::Model,
    manifests: RepositoryManifests,
    forge: String,
    managed: String,
}

async fn target<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<Target> {
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Repository {name}")))?;
    let manifests = parse_source(&model.source)
        .map_err(|_| AppError::internal(format!("stored manifests of {name} no longer load")))?;
    let org = manifests.org().to_string();
    Ok(Target {
        forge: format!("{org}/{}", model.name),
        managed: format!("{org}/{MANAGED_REPOSITORY}"),
        model,
        manifests,
    })
}

fn local(repository: &str) -> ForgeRepo {
    ForgeRepo {
        provider: Provider::LocalGit,
        repository: repository.to_string(),
        settings: Default::default(),
        secrets: Default::default(),
    }
}

fn applied_rulesets(model: &repositories::Model) -> Vec<RulesetPlan> {
    model
        .applied_rulesets
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The branch a strategy takes changes on: develop under Git Flow, else the default branch.
fn intake_branch(strategy: Strategy, default: &str) -> String {
    match strategy {
        Strategy::GitFlow => "develop".into(),
        _ => default.into(),
    }
}

/// The plan's files for the repository itself, or (`managed`) for the managed-workflows one.
fn files_for(
    plan: &crate::domain::repositories::RepositoryPlan,
    managed: bool,
) -> impl Iterator<Item = &crate::domain::workflows::GeneratedFile> {
    plan.files
        .iter()
        .filter(move |f| (f.repository == plan.repository) != managed)
}

fn pull_row(row: &local_pulls::Model) -> GovernedPullRow {
    GovernedPullRow {
        repository: row.repository.clone(),
        number: row.number,
        title: row.title.clone(),
        head_branch: row.head_branch.clone(),
        base_branch: row.base_branch.clone(),
        state: row.state.clone(),
        author: row.author.clone(),
        created_at: when(&row.created_at),
    }
}

/// A repository whose `github-connection` names a GitHub integration lives on GitHub, where
/// Slipway does not provision yet (it posts Merge Authorized there, from the saved manifests).
async fn refuse_remote<C: ConnectionTrait>(db: &C, t: &Target) -> AppResult<()> {
    match super::repositories::github_connection(db, &t.manifests).await? {
        None => Ok(()),
        Some(connection) => Err(AppError::Conflict(format!(
            "{} is on GitHub (integration {}): Slipway posts the Merge Authorized status on its pull requests from the saved manifests; applying files and rulesets to GitHub is not available yet.",
            t.model.name, connection.slug
        ))),
    }
}

/// The plan against what the local forge holds now.
pub async fn provisioning(ctx: &AppCtx, name: &str) -> AppResult<ProvisionView> {
    let t = target(&ctx.db, name).await?;
    refuse_remote(&ctx.db, &t).await?;
    let plan = t.manifests.plan();
    let mut files = Vec::new();
    for (forge, managed) in [(&t.forge, false), (&t.managed, true)] {
        let wanted: Vec<_> = files_for(&plan, managed).collect();
        let paths: Vec<String> = wanted.iter().map(|f| f.path.clone()).collect();
        let branch = if managed {
            "main".to_string()
        } else {
            intake_branch(plan.strategy, "main")
        };
        let current = ctx.local_git.read(forge, &branch, &paths).await?;
        for (file, now) in wanted.into_iter().zip(current) {
            let (change, lines) = match now {
                None => (
                    "added",
                    file.contents
                        .lines()
                        .map(|l| DiffLine::Added(l.to_string()))
                        .collect(),
                ),
                Some(now) if now == file.contents => ("unchanged", Vec::new()),
                Some(now) => ("changed", diff_lines(&now, &file.contents)),
            };
            files.push(PlannedFile {
                repository: forge.clone(),
                path: file.path.clone(),
                change: change.into(),
                lines,
            });
        }
    }
    let applied = applied_rulesets(&t.model);
    let rulesets_changed = plan
        .rulesets
        .iter()
        .filter(|r| !applied.contains(r))
        .map(|r| r.name.clone())
        .collect();
    let rulesets_removed = applied
        .iter()
        .filter(|a| !plan.rulesets.iter().any(|r| r.name == a.name))
        .map(|a| a.name.clone())
        .collect();
    let pulls = local_pulls::Entity::find()
        .filter(local_pulls::Column::Repository.is_in([t.forge.clone(), t.managed.clone()]))
        .order_by_desc(local_pulls::Column::CreatedAt)
        .order_by_desc(local_pulls::Column::Id)
        .all(&ctx.db)
        .await?
        .iter()
        .map(pull_row)
        .collect();
    Ok(ProvisionView {
        forge_repository: t.forge,
        managed_repository: t.managed,
        revision: t.model.revision,
        applied_revision: t.model.applied_revision,
        files,
        rulesets_changed,
        rulesets_removed,
        pulls,
        can_apply: false,
    })
}

/// Applies the current revision. Files go through pull requests (on the strategy's intake
/// branch, from [`PROVISION_BRANCH`]); rulesets are stored as applied, which is what the local
/// forge enforces. Re-applying an unchanged plan writes nothing: no commit, no pull request, no
/// ruleset, no audit event.
pub async fn provision(ctx: &AppCtx, actor: &Actor, name: &str) -> AppResult<()> {
    let t = target(&ctx.db, name).await?;
    refuse_remote(&ctx.db, &t).await?;
    let plan = t.manifests.plan();
    let revision = t.model.revision;
    let title = format!("chore(slipway): provision {name} revision {revision}");
    let body = format!(
        "Generated by Slipway from the manifests of {name} at revision {revision}, applied by {}.",
        actor.label
    );
    let mut opened = Vec::new();
    let mut updated = Vec::new();
    for (forge, managed) in [(&t.forge, false), (&t.managed, true)] {
        let files: Vec<(String, String)> = files_for(&plan, managed)
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect();
        if files.is_empty() {
            continue;
        }
        let strategy = (!managed).then_some(plan.strategy);
        let wanted: Vec<String> = match strategy {
            Some(Strategy::GitFlow) => vec!["develop".into()],
            _ => Vec::new(),
        };
        let default = ctx.local_git.ensure(forge, &wanted, "Slipway").await?;
        let base = strategy.map_or(default.clone(), |s| intake_branch(s, &default));
        let repo = local(forge);
        let open = ctx.forge.find_open_pull(&repo, PROVISION_BRANCH).await?;
        let before = match &open {
            Some(_) => {
                ctx.local_git
                    .read(
                        forge,
                        PROVISION_BRANCH,
                        &files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
                    )
                    .await?
            }
            None => Vec::new(),
        };
        let written = ctx
            .local_git
            .write(
                forge,
                &base,
                PROVISION_BRANCH,
                &files,
                &format!("{title}\n\n{body}"),
                "Slipway",
            )
            .await?;
        if written.is_none() {
            continue;
        }
        match open {
            None => {
                let pull = ctx
                    .forge
                    .create_pull(
                        &repo,
                        &NewPull {
                            head_branch: PROVISION_BRANCH.into(),
                            base_branch: base.clone(),
                            title: title.clone(),
                            body: body.clone(),
                            author: actor.label.clone(),
                        },
                    )
                    .await?;
                opened.push(format!("{forge}#{}", pull.number));
            }
            Some(pull) => {
                let same = before
                    .iter()
                    .zip(&files)
                    .all(|(now, (_, wanted))| now.as_deref() == Some(wanted.as_str()));
                if !same {
                    updated.push(format!("{forge}#{}", pull.number));
                }
            }
        }
    }
    let applied = applied_rulesets(&t.model);
    let rulesets_change = applied != plan.rulesets || t.model.applied_revision != Some(revision);
    if opened.is_empty() && updated.is_empty() && !rulesets_change {
        return Ok(());
    }
    let txn = begin_write(&ctx.db).await?;
    if rulesets_change {
        let mut active: repositories::ActiveModel = t.model.clone().into();
        active.applied_revision = Set(Some(revision));
        active.applied_rulesets = Set(Some(
            serde_json::to_string(&plan.rulesets).map_err(AppError::internal)?,
        ));
        active.update(&txn).await?;
    }
    audit::record(
        &txn,
        actor,
        Change::new("repository.provision", "repository", name)
            .before(&serde_json::json!({ "applied_revision": t.model.applied_revision }))
            .after(&serde_json::json!({
                "applied_revision": revision,
                "pull_requests_opened": opened,
                "pull_requests_updated": updated,
                "rulesets": plan.rulesets.iter().map(|r| &r.name).collect::<Vec<_>>(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The strategy in force on the local forge: the applied revision's.
async fn strategy_in_force<C: ConnectionTrait>(db: &C, t: &Target) -> AppResult<Option<Strategy>> {
    let Some(applied) = t.model.applied_revision else {
        return Ok(None);
    };
    let revision = repository_revisions::Entity::find()
        .filter(repository_revisions::Column::RepositoryId.eq(t.model.id))
        .filter(repository_revisions::Column::Revision.eq(applied))
        .one(db)
        .await?;
    Ok(revision
        .and_then(|r| parse_source(&r.source).ok())
        .map(|m| m.repository.strategy))
}

async fn pull_model<C: ConnectionTrait>(
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

async fn approvers<C: ConnectionTrait>(
    db: &C,
    repository: &str,
    number: i64,
) -> AppResult<Vec<String>> {
    Ok(local_pull_reviews::Entity::find()
        .filter(local_pull_reviews::Column::Repository.eq(repository))
        .filter(local_pull_reviews::Column::Number.eq(number))
        .order_by_asc(local_pull_reviews::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.reviewer)
        .collect())
}

/// A pull request with the verdict Merge Authorized gives it now (for `method`, when known).
async fn assess(
    ctx: &AppCtx,
    t: &Target,
    row: &local_pulls::Model,
    managed: bool,
    method: Option<MergeMethod>,
) -> AppResult<GovernedPull> {
    let approvals = approvers(&ctx.db, &row.repository, row.number).await?;
    let open = row.state == PullState::Open.as_str();
    let commits = if open {
        ctx.local_git
            .commits(&row.repository, &row.base_branch, &row.head_branch)
            .await?
    } else {
        Vec::new()
    };
    let strategy = if managed {
        None
    } else {
        strategy_in_force(&ctx.db, t).await?
    };
    let too_many = commits.len() > super::ports::MAX_PULL_COMMITS;
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
            v.checks.push(crate::domain::branching::Check {
                rule: crate::domain::branching::Rule::CommitMessages,
                passed: false,
                detail: format!(
                    "more than {} commits: too many to check in one pull request; split it",
                    super::ports::MAX_PULL_COMMITS
                ),
            });
        }
        v
    });
    let allowed = strategy
        .and_then(|s| policy_for(s, &row.base_branch))
        .map_or(MergeMethod::ALL.to_vec(), |p| p.methods);
    Ok(GovernedPull {
        row: pull_row(row),
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
        can_review: false,
        is_author: false,
    })
}

pub async fn pull(ctx: &AppCtx, name: &str, number: i64, managed: bool) -> AppResult<GovernedPull> {
    let t = target(&ctx.db, name).await?;
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
    let txn = begin_write(&ctx.db).await?;
    audit::record(
        &txn,
        actor,
        Change::new("pull_request.open", "repository", name).after(&pull_row(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(pull_row(&row))
}

pub async fn approve(
    ctx: &AppCtx,
    actor: &Actor,
    name: &str,
    number: i64,
    managed: bool,
) -> AppResult<()> {
    let t = target(&ctx.db, name).await?;
    let repository = if managed { &t.managed } else { &t.forge };
    let txn = begin_write(&ctx.db).await?;
    let row = pull_model(&txn, repository, number).await?;
    if row.state != PullState::Open.as_str() {
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
    if approvers(&txn, repository, number)
        .await?
        .contains(&actor.label)
    {
        return Ok(());
    }
    local_pull_reviews::ActiveModel {
        repository: Set(repository.clone()),
        number: Set(number),
        reviewer: Set(actor.label.clone()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Change::new("pull_request.approve", "repository", name)
            .after(&serde_json::json!({ "repository": repository, "number": number })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
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
    let repository = if managed {
        t.managed.clone()
    } else {
        t.forge.clone()
    };
    let row = pull_model(&ctx.db, &repository, number).await?;
    if row.state != PullState::Open.as_str() {
        return Err(AppError::Conflict(format!(
            "Pull request #{number} is {}.",
            row.state
        )));
    }
    let assessed = assess(ctx, &t, &row, managed, Some(method)).await?;
    if let Some(verdict) = &assessed.verdict {
        if !verdict.allowed() {
            let reasons: Vec<String> = verdict.failures().map(|c| c.detail.clone()).collect();
            return Err(AppError::Conflict(format!(
                "Merge Authorized refuses pull request #{number}: {}",
                reasons.join("; ")
            )));
        }
    }
    let message = match method {
        MergeMethod::Squash => format!("{} (#{number})\n\n{}", row.title, row.body)
            .trim_end()
            .to_string(),
        _ => format!(
            "Merge pull request #{number} from {}\n\n{}",
            row.head_branch, row.title
        ),
    };
    let (base, head, merged) = ctx
        .local_git
        .merge(
            &repository,
            &row.base_branch,
            &row.head_branch,
            method,
            &message,
        )
        .await?;
    let txn = begin_write(&ctx.db).await?;
    let current = pull_model(&txn, &repository, number).await?;
    if current.state != PullState::Open.as_str() {
        // Merged by someone else meanwhile: theirs is the record.
        return Ok(());
    }
    let mut active: local_pulls::ActiveModel = current.into();
    active.state = Set(PullState::Merged.as_str().into());
    active.base_commit = Set(Some(base));
    active.head_commit = Set(Some(head));
    active.merge_commit = Set(Some(merged.clone()));
    active.updated_at = Set(chrono::Utc::now());
    active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change::new("pull_request.merge", "repository", name).after(&serde_json::json!({
            "repository": repository,
            "number": number,
            "method": method.as_str(),
            "merge_commit": merged,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The job that posts Merge Authorized on a GitHub pull request.
pub const MERGE_AUTHORIZED_JOB: &str = "github.merge_authorized";

/// A pull request event of a GitHub organization, as the webhook queues it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PullEvent {
    /// The GitHub integration whose webhook secret signed the delivery.
    pub integration: String,
    /// `owner/name`.
    pub repository: String,
    pub number: i64,
}

/// The governed repository a GitHub repository is, if any: named alike, its manifests naming
/// the integration as their `github-connection`.
async fn governed_on_github<C: ConnectionTrait>(
    db: &C,
    integration: &str,
    repository: &str,
) -> AppResult<Option<Target>> {
    let Some((_, name)) = repository.split_once('/') else {
        return Ok(None);
    };
    let Ok(t) = target(db, name).await else {
        return Ok(None);
    };
    let connected =
        t.manifests.repository.metadata.github_connection.as_deref() == Some(integration);
    Ok(connected.then_some(t))
}

/// Evaluates Merge Authorized for a GitHub pull request with what GitHub reports (commits,
/// reviews) and posts the verdict as the pull request head's commit status. A repository Slipway
/// does not govern (or has not applied) gets nothing.
pub async fn check_github_pull(
    ctx: &AppCtx,
    event: &PullEvent,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), super::ports::ForgeError> {
    use super::ports::{CommitStatus, ForgeError};
    let internal = |e: AppError| ForgeError::transient(e.to_string());
    let Some(t) = governed_on_github(&ctx.db, &event.integration, &event.repository)
        .await
        .map_err(internal)?
    else {
        say(format!(
            "{} is not a governed repository: nothing to check",
            event.repository
        ));
        return Ok(());
    };
    // Until rulesets are applied to GitHub through its API, the saved manifests decide.
    let strategy = strategy_in_force(&ctx.db, &t)
        .await
        .map_err(internal)?
        .unwrap_or(t.manifests.repository.strategy);
    let integration = super::repositories::github_connection(&ctx.db, &t.manifests)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            ForgeError::permanent(format!("the integration {} is gone", event.integration))
        })?;
    let repo = super::workspaces::forge_repo(ctx, &ctx.db, integration.id, &event.repository)
        .await
        .map_err(internal)?;
    let facts = ctx.forge.pull_facts(&repo, event.number).await?;
    if facts.head_sha.len() != 40 || !facts.head_sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ForgeError::permanent(format!(
            "GitHub gave {:?} as the head commit",
            facts.head_sha
        )));
    }
    let mut verdict = authorize(
        strategy,
        &PullRequestFacts {
            source: facts.head_branch.clone(),
            target: facts.base_branch.clone(),
            title: facts.title.clone(),
            commits: facts.commits.clone(),
            author: facts.author.clone(),
            approvers: facts.approvers.clone(),
            method: None,
        },
    );
    if facts.truncated {
        verdict.checks.push(crate::domain::branching::Check {
            rule: crate::domain::branching::Rule::CommitMessages,
            passed: false,
            detail: "GitHub lists only 250 commits of a pull request: too many to check; split it"
                .into(),
        });
    }
    for check in &verdict.checks {
        say(format!(
            "{} {}: {}",
            if check.passed { "pass" } else { "FAIL" },
            check.rule.as_str(),
            check.detail
        ));
    }
    ctx.forge
        .post_status(
            &repo,
            &CommitStatus {
                sha: facts.head_sha.clone(),
                success: verdict.allowed(),
                context: crate::domain::branching::MERGE_AUTHORIZED.into(),
                description: verdict.summary(),
                target_url: format!(
                    "{}/repositories/{}",
                    ctx.portal.public_url.trim_end_matches('/'),
                    t.model.name
                ),
            },
        )
        .await?;
    say(format!(
        "posted {} on {} ({}#{})",
        if verdict.allowed() {
            "success"
        } else {
            "failure"
        },
        &facts.head_sha[..7],
        event.repository,
        event.number
    ));
    Ok(())
}

/// Which GitHub integration signed a webhook delivery: the one of `owner` whose webhook secret
/// gives `signature` (`sha256=<hex HMAC of the body>`), compared in constant time.
pub async fn webhook_integration(
    ctx: &AppCtx,
    owner: &str,
    body: &[u8],
    signature: &str,
) -> AppResult<Option<String>> {
    use hmac::{Hmac, Mac};
    let Some(hex_signature) = signature.strip_prefix("sha256=") else {
        return Ok(None);
    };
    let Ok(expected) = hex::decode(hex_signature) else {
        return Ok(None);
    };
    let candidates = super::entities::integrations::Entity::find()
        .filter(super::entities::integrations::Column::Provider.eq(Provider::Github.as_str()))
        .all(&ctx.db)
        .await?;
    for candidate in candidates {
        let row = super::integrations::row(&candidate)?;
        if row.settings.get("organization").map(String::as_str) != Some(owner) {
            continue;
        }
        let secrets =
            super::integrations::open_secrets(&ctx.db, &ctx.secrets, candidate.id).await?;
        let Some(secret) = secrets.get("webhook_secret") else {
            continue;
        };
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(AppError::internal)?;
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(Some(candidate.slug));
        }
    }
    Ok(None)
}

/// Queues the Merge Authorized check of a pull request a signed webhook delivery named (once per
/// delivery: a redelivery finds its job), with an audit event in the same transaction.
pub async fn queue_github_check(ctx: &AppCtx, event: &PullEvent, delivery: &str) -> AppResult<i64> {
    let txn = begin_write(&ctx.db).await?;
    let key = format!("merge_authorized:{}:{delivery}", event.integration);
    if let Some(existing) = super::entities::jobs::Entity::find()
        .filter(super::entities::jobs::Column::IdempotencyKey.eq(&key))
        .one(&txn)
        .await?
    {
        return Ok(existing.id);
    }
    let job = super::jobs::enqueue(
        &txn,
        MERGE_AUTHORIZED_JOB,
        &serde_json::to_value(event).map_err(AppError::internal)?,
        Some(&key),
        Some(&format!(
            "merge_authorized:{}#{}",
            event.repository, event.number
        )),
        5,
    )
    .await?;
    audit::record(
        &txn,
        &Actor::system(&format!("github:{}", event.integration)),
        Change::new(
            "pull_request.check_requested",
            "repository",
            &event.repository,
        )
        .after(&serde_json::json!({ "number": event.number, "delivery": delivery, "job": job.id })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(job.id)
}

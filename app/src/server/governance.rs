//! Governed repositories: provisioning the reviewed way (a pull request with the generated
//! files on the repository and one on the managed-workflows repository; rulesets through
//! GitHub's API, or stored as applied on the local forge), and the Merge Authorized gate —
//! enforced by Slipway itself before it merges a local-forge pull request, posted as a commit
//! status on GitHub's. A repository `NAME` whose manifests' `github-connection` names a GitHub
//! integration is `ORG/NAME` on GitHub (ORG: the integration's organization); otherwise it is
//! the local forge's `CONNECTION/NAME` (`local/NAME` without a connection).

use super::audit::{self, Change};
use super::diff::diff_lines;
use super::entities::integrations;
use super::entities::{local_pull_reviews, local_pulls, repositories, repository_revisions};
use super::ports::{BranchChange, ForgeRepo, NewPull, PullState, RepoConfig, TreeEdit, Webhook};
use super::{begin_write, when, Actor, AppCtx};
use crate::api::repositories::{GovernedPull, GovernedPullRow, PlannedFile, ProvisionView};
use crate::domain::branching::{
    authorize, policy_for, MergeMethod, PullRequestFacts, RULESET_PREFIX,
};
use crate::domain::integrations::Provider;
use crate::domain::repositories::{
    parse_source, RepositoryManifests, RepositoryPlan, RulesetPlan, MANAGED_REPOSITORY,
};
use crate::domain::resources::DiffLine;
use crate::domain::versioning::Strategy;
use crate::domain::workflows::GeneratedFile;
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
    /// The organisation: the GitHub integration's, else the connection's name (`local`).
    org: String,
    forge: String,
    managed: String,
    /// The GitHub integration the manifests connect to; `None`: the local forge.
    github: Option<integrations::Model>,
}

impl Target {
    fn plan(&self) -> RepositoryPlan {
        self.manifests.plan_in(&self.org)
    }
}

async fn target<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<Target> {
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Repository {name}")))?;
    let manifests = parse_source(&model.source)
        .map_err(|_| AppError::internal(format!("stored manifests of {name} no longer load")))?;
    let github = super::repositories::github_connection(db, &manifests).await?;
    let org = super::repositories::organization(db, &manifests).await?;
    Ok(Target {
        forge: format!("{org}/{}", model.name),
        managed: format!("{org}/{MANAGED_REPOSITORY}"),
        org,
        model,
        manifests,
        github,
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
        url: None,
    }
}

/// Pull requests of a repository on GitHub are opened, reviewed and merged there; Slipway's own
/// pull request pages are the local forge's.
fn local_only(t: &Target) -> AppResult<()> {
    match &t.github {
        None => Ok(()),
        Some(integration) => Err(AppError::Conflict(format!(
            "{} is on GitHub (integration {}): its pull requests are opened, reviewed and merged there, where Slipway posts Merge Authorized on each.",
            t.forge, integration.slug
        ))),
    }
}

/// One of the two repositories a plan writes to (the repository itself, or the
/// managed-workflows one), as provisioning reaches it.
struct Side {
    /// `org/name`.
    name: String,
    managed: bool,
    repo: ForgeRepo,
    /// On GitHub: the repository as the forge describes it; `None` on the local forge.
    remote: Option<RepoConfig>,
    /// The branch Slipway writes its files on: [`PROVISION_BRANCH`] in the governed repository,
    /// one per governed repository in the managed one (which all of them share), so that one
    /// repository's files never land in another's pull request.
    branch: String,
}

impl Side {
    /// The plan's files for this repository.
    fn files<'a>(&self, plan: &'a RepositoryPlan) -> Vec<&'a GeneratedFile> {
        plan.files
            .iter()
            .filter(|f| (f.repository == plan.repository) != self.managed)
            .collect()
    }

    /// The branch its files are reviewed into: the strategy's intake branch on the repository,
    /// the default branch on the managed-workflows one.
    fn base(&self, strategy: Strategy) -> String {
        let default = self
            .remote
            .as_ref()
            .map_or("main", |c| c.default_branch.as_str());
        if self.managed {
            default.to_string()
        } else {
            intake_branch(strategy, default)
        }
    }
}

/// The two repositories, reached: on GitHub each must exist (Slipway does not create
/// repositories there) and is described by its API.
async fn sides(ctx: &AppCtx, t: &Target) -> AppResult<Vec<Side>> {
    let mut sides = Vec::new();
    for (name, managed) in [(&t.forge, false), (&t.managed, true)] {
        let (repo, remote) = match &t.github {
            None => (local(name), None),
            Some(integration) => {
                let repo =
                    super::workspaces::forge_repo(ctx, &ctx.db, integration.id, name).await?;
                let config = ctx.forge.metadata(&repo).await.map_err(|e| {
                    AppError::Conflict(format!(
                        "{name} on GitHub cannot be read ({}); create it there, give the integration's token access, then apply again",
                        e.message
                    ))
                })?;
                (repo, Some(config))
            }
        };
        let branch = if managed {
            let governed = t.forge.rsplit('/').next().unwrap_or(&t.forge);
            format!("{PROVISION_BRANCH}-{governed}")
        } else {
            PROVISION_BRANCH.to_string()
        };
        sides.push(Side {
            name: name.clone(),
            managed,
            repo,
            remote,
            branch,
        });
    }
    Ok(sides)
}

/// The longest folder all `paths` are in ("" when they share none).
fn common_folder(paths: &[String]) -> String {
    let mut folder: Option<Vec<&str>> = None;
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        let dirs = &parts[..parts.len().saturating_sub(1)];
        folder = Some(match folder {
            None => dirs.to_vec(),
            Some(f) => f
                .iter()
                .zip(dirs)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    folder.unwrap_or_default().join("/")
}

/// What `paths` hold on `branch` now (`None`: absent).
async fn current(
    ctx: &AppCtx,
    side: &Side,
    branch: &str,
    paths: &[String],
) -> AppResult<Vec<Option<String>>> {
    let Some(config) = &side.remote else {
        return Ok(ctx.local_git.read(&side.name, branch, paths).await?);
    };
    let folder = common_folder(paths);
    let held = ctx
        .workspace_git
        .read_folder(&side.repo, config, branch, &folder)
        .await?;
    Ok(paths
        .iter()
        .map(|path| {
            let inside = if folder.is_empty() {
                Some(path.as_str())
            } else {
                path.strip_prefix(&format!("{folder}/"))
            };
            held.iter()
                .find(|(p, _)| Some(p.as_str()) == inside)
                .map(|(_, contents)| contents.clone())
        })
        .collect())
}

/// The rulesets to write and to remove: against what the forge holds on GitHub, against what
/// was last applied on the local forge. (name, the forge's id when it has one.)
struct RulesetChanges {
    write: Vec<(RulesetPlan, Option<i64>)>,
    remove: Vec<(String, Option<i64>)>,
}

async fn ruleset_changes(
    ctx: &AppCtx,
    t: &Target,
    side: &Side,
    plan: &RepositoryPlan,
) -> AppResult<RulesetChanges> {
    if side.remote.is_none() {
        let applied = applied_rulesets(&t.model);
        return Ok(RulesetChanges {
            write: plan
                .rulesets
                .iter()
                .filter(|r| !applied.contains(r))
                .map(|r| (r.clone(), None))
                .collect(),
            remove: applied
                .iter()
                .filter(|a| !plan.rulesets.iter().any(|r| r.name == a.name))
                .map(|a| (a.name.clone(), None))
                .collect(),
        });
    }
    let held = ctx.forge.rulesets(&side.repo).await?;
    let write = plan
        .rulesets
        .iter()
        .filter_map(|r| match held.iter().find(|h| h.name == r.name) {
            Some(h) if r.in_place(&h.body) => None,
            Some(h) => Some((r.clone(), Some(h.id))),
            None => Some((r.clone(), None)),
        })
        .collect();
    // Only Slipway's own rulesets are removed; those people made stay.
    let remove = held
        .iter()
        .filter(|h| h.name.starts_with(RULESET_PREFIX))
        .filter(|h| !plan.rulesets.iter().any(|r| r.name == h.name))
        .map(|h| (h.name.clone(), Some(h.id)))
        .collect();
    Ok(RulesetChanges { write, remove })
}

/// The plan against what the repositories hold now.
pub async fn provisioning(ctx: &AppCtx, name: &str) -> AppResult<ProvisionView> {
    let t = target(&ctx.db, name).await?;
    let plan = t.plan();
    let sides = sides(ctx, &t).await?;
    let mut files = Vec::new();
    for side in &sides {
        let wanted = side.files(&plan);
        let paths: Vec<String> = wanted.iter().map(|f| f.path.clone()).collect();
        let now = current(ctx, side, &side.base(plan.strategy), &paths).await?;
        for (file, now) in wanted.into_iter().zip(now) {
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
                repository: side.name.clone(),
                path: file.path.clone(),
                change: change.into(),
                lines,
                folded: 0,
            });
        }
    }
    let rulesets = ruleset_changes(ctx, &t, &sides[0], &plan).await?;
    let pulls = match &t.github {
        // The repository's own pull requests, and in the managed-workflows repository (which
        // every governed repository shares) only those from this repository's branch.
        None => local_pulls::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(local_pulls::Column::Repository.eq(t.forge.clone()))
                    .add(
                        sea_orm::Condition::all()
                            .add(local_pulls::Column::Repository.eq(t.managed.clone()))
                            .add(
                                local_pulls::Column::HeadBranch
                                    .eq(sides.iter().find(|s| s.managed).map(|s| s.branch.clone())),
                            ),
                    ),
            )
            .order_by_desc(local_pulls::Column::CreatedAt)
            .order_by_desc(local_pulls::Column::Id)
            .all(&ctx.db)
            .await?
            .iter()
            .map(pull_row)
            .collect(),
        // GitHub keeps the pull requests: the open provisioning ones are shown, linked there.
        Some(_) => {
            let mut pulls = Vec::new();
            for side in &sides {
                if let Some(pull) = ctx.forge.find_open_pull(&side.repo, &side.branch).await? {
                    pulls.push(GovernedPullRow {
                        repository: side.name.clone(),
                        number: pull.number,
                        title: pull.title,
                        head_branch: pull.head_branch,
                        base_branch: pull.base_branch,
                        state: pull.state.as_str().into(),
                        author: String::new(),
                        created_at: String::new(),
                        url: Some(pull.url),
                    });
                }
            }
            pulls
        }
    };
    Ok(ProvisionView {
        forge_repository: t.forge.clone(),
        managed_repository: t.managed.clone(),
        forge: match &t.github {
            None => "the local forge".into(),
            Some(integration) => format!("GitHub (integration {})", integration.slug),
        },
        on_github: t.github.is_some(),
        revision: t.model.revision,
        applied_revision: t.model.applied_revision,
        files,
        rulesets_changed: rulesets.write.into_iter().map(|(r, _)| r.name).collect(),
        rulesets_removed: rulesets.remove.into_iter().map(|(n, _)| n).collect(),
        pulls,
        can_apply: false,
    })
}

/// Writes a side's files on its branch, cut from its base. None when the base already
/// holds them (nothing to review); else whether the branch got a new commit.
async fn write_side(
    ctx: &AppCtx,
    side: &Side,
    strategy: Strategy,
    files: &[(String, String)],
    message: &str,
) -> AppResult<Option<bool>> {
    let base = side.base(strategy);
    // Git Flow takes changes on develop, cut from the default branch the first time.
    let extra: Vec<String> = if side.managed || base == side.base(Strategy::GithubFlow) {
        Vec::new()
    } else {
        vec![base.clone()]
    };
    match &side.remote {
        None => {
            ctx.local_git.ensure(&side.name, &extra, "Slipway").await?;
            let paths: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
            let before = ctx.local_git.read(&side.name, &side.branch, &paths).await?;
            let written = ctx
                .local_git
                .write(&side.name, &base, &side.branch, files, message, "Slipway")
                .await?;
            let same = before
                .iter()
                .zip(files)
                .all(|(now, (_, wanted))| now.as_deref() == Some(wanted.as_str()));
            Ok(written.map(|_| !same))
        }
        Some(config) => {
            for branch in &extra {
                ctx.workspace_git
                    .ensure_branch(&side.repo, config, branch, &config.default_branch)
                    .await?;
            }
            let pushed = ctx
                .workspace_git
                .push_change(
                    &side.repo,
                    config,
                    &BranchChange {
                        base,
                        branch: side.branch.clone(),
                        edit: TreeEdit::Files(files.to_vec()),
                        message: message.into(),
                        author_name: "Slipway".into(),
                        author_email: "slipway@localhost".into(),
                    },
                )
                .await?;
            Ok(pushed.differs.then_some(pushed.pushed))
        }
    }
}

/// The webhook that tells Slipway about a GitHub repository's pull requests, so that it posts
/// Merge Authorized, which the rulesets require: without it nothing could merge, so provisioning
/// on GitHub is refused (before it writes anything) until it can be set up.
fn webhook(
    ctx: &AppCtx,
    t: &Target,
    secrets: &crate::domain::integrations::Fields,
) -> AppResult<Webhook> {
    let slug = t
        .github
        .as_ref()
        .map(|i| i.slug.as_str())
        .unwrap_or_default();
    let Some(secret) = secrets.get("webhook_secret").filter(|s| !s.is_empty()) else {
        return Err(AppError::Conflict(format!(
            "the integration {slug} has no webhook secret: the rulesets require Merge Authorized, which Slipway posts when GitHub tells it about a pull request; give the integration a webhook secret, then apply again"
        )));
    };
    let public = ctx.portal.public_url.trim_end_matches('/');
    if !(public.starts_with("https://") || public.starts_with("http://")) {
        return Err(AppError::Conflict(
            "Slipway's public URL is not set (SLIPWAY_PUBLIC_URL): GitHub needs it to reach the webhook".into(),
        ));
    }
    // The secret's fingerprint in the address: GitHub never shows a hook's secret back, so this
    // is how a rotated secret is seen to be missing from a hook that exists.
    let key = ctx.secrets.fingerprint("github webhook", secret);
    Ok(Webhook {
        url: format!("{public}/hooks/github?key={key}"),
        secret: secret.clone(),
        events: vec!["pull_request".into(), "pull_request_review".into()],
    })
}

/// Applies the current revision. Files go through pull requests (on the strategy's intake
/// branch, from [`PROVISION_BRANCH`]). Rulesets: on GitHub through its rulesets API (after the
/// webhook that Merge Authorized needs); on the local forge stored as applied, which is what
/// Slipway enforces there. Re-applying an unchanged plan writes nothing: no commit, no pull
/// request, no API write, no audit event.
pub async fn provision(ctx: &AppCtx, actor: &Actor, name: &str) -> AppResult<()> {
    let t = target(&ctx.db, name).await?;
    let plan = t.plan();
    let sides = sides(ctx, &t).await?;
    let hook = match &t.github {
        Some(_) => Some(webhook(ctx, &t, &sides[0].repo.secrets)?),
        None => None,
    };
    let revision = t.model.revision;
    let title = format!("chore(slipway): provision {name} revision {revision}");
    let body = format!(
        "Generated by Slipway from the manifests of {name} at revision {revision}, applied by {}.",
        actor.label
    );
    let webhook_written = match &hook {
        Some(hook) => ctx.forge.ensure_webhook(&sides[0].repo, hook).await?,
        None => false,
    };
    let mut opened = Vec::new();
    let mut updated = Vec::new();
    for side in &sides {
        let files: Vec<(String, String)> = side
            .files(&plan)
            .into_iter()
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect();
        if files.is_empty() {
            continue;
        }
        let Some(new_commit) = write_side(
            ctx,
            side,
            plan.strategy,
            &files,
            &format!("{title}\n\n{body}"),
        )
        .await?
        else {
            continue;
        };
        match ctx.forge.find_open_pull(&side.repo, &side.branch).await? {
            None => {
                let pull = ctx
                    .forge
                    .create_pull(
                        &side.repo,
                        &NewPull {
                            head_branch: side.branch.clone(),
                            base_branch: side.base(plan.strategy),
                            title: title.clone(),
                            body: body.clone(),
                            author: actor.label.clone(),
                        },
                    )
                    .await?;
                opened.push(format!("{}#{}", side.name, pull.number));
            }
            Some(pull) if new_commit => updated.push(format!("{}#{}", side.name, pull.number)),
            Some(_) => {}
        }
    }
    let changes = ruleset_changes(ctx, &t, &sides[0], &plan).await?;
    if sides[0].remote.is_some() {
        for (ruleset, id) in &changes.write {
            let body: serde_json::Value =
                serde_json::from_str(&ruleset.json).map_err(AppError::internal)?;
            ctx.forge.save_ruleset(&sides[0].repo, *id, &body).await?;
        }
        for (_, id) in &changes.remove {
            if let Some(id) = id {
                ctx.forge.delete_ruleset(&sides[0].repo, *id).await?;
            }
        }
    }
    let rulesets_written = !changes.write.is_empty() || !changes.remove.is_empty();
    let record_applied =
        applied_rulesets(&t.model) != plan.rulesets || t.model.applied_revision != Some(revision);
    if opened.is_empty()
        && updated.is_empty()
        && !rulesets_written
        && !record_applied
        && !webhook_written
    {
        return Ok(());
    }
    let txn = begin_write(&ctx.db).await?;
    if record_applied {
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
                "forge": t.github.as_ref().map_or("local".to_string(), |i| format!("github:{}", i.slug)),
                "pull_requests_opened": opened,
                "pull_requests_updated": updated,
                "rulesets": plan.rulesets.iter().map(|r| &r.name).collect::<Vec<_>>(),
                "rulesets_written": changes.write.iter().map(|(r, _)| &r.name).collect::<Vec<_>>(),
                "rulesets_removed": changes.remove.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                "webhook_written": webhook_written,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

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

/// Who approved `head` of the pull request: an approval of an earlier commit does not count
/// for a later one.
async fn approvers<C: ConnectionTrait>(
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
async fn assess(
    ctx: &AppCtx,
    t: &Target,
    row: &local_pulls::Model,
    managed: bool,
    method: Option<MergeMethod>,
) -> AppResult<GovernedPull> {
    let open = row.state == PullState::Open.as_str();
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
    // While open, what the head brings over the base branch; once merged, over the base as it
    // was before the merge (the branches have moved on since).
    let range = match (open, &head) {
        (true, Some(head)) => Some((row.base_branch.clone(), head.clone())),
        (false, Some(head)) => row.base_commit.clone().map(|base| (base, head.clone())),
        (_, None) => None,
    };
    let (commits, files) = match &range {
        Some((base, head)) => (
            ctx.local_git.commits(&row.repository, base, head).await?,
            ctx.local_git.changes(&row.repository, base, head).await?,
        ),
        None => Default::default(),
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
    // The managed-workflows repository has no strategy of its own: what merges there runs in
    // every governed repository's CI, so someone other than its author must approve it (the API
    // lets only platform admins approve there).
    let verdict = match (managed && open, verdict) {
        // Merged: the verdict it passed, as recorded then.
        (false, None) if row.state == PullState::Merged.as_str() => row
            .merge_verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok()),
        (true, _) => Some(crate::domain::branching::Verdict {
            checks: vec![crate::domain::branching::Check {
                rule: crate::domain::branching::Rule::Approvals,
                passed: approvals.iter().any(|a| *a != row.author),
                detail: if approvals.iter().any(|a| *a != row.author) {
                    format!("approved by {}", approvals.join(", "))
                } else {
                    "the managed workflows run in every governed repository: a platform admin other than its author must approve this commit".into()
                },
            }],
        }),
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
    super::workspaces::still_the_head(number, &head, commit)?;
    if approvers(&txn, repository, number, &head)
        .await?
        .contains(&actor.label)
    {
        return Ok(());
    }
    // One review per person: an approval of an earlier commit is moved to this one.
    let earlier = local_pull_reviews::Entity::find()
        .filter(local_pull_reviews::Column::Repository.eq(repository.as_str()))
        .filter(local_pull_reviews::Column::Number.eq(number))
        .filter(local_pull_reviews::Column::Reviewer.eq(actor.label.as_str()))
        .one(&txn)
        .await?;
    match earlier {
        Some(review) => {
            let mut active: local_pull_reviews::ActiveModel = review.into();
            active.commit = Set(Some(head.clone()));
            active.created_at = Set(chrono::Utc::now());
            active.update(&txn).await?;
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
            .insert(&txn)
            .await?;
        }
    }
    audit::record(
        &txn,
        actor,
        Change::new("pull_request.approve", "repository", name).after(
            &serde_json::json!({ "repository": repository, "number": number, "commit": head }),
        ),
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
    local_only(&t)?;
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
    // The applied revision's strategy is the one the rulesets enforce; before the first apply
    // the saved manifests decide.
    let strategy = strategy_in_force(&ctx.db, &t)
        .await
        .map_err(internal)?
        .unwrap_or(t.manifests.repository.strategy);
    let integration = t.github.as_ref().ok_or_else(|| {
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
/// The GitHub integration whose webhook secret signed `body` (checked on the raw body, before
/// anything reads it), with the organization it is for: (slug, organization).
pub async fn webhook_integration(
    ctx: &AppCtx,
    body: &[u8],
    signature: &str,
) -> AppResult<Option<(String, String)>> {
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
        let organization = row
            .settings
            .get("organization")
            .cloned()
            .unwrap_or_default();
        let secrets =
            super::integrations::open_secrets(&ctx.db, &ctx.secrets, candidate.id).await?;
        let Some(secret) = secrets.get("webhook_secret") else {
            continue;
        };
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(AppError::internal)?;
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(Some((candidate.slug, organization)));
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

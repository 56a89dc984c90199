//! Provisioning: the plan against what the repositories hold, and applying it through pull requests and rulesets.

use super::*;

/// One of the two repositories a plan writes to (the repository itself, or the
/// managed-workflows one), as provisioning reaches it.
pub(crate) struct Side {
    /// `org/name`.
    pub(crate) name: String,
    pub(crate) managed: bool,
    pub(crate) repo: ForgeRepo,
    /// On GitHub: the repository as the forge describes it; `None` on the local forge.
    pub(crate) remote: Option<RepoConfig>,
    /// The branch Slipway writes its files on: [`PROVISION_BRANCH`] in the governed repository,
    /// one per governed repository in the managed one (which all of them share), so that one
    /// repository's files never land in another's pull request.
    pub(crate) branch: String,
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
pub(crate) async fn sides(ctx: &AppCtx, t: &Target) -> AppResult<Vec<Side>> {
    let mut sides = Vec::new();
    for (name, managed) in [(&t.forge, false), (&t.managed, true)] {
        let (repo, remote) = match &t.github {
            None => (local(name), None),
            Some(integration) => {
                let repo =
                    crate::server::workspaces::forge_repo(ctx, &ctx.db, integration.id, name)
                        .await?;
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
pub(crate) fn common_folder(paths: &[String]) -> String {
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
pub(crate) async fn current(
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
pub(crate) struct RulesetChanges {
    pub(crate) write: Vec<(RulesetPlan, Option<i64>)>,
    pub(crate) remove: Vec<(String, Option<i64>)>,
}

pub(crate) async fn ruleset_changes(
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

/// Each file the plan writes, against what its repository holds now.
async fn planned_files(
    ctx: &AppCtx,
    sides: &[Side],
    plan: &RepositoryPlan,
) -> AppResult<Vec<PlannedFile>> {
    let mut files = Vec::new();
    for side in sides {
        let wanted = side.files(plan);
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
    Ok(files)
}

/// The provisioning pull requests: on the local forge the repository's own and, in the
/// managed-workflows repository every governed repository shares, only those from this
/// repository's branch; on GitHub, which keeps them, the open ones, linked there.
/// A governed repository's pull requests on the local forge: its own, and in the
/// managed-workflows repository (which every governed repository shares) only those from its
/// branch there.
pub(crate) fn local_pulls_of(t: &Target) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(local_pulls::Column::Repository.eq(t.forge.clone()))
        .add(
            sea_orm::Condition::all()
                .add(local_pulls::Column::Repository.eq(t.managed.clone()))
                .add(
                    local_pulls::Column::HeadBranch
                        .eq(format!("{PROVISION_BRANCH}-{}", t.model.name)),
                ),
        )
}

async fn provisioning_pulls(
    ctx: &AppCtx,
    t: &Target,
    sides: &[Side],
) -> AppResult<Vec<GovernedPullRow>> {
    Ok(match &t.github {
        // The repository's own pull requests, and in the managed-workflows repository (which
        // every governed repository shares) only those from this repository's branch.
        None => local_pulls::Entity::find()
            .filter(local_pulls_of(t))
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
            for side in sides {
                if let Some(pull) = ctx.forge.find_open_pull(&side.repo, &side.branch).await? {
                    pulls.push(GovernedPullRow {
                        repository: side.name.clone(),
                        number: pull.number,
                        title: pull.title,
                        head_branch: pull.head_branch,
                        base_branch: pull.base_branch,
                        state: pull.state,
                        author: String::new(),
                        created_at: String::new(),
                        url: Some(pull.url),
                    });
                }
            }
            pulls
        }
    })
}

/// The plan against what the repositories hold now.
pub async fn provisioning(ctx: &AppCtx, name: &str) -> AppResult<ProvisionView> {
    let t = target(&ctx.db, name).await?;
    let plan = t.plan();
    let sides = sides(ctx, &t).await?;
    let files = planned_files(ctx, &sides, &plan).await?;
    let rulesets = ruleset_changes(ctx, &t, &sides[0], &plan).await?;
    let pulls = provisioning_pulls(ctx, &t, &sides).await?;
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
pub(crate) async fn write_side(
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
pub(crate) fn webhook(
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

/// A provisioning pull request's title and body.
struct PullText {
    title: String,
    body: String,
}

/// Writes each side's files on its branch and opens its pull request (or notes that an open
/// one got a new commit). Returns the pull requests opened and updated, as `repo#number`.
async fn write_and_open(
    ctx: &AppCtx,
    actor: &Actor,
    sides: &[Side],
    plan: &RepositoryPlan,
    message: &PullText,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let mut opened = Vec::new();
    let mut updated = Vec::new();
    for side in sides {
        let files: Vec<(String, String)> = side
            .files(plan)
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
            &format!("{}\n\n{}", message.title, message.body),
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
                            title: message.title.clone(),
                            body: message.body.clone(),
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
    Ok((opened, updated))
}

/// Writes and removes the forge's rulesets as planned.
async fn save_rulesets(ctx: &AppCtx, side: &Side, changes: &RulesetChanges) -> AppResult<()> {
    for (ruleset, id) in &changes.write {
        let body: serde_json::Value =
            serde_json::from_str(&ruleset.json).map_err(AppError::internal)?;
        ctx.forge.save_ruleset(&side.repo, *id, &body).await?;
    }
    for (_, id) in &changes.remove {
        if let Some(id) = id {
            ctx.forge.delete_ruleset(&side.repo, *id).await?;
        }
    }
    Ok(())
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
    let message = PullText { title, body };
    let (opened, updated) = write_and_open(ctx, actor, &sides, &plan, &message).await?;
    let changes = ruleset_changes(ctx, &t, &sides[0], &plan).await?;
    if sides[0].remote.is_some() {
        save_rulesets(ctx, &sides[0], &changes).await?;
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
    audit::audited(&ctx.db, actor, async |txn| {
        if record_applied {
            let mut active: repositories::ActiveModel = t.model.clone().into();
            active.applied_revision = Set(Some(revision));
            active.applied_rulesets = Set(Some(
                serde_json::to_string(&plan.rulesets).map_err(AppError::internal)?,
            ));
            active.update(txn).await?;
        }
        let change = Change::new("repository.provision", "repository", name)
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
                }));
        Ok(((), change))
    })
    .await
}

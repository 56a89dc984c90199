//! Governed repositories: provisioning the reviewed way (a pull request with the generated
//! files on the repository and one on the managed-workflows repository; rulesets through
//! GitHub's API, or stored as applied on the local forge), and the Merge Authorized gate —
//! enforced by Slipway itself before it merges a local-forge pull request, posted as a commit
//! status on GitHub's. A repository `NAME` whose manifests' `github-connection` names a GitHub
//! integration is `ORG/NAME` on GitHub (ORG: the integration's organization); otherwise it is
//! the local forge's `CONNECTION/NAME` (`local/NAME` without a connection).

use crate::server::audit::{self, Change};

use crate::server::diff::diff_lines;

use crate::server::entities::integrations;

use crate::server::entities::{
    local_pull_reviews, local_pulls, repositories, repository_revisions,
};

use crate::server::ports::{
    BranchChange, ForgeRepo, NewPull, PullFacts, PullState, RepoConfig, TreeEdit, Webhook,
};

use crate::server::{begin_write, when, Actor, AppCtx};

use crate::wire::repositories::{GovernedPull, GovernedPullRow, PlannedFile, ProvisionView};

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

mod github;
mod provisioning;
mod pulls;
pub use github::*;
#[allow(unused_imports)]
pub(crate) use github::*;
pub use provisioning::*;
#[allow(unused_imports)]
pub(crate) use provisioning::*;
pub use pulls::*;
#[allow(unused_imports)]
pub(crate) use pulls::*;

pub use crate::domain::repositories::PROVISION_BRANCH;

pub(crate) struct Target {
    pub(crate) model: repositories::Model,
    pub(crate) manifests: RepositoryManifests,
    /// The organisation: the GitHub integration's, else the connection's name (`local`).
    pub(crate) org: String,
    pub(crate) forge: String,
    pub(crate) managed: String,
    /// The GitHub integration the manifests connect to; `None`: the local forge.
    pub(crate) github: Option<integrations::Model>,
}

impl Target {
    fn plan(&self) -> RepositoryPlan {
        self.manifests.plan_in(&self.org)
    }
}

pub(crate) async fn target<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<Target> {
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Repository {name}")))?;
    let manifests = parse_source(&model.source)
        .map_err(|_| AppError::internal(format!("stored manifests of {name} no longer load")))?;
    let github = crate::server::repositories::github_connection(db, &manifests).await?;
    let org = crate::server::repositories::organization(db, &manifests).await?;
    Ok(Target {
        forge: format!("{org}/{}", model.name),
        managed: format!("{org}/{MANAGED_REPOSITORY}"),
        org,
        model,
        manifests,
        github,
    })
}

pub(crate) fn local(repository: &str) -> ForgeRepo {
    ForgeRepo {
        provider: Provider::LocalGit,
        repository: repository.to_string(),
        settings: Default::default(),
        secrets: Default::default(),
    }
}

pub(crate) fn applied_rulesets(model: &repositories::Model) -> Vec<RulesetPlan> {
    model
        .applied_rulesets
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The branch a strategy takes changes on: develop under Git Flow, else the default branch.
pub(crate) fn intake_branch(strategy: Strategy, default: &str) -> String {
    match strategy {
        Strategy::GitFlow => "develop".into(),
        _ => default.into(),
    }
}

pub(crate) fn pull_row(row: &local_pulls::Model) -> GovernedPullRow {
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
pub(crate) fn local_only(t: &Target) -> AppResult<()> {
    match &t.github {
        None => Ok(()),
        Some(integration) => Err(AppError::Conflict(format!(
            "{} is on GitHub (integration {}): its pull requests are opened, reviewed and merged there, where Slipway posts Merge Authorized on each.",
            t.forge, integration.slug
        ))),
    }
}

pub(crate) async fn strategy_in_force<C: ConnectionTrait>(
    db: &C,
    t: &Target,
) -> AppResult<Option<Strategy>> {
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

/// The job that posts Merge Authorized on a GitHub pull request.
pub const MERGE_AUTHORIZED_JOB: &str = "github.merge_authorized";

/// The job that checks a GitHub pull request against its governance and sets `merge-authorized`.
pub struct MergeAuthorized;

impl crate::server::jobs::JobKind for MergeAuthorized {
    const NAME: &'static str = MERGE_AUTHORIZED_JOB;
    type Payload = PullEvent;
}

impl crate::server::jobs::PlainJob for MergeAuthorized {
    fn run<'a>(
        ctx: &'a AppCtx,
        event: PullEvent,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), crate::server::ports::ExternalError>> + Send + 'a
    {
        async move { check_github_pull(ctx, &event, say).await }
    }
}

/// A pull request event of a GitHub organization, as the webhook queues it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PullEvent {
    /// The GitHub integration whose webhook secret signed the delivery.
    pub integration: String,
    /// `owner/name`.
    pub repository: String,
    pub number: i64,
}

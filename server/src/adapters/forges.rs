//! One `Forge` for the services: each call goes to the adapter of the repository's provider.

use super::forge_azure_devops::AzureDevOpsForge;
use super::forge_bitbucket::BitbucketForge;
use super::forge_github::GitHubForge;
use super::local_forge::LocalForge;
use app::domain::integrations::Provider;
use app::domain::workspaces::RepoConfig;
use app::server::ports::{
    CommitStatus, ExternalError, Forge, ForgePull, ForgeRepo, ForgeRuleset, NewPull, PullFacts,
    Webhook,
};

pub struct Forges {
    pub local: LocalForge,
    pub github: GitHubForge,
    pub bitbucket: BitbucketForge,
    pub azure_devops: AzureDevOpsForge,
}

impl Forges {
    pub fn new(local: LocalForge, egress: &std::sync::Arc<super::egress::Egress>) -> Forges {
        let http = super::Http::new(egress.clone());
        Forges {
            local,
            github: GitHubForge { http: http.clone() },
            bitbucket: BitbucketForge { http: http.clone() },
            azure_devops: AzureDevOpsForge { http },
        }
    }
}

impl Forges {
    fn pick(&self, repo: &ForgeRepo) -> Result<&dyn Forge, ExternalError> {
        match repo.provider {
            Provider::LocalGit => Ok(&self.local),
            Provider::Github => Ok(&self.github),
            Provider::Bitbucket => Ok(&self.bitbucket),
            Provider::AzureDevops => Ok(&self.azure_devops),
            other => Err(ExternalError::permanent(format!(
                "{} is not a git forge",
                other.label()
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Forge for Forges {
    async fn create_repository(
        &self,
        repo: &ForgeRepo,
        author: &str,
    ) -> Result<RepoConfig, ExternalError> {
        self.pick(repo)?.create_repository(repo, author).await
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError> {
        self.pick(repo)?.metadata(repo).await
    }

    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ExternalError> {
        self.pick(repo)?.find_open_pull(repo, head_branch).await
    }

    async fn create_pull(
        &self,
        repo: &ForgeRepo,
        pull: &NewPull,
    ) -> Result<ForgePull, ExternalError> {
        self.pick(repo)?.create_pull(repo, pull).await
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        self.pick(repo)?.get_pull(repo, number).await
    }

    async fn merge_pull(
        &self,
        repo: &ForgeRepo,
        number: i64,
        message: &str,
        approved: &str,
    ) -> Result<ForgePull, ExternalError> {
        self.pick(repo)?
            .merge_pull(repo, number, message, approved)
            .await
    }

    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        self.pick(repo)?.close_pull(repo, number).await
    }

    async fn pull_facts(&self, repo: &ForgeRepo, number: i64) -> Result<PullFacts, ExternalError> {
        self.pick(repo)?.pull_facts(repo, number).await
    }

    async fn post_status(
        &self,
        repo: &ForgeRepo,
        status: &CommitStatus,
    ) -> Result<(), ExternalError> {
        self.pick(repo)?.post_status(repo, status).await
    }

    async fn rulesets(&self, repo: &ForgeRepo) -> Result<Vec<ForgeRuleset>, ExternalError> {
        self.pick(repo)?.rulesets(repo).await
    }

    async fn save_ruleset(
        &self,
        repo: &ForgeRepo,
        id: Option<i64>,
        body: &serde_json::Value,
    ) -> Result<(), ExternalError> {
        self.pick(repo)?.save_ruleset(repo, id, body).await
    }

    async fn delete_ruleset(&self, repo: &ForgeRepo, id: i64) -> Result<(), ExternalError> {
        self.pick(repo)?.delete_ruleset(repo, id).await
    }

    async fn ensure_webhook(
        &self,
        repo: &ForgeRepo,
        hook: &Webhook,
    ) -> Result<bool, ExternalError> {
        self.pick(repo)?.ensure_webhook(repo, hook).await
    }

    async fn upsert_comment(
        &self,
        repo: &ForgeRepo,
        number: i64,
        marker: &str,
        body: &str,
    ) -> Result<(), ExternalError> {
        self.pick(repo)?
            .upsert_comment(repo, number, marker, body)
            .await
    }
}

//! Ports: what the services need from the outside world, implemented by adapters in the server
//! crate (git2 for repositories, reqwest for provider APIs) and by fakes in tests.

pub use crate::api::sources::RepoListing;
use crate::domain::integrations::{Fields, Provider};
use crate::error::AppError;

/// How to reach one repository: its URL and the git integration's credentials.
#[derive(Clone)]
pub struct RepoAccess {
    pub url: String,
    pub provider: Provider,
    pub settings: Fields,
    /// Opened secrets; never logged (the type has no Debug).
    pub secrets: Fields,
}

/// A module's `.tf` files as they are at one commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSnapshot {
    pub commit: String,
    /// (path inside the repository, contents)
    pub files: Vec<(String, String)>,
}

#[async_trait::async_trait]
pub trait SourceRepos: Send + Sync {
    /// Fetches the repository into this replica's mirror and lists it.
    async fn refresh(&self, access: &RepoAccess) -> Result<RepoListing, AppError>;

    /// Reads the module folder at a tag or branch of the mirror (refreshed first). A ref or
    /// folder that does not exist is an `Invalid` error naming `git_ref` or `module_path`.
    async fn read_module(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        module_path: &str,
    ) -> Result<ModuleSnapshot, AppError>;

    /// Writes the whole tree at a tag or branch into `dest` (an empty folder), so a module can
    /// use its repository's local child modules; returns the commit.
    async fn export(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        dest: &std::path::Path,
    ) -> Result<String, AppError>;

    /// Checks that a git integration's credentials work; the text says as whom, or why not.
    async fn test_connection(
        &self,
        provider: Provider,
        settings: &Fields,
        secrets: &Fields,
    ) -> Result<String, String>;
}

//! The wire types of sources: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::modules::ModuleInterface;
use serde::{Deserialize, Serialize};

/// What a refresh of a repository found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoListing {
    pub default_branch: Option<String>,
    pub branches: Vec<String>,
    /// Tags, highest version first.
    pub tags: Vec<String>,
    /// Folders holding `.tf` files on the default branch ("" is the repository root).
    pub modules: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCodeRow {
    pub id: i64,
    pub url: String,
    /// The git integration's slug.
    pub integration: String,
    pub description: String,
    pub listing: RepoListing,
    pub refreshed_at: Option<String>,
    /// Why the last refresh failed, if it did.
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationChoice {
    pub slug: String,
    pub name: String,
    pub provider: crate::domain::integrations::Provider,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcesView {
    pub sources: Vec<SourceCodeRow>,
    /// Git integrations a new source can use.
    pub git_integrations: Vec<IntegrationChoice>,
    pub can_create: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSource {
    pub url: String,
    pub integration: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub id: i64,
    pub template: String,
    pub source_id: i64,
    pub source_url: String,
    pub git_ref: String,
    pub commit: String,
    pub module_path: String,
    pub interface: ModuleInterface,
    pub created_at: String,
    /// Resources created from it (which blocks deleting it).
    pub resources: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVersion {
    pub template: String,
    pub source_id: String,
    pub git_ref: String,
    #[serde(default)]
    pub module_path: String,
}

//! Adapters to the outside world. Sign-in providers: GitHub (OAuth 2.0) and OpenID Connect
//! (Microsoft Entra ID, or any issuer found by discovery).

pub mod egress;
pub mod forge_azure_devops;
pub mod forge_bitbucket;
pub mod forge_github;
pub mod forge_http;
pub mod forges;
pub mod git_sources;
pub mod github;
pub mod identity;
pub mod local_forge;
pub mod messenger;
pub mod oci_registry;
pub mod oidc;
pub mod version_tags;
pub mod workspace_git;

pub use egress::Http;

//! Adapters to the outside world. Sign-in providers: GitHub (OAuth 2.0) and OpenID Connect
//! (Microsoft Entra ID, or any issuer found by discovery).

pub mod forge_azure_devops;
pub mod forge_bitbucket;
pub mod forge_github;
pub mod forge_http;
pub mod forges;
pub mod git_sources;
pub mod github;
pub mod identity;
pub mod local_forge;
pub mod oci_registry;
pub mod oidc;
pub mod version_tags;
pub mod workspace_git;

/// The HTTP client every adapter uses: no redirects followed (a token endpoint that redirects
/// is refused, not chased), bounded time.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .user_agent(concat!("Slipway/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend is compiled in")
}

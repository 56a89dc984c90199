//! GitHub sign-in (OAuth 2.0 web flow, not OIDC): the user from `GET /user`, the verified
//! primary email from `GET /user/emails`. Base URLs are configurable for GitHub Enterprise Server.

use super::identity::{IdentityProvider, PendingFlow, ProviderError};
use crate::config::GitHubSettings;
use app::server::directory::VerifiedSignIn;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use url::Url;

type GitHubOAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct GitHubProvider {
    client: GitHubOAuthClient,
    api_url: Url,
    http: super::Http,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

impl GitHubProvider {
    pub fn new(
        settings: &GitHubSettings,
        callback: Url,
        egress: &std::sync::Arc<super::egress::Egress>,
    ) -> Result<GitHubProvider, url::ParseError> {
        let web = settings.web_url.as_str().trim_end_matches('/');
        let client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                settings.client_secret.expose().to_string(),
            ))
            .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{web}/login/oauth/access_token"))?)
            .set_redirect_uri(RedirectUrl::from_url(callback))
            // GitHub documents client_id and client_secret as form parameters.
            .set_auth_type(AuthType::RequestBody);
        Ok(GitHubProvider {
            client,
            api_url: settings.api_url.clone(),
            http: super::Http::new(egress.clone()),
        })
    }

    async fn api_get<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        token: &str,
    ) -> Result<T, ProviderError> {
        let url = format!("{}{path}", self.api_url.as_str().trim_end_matches('/'));
        let request = self
            .http
            .get(&url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .bearer_auth(token);
        let response = self
            .http
            .send(request)
            .await
            .map_err(|e| ProviderError::Unreachable(format!("GET {path}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ProviderError::Refused(format!(
                "GET {path} answered {status}"
            )));
        }
        response
            .json()
            .await
            .map_err(|e| ProviderError::Untrusted(format!("GET {path}: {e}")))
    }
}

#[async_trait::async_trait]
impl IdentityProvider for GitHubProvider {
    fn id(&self) -> &'static str {
        "github"
    }

    fn label(&self) -> &str {
        "GitHub"
    }

    async fn authorization_url(&self, flow: &PendingFlow) -> Result<Url, ProviderError> {
        let state = flow.state.clone();
        let verifier = PkceCodeVerifier::new(flow.pkce_verifier.clone());
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new("read:user".into()))
            .add_scope(Scope::new("user:email".into()))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .add_extra_param("allow_signup", "false")
            .url();
        Ok(url)
    }

    async fn complete(
        &self,
        code: &str,
        flow: &PendingFlow,
    ) -> Result<VerifiedSignIn, ProviderError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Refused(format!("token exchange failed: {e}")))?;
        let access_token = token.access_token().secret();
        let user: GitHubUser = self.api_get("/user", access_token).await?;
        let emails: Vec<GitHubEmail> = self.api_get("/user/emails", access_token).await?;
        let primary = emails.into_iter().find(|e| e.primary && e.verified);
        Ok(VerifiedSignIn {
            provider: "github".into(),
            subject: user.id.to_string(),
            name: user.name.unwrap_or_else(|| user.login.clone()),
            login_hint: user.login,
            email_verified: primary.is_some(),
            email: primary.map(|e| e.email),
        })
    }
}

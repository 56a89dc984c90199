//! OpenID Connect sign-in: discovery, authorization code with PKCE and nonce, and an id token
//! whose signature is checked against the issuer's JWKS and whose iss, aud, exp and nonce are
//! checked. Serves Microsoft Entra ID (with its `oid`/`tid` claims) and any other issuer.

use super::identity::{IdentityProvider, PendingFlow, ProviderError};
use crate::config::OidcSettings;
use app::server::directory::VerifiedSignIn;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenField {
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type OidcClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Discovered {
    discovery: Discovery,
    jwks: JwkSet,
    fetched_at: Instant,
}

/// How long discovery and keys are trusted before being fetched again; an unknown `kid`
/// refetches the keys at once (key rotation).
const METADATA_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    preferred_username: Option<String>,
    /// Entra ID: the user's object id, stable across applications.
    oid: Option<String>,
    /// Entra ID: the tenant id.
    tid: Option<String>,
}

pub struct OidcProvider {
    settings: OidcSettings,
    callback: Url,
    http: super::Http,
    metadata: RwLock<Option<Discovered>>,
}

fn untrusted(message: impl Into<String>) -> ProviderError {
    ProviderError::Untrusted(message.into())
}

impl OidcProvider {
    pub fn new(
        settings: OidcSettings,
        callback: Url,
        egress: &std::sync::Arc<super::egress::Egress>,
    ) -> OidcProvider {
        OidcProvider {
            settings,
            callback,
            http: super::Http::new(egress.clone()),
            metadata: RwLock::new(None),
        }
    }

    fn issuer_text(&self) -> String {
        self.settings
            .issuer
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, url: &str) -> Result<T, ProviderError> {
        let response = self
            .http
            .send(self.http.get(url))
            .await
            .map_err(|e| ProviderError::Unreachable(format!("GET {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(ProviderError::Unreachable(format!(
                "GET {url} answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| untrusted(format!("GET {url}: {e}")))
    }

    async fn fetch_metadata(&self) -> Result<Discovered, ProviderError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer_text());
        let discovery: Discovery = self.get_json(&url).await?;
        // The discovery document must speak for the issuer we were configured with.
        if discovery.issuer.trim_end_matches('/') != self.issuer_text() {
            return Err(untrusted(format!(
                "discovery names issuer {:?}, expected {:?}",
                discovery.issuer,
                self.issuer_text()
            )));
        }
        let jwks: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        Ok(Discovered {
            discovery,
            jwks,
            fetched_at: Instant::now(),
        })
    }

    async fn discovery(&self) -> Result<Discovery, ProviderError> {
        if let Some(found) = self.metadata.read().await.as_ref() {
            if found.fetched_at.elapsed() < METADATA_LIFETIME {
                return Ok(found.discovery.clone());
            }
        }
        let fresh = self.fetch_metadata().await?;
        let discovery = fresh.discovery.clone();
        *self.metadata.write().await = Some(fresh);
        Ok(discovery)
    }

    async fn key_for(
        &self,
        kid: Option<&str>,
    ) -> Result<(DecodingKey, Option<Algorithm>), ProviderError> {
        for attempt in 0..2 {
            if attempt == 1 {
                let fresh = self.fetch_metadata().await?;
                *self.metadata.write().await = Some(fresh);
            }
            let guard = self.metadata.read().await;
            let Some(found) = guard.as_ref() else {
                continue;
            };
            let jwk = match kid {
                Some(kid) => found.jwks.find(kid),
                None if found.jwks.keys.len() == 1 => found.jwks.keys.first(),
                None => None,
            };
            if let Some(jwk) = jwk {
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| untrusted(format!("unusable signing key: {e}")))?;
                let algorithm = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok());
                return Ok((key, algorithm));
            }
        }
        Err(untrusted(format!(
            "no signing key with kid {kid:?} at the issuer"
        )))
    }

    fn client(&self, discovery: &Discovery) -> Result<OidcClient, ProviderError> {
        let mut client = oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(discovery.authorization_endpoint.clone())
                    .map_err(|e| untrusted(e.to_string()))?,
            )
            .set_token_uri(
                TokenUrl::new(discovery.token_endpoint.clone())
                    .map_err(|e| untrusted(e.to_string()))?,
            )
            .set_redirect_uri(RedirectUrl::from_url(self.callback.clone()));
        if let Some(secret) = &self.settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        Ok(client)
    }

    /// Checks the id token: signature by the issuer's key (asymmetric algorithms only), then
    /// iss, aud, exp (with a minute of leeway) and the nonce of this flow.
    async fn verify_id_token(
        &self,
        token: &str,
        flow: &PendingFlow,
    ) -> Result<IdClaims, ProviderError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| untrusted(format!("id token: {e}")))?;
        let allowed = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        if !allowed.contains(&header.alg) {
            return Err(untrusted(format!(
                "id token signed with {:?}, which is not accepted",
                header.alg
            )));
        }
        let (key, key_algorithm) = self.key_for(header.kid.as_deref()).await?;
        if key_algorithm.is_some_and(|a| a != header.alg) {
            return Err(untrusted("id token algorithm does not match its key"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.leeway = 60;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        if !self.settings.issuer_is_template {
            validation.set_issuer(&[self.issuer_text(), format!("{}/", self.issuer_text())]);
        }
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| untrusted(format!("id token rejected: {e}")))?
            .claims;
        if self.settings.issuer_is_template {
            let tid = claims
                .tid
                .as_deref()
                .ok_or_else(|| untrusted("id token has no tid claim"))?;
            let expected = self.issuer_text().replace("{tenantid}", tid);
            let expected = if expected == self.issuer_text() {
                // Configured as common/organizations: Entra issues per-tenant issuers.
                self.issuer_text()
                    .replace("/common/", &format!("/{tid}/"))
                    .replace("/organizations/", &format!("/{tid}/"))
                    .replace("/consumers/", &format!("/{tid}/"))
            } else {
                expected
            };
            if claims.iss.trim_end_matches('/') != expected {
                return Err(untrusted(format!(
                    "id token issuer {:?} is not {expected:?}",
                    claims.iss
                )));
            }
        }
        if let Some(allowed) = &self.settings.allowed_tenants {
            let tid = claims
                .tid
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !allowed.contains(&tid) {
                return Err(ProviderError::Refused(format!(
                    "people of the Entra tenant {tid:?} may not sign in here (SLIPWAY_MICROSOFT_ALLOWED_TENANTS)"
                )));
            }
        }
        if claims.nonce.as_deref() != Some(flow.nonce.as_str()) {
            return Err(untrusted("id token nonce does not match this sign-in"));
        }
        Ok(claims)
    }
}

#[async_trait::async_trait]
impl IdentityProvider for OidcProvider {
    fn id(&self) -> &'static str {
        self.settings.id
    }

    fn label(&self) -> &str {
        &self.settings.label
    }

    async fn authorization_url(&self, flow: &PendingFlow) -> Result<Url, ProviderError> {
        let discovery = self.discovery().await?;
        let client = self.client(&discovery)?;
        let state = flow.state.clone();
        let verifier = PkceCodeVerifier::new(flow.pkce_verifier.clone());
        let mut request = client
            .authorize_url(move || CsrfToken::new(state))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .add_extra_param("nonce", flow.nonce.clone());
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        Ok(request.url().0)
    }

    async fn complete(
        &self,
        code: &str,
        flow: &PendingFlow,
    ) -> Result<VerifiedSignIn, ProviderError> {
        let discovery = self.discovery().await?;
        let client = self.client(&discovery)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Refused(format!("token exchange failed: {e}")))?;
        let id_token = token
            .extra_fields()
            .id_token
            .as_deref()
            .ok_or_else(|| untrusted("the token response holds no id_token"))?;
        let claims = self.verify_id_token(id_token, flow).await?;
        let microsoft = self.settings.id == "microsoft";
        // Entra's `sub` is pairwise per application; `oid` (with the tenant) names the person.
        let subject = match (microsoft, &claims.oid, &claims.tid) {
            (true, Some(oid), Some(tid)) => format!("{tid}/{oid}"),
            _ => claims.sub.clone(),
        };
        let login_hint = claims
            .preferred_username
            .clone()
            .or_else(|| claims.email.clone())
            .map(|u| u.split('@').next().unwrap_or_default().to_string())
            .unwrap_or_else(|| claims.sub.clone());
        Ok(VerifiedSignIn {
            provider: self.settings.id.to_string(),
            subject,
            login_hint,
            // Entra does not assert email ownership, so its address never links accounts.
            email_verified: !microsoft && claims.email_verified.unwrap_or(false),
            email: claims.email.clone(),
            name: claims.name.clone().unwrap_or_default(),
        })
    }
}

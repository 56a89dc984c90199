//! The sign-in port: what the sign-in routes need from a provider.

use app::server::directory::VerifiedSignIn;
use serde::{Deserialize, Serialize};
use url::Url;

/// A sign-in in progress, kept in the session between the redirect out and the callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFlow {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Unix seconds; flows older than `FLOW_LIFETIME_SECS` are refused.
    pub started_at: i64,
}

pub const FLOW_LIFETIME_SECS: i64 = 600;

impl PendingFlow {
    pub fn start(provider: &str) -> PendingFlow {
        PendingFlow {
            provider: provider.to_string(),
            state: random_token(),
            nonce: random_token(),
            pkce_verifier: random_token() + &random_token(),
            started_at: chrono::Utc::now().timestamp(),
        }
    }

    pub fn is_expired(&self, now: i64) -> bool {
        now - self.started_at > FLOW_LIFETIME_SECS || now < self.started_at - 60
    }
}

/// 256 bits from the OS generator, URL-safe.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The user declined, or the provider refused the request (`error=` on the callback).
    #[error("the provider refused: {0}")]
    Refused(String),
    /// The provider answered something we must not trust (bad signature, wrong audience…).
    #[error("untrusted answer from the provider: {0}")]
    Untrusted(String),
    #[error("could not reach the provider: {0}")]
    Unreachable(String),
}

#[async_trait::async_trait]
pub trait IdentityProvider: Send + Sync {
    /// `github`, `microsoft` or `oidc`: the path segment under `/auth/`.
    fn id(&self) -> &'static str;
    fn label(&self) -> &str;
    /// Where to send the browser to start signing in.
    async fn authorization_url(&self, flow: &PendingFlow) -> Result<Url, ProviderError>;
    /// Turns the callback's code into a verified identity.
    async fn complete(
        &self,
        code: &str,
        flow: &PendingFlow,
    ) -> Result<VerifiedSignIn, ProviderError>;
}

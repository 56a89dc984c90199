//! What the REST forge adapters (GitHub, Bitbucket Cloud, Azure DevOps) share: sending a
//! request and turning the provider's answer into JSON or a `ExternalError` that says whether
//! trying again can help (network errors, 5xx, rate limits with the wait they ask for) or not
//! (bad credentials, no such repository, a refused change).

use app::server::ports::{ExternalError, Forge, ForgePull, ForgeRepo, PullState};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

/// A provider's error text, from the shapes their references document: `{"message": …}`
/// (GitHub, Azure DevOps) and `{"error": {"message": …}}` (Bitbucket). Cut to 300 characters.
fn error_text(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let text = parsed
        .as_ref()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error").and_then(|e| e.get("message")))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    text.chars().take(300).collect()
}

/// The seconds a rate-limited answer asks us to wait: `Retry-After`, or GitHub's
/// `x-ratelimit-reset` (epoch seconds) when `x-ratelimit-remaining` is 0.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(seconds) = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(seconds);
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset")?.parse::<i64>().ok()?;
        return Some((reset - chrono::Utc::now().timestamp()).max(1) as u64);
    }
    None
}

/// A failed answer: status, the provider's message, whether it is a rate limit.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub error: ExternalError,
}

impl From<ExternalError> for Refusal {
    fn from(error: ExternalError) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            message: error.message.clone(),
            error,
        }
    }
}

/// Sends `request` and returns the answer's status and JSON body (`Null` when empty), or the
/// refusal. `provider` names the forge in messages ("GitHub").
pub async fn send(
    http: &super::Http,
    provider: &str,
    request: RequestBuilder,
) -> Result<(StatusCode, Value), Refusal> {
    let response = http.send(request).await.map_err(|e| {
        // reqwest's text names the URL, which holds no credential (they travel in headers).
        let message = format!("cannot reach {provider}: {e}");
        let error = match e {
            super::egress::Unanswered::Refused(_) => ExternalError::permanent(message),
            super::egress::Unanswered::Failed(_) => ExternalError::transient(message),
        };
        Refusal {
            status: StatusCode::BAD_GATEWAY,
            message: error.message.clone(),
            error,
        }
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        let value = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).map_err(|e| {
                let error = ExternalError::transient(format!(
                    "{provider} answered {status} with a body that is not JSON: {e}"
                ));
                Refusal {
                    status,
                    message: error.message.clone(),
                    error,
                }
            })?
        };
        return Ok((status, value));
    }
    let message = error_text(&body);
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let wait = retry_after(&headers);
    let error = match status.as_u16() {
        401 => ExternalError::permanent(format!(
            "{provider} refused the integration's credentials (401){said}; check its token"
        )),
        403 | 429 if wait.is_some() || status.as_u16() == 429 => ExternalError {
            message: format!("{provider} is rate-limiting Slipway ({}){said}", status.as_u16()),
            retryable: true,
            retry_after: wait,
            waiting_until: None,
        },
        403 => ExternalError::permanent(format!(
            "{provider} does not allow this to the integration's token (403){said}"
        )),
        404 => ExternalError::permanent(format!(
            "{provider} has no such repository or pull request, or the token cannot see it (404){said}"
        )),
        408 | 500..=599 => ExternalError {
            message: format!("{provider} failed ({}){said}", status.as_u16()),
            retryable: true,
            retry_after: wait,
            waiting_until: None,
        },
        code => ExternalError::permanent(format!("{provider} refused the request ({code}){said}")),
    };
    Err(Refusal {
        status,
        message,
        error,
    })
}

/// A provider's answer read as the typed shape its API reference documents (the fields Slipway
/// uses), or a clear error naming what the provider left out or sent otherwise.
pub fn typed<T: serde::de::DeserializeOwned>(
    provider: &str,
    what: &str,
    value: &Value,
) -> Result<T, ExternalError> {
    T::deserialize(value).map_err(|e| {
        ExternalError::permanent(format!(
            "{provider} answered {what} Slipway cannot read ({e}); is the API URL right?"
        ))
    })
}

/// `value[key]` as a string, or a clear error naming what the provider left out.
pub fn text(provider: &str, value: &Value, pointer: &str) -> Result<String, ExternalError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ExternalError::permanent(format!(
                "{provider} answered without {pointer:?}; is the API URL right?"
            ))
        })
}

/// A setting the integration must hold, without a trailing slash.
pub fn base(
    provider: &str,
    settings: &app::domain::integrations::Fields,
    key: &str,
) -> Result<String, ExternalError> {
    settings
        .get(key)
        .map(|v| v.trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ExternalError::permanent(format!("the {provider} integration has no {key}")))
}

/// Before merging: a merged pull request is the answer already (a re-run after a crash); a
/// closed one cannot be merged (`closed` is the provider's word: closed, declined, abandoned).
pub fn merged_or_refused(
    provider: &str,
    pull: ForgePull,
    closed: &str,
) -> Result<Option<ForgePull>, ExternalError> {
    match pull.state {
        PullState::Merged => Ok(Some(pull)),
        PullState::Closed => Err(ExternalError::permanent(format!(
            "pull request #{} was {closed} on {provider}; it cannot be merged",
            pull.number
        ))),
        PullState::Open => Ok(None),
    }
}

/// Creating answered "already exists" (a crash after creating it): the pull request open for
/// the branch, or the refusal itself when there is none.
pub async fn existing_or(
    forge: &dyn Forge,
    repo: &ForgeRepo,
    head_branch: &str,
    refusal: Refusal,
) -> Result<ForgePull, ExternalError> {
    match forge.find_open_pull(repo, head_branch).await? {
        Some(existing) => Ok(existing),
        None => Err(refusal.error),
    }
}

/// A merge the forge finishes in the background (Bitbucket's 202, Azure DevOps' completion):
/// the pull request, followed once a second for 30 s, until it is no longer open.
pub async fn follow_merge(
    forge: &dyn Forge,
    provider: &str,
    repo: &ForgeRepo,
    number: i64,
) -> Result<ForgePull, ExternalError> {
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let pull = forge.get_pull(repo, number).await?;
        if pull.state != PullState::Open {
            return Ok(pull);
        }
    }
    Err(ExternalError::transient(format!(
        "{provider} is still merging pull request #{number}; checking again later"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_follow_each_providers_shape() {
        assert_eq!(
            error_text(r#"{"message":"Bad credentials","documentation_url":"x"}"#),
            "Bad credentials"
        );
        assert_eq!(
            error_text(r#"{"type":"error","error":{"message":"Repository not found"}}"#),
            "Repository not found"
        );
        assert_eq!(error_text("<html>gateway</html>"), "");
    }
}

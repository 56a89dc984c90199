//! Release tags on images in a real registry, through the OCI distribution API
//! (<https://github.com/opencontainers/distribution-spec/blob/main/spec.md>): a tag is made by
//! fetching the manifest by digest and putting the very same bytes back under the tag, so the
//! tag names exactly the digest that was tested. Tags are never moved: a tag that already names
//! another digest is refused, one naming this digest is left as it is.
//!
//! Authentication follows the registry's challenge: anonymous first, then Basic, or a Bearer
//! token from the realm it names (the token flow of Docker Hub, GHCR, Harbor, GitLab, ACR,
//! Artifact Registry and `registry:2`), with the credentials of Docker's `config.json`
//! (`auths.HOST.auth`, `username`/`password`, or `identitytoken` for the OAuth2 refresh flow).

use app::server::ports::{ExternalError, Registry};
use base64::Engine;
use reqwest::{header, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod auth;
pub use auth::*;
#[allow(unused_imports)]
use auth::*;

/// Every manifest kind a release image may be: an OCI index or manifest, or Docker's list or
/// schema 2 manifest. Sent as `Accept` so the registry hands back the manifest as stored.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// The biggest manifest accepted (the distribution spec's registries refuse past 4 MiB).
const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// The most pages of the tag list read for one image (at the page size, 100 000 tags).
const MAX_PAGES: usize = 1000;

/// The OCI registry's settings: credentials by registry host, and the hosts spoken to over
/// plain HTTP (a registry on 127.0.0.1, say; every other host is HTTPS).
#[derive(Clone, Debug, Default)]
pub struct OciSettings {
    pub credentials: BTreeMap<String, Credential>,
    pub plain_http: BTreeSet<String>,
}

/// Where an image lives: its registry host, the API's base address, its repository name.
struct Location {
    host: String,
    base: String,
    name: String,
}

/// A tag as the distribution spec allows it: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), ExternalError> {
    let mut chars = tag.chars();
    let ok = tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ExternalError::permanent(format!(
            "{tag:?} is not a valid image tag"
        )))
    }
}

/// The registry's error text from `{"errors": [{"code", "message"}]}`, cut to 300 characters.
fn error_text(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let text = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or_default();
                    let message = e
                        .get("message")
                        .and_then(|c| c.as_str())
                        .unwrap_or_default();
                    format!("{code} {message}").trim().to_string()
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    text.chars().take(300).collect()
}

/// A failed answer as a `ExternalError`: worth retrying (rate limits, 5xx, timeouts) or not.
fn refusal(
    host: &str,
    what: &str,
    status: StatusCode,
    headers: &header::HeaderMap,
    body: &str,
) -> ExternalError {
    let said = match error_text(body) {
        text if text.is_empty() => String::new(),
        text => format!(": {text}"),
    };
    let code = status.as_u16();
    let retry_after = super::forge_http::retry_after(headers);
    match code {
        401 => ExternalError::permanent(format!(
            "the registry {host} refused Slipway's credentials ({code}) to {what}{said}; check SLIPWAY_REGISTRY_AUTH_FILE"
        )),
        403 => ExternalError::permanent(format!(
            "the registry {host} does not allow Slipway to {what} ({code}){said}"
        )),
        404 => ExternalError::permanent(format!(
            "the registry {host} has nothing to {what} ({code}){said}"
        )),
        408 | 429 | 500..=599 => ExternalError {
            message: format!("the registry {host} failed to {what} ({code}){said}"),
            retryable: true,
            retry_after,
            waiting_until: None,
        },
        _ => ExternalError::permanent(format!(
            "the registry {host} refused to {what} ({code}){said}"
        )),
    }
}

fn cannot_reach(host: &str, error: super::egress::Unanswered) -> ExternalError {
    // reqwest's text names the URL, which holds no credential (they travel in headers).
    let message = format!("cannot reach the registry {host}: {error}");
    match error {
        super::egress::Unanswered::Refused(_) => ExternalError::permanent(message),
        super::egress::Unanswered::Failed(_) => ExternalError::transient(message),
    }
}

pub struct OciRegistry {
    http: super::Http,
    settings: OciSettings,
    /// Tags asked for per page of the tag list.
    page_size: usize,
    /// Bearer tokens by (host, repository), with the moment they stop being used.
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
    /// Hosts whose challenge was Basic: their credentials go with every request.
    basic: Mutex<BTreeSet<String>>,
}

impl OciRegistry {
    pub fn new(
        settings: OciSettings,
        egress: &std::sync::Arc<super::egress::Egress>,
    ) -> OciRegistry {
        OciRegistry::with_page_size(settings, 100, egress)
    }

    pub fn with_page_size(
        settings: OciSettings,
        page_size: usize,
        egress: &std::sync::Arc<super::egress::Egress>,
    ) -> OciRegistry {
        OciRegistry {
            http: super::Http::new(egress.clone()),
            settings,
            page_size: page_size.max(1),
            tokens: Mutex::default(),
            basic: Mutex::default(),
        }
    }

    /// `registry.example.com/team/app` → host, `https://registry.example.com`, `team/app`; a
    /// name without a registry host (`team/app`) is on Docker Hub.
    fn locate(&self, image: &str) -> Result<Location, ExternalError> {
        let (first, rest) = image
            .split_once('/')
            .ok_or_else(|| ExternalError::permanent(format!("{image:?} names no repository")))?;
        let names_host = first.contains('.') || first.contains(':') || first == "localhost";
        let (host, name) = if names_host {
            (normalize_host(first), rest.to_string())
        } else {
            ("docker.io".to_string(), image.to_string())
        };
        // The name goes into the API's paths: no empty or dot segment may change where.
        if name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
            || name.contains(['?', '#', '%', '\\'])
        {
            return Err(ExternalError::permanent(format!(
                "{image:?} is not an image repository name"
            )));
        }
        let api_host = if host == "docker.io" {
            "registry-1.docker.io"
        } else {
            host.as_str()
        };
        let scheme = if self.settings.plain_http.contains(&host) {
            "http"
        } else {
            "https"
        };
        Ok(Location {
            base: format!("{scheme}://{api_host}"),
            host,
            name,
        })
    }

    fn credential(&self, host: &str) -> Option<&Credential> {
        self.settings.credentials.get(host)
    }

    /// Adds what the host asked for last time: a live Bearer token, or Basic credentials.
    fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        at: &Location,
    ) -> reqwest::RequestBuilder {
        let key = (at.host.clone(), at.name.clone());
        if let Some((token, until)) = self.tokens.lock().unwrap().get(&key) {
            if *until > Instant::now() {
                return request.bearer_auth(token);
            }
        }
        if self.basic.lock().unwrap().contains(&at.host) {
            if let Some(Credential::Password { username, password }) = self.credential(&at.host) {
                return request.basic_auth(username, Some(password));
            }
        }
        request
    }

    /// Sends a request, answering one authentication challenge on the way.
    async fn send(
        &self,
        at: &Location,
        method: Method,
        url: &str,
        content: Option<(&str, &[u8])>,
        what: &str,
    ) -> Result<reqwest::Response, ExternalError> {
        for attempt in 0..2 {
            let mut request = self
                .http
                .request(method.clone(), url)
                .header(header::ACCEPT, MANIFEST_TYPES);
            if let Some((content_type, body)) = content {
                request = request
                    .header(header::CONTENT_TYPE, content_type)
                    .body(body.to_vec());
            }
            let response = self
                .http
                .send(self.authorize(request, at))
                .await
                .map_err(|e| cannot_reach(&at.host, e))?;
            if response.status() != StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge)
                .ok_or_else(|| {
                    ExternalError::permanent(format!(
                        "the registry {} refused Slipway (401) without saying how to sign in",
                        at.host
                    ))
                })?;
            self.answer(at, &challenge, what).await?;
        }
        unreachable!("the second attempt always returns")
    }

    /// Meets a challenge: Basic remembers to send the credentials; Bearer fetches a token for
    /// this repository from the realm.
    async fn answer(
        &self,
        at: &Location,
        challenge: &Challenge,
        what: &str,
    ) -> Result<(), ExternalError> {
        let credential = self.credential(&at.host);
        match challenge.scheme.as_str() {
            "basic" => match credential {
                Some(Credential::Password { .. }) => {
                    self.basic.lock().unwrap().insert(at.host.clone());
                    Ok(())
                }
                _ => Err(ExternalError::permanent(format!(
                    "the registry {} asks for a user and password to {what}: add them to SLIPWAY_REGISTRY_AUTH_FILE",
                    at.host
                ))),
            },
            "bearer" => {
                let (realm, realm_host) = self.token_realm(at, challenge)?;
                let (token, lifetime) = self
                    .fetch_token(at, challenge, realm, &realm_host, credential)
                    .await?;
                self.tokens.lock().unwrap().insert(
                    (at.host.clone(), at.name.clone()),
                    (token, Instant::now() + lifetime),
                );
                Ok(())
            }
            other => Err(ExternalError::permanent(format!(
                "the registry {} asks for {other} authentication, which Slipway does not speak",
                at.host
            ))),
        }
    }

    /// The token realm a Bearer challenge names, with its `host[:port]`: HTTPS, or plain HTTP
    /// only to a host listed in SLIPWAY_REGISTRY_PLAIN_HTTP (credentials travel to it).
    fn token_realm(
        &self,
        at: &Location,
        challenge: &Challenge,
    ) -> Result<(url::Url, String), ExternalError> {
        let realm = challenge.params.get("realm").ok_or_else(|| {
            ExternalError::permanent(format!(
                "the registry {} asked for a token without naming its realm",
                at.host
            ))
        })?;
        let realm = url::Url::parse(realm).map_err(|_| {
            ExternalError::permanent(format!(
                "the registry {} named a token realm that is not a URL",
                at.host
            ))
        })?;
        let realm_host = match realm.port() {
            Some(port) => format!("{}:{port}", realm.host_str().unwrap_or_default()),
            None => realm.host_str().unwrap_or_default().to_string(),
        };
        let plain_allowed = self.settings.plain_http.contains(&realm_host);
        if realm.scheme() != "https" && !(realm.scheme() == "http" && plain_allowed) {
            return Err(ExternalError::permanent(format!(
                "the registry {} named a token realm that is not HTTPS ({realm_host}); list it in SLIPWAY_REGISTRY_PLAIN_HTTP to allow it",
                at.host
            )));
        }
        Ok((realm, realm_host))
    }

    /// A pull-and-push token for the repository, and how long to use it (the distribution
    /// spec's token answer; its default lifetime is 60 s, and a token is dropped 10 s early).
    async fn fetch_token(
        &self,
        at: &Location,
        challenge: &Challenge,
        realm: url::Url,
        realm_host: &str,
        credential: Option<&Credential>,
    ) -> Result<(String, Duration), ExternalError> {
        let scope = format!("repository:{}:pull,push", at.name);
        let service = challenge.params.get("service").cloned().unwrap_or_default();
        let request = match credential {
            Some(Credential::IdentityToken(refresh)) => self.http.post(realm).form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("service", service.as_str()),
                ("scope", scope.as_str()),
                ("client_id", "slipway"),
            ]),
            other => {
                let mut url = realm;
                url.query_pairs_mut()
                    .append_pair("service", &service)
                    .append_pair("scope", &scope);
                let request = self.http.get(url);
                match other {
                    Some(Credential::Password { username, password }) => {
                        request.basic_auth(username, Some(password))
                    }
                    _ => request,
                }
            }
        };
        let response = self
            .http
            .send(request)
            .await
            .map_err(|e| cannot_reach(realm_host, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(refusal(&at.host, "issue a token", status, &headers, &body));
        }
        let unreadable = |what: &str| {
            ExternalError::transient(format!(
                "the token realm of the registry {} answered {what}",
                at.host
            ))
        };
        let answer: TokenAnswer =
            serde_json::from_str(&body).map_err(|_| unreadable("with a body that is not JSON"))?;
        let token = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unreadable("without a token"))?;
        let lifetime = answer.expires_in.unwrap_or(60).max(20);
        Ok((token, Duration::from_secs(lifetime - 10)))
    }

    /// The digest `reference` (a tag or digest) names now, or `None` when there is none.
    async fn resolve(
        &self,
        at: &Location,
        reference: &str,
    ) -> Result<Option<String>, ExternalError> {
        let url = format!("{}/v2/{}/manifests/{reference}", at.base, at.name);
        let what = format!("read {}:{reference}", at.name);
        let response = self.send(at, Method::HEAD, &url, None, &what).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(refusal(&at.host, &what, status, response.headers(), ""));
        }
        if let Some(digest) = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            return Ok(Some(digest.to_string()));
        }
        // A registry that does not say: the digest of the bytes it serves.
        let (_, bytes) = self.manifest(at, reference).await?;
        Ok(Some(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(&bytes))
        )))
    }

    /// The manifest `reference` names, as stored: (media type, bytes).
    async fn manifest(
        &self,
        at: &Location,
        reference: &str,
    ) -> Result<(String, Vec<u8>), ExternalError> {
        let url = format!("{}/v2/{}/manifests/{reference}", at.base, at.name);
        let what = format!("read the manifest {}@{reference}", at.name);
        let response = self.send(at, Method::GET, &url, None, &what).await?;
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(refusal(&at.host, &what, status, &headers, &body));
        }
        let media_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ExternalError::permanent(format!(
                    "the registry {} served {}@{reference} without its media type",
                    at.host, at.name
                ))
            })?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| cannot_reach(&at.host, super::egress::Unanswered::Failed(e)))?;
        if bytes.len() > MAX_MANIFEST {
            return Err(ExternalError::permanent(format!(
                "the manifest {}@{reference} is larger than 4 MiB",
                at.name
            )));
        }
        Ok((media_type, bytes.to_vec()))
    }
}

#[async_trait::async_trait]
impl Registry for OciRegistry {
    async fn tag(&self, image: &str, digest: &str, tag: &str) -> Result<(), ExternalError> {
        check_tag(tag)?;
        app::domain::release_manifests::check_digest(digest)
            .map_err(|e| ExternalError::permanent(format!("{digest:?}: {e}")))?;
        let at = self.locate(image)?;
        match self.resolve(&at, tag).await? {
            Some(named) if named == digest => return Ok(()),
            Some(named) => {
                return Err(ExternalError::permanent(format!(
                    "{image}:{tag} already names {named} (tags are never moved)"
                )))
            }
            None => {}
        }
        let (media_type, bytes) = self.manifest(&at, digest).await?;
        // What is tagged is exactly what was tested: the bytes must hash to the digest.
        let served = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if served != digest {
            return Err(ExternalError::permanent(format!(
                "the registry {} served {image}@{digest} with content whose digest is {served}",
                at.host
            )));
        }
        let url = format!("{}/v2/{}/manifests/{tag}", at.base, at.name);
        let what = format!("tag {image}@{digest} as {tag}");
        let response = self
            .send(&at, Method::PUT, &url, Some((&media_type, &bytes)), &what)
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(refusal(&at.host, &what, status, &headers, &body));
        }
        match headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            Some(stored) if stored != digest => Err(ExternalError::permanent(format!(
                "the registry {} stored {image}:{tag} as {stored}, not {digest}",
                at.host
            ))),
            _ => Ok(()),
        }
    }

    async fn tags(&self, image: &str) -> Result<Vec<String>, ExternalError> {
        let at = self.locate(image)?;
        let what = format!("list the tags of {}", at.name);
        let mut url = format!("{}/v2/{}/tags/list?n={}", at.base, at.name, self.page_size);
        let mut tags = Vec::new();
        for _ in 0..MAX_PAGES {
            let response = self.send(&at, Method::GET, &url, None, &what).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            if status == StatusCode::NOT_FOUND {
                // No such repository yet: it has no tags.
                return Ok(tags);
            }
            if !status.is_success() {
                return Err(refusal(&at.host, &what, status, &headers, &body));
            }
            let page: serde_json::Value = serde_json::from_str(&body).map_err(|_| {
                ExternalError::transient(format!(
                    "the registry {} answered the tag list of {} with a body that is not JSON",
                    at.host, at.name
                ))
            })?;
            tags.extend(
                page.get("tags")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string)),
            );
            // `Link: </v2/name/tags/list?n=100&last=x>; rel="next"`, relative to the registry.
            let next = headers
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.contains("rel=\"next\""))
                .and_then(|v| v.split_once('<'))
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(target, _)| target.to_string());
            match next {
                Some(target) if target.starts_with('/') => url = format!("{}{target}", at.base),
                Some(target) if target.starts_with(&format!("{}/", at.base)) => url = target,
                Some(_) => {
                    return Err(ExternalError::permanent(format!(
                        "the registry {} pointed the tag list of {} at another host",
                        at.host, at.name
                    )))
                }
                None => return Ok(tags),
            }
        }
        Err(ExternalError::permanent(format!(
            "{} has more than {} tags",
            at.name,
            MAX_PAGES * self.page_size
        )))
    }
}

/// A token realm's answer (the distribution spec's token authentication: `token`, or OAuth2's
/// `access_token`, and `expires_in` seconds).
#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_commas_inside_quotes() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example.com/token");
        assert_eq!(c.params["service"], "registry.example.com");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let basic = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(basic.scheme, "basic");
        assert_eq!(basic.params["realm"], "Registry Realm");
    }

    #[test]
    fn images_are_located_on_their_registry() {
        let registry = OciRegistry::new(
            OciSettings {
                plain_http: ["127.0.0.1:5000".to_string()].into(),
                ..OciSettings::default()
            },
            &Default::default(),
        );
        let at = registry.locate("127.0.0.1:5000/acme/api").unwrap();
        assert_eq!(
            (at.host.as_str(), at.base.as_str(), at.name.as_str()),
            ("127.0.0.1:5000", "http://127.0.0.1:5000", "acme/api")
        );
        let at = registry.locate("ghcr.io/acme/api").unwrap();
        assert_eq!(at.base, "https://ghcr.io");
        for bad in [
            "ghcr.io/acme/../api",
            "ghcr.io/./api",
            "ghcr.io/acme//api",
            "ghcr.io/acme/api?x",
        ] {
            assert!(registry.locate(bad).is_err(), "{bad}");
        }
        let at = registry.locate("acme/api").unwrap();
        assert_eq!(
            (at.host.as_str(), at.base.as_str(), at.name.as_str()),
            ("docker.io", "https://registry-1.docker.io", "acme/api")
        );
    }

    #[test]
    fn tags_follow_the_distribution_spec() {
        for good in ["shop-2026.11-rc.0", "v1", "_x", "A.b-c_d"] {
            assert!(check_tag(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", ".x", "a/b", "a:b", &"x".repeat(129)] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auth_files_name_the_place_and_never_the_secret() {
        let dir = std::env::temp_dir().join(format!("slipway-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        let encoded = base64::engine::general_purpose::STANDARD.encode("ci:hunter2:with-colon");
        std::fs::write(
            &path,
            format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{encoded}"}}, "ghcr.io": {{"username": "u", "password": "p"}}, "acr.example.io": {{"identitytoken": "refresh"}}}}}}"#),
        )
        .unwrap();
        let read = read_auth_file(&path).unwrap();
        assert_eq!(
            read["docker.io"],
            Credential::Password {
                username: "ci".into(),
                password: "hunter2:with-colon".into()
            }
        );
        assert_eq!(
            read["acr.example.io"],
            Credential::IdentityToken("refresh".into())
        );
        assert!(!format!("{read:?}").contains("hunter2"));
        std::fs::write(&path, r#"{"auths": {"ghcr.io": {"auth": "bm9jb2xvbg=="}}}"#).unwrap();
        let error = read_auth_file(&path).unwrap_err();
        assert!(
            error.ends_with("auths.ghcr.io.auth is not base64 of user:password"),
            "{error}"
        );
        std::fs::write(&path, "{\n  \"auths\": [\n").unwrap();
        let error = read_auth_file(&path).unwrap_err();
        assert!(error.contains("config.json:3:"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

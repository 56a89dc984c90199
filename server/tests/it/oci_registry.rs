//! The OCI registry adapter against a real registry (`docker-registry`, the distribution
//! project's `registry:2`, on 127.0.0.1): Bearer tokens from a token server that signs them the
//! way the registry's token specification asks (RS256 with an x5c chain), and Basic
//! authentication from an htpasswd file. Tags name exactly the digest given, are never moved,
//! keep the manifest's media type (an index stays an index); bad credentials, unknown digests and
//! a token realm over plain HTTP are refused with the reason and no secret. Then a whole release
//! on both databases, its RC and production tags written into the registry.

use crate::db_test;
use crate::releases::{as_user, stage_becomes, start, vote};
use crate::support::*;
use app::domain::releases::StageState;
use app::server::ports::Registry;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use server::adapters::oci_registry::{Credential, OciRegistry, OciSettings};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const USER: &str = "ci";
const PASSWORD: &str = "s3cret-registry-password";
const REFRESH: &str = "refresh-token-from-docker-login";
/// `htpasswd -B -C 4` of USER:PASSWORD (bcrypt; a test password, not a secret).
const HTPASSWD: &str = "ci:$2b$04$iXvdrZFCKwEdM.A9yd.Wj.0P0NKNh37XyLuPk0Qkno2phiS5W3S5G";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What the token server was asked: (how the caller signed in, the scope asked for).
type Asked = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Clone)]
struct Issuer {
    key: Arc<jsonwebtoken::EncodingKey>,
    x5c: String,
    asked: Asked,
}

impl Issuer {
    fn token(&self, service: &str, scope: &str) -> String {
        // `repository:NAME:ACTIONS`: grant what was asked.
        let mut parts = scope.splitn(3, ':');
        let (kind, name, actions) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": "slipway-test-issuer", "sub": USER, "aud": service,
            "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{:016x}", rand::random::<u64>()),
            "access": [{ "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>() }],
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5c = Some(vec![self.x5c.clone()]);
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

async fn token_get(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> axum::response::Response {
    let scope = query.get("scope").cloned().unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let signed_in = match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) if value == format!("Basic {basic}") => "basic",
        Some(_) => "wrong",
        None => "anonymous",
    };
    issuer
        .asked
        .lock()
        .unwrap()
        .push((signed_in.to_string(), scope.clone()));
    if signed_in != "basic" {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"details": "incorrect username or password"})),
        )
            .into_response();
    }
    let token = issuer.token(
        query.get("service").map(String::as_str).unwrap_or_default(),
        &scope,
    );
    axum::Json(serde_json::json!({ "token": token, "expires_in": 300 })).into_response()
}

/// The OAuth2 form of the token specification: a refresh token for an access token.
async fn token_post(
    State(issuer): State<Issuer>,
    Form(form): Form<BTreeMap<String, String>>,
) -> axum::response::Response {
    let scope = form.get("scope").cloned().unwrap_or_default();
    let good = form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && form.get("refresh_token").map(String::as_str) == Some(REFRESH);
    issuer.asked.lock().unwrap().push((
        if good { "refresh" } else { "wrong" }.to_string(),
        scope.clone(),
    ));
    if !good {
        return (StatusCode::UNAUTHORIZED, "invalid refresh token").into_response();
    }
    let token = issuer.token(
        form.get("service").map(String::as_str).unwrap_or_default(),
        &scope,
    );
    axum::Json(serde_json::json!({ "access_token": token, "expires_in": 300 })).into_response()
}

/// A `docker-registry` process on a free port of 127.0.0.1, killed when dropped.
struct RegistryProcess {
    host: String,
    child: std::process::Child,
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the registry with `auth` (the YAML under `auth:`), or None (after `unavailable`)
/// when this machine has no `docker-registry`.
async fn registry_process(dir: &Path, auth: &str) -> Option<RegistryProcess> {
    let binary = Path::new("/usr/bin/docker-registry");
    if !binary.exists() {
        unavailable("docker-registry (Debian package docker-registry)");
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: slipway-test-upload-secret\nauth:\n{auth}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(binary)
        .arg("serve")
        .arg(&config)
        .stdout(std::fs::File::create(dir.join("registry.log")).unwrap())
        .stderr(std::fs::File::create(dir.join("registry.err")).unwrap())
        .spawn()
        .expect("docker-registry starts");
    let process = RegistryProcess {
        host: format!("127.0.0.1:{port}"),
        child,
    };
    for _ in 0..200 {
        if let Ok(response) = reqwest::get(format!("http://{}/v2/", process.host)).await {
            assert_eq!(response.status(), 401, "the registry asks for credentials");
            return Some(process);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "docker-registry did not listen: {}",
        std::fs::read_to_string(dir.join("registry.err")).unwrap_or_default()
    );
}

/// A registry with token authentication and its token server.
struct TokenRegistry {
    registry: RegistryProcess,
    realm_host: String,
    issuer: Issuer,
    _dir: PathBuf,
}

async fn token_registry() -> Option<TokenRegistry> {
    let dir = std::env::temp_dir().join(format!("slipway-oci-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=slipway-test-token-issuer",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let der = std::process::Command::new("openssl")
        .args(["x509", "-outform", "der", "-in"])
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap()
        .stdout;
    let issuer = Issuer {
        key: Arc::new(
            jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(dir.join("key.pem")).unwrap())
                .unwrap(),
        ),
        x5c: base64::engine::general_purpose::STANDARD.encode(der),
        asked: Asked::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm_host = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new()
        .route("/token", axum::routing::get(token_get).post(token_post))
        .with_state(issuer.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let auth = format!(
        "  token:\n    realm: http://{realm_host}/token\n    service: slipway-test-registry\n    issuer: slipway-test-issuer\n    rootcertbundle: {}\n",
        dir.join("cert.pem").display()
    );
    let registry = registry_process(&dir.join("registry"), &auth).await?;
    Some(TokenRegistry {
        registry,
        realm_host,
        issuer,
        _dir: dir,
    })
}

impl TokenRegistry {
    fn settings(&self, credential: Option<Credential>) -> OciSettings {
        OciSettings {
            credentials: credential
                .into_iter()
                .map(|c| (self.registry.host.clone(), c))
                .collect(),
            plain_http: [self.registry.host.clone(), self.realm_host.clone()].into(),
        }
    }

    /// Pushes a blob and a manifest for `name`, as CI does, returning the manifest's digest.
    async fn push(
        &self,
        name: &str,
        media_type: &str,
        manifest: &[u8],
        blob: Option<&[u8]>,
    ) -> String {
        let http = reqwest::Client::new();
        let token = self.issuer.token(
            "slipway-test-registry",
            &format!("repository:{name}:pull,push"),
        );
        let base = format!("http://{}", self.registry.host);
        if let Some(blob) = blob {
            let started = http
                .post(format!("{base}/v2/{name}/blobs/uploads/"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(started.status(), 202, "{}", started.text().await.unwrap());
            let location = started.headers()["location"].to_str().unwrap().to_string();
            let location = if location.starts_with('/') {
                format!("{base}{location}")
            } else {
                location
            };
            let separator = if location.contains('?') { '&' } else { '?' };
            let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(blob)));
            let put = http
                .put(format!("{location}{separator}digest={digest}"))
                .bearer_auth(&token)
                .header("content-type", "application/octet-stream")
                .body(blob.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
        }
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(manifest)));
        let put = http
            .put(format!("{base}/v2/{name}/manifests/{digest}"))
            .bearer_auth(&token)
            .header("content-type", media_type)
            .body(manifest.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
        digest
    }

    /// Pushes a one-config image whose config holds `label`; returns its manifest's digest.
    async fn push_image(&self, name: &str, label: &str) -> String {
        let config = format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{\"Labels\":{{\"build\":\"{label}\"}}}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}}}}");
        let config_digest = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(config.as_bytes()))
        );
        let manifest = format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{config_digest}\",\"size\":{}}},\"layers\":[]}}",
            config.len()
        );
        self.push(
            name,
            OCI_MANIFEST,
            manifest.as_bytes(),
            Some(config.as_bytes()),
        )
        .await
    }

    /// What `reference` names in the registry now: (digest, media type), through the API.
    async fn lookup(&self, name: &str, reference: &str) -> Option<(String, String)> {
        let token = self
            .issuer
            .token("slipway-test-registry", &format!("repository:{name}:pull"));
        let response = reqwest::Client::new()
            .get(format!(
                "http://{}/v2/{name}/manifests/{reference}",
                self.registry.host
            ))
            .bearer_auth(token)
            .header("accept", format!("{OCI_INDEX}, {OCI_MANIFEST}"))
            .send()
            .await
            .unwrap();
        if response.status() == 404 {
            return None;
        }
        assert_eq!(response.status(), 200);
        let media_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let bytes = response.bytes().await.unwrap();
        Some((
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes))),
            media_type,
        ))
    }
}

#[tokio::test]
async fn release_tags_go_into_a_real_registry_with_bearer_tokens() {
    let Some(registry) = token_registry().await else {
        return;
    };
    let name = "acme/checkout-api";
    let image = format!("{}/{name}", registry.registry.host);
    let first = registry.push_image(name, "v2.4.13").await;
    let second = registry.push_image(name, "v2.4.14").await;
    let oci = OciRegistry::with_page_size(
        registry.settings(Some(Credential::Password {
            username: USER.into(),
            password: PASSWORD.into(),
        })),
        2,
        &loopback(),
    );

    // A tag names exactly the digest given; tagging again is a no-op; a tag is never moved.
    oci.tag(&image, &first, "shop-2026.11-rc.0").await.unwrap();
    assert_eq!(
        registry.lookup(name, "shop-2026.11-rc.0").await,
        Some((first.clone(), OCI_MANIFEST.to_string()))
    );
    oci.tag(&image, &first, "shop-2026.11-rc.0").await.unwrap();
    let moved = oci
        .tag(&image, &second, "shop-2026.11-rc.0")
        .await
        .unwrap_err();
    assert!(!moved.retryable);
    assert_eq!(
        moved.message,
        format!("{image}:shop-2026.11-rc.0 already names {first} (tags are never moved)")
    );
    assert_eq!(
        registry.lookup(name, "shop-2026.11-rc.0").await.unwrap().0,
        first
    );
    // The token server was asked for this repository, with the configured user.
    let asked = registry.issuer.asked.lock().unwrap().clone();
    assert!(
        asked.contains(&("basic".into(), format!("repository:{name}:pull,push"))),
        "{asked:?}"
    );
    assert!(asked.iter().all(|(how, _)| how == "basic"), "{asked:?}");

    // A multi-platform index stays an index under its tag.
    let index = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{second}\",\"size\":{},\"platform\":{{\"architecture\":\"amd64\",\"os\":\"linux\"}}}}]}}",
        registry.lookup_size(name, &second).await
    );
    let index_digest = registry.push(name, OCI_INDEX, index.as_bytes(), None).await;
    oci.tag(&image, &index_digest, "shop-2026.12-rc.0")
        .await
        .unwrap();
    assert_eq!(
        registry.lookup(name, "shop-2026.12-rc.0").await,
        Some((index_digest.clone(), OCI_INDEX.to_string()))
    );

    // A digest the registry does not hold: refused, nothing tagged.
    let unknown = format!("sha256:{}", "ab".repeat(32));
    let missing = oci
        .tag(&image, &unknown, "shop-2027.01-rc.0")
        .await
        .unwrap_err();
    assert!(!missing.retryable);
    assert!(
        missing.message.contains(&format!(
            "has nothing to read the manifest {name}@{unknown} (404)"
        )),
        "{}",
        missing.message
    );
    assert_eq!(registry.lookup(name, "shop-2027.01-rc.0").await, None);
    // A tag or digest that could never be valid is refused before any request.
    assert!(oci
        .tag(&image, &first, "../latest")
        .await
        .unwrap_err()
        .message
        .contains("is not a valid image tag"));
    assert!(oci.tag(&image, "sha256:xyz", "ok").await.is_err());

    // The tag list, read page by page (two a page here).
    oci.tag(&image, &second, "shop-2026.11").await.unwrap();
    let mut tags = oci.tags(&image).await.unwrap();
    tags.sort();
    assert_eq!(
        tags,
        ["shop-2026.11", "shop-2026.11-rc.0", "shop-2026.12-rc.0"]
    );
    assert_eq!(
        oci.tags(&format!("{}/acme/never-pushed", registry.registry.host))
            .await
            .unwrap(),
        Vec::<String>::new()
    );

    // docker login's identity token: exchanged at the realm for an access token.
    let refreshed = OciRegistry::new(
        registry.settings(Some(Credential::IdentityToken(REFRESH.into()))),
        &loopback(),
    );
    refreshed
        .tag(&image, &second, "shop-2026.11-hotfix.1")
        .await
        .unwrap();
    assert_eq!(
        registry
            .lookup(name, "shop-2026.11-hotfix.1")
            .await
            .unwrap()
            .0,
        second
    );
    assert!(registry
        .issuer
        .asked
        .lock()
        .unwrap()
        .contains(&("refresh".into(), format!("repository:{name}:pull,push"))));

    // A wrong password: refused for good, the password in no message.
    let wrong = OciRegistry::new(
        registry.settings(Some(Credential::Password {
            username: USER.into(),
            password: "not-the-password".into(),
        })),
        &loopback(),
    );
    let refused = wrong
        .tag(&image, &first, "shop-2027.02-rc.0")
        .await
        .unwrap_err();
    assert!(!refused.retryable);
    assert!(
        refused
            .message
            .contains("refused Slipway's credentials (401) to issue a token"),
        "{}",
        refused.message
    );
    assert!(!refused.message.contains("not-the-password"));
    // No credentials at all: the token server refuses the anonymous caller.
    let anonymous = OciRegistry::new(registry.settings(None), &loopback());
    assert!(anonymous
        .tag(&image, &first, "shop-2027.03-rc.0")
        .await
        .unwrap_err()
        .message
        .contains("(401)"));

    // A token realm over plain HTTP that is not listed: no credentials are sent to it.
    let mut strict = registry.settings(Some(Credential::Password {
        username: USER.into(),
        password: PASSWORD.into(),
    }));
    strict.plain_http.remove(&registry.realm_host);
    let before = registry.issuer.asked.lock().unwrap().len();
    let error = OciRegistry::new(strict, &loopback())
        .tag(&image, &first, "shop-2027.04-rc.0")
        .await
        .unwrap_err();
    assert!(
        error
            .message
            .contains("named a token realm that is not HTTPS"),
        "{}",
        error.message
    );
    assert_eq!(
        registry.issuer.asked.lock().unwrap().len(),
        before,
        "the realm was never called"
    );
}

impl TokenRegistry {
    async fn lookup_size(&self, name: &str, reference: &str) -> usize {
        let token = self
            .issuer
            .token("slipway-test-registry", &format!("repository:{name}:pull"));
        reqwest::Client::new()
            .get(format!(
                "http://{}/v2/{name}/manifests/{reference}",
                self.registry.host
            ))
            .bearer_auth(token)
            .header("accept", OCI_MANIFEST)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn basic_authentication_sends_the_configured_user() {
    let dir =
        std::env::temp_dir().join(format!("slipway-oci-basic-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("htpasswd"), format!("{HTPASSWD}\n")).unwrap();
    let auth = format!(
        "  htpasswd:\n    realm: slipway-test\n    path: {}\n",
        dir.join("htpasswd").display()
    );
    let Some(process) = registry_process(&dir.join("registry"), &auth).await else {
        return;
    };
    let name = "acme/basic";
    let image = format!("{}/{name}", process.host);
    // Push with Basic credentials, as CI would.
    let http = reqwest::Client::new();
    let base = format!("http://{}", process.host);
    let config = b"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    let config_digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(config)));
    let started = http
        .post(format!("{base}/v2/{name}/blobs/uploads/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let location = started.headers()["location"].to_str().unwrap().to_string();
    let put = http
        .put(format!("{location}&digest={config_digest}"))
        .basic_auth(USER, Some(PASSWORD))
        .body(config.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let manifest = format!("{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{config_digest}\",\"size\":{}}},\"layers\":[]}}", config.len());
    let digest = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(manifest.as_bytes()))
    );
    let put = http
        .put(format!("{base}/v2/{name}/manifests/{digest}"))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);

    let plain = || -> std::collections::BTreeSet<String> { [process.host.clone()].into() };
    let oci = OciRegistry::new(
        OciSettings {
            credentials: [(
                process.host.clone(),
                Credential::Password {
                    username: USER.into(),
                    password: PASSWORD.into(),
                },
            )]
            .into(),
            plain_http: plain(),
        },
        &loopback(),
    );
    oci.tag(&image, &digest, "shop-2026.11-rc.0").await.unwrap();
    oci.tag(&image, &digest, "shop-2026.11-rc.0").await.unwrap();
    assert_eq!(oci.tags(&image).await.unwrap(), ["shop-2026.11-rc.0"]);
    let tagged = http
        .head(format!("{base}/v2/{name}/manifests/shop-2026.11-rc.0"))
        .basic_auth(USER, Some(PASSWORD))
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tagged.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );

    let anonymous = OciRegistry::new(
        OciSettings {
            credentials: BTreeMap::new(),
            plain_http: plain(),
        },
        &loopback(),
    );
    let error = anonymous
        .tag(&image, &digest, "shop-2026.12-rc.0")
        .await
        .unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.contains("asks for a user and password"),
        "{}",
        error.message
    );
    std::fs::remove_dir_all(&dir).ok();
}

db_test! {
    async fn a_release_tags_its_images_in_the_configured_oci_registry(db: TestDb) {
        let Some(registry) = token_registry().await else { return };
        let name = "acme/checkout-api";
        let image = format!("{}/{name}", registry.registry.host);
        let digest = registry.push_image(name, "v2.4.13").await;
        // The server reads its registry from the settings, credentials from config.json.
        let auth_file = db.dir.join("docker-config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        std::fs::write(&auth_file, format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", registry.registry.host)).unwrap();
        let server = TestServer::start(&db, ServerOptions {
            worker: true,
            settings: vec![
                ("SLIPWAY_REGISTRY", "oci".into()),
                ("SLIPWAY_REGISTRY_AUTH_FILE", auth_file.display().to_string()),
                ("SLIPWAY_REGISTRY_PLAIN_HTTP", format!("{},{}", registry.registry.host, registry.realm_host)),
            ],
            ..ServerOptions::default()
        })
        .await;
        let ada = as_user(&server, "ada").await;
        let app = crate::deployments::APP.replace("registry.example.com/acme/checkout-api", &image);
        for (endpoint, fields) in [
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", crate::deployments::TRACK)]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", app.as_str())]),
            ("save_release_manifest", vec![("kind", ""), ("name", ""), ("revision", "0"), ("source", crate::deployments::SET)]),
            ("save_repository", vec![("name", ""), ("revision", "0"), ("source", crate::deployments::REPOSITORY)]),
        ] {
            let (status, body) = call(&ada, &server, endpoint, &fields).await;
            assert_eq!(status, 200, "{endpoint}: {body}");
        }
        let (_, body) = call(&ada, &server, "rotate_build_secret", &[("name", "checkout")]).await;
        let secret: String = serde_json::from_str(&body).unwrap();
        let build = serde_json::json!({
            "repository": "acme/checkout", "application": "checkout-api", "version": "v2.4.13",
            "commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
            "run": "https://github.example/acme/checkout/actions/runs/7",
            "images": [{ "name": "checkout-api", "digest": digest }],
        }).to_string().into_bytes();
        let now = chrono::Utc::now().timestamp();
        let (status, _) = crate::deployments::send(&server, now, &crate::deployments::sign(&secret, now, &build), &build).await;
        assert_eq!(status, 202);
        let remy = as_user(&server, "remy").await;
        let mut started = (0, String::new());
        for _ in 0..200 {
            started = start(&remy, &server, "2026.11").await;
            if started.0 == 200 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(started.0, 200, "{}", started.1);
        let id: i64 = serde_json::from_str(&started.1).unwrap();
        // The RC tag is in the registry, on the built digest, before any stage deploys.
        assert_eq!(registry.lookup(name, "shop-2026.11-rc.0").await.map(|(d, _)| d), Some(digest.clone()));

        let quinn = as_user(&server, "quinn").await;
        assert_eq!(vote(&quinn, &server, id, 0, "qa", true, "").await.0, 200);
        stage_becomes(&remy, &server, id, 1, StageState::AwaitingSignOff).await;
        for (user, group) in [("pat", "product"), ("sam", "security")] {
            let client = as_user(&server, user).await;
            assert_eq!(vote(&client, &server, id, 1, group, true, "").await.0, 200);
        }
        stage_becomes(&remy, &server, id, 1, StageState::Deployed).await;
        let mut tagged = None;
        for _ in 0..200 {
            tagged = registry.lookup(name, "shop-2026.11").await;
            if tagged.is_some() { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(tagged.map(|(d, _)| d), Some(digest), "the production tag names the tested digest");
        // Nothing went into the embedded registry's table.
        use sea_orm::{EntityTrait, PaginatorTrait};
        assert_eq!(app::server::entities::registry_tags::Entity::find().count(&db.conn).await.unwrap(), 0);
    }
}

/// The test registries listen on 127.0.0.1, which the egress policy refuses unless listed.
fn loopback() -> Arc<server::adapters::egress::Egress> {
    Arc::new(server::adapters::egress::Egress::parse("127.0.0.1, localhost").unwrap())
}

/// A registry whose challenge names the cloud metadata address as its token realm: the
/// credentials never go there, even with plain HTTP allowed for it; and with nothing listed in
/// SLIPWAY_ALLOWED_HOSTS, the loopback registry itself is not reached.
#[tokio::test]
async fn a_token_realm_on_a_metadata_address_gets_no_credentials() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::UNAUTHORIZED,
            [(
                "www-authenticate",
                r#"Bearer realm="http://169.254.169.254/latest/meta-data/token",service="evil""#,
            )],
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let settings = || OciSettings {
        credentials: [(
            host.clone(),
            Credential::Password {
                username: USER.into(),
                password: PASSWORD.into(),
            },
        )]
        .into(),
        plain_http: [host.clone(), "169.254.169.254".to_string()].into(),
    };
    let image = format!("{host}/acme/app");
    let digest = format!("sha256:{}", "a".repeat(64));

    let error = OciRegistry::new(settings(), &loopback())
        .tag(&image, &digest, "v1")
        .await
        .unwrap_err();
    assert!(
        error.message.contains("169.254.169.254")
            && error.message.contains("SLIPWAY_ALLOWED_HOSTS"),
        "{}",
        error.message
    );
    assert!(!error.retryable, "a refused address is not worth retrying");

    let nothing_listed = Arc::new(server::adapters::egress::Egress::default());
    let error = OciRegistry::new(settings(), &nothing_listed)
        .tag(&image, &digest, "v1")
        .await
        .unwrap_err();
    assert!(
        error.message.contains("127.0.0.1") && error.message.contains("SLIPWAY_ALLOWED_HOSTS"),
        "{}",
        error.message
    );
}

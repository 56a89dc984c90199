//! The id token checks, one at a time, against an in-test OIDC issuer that signs whatever the
//! test asks for: a bad signature, audience, issuer, expiry, nonce or algorithm gets no session,
//! a trip back to the sign-in page, and an audit event. The fake also checks Slipway's PKCE
//! verifier against the challenge it sent, which oidc-provider-mock does not.

use crate::db_test;
use crate::support::{call, client, ServerOptions, TestServer};
use app::server::entities::audit_events;
use axum::extract::{Form, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Keys {
    private_pem: Vec<u8>,
    other_private_pem: Vec<u8>,
    public_jwk: serde_json::Value,
    public_pem: Vec<u8>,
}

fn openssl(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl runs");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "openssl {args:?}");
    output.stdout
}

fn keys() -> Keys {
    let private_pem = openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        None,
    );
    let other_private_pem = openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        None,
    );
    let public_pem = openssl(&["pkey", "-pubout"], Some(&private_pem));
    let modulus =
        String::from_utf8(openssl(&["rsa", "-noout", "-modulus"], Some(&private_pem))).unwrap();
    let modulus = hex::decode(modulus.trim().trim_start_matches("Modulus=")).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Keys {
        public_jwk: serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "key-1", "n": b64.encode(modulus), "e": "AQAB"}),
        private_pem,
        other_private_pem,
        public_pem,
    }
}

/// What the next token response holds; the test sets it before each callback.
#[derive(Clone, Default)]
struct Issuer {
    base: Arc<Mutex<String>>,
    next_id_token: Arc<Mutex<Option<String>>>,
    challenge: Arc<Mutex<String>>,
    problems: Arc<Mutex<Vec<String>>>,
}

async fn discovery(State(issuer): State<Issuer>) -> Json<serde_json::Value> {
    let base = issuer.base.lock().unwrap().clone();
    Json(serde_json::json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"]
    }))
}

async fn token(
    State(issuer): State<Issuer>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<serde_json::Value> {
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if challenge != *issuer.challenge.lock().unwrap() {
        issuer
            .problems
            .lock()
            .unwrap()
            .push("the PKCE verifier does not match the challenge".into());
    }
    // client_secret_basic: "Basic base64(client_id:client_secret)".
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("slipway:s3cret")
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        issuer
            .problems
            .lock()
            .unwrap()
            .push("the client did not authenticate with client_secret_basic".into());
    }
    let mut body =
        serde_json::json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300});
    if let Some(id_token) = issuer.next_id_token.lock().unwrap().clone() {
        body["id_token"] = serde_json::Value::String(id_token);
    }
    Json(body)
}

fn sign(claims: &serde_json::Value, pem: &[u8], kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

db_test! {
    async fn every_id_token_check_refuses_what_it_must(db: TestDb) {
        let keys = keys();
        let issuer = Issuer::default();
        let jwks = serde_json::json!({"keys": [keys.public_jwk.clone()]});
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(move || async move { Json(jwks.clone()) }))
            .route("/token", post(token))
            .with_state(issuer.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *issuer.base.lock().unwrap() = base.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let server = TestServer::start(
            &db,
            ServerOptions {
                demo: false,
                estate: false,
                worker: false,
                settings: vec![
                    ("SLIPWAY_OIDC_ISSUER", base.clone()),
                    ("SLIPWAY_OIDC_CLIENT_ID", "slipway".into()),
                    ("SLIPWAY_OIDC_CLIENT_SECRET", "s3cret".into()),
                ],
            },
        )
        .await;

        let now = chrono::Utc::now().timestamp();
        let issuer_url = base.clone();
        let good = move |nonce: &str| serde_json::json!({
            "iss": issuer_url, "aud": "slipway", "sub": "u-1", "iat": now, "exp": now + 300, "nonce": nonce,
            "email": "u1@example.com", "email_verified": true, "name": "User One"
        });
        type Forge = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;
        let private = keys.private_pem.clone();
        let other = keys.other_private_pem.clone();
        let public_pem = keys.public_pem.clone();
        let cases: Vec<(&str, Forge, &str)> = vec![
            ("wrong audience", Box::new({ let p = private.clone(); let g = good.clone(); move |n| { let mut c = g(n); c["aud"] = "someone-else".into(); Some(sign(&c, &p, "key-1")) } }), "InvalidAudience"),
            ("wrong issuer", Box::new({ let p = private.clone(); let g = good.clone(); move |n| { let mut c = g(n); c["iss"] = "http://evil.example".into(); Some(sign(&c, &p, "key-1")) } }), "InvalidIssuer"),
            ("expired", Box::new({ let p = private.clone(); let g = good.clone(); move |n| { let mut c = g(n); c["exp"] = (now - 600).into(); Some(sign(&c, &p, "key-1")) } }), "ExpiredSignature"),
            ("wrong nonce", Box::new({ let p = private.clone(); let g = good.clone(); move |_| Some(sign(&g("not-this-flow"), &p, "key-1")) }), "nonce does not match"),
            ("another key", Box::new({ let g = good.clone(); move |n| Some(sign(&g(n), &other, "key-1")) }), "InvalidSignature"),
            ("unknown key id", Box::new({ let p = private.clone(); let g = good.clone(); move |n| Some(sign(&g(n), &p, "key-9")) }), "no signing key with kid"),
            ("HS256 with the public key as secret", Box::new({ let g = good.clone(); move |n| {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = Some("key-1".into());
                Some(jsonwebtoken::encode(&header, &g(n), &EncodingKey::from_secret(&public_pem)).unwrap())
            } }), "not accepted"),
            ("no id token", Box::new(|_| None), "no id_token"),
        ];

        for (what, forge, reason) in cases {
            let browser = client();
            let start = browser.get(server.url("/auth/oidc")).send().await.unwrap();
            let location = start.headers()["location"].to_str().unwrap().to_string();
            *issuer.challenge.lock().unwrap() = query_param(&location, "code_challenge");
            *issuer.next_id_token.lock().unwrap() = forge(&query_param(&location, "nonce"));
            let state = query_param(&location, "state");
            let done = browser
                .get(server.url(&format!("/auth/oidc/callback?code=c&state={state}")))
                .send()
                .await
                .unwrap();
            assert_eq!(done.headers()["location"], "/auth/signin?error=failed", "{what}");
            assert_eq!(call(&browser, &server, "current_user", &[]).await.1, "null", "{what} gives no session");
            let event = audit_events::Entity::find()
                .filter(audit_events::Column::Action.eq("session.sign_in_refused"))
                .order_by_desc(audit_events::Column::Seq)
                .one(&db.conn)
                .await
                .unwrap()
                .expect("an audit event");
            assert!(event.after.as_deref().unwrap_or_default().contains(reason), "{what}: {:?}", event.after);
        }

        // The same issuer with an honest token signs the user in: the refusals above were the
        // checks, not a broken fake.
        let browser = client();
        let start = browser.get(server.url("/auth/oidc")).send().await.unwrap();
        let location = start.headers()["location"].to_str().unwrap().to_string();
        *issuer.challenge.lock().unwrap() = query_param(&location, "code_challenge");
        *issuer.next_id_token.lock().unwrap() = Some(sign(&good(&query_param(&location, "nonce")), &private, "key-1"));
        let done = browser
            .get(server.url(&format!("/auth/oidc/callback?code=c&state={}", query_param(&location, "state"))))
            .send()
            .await
            .unwrap();
        assert_eq!(done.headers()["location"], "/");
        assert!(call(&browser, &server, "current_user", &[]).await.1.contains("\"login\":\"u1\""));
        assert!(issuer.problems.lock().unwrap().is_empty(), "{:?}", issuer.problems.lock().unwrap());
    }
}

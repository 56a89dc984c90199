//! Sign-in end to end: demo users, GitHub (against an in-test fake that checks every request
//! as GitHub would), and OpenID Connect and Microsoft Entra ID against a real OIDC provider
//! process (oidc-provider-mock). Sessions rotate at sign-in and die at sign-out; a wrong or
//! replayed state never yields a session.

use crate::db_test;
use crate::support::{call, client, repo_root, unavailable, ServerOptions, TestDb, TestServer};
use app::server::entities::{audit_events, identities, sessions};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("slipway_session="))
        .map(str::to_string)
}

async fn whoami(client: &reqwest::Client, server: &TestServer) -> serde_json::Value {
    let (status, body) = call(client, server, "current_user", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn refused_sign_ins(db: &TestDb) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("session.sign_in_refused"))
        .count(&db.conn)
        .await
        .unwrap()
}

db_test! {
    async fn demo_sign_in_rotates_the_session_and_sign_out_destroys_it(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let browser = client();
        // An anonymous page view already has a session cookie only if something was stored;
        // start a GitHub-less flow to get one: the sign-in page itself stores nothing.
        let page = browser.get(server.url("/auth/demo")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for name in ["Ada Admin", "Devon Developer", "Quinn QA", "Pat Product", "Sam Security", "Riley SRE", "Remy Release"] {
            assert!(html.contains(name), "the demo page offers {name}");
        }

        let response = browser.post(server.url("/auth/demo/ada")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let cookie = session_cookie(&response).expect("sign-in sets the session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain http gets no Secure flag: {cookie}");
        let me = whoami(&browser, &server).await;
        assert_eq!(me["login"], "ada");
        assert_eq!(me["can_admin"], true);

        // Signing in again as someone else rotates the id: the old id no longer works.
        let old_id = cookie.split(';').next().unwrap().trim_start_matches("slipway_session=").to_string();
        let again = browser.post(server.url("/auth/demo/pat")).send().await.unwrap();
        let new_cookie = session_cookie(&again).expect("a new cookie");
        let new_id = new_cookie.split(';').next().unwrap().trim_start_matches("slipway_session=").to_string();
        assert_ne!(old_id, new_id);
        assert!(sessions::Entity::find_by_id(old_id).one(&db.conn).await.unwrap().is_none());
        assert_eq!(whoami(&browser, &server).await["login"], "pat");

        let out = browser.post(server.url("/auth/logout")).send().await.unwrap();
        assert_eq!(out.status(), 303);
        assert!(session_cookie(&out).is_some_and(|c| c.contains("Max-Age=0") || c.contains("Expires=")), "the cookie is cleared");
        assert!(sessions::Entity::find_by_id(new_id).one(&db.conn).await.unwrap().is_none(), "the session row is gone");
        assert_eq!(whoami(&browser, &server).await, serde_json::Value::Null);
        let actions: Vec<String> = audit_events::Entity::find()
            .filter(audit_events::Column::Action.starts_with("session."))
            .order_by_asc(audit_events::Column::Seq)
            .all(&db.conn)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["session.sign_in", "session.sign_in", "session.sign_out"]);
    }
}

db_test! {
    async fn without_demo_the_demo_routes_are_404(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { demo: false, estate: false, settings: vec![], worker: false }).await;
        let browser = client();
        let page = browser.get(server.url("/auth/demo")).send().await.unwrap();
        assert_eq!(page.status(), 404);
        let post = browser.post(server.url("/auth/demo/ada")).send().await.unwrap();
        assert_eq!(post.status(), 404);
        let (status, _) = call(&browser, &server, "demo_users", &[]).await;
        assert_eq!(status, 404);
    }
}

/// GitHub's OAuth and REST endpoints, checking each request as GitHub documents it.
#[derive(Clone, Default)]
struct GitHubFake {
    problems: Arc<Mutex<Vec<String>>>,
    redirect_uri: Arc<Mutex<String>>,
}

impl GitHubFake {
    fn problem(&self, text: String) {
        self.problems.lock().unwrap().push(text);
    }

    fn check_api_headers(&self, headers: &HeaderMap) -> bool {
        let mut ok = true;
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some("Bearer gho_slipwaytest")
        {
            self.problem("API call without the bearer token".into());
            ok = false;
        }
        if headers.get("accept").and_then(|v| v.to_str().ok())
            != Some("application/vnd.github+json")
        {
            self.problem("API call without Accept: application/vnd.github+json".into());
            ok = false;
        }
        if headers.get("user-agent").is_none() {
            self.problem("API call without a User-Agent (GitHub answers 403)".into());
            ok = false;
        }
        if headers
            .get("x-github-api-version")
            .and_then(|v| v.to_str().ok())
            != Some("2022-11-28")
        {
            self.problem("API call without X-GitHub-Api-Version".into());
            ok = false;
        }
        ok
    }
}

async fn github_token(
    State(fake): State<GitHubFake>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let expect = |key: &str, value: &str| form.get(key).map(String::as_str) == Some(value);
    let mut ok = true;
    if !headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
    {
        fake.problem(
            "token request without Accept: application/json (GitHub answers form-encoded)".into(),
        );
        ok = false;
    }
    for (key, value) in [
        ("client_id", "gh-client"),
        ("client_secret", "gh-secret"),
        ("grant_type", "authorization_code"),
    ] {
        if !expect(key, value) {
            fake.problem(format!("token request: {key} is {:?}", form.get(key)));
            ok = false;
        }
    }
    if form.get("redirect_uri") != Some(&fake.redirect_uri.lock().unwrap().clone()) {
        fake.problem(format!(
            "token request: redirect_uri is {:?}",
            form.get("redirect_uri")
        ));
        ok = false;
    }
    if !form
        .get("code_verifier")
        .is_some_and(|v| (43..=128).contains(&v.len()))
    {
        fake.problem("token request: no valid PKCE code_verifier".into());
        ok = false;
    }
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_request"})),
        );
    }
    if !expect("code", "good-code") {
        // GitHub answers a bad code with 200 and an error body.
        return (
            StatusCode::OK,
            Json(
                serde_json::json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}),
            ),
        );
    }
    (
        StatusCode::OK,
        Json(
            serde_json::json!({"access_token": "gho_slipwaytest", "token_type": "bearer", "scope": "read:user,user:email"}),
        ),
    )
}

async fn github_user(State(fake): State<GitHubFake>, headers: HeaderMap) -> impl IntoResponse {
    if !fake.check_api_headers(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Requires authentication"})),
        );
    }
    (
        StatusCode::OK,
        Json(
            serde_json::json!({"id": 583231, "login": "Octocat", "name": "The Octocat", "type": "User"}),
        ),
    )
}

async fn github_emails(State(fake): State<GitHubFake>, headers: HeaderMap) -> impl IntoResponse {
    if !fake.check_api_headers(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Requires authentication"})),
        );
    }
    (
        StatusCode::OK,
        Json(serde_json::json!([
            {"email": "octocat@users.noreply.github.com", "primary": false, "verified": true, "visibility": null},
            {"email": "Octocat@GitHub.com", "primary": true, "verified": true, "visibility": "public"},
            {"email": "unverified@example.com", "primary": false, "verified": false, "visibility": null}
        ])),
    )
}

async fn start_github_fake() -> (String, GitHubFake) {
    let fake = GitHubFake::default();
    let app = Router::new()
        .route("/login/oauth/access_token", post(github_token))
        .route("/api/v3/user", get(github_user))
        .route("/api/v3/user/emails", get(github_emails))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

db_test! {
    async fn github_sign_in_end_to_end_and_state_is_single_use(db: TestDb) {
        let (github, fake) = start_github_fake().await;
        let server = TestServer::start(
            &db,
            ServerOptions {
                demo: false,
                estate: false,
                worker: false,
                settings: vec![
                    ("SLIPWAY_GITHUB_CLIENT_ID", "gh-client".into()),
                    ("SLIPWAY_GITHUB_CLIENT_SECRET", "gh-secret".into()),
                    ("SLIPWAY_GITHUB_URL", github.clone()),
                    ("SLIPWAY_ADMINS", "octocat".into()),
                ],
            },
        )
        .await;
        *fake.redirect_uri.lock().unwrap() = server.url("/auth/github/callback");
        let browser = client();

        // Starting a sign-in, however often and by whomever, stores nothing on the server: the
        // flow travels in a sealed cookie scoped to /auth.
        for _ in 0..20 {
            client().get(server.url("/auth/github")).send().await.unwrap();
        }
        let start = browser.get(server.url("/auth/github")).send().await.unwrap();
        assert_eq!(start.status(), 303);
        let cookies: Vec<&str> = start.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        assert!(cookies[0].starts_with("slipway_sign_in="), "{cookies:?}");
        assert!(cookies[0].contains("Path=/auth") && cookies[0].contains("HttpOnly") && cookies[0].contains("SameSite=Lax"), "{cookies:?}");
        assert!(!cookies[0].contains("octocat") && !cookies[0].contains("state"), "sealed, not readable: {cookies:?}");
        assert_eq!(sessions::Entity::find().count(&db.conn).await.unwrap(), 0, "no session row for a sign-in that has not come back");
        let location = start.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(&format!("{github}/login/oauth/authorize?")), "{location}");
        assert_eq!(query_param(&location, "client_id").as_deref(), Some("gh-client"));
        assert_eq!(query_param(&location, "redirect_uri"), Some(server.url("/auth/github/callback")));
        assert_eq!(query_param(&location, "scope").as_deref(), Some("read:user user:email"));
        assert_eq!(query_param(&location, "code_challenge_method").as_deref(), Some("S256"));
        let state = query_param(&location, "state").expect("a state");

        // A wrong state is refused with a 400 page and an audit event, and signs nobody in.
        let forged = browser
            .get(server.url(&format!("/auth/github/callback?code=good-code&state=forged{state}")))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 400);
        assert!(forged.text().await.unwrap().contains("Sign-in refused"));
        assert_eq!(whoami(&browser, &server).await, serde_json::Value::Null);
        assert_eq!(refused_sign_ins(&db).await, 1);

        // The forged attempt consumed the flow; a fresh one completes.
        let start = browser.get(server.url("/auth/github")).send().await.unwrap();
        let state = query_param(start.headers()["location"].to_str().unwrap(), "state").unwrap();
        let callback = server.url(&format!("/auth/github/callback?code=good-code&state={state}"));
        let done = browser.get(&callback).send().await.unwrap();
        assert_eq!(done.status(), 303, "{:?}", fake.problems.lock().unwrap());
        assert_eq!(done.headers()["location"], "/");
        assert!(fake.problems.lock().unwrap().is_empty(), "{:?}", fake.problems.lock().unwrap());
        let me = whoami(&browser, &server).await;
        assert_eq!(me["login"], "octocat");
        assert_eq!(me["name"], "The Octocat");
        assert_eq!(me["email"], "octocat@github.com", "the verified primary address, lowercased");
        assert_eq!(me["can_admin"], true, "SLIPWAY_ADMINS made octocat an admin at first sign-in");
        let identity = identities::Entity::find()
            .filter(identities::Column::Provider.eq("github"))
            .one(&db.conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(identity.subject, "583231");

        // Replaying the same callback (same state, same code) in another browser is refused.
        let replay = client().get(&callback).send().await.unwrap();
        assert_eq!(replay.status(), 400);
        assert_eq!(refused_sign_ins(&db).await, 2);

        // A code GitHub refuses sends the user back to the sign-in page with the reason.
        let other = client();
        let start = other.get(server.url("/auth/github")).send().await.unwrap();
        let state = query_param(start.headers()["location"].to_str().unwrap(), "state").unwrap();
        let bad = other
            .get(server.url(&format!("/auth/github/callback?code=stale-code&state={state}")))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 303);
        assert_eq!(bad.headers()["location"], "/auth/signin?error=failed");
        assert_eq!(whoami(&other, &server).await, serde_json::Value::Null);
    }
}

/// A running oidc-provider-mock on a free port, stopped when dropped.
struct OidcMock {
    child: std::process::Child,
    issuer: String,
}

impl Drop for OidcMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_oidc_mock() -> Option<OidcMock> {
    let binary = std::env::var("OIDC_PROVIDER_MOCK")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".venv/bin/oidc-provider-mock"));
    if !binary.exists() {
        unavailable(&format!(
            "oidc-provider-mock ({}; run scripts/setup)",
            binary.display()
        ));
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(binary)
        .args(["--port", &port.to_string(), "--require-nonce", "true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("oidc-provider-mock starts");
    let issuer = format!("http://127.0.0.1:{port}");
    let mock = OidcMock { child, issuer };
    let probe = reqwest::Client::new();
    for _ in 0..100 {
        if probe
            .get(format!("{}/.well-known/openid-configuration", mock.issuer))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some(mock);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("oidc-provider-mock did not answer within 10 s");
}

/// Runs the browser's part of an OIDC sign-in: start, choose `sub` at the provider, callback.
async fn oidc_sign_in(
    browser: &reqwest::Client,
    server: &TestServer,
    provider: &str,
    sub: &str,
) -> reqwest::Response {
    let start = browser
        .get(server.url(&format!("/auth/{provider}")))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    for param in ["state", "nonce", "code_challenge"] {
        assert!(
            query_param(&authorize, param).is_some_and(|v| v.len() >= 40),
            "{param} in {authorize}"
        );
    }
    assert_eq!(
        query_param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let chosen = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&authorize)
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 302, "the provider redirects back");
    let callback = chosen.headers()["location"].to_str().unwrap().to_string();
    assert!(
        callback.starts_with(&server.url(&format!("/auth/{provider}/callback"))),
        "{callback}"
    );
    browser.get(&callback).send().await.unwrap()
}

db_test! {
    async fn oidc_and_microsoft_sign_in_against_a_real_provider(db: TestDb) {
        let Some(mock) = start_oidc_mock().await else { return };
        let server = TestServer::start(
            &db,
            ServerOptions {
                demo: false,
                estate: false,
                worker: false,
                settings: vec![
                    ("SLIPWAY_OIDC_CLIENT_ID", "slipway-oidc".into()),
                    ("SLIPWAY_OIDC_CLIENT_SECRET", "oidc-secret".into()),
                    ("SLIPWAY_OIDC_ISSUER", mock.issuer.clone()),
                    ("SLIPWAY_OIDC_LABEL", "Keycloak".into()),
                    ("SLIPWAY_MICROSOFT_CLIENT_ID", "slipway-entra".into()),
                    ("SLIPWAY_MICROSOFT_CLIENT_SECRET", "entra-secret".into()),
                    ("SLIPWAY_MICROSOFT_ISSUER", mock.issuer.clone()),
                    ("SLIPWAY_MICROSOFT_ALLOWED_TENANTS", "11111111-2222-3333-4444-555555555555".into()),
                    // A verified address names an admin; a login an OIDC user chose names nobody.
                    ("SLIPWAY_ADMINS", "dev-1@example.com, megan, mallory".into()),
                ],
            },
        )
        .await;
        let http = reqwest::Client::new();
        let put = http
            .put(format!("{}/users/dev-1", mock.issuer))
            .json(&serde_json::json!({"email": "dev-1@example.com", "email_verified": true, "name": "Dev One", "preferred_username": "dev-1"}))
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success());
        let put = http
            .put(format!("{}/users/entra-sub", mock.issuer))
            .json(&serde_json::json!({
                "oid": "00000000-0000-0000-0000-00000000beef",
                "tid": "11111111-2222-3333-4444-555555555555",
                "preferred_username": "megan@contoso.example",
                "email": "dev-1@example.com",
                "name": "Megan Bowen"
            }))
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success());

        let options: serde_json::Value = serde_json::from_str(&call(&client(), &server, "sign_in_options", &[]).await.1).unwrap();
        assert_eq!(options["methods"][0]["label"], "Microsoft");
        assert_eq!(options["methods"][1]["label"], "Keycloak");

        let browser = client();
        let done = oidc_sign_in(&browser, &server, "oidc", "dev-1").await;
        assert_eq!(done.status(), 303);
        assert_eq!(done.headers()["location"], "/");
        let me = whoami(&browser, &server).await;
        assert_eq!(me["login"], "dev-1");
        assert_eq!(me["email"], "dev-1@example.com");
        assert_eq!(me["can_admin"], true, "listed by the address the provider verified");

        // Microsoft: the identity is the tenant and object id; Entra's email is not trusted to
        // link accounts, so the same address makes a separate user.
        let other = client();
        let done = oidc_sign_in(&other, &server, "microsoft", "entra-sub").await;
        assert_eq!(done.status(), 303);
        let megan = whoami(&other, &server).await;
        assert_eq!(megan["login"], "megan");
        assert_eq!(megan["name"], "Megan Bowen");
        assert_eq!(megan["can_admin"], false, "neither her unverified address nor a chosen login makes an admin");
        assert_eq!(megan["email"], serde_json::Value::Null, "an address nobody vouched for is not kept");
        // Someone from another tenant, whatever they call themselves, does not get in.
        let put = http
            .put(format!("{}/users/mallory-sub", mock.issuer))
            .json(&serde_json::json!({
                "oid": "00000000-0000-0000-0000-00000000dead",
                "tid": "99999999-2222-3333-4444-555555555555",
                "preferred_username": "mallory@evil.example",
                "email": "dev-1@example.com",
                "name": "Mallory"
            }))
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success());
        let outsider = client();
        let refused = oidc_sign_in(&outsider, &server, "microsoft", "mallory-sub").await;
        assert_eq!(refused.status(), 303);
        assert!(refused.headers()["location"].to_str().unwrap().starts_with("/auth/signin?error="), "{:?}", refused.headers()["location"]);
        assert_eq!(call(&outsider, &server, "current_user", &[]).await.1, "null");
        let identity = identities::Entity::find()
            .filter(identities::Column::Provider.eq("microsoft"))
            .one(&db.conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(identity.subject, "11111111-2222-3333-4444-555555555555/00000000-0000-0000-0000-00000000beef");

        // Linking: signed in through OIDC, the same person adds their Microsoft account.
        let linked = oidc_sign_in(&browser, &server, "microsoft", "entra-sub").await;
        assert_eq!(linked.headers()["location"], "/auth/signin?error=linked", "already linked to megan");
        assert_eq!(whoami(&browser, &server).await["login"], "dev-1", "a refused link leaves the session as it was");
    }
}

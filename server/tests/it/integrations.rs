//! Integrations on both databases: typed settings are validated per provider, secrets are
//! sealed at rest and never returned, logged or audited, rotation replaces and blank keeps, and
//! deleting an integration in use is refused. Connection tests talk to fake provider APIs that
//! check each request as the provider documents it.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, ServerOptions, TestServer};
use app::api::integrations::IntegrationInput;
use app::domain::integrations::{Fields, Provider};
use app::error::AppError;
use app::server::entities::{audit_events, integrations as rows};
use app::server::{integrations, Actor};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const TOKEN: &str = "ghp_SuperSecretToken0123456789";

fn github(slug: &str, api: &str, token: &str) -> IntegrationInput {
    IntegrationInput {
        slug: slug.into(),
        name: "GitHub".into(),
        description: String::new(),
        provider: "github".into(),
        settings: fields(&[("api_url", api), ("organization", "acme")]),
        secrets: fields(&[("token", token)]),
    }
}

db_test! {
    async fn secrets_are_sealed_write_only_and_rotated_by_re_entering(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let ctx = &server.ctx;
        let actor = Actor::system("test");
        let created = integrations::create(&ctx.db, &ctx.secrets, &actor, &github("gh", "https://api.github.com", TOKEN)).await.unwrap();
        assert_eq!(created.secrets_set, vec!["token".to_string()]);
        assert!(!serde_json::to_string(&created).unwrap().contains(TOKEN));

        // At rest: sealed, not the token; in the audit log: not at all.
        let stored = rows::Entity::find().filter(rows::Column::Slug.eq("gh")).one(&ctx.db).await.unwrap().unwrap();
        let sealed = stored.secrets.clone().unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains(TOKEN));
        for event in audit_events::Entity::find().all(&ctx.db).await.unwrap() {
            assert!(!format!("{:?}{:?}", event.before, event.after).contains(TOKEN), "{}", event.action);
        }
        assert_eq!(integrations::open_secrets(&ctx.db, &ctx.secrets, created.id).await.unwrap()["token"], TOKEN);

        // Over HTTP, readers see which secrets are set and never the values.
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        let (status, body) = call(&viewer, &server, "get_integration", &[("slug", "gh")]).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"secrets_set\":[\"token\"]") && !body.contains(TOKEN));

        // Blank keeps the stored secret; a new value rotates it.
        let mut keep = github("gh", "https://api.github.com", "");
        keep.name = "GitHub Acme".into();
        integrations::update(&ctx.db, &ctx.secrets, &actor, &keep).await.unwrap();
        assert_eq!(integrations::open_secrets(&ctx.db, &ctx.secrets, created.id).await.unwrap()["token"], TOKEN);
        integrations::update(&ctx.db, &ctx.secrets, &actor, &github("gh", "https://api.github.com", "ghp_rotated000000000000000")).await.unwrap();
        assert_eq!(integrations::open_secrets(&ctx.db, &ctx.secrets, created.id).await.unwrap()["token"], "ghp_rotated000000000000000");
        let rotation = audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("integration.update"))
            .all(&ctx.db).await.unwrap();
        assert!(rotation.iter().any(|e| e.after.as_deref().unwrap_or("").contains("\"secrets_rotated\":[\"token\"]")));

        // Bad input names the field and writes nothing.
        let events = app::server::audit::verify(&ctx.db).await.unwrap().unwrap();
        let cases = [
            (github("gh", "https://api.github.com", TOKEN), AppError::invalid("slug", "an integration with the slug \"gh\" already exists")),
            (github("gh2", "https://user:pw@api.github.com", TOKEN), AppError::invalid("api_url", "must not hold a user name or password; enter those in their own fields")),
            (github("gh3", "https://api.github.com", "short"), AppError::invalid("token", "must be at least 20 characters with no spaces")),
            (IntegrationInput { provider: "gitlab".into(), ..github("gh4", "https://api.github.com", TOKEN) }, AppError::invalid("provider", "choose one of the listed providers")),
        ];
        for (input, expected) in cases {
            assert_eq!(integrations::create(&ctx.db, &ctx.secrets, &actor, &input).await.unwrap_err(), expected);
        }
        assert_eq!(app::server::audit::verify(&ctx.db).await.unwrap().unwrap(), events);

        // The demo's local git integration is used by the demo source code: deleting is refused.
        let refused = integrations::delete(&ctx.db, &actor, "local-git").await.unwrap_err();
        assert!(matches!(&refused, AppError::Conflict(m) if m.contains("source code file://")), "{refused:?}");
        integrations::delete(&ctx.db, &actor, "gh").await.unwrap();
    }
}

/// A fake GitHub, Bitbucket and Azure DevOps API in one: each route checks the request as the
/// provider's reference defines it and answers with its documented shape.
async fn fake_forges() -> String {
    async fn github_user(
        headers: HeaderMap,
    ) -> Result<Json<serde_json::Value>, axum::http::StatusCode> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let accept = headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let version = headers
            .get("x-github-api-version")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept != "application/vnd.github+json"
            || version != "2022-11-28"
            || headers.get("user-agent").is_none()
        {
            return Err(axum::http::StatusCode::BAD_REQUEST);
        }
        if auth != format!("Bearer {TOKEN}") {
            return Err(axum::http::StatusCode::UNAUTHORIZED);
        }
        Ok(Json(
            serde_json::json!({"login": "octocat", "id": 1, "type": "User"}),
        ))
    }
    async fn github_org(
        axum::extract::Path(org): axum::extract::Path<String>,
    ) -> Result<Json<serde_json::Value>, axum::http::StatusCode> {
        if org == "acme" {
            Ok(Json(serde_json::json!({"login": "acme", "id": 2})))
        } else {
            Err(axum::http::StatusCode::NOT_FOUND)
        }
    }
    async fn not_found() -> axum::http::StatusCode {
        axum::http::StatusCode::NOT_FOUND
    }
    async fn bitbucket_user(
        headers: HeaderMap,
    ) -> Result<Json<serde_json::Value>, axum::http::StatusCode> {
        use base64::Engine;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("deploy-bot:app-password-0123456789")
        );
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return Err(axum::http::StatusCode::UNAUTHORIZED);
        }
        Ok(Json(
            serde_json::json!({"username": "deploy-bot", "display_name": "Deploy Bot", "type": "user"}),
        ))
    }
    async fn bitbucket_workspace() -> Json<serde_json::Value> {
        Json(serde_json::json!({"slug": "acme", "type": "workspace"}))
    }
    async fn azure_project(
        headers: HeaderMap,
        axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    ) -> Result<Json<serde_json::Value>, axum::http::StatusCode> {
        use base64::Engine;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(":azdo-pat-0123456789abcdef")
        );
        if q.get("api-version").map(String::as_str) != Some("7.1") {
            return Err(axum::http::StatusCode::BAD_REQUEST);
        }
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            // Azure DevOps answers a bad PAT with a redirect to its sign-in page.
            return Err(axum::http::StatusCode::NON_AUTHORITATIVE_INFORMATION);
        }
        Ok(Json(
            serde_json::json!({"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", "name": "Platform", "state": "wellFormed"}),
        ))
    }
    let app = axum::Router::new()
        .route("/gh/user", get(github_user))
        .route("/gh/orgs/{org}", get(github_org))
        .route("/gh/users/{user}", get(not_found))
        .route("/bb/user", get(bitbucket_user))
        .route("/bb/workspaces/acme", get(bitbucket_workspace))
        .route("/azdo/acme/_apis/projects/Platform", get(azure_project));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

db_test! {
    async fn git_integrations_test_their_connection_against_the_host(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let forge = fake_forges().await;
        let repos = &server.ctx.repos;
        let ok = repos.test_connection(Provider::Github, &fields(&[("api_url", &format!("{forge}/gh")), ("organization", "acme")]), &fields(&[("token", TOKEN)])).await;
        assert_eq!(ok.unwrap(), "Connected to GitHub as octocat; acme is visible");
        let refused = repos.test_connection(Provider::Github, &fields(&[("api_url", &format!("{forge}/gh")), ("organization", "acme")]), &fields(&[("token", "ghp_wrong000000000000000")])).await;
        assert_eq!(refused.unwrap_err(), "the credentials were refused (401 Unauthorized)");
        let hidden = repos.test_connection(Provider::Github, &fields(&[("api_url", &format!("{forge}/gh")), ("organization", "globex")]), &fields(&[("token", TOKEN)])).await;
        assert!(hidden.unwrap_err().contains("no organization or user \"globex\""));
        let bitbucket = repos.test_connection(Provider::Bitbucket, &fields(&[("api_url", &format!("{forge}/bb")), ("workspace", "acme"), ("username", "deploy-bot")]), &fields(&[("app_password", "app-password-0123456789")])).await;
        assert_eq!(bitbucket.unwrap(), "Connected to Bitbucket as deploy-bot; workspace acme is visible");
        let azure = repos.test_connection(Provider::AzureDevops, &fields(&[("organization_url", &format!("{forge}/azdo/acme")), ("project", "Platform")]), &fields(&[("token", "azdo-pat-0123456789abcdef")])).await;
        assert_eq!(azure.unwrap(), "Connected to Azure DevOps; project Platform is visible");
        let azure_bad = repos.test_connection(Provider::AzureDevops, &fields(&[("organization_url", &format!("{forge}/azdo/acme")), ("project", "Platform")]), &fields(&[("token", "wrong-pat-0123456789abcdef")])).await;
        assert_eq!(azure_bad.unwrap_err(), "the credentials were refused (redirected to a sign-in page)");
        let nobody = repos.test_connection(Provider::Github, &fields(&[("api_url", "http://127.0.0.1:9"), ("organization", "acme")]), &fields(&[("token", TOKEN)])).await;
        assert_eq!(nobody.unwrap_err(), "cannot connect to the server");

        // Through the portal: the local provider's test, and a cloud integration has none.
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let (status, body) = call(&member, &server, "test_integration", &[("slug", "local-git")]).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Local repositories under"), "{body}");
        let (status, body) = call(&member, &server, "test_integration", &[("slug", "aws-production")]).await;
        assert_eq!(status, 422, "{body}");
    }
}

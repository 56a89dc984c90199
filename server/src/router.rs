//! The axum router: Leptos pages and server functions, sign-in routes, static files, the
//! session layer and response headers. Routes are declared here, in one place.

use crate::adapters::github::GitHubProvider;
use crate::adapters::oidc::OidcProvider;
use crate::config::Config;
use crate::routes::auth::{self, CallbackParams, Providers};
use crate::routes::healthz;
use crate::session_store::DbSessionStore;
use app::server::{AppCtx, PortalSettings};
use app::wire::session::SignInMethod;
use app::{shell, App};
use axum::extract::{FromRef, Query, State};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// The largest request body accepted. Forms stay far below it; a variable value up to this size
/// reaches validation and gets its field's message (values are capped at 256 KiB there).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A declared body over `MAX_BODY` is refused before it is read, with the error a server
/// function gives, so the form shows a sentence rather than a decoding failure.
async fn refuse_large_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(length) = declared.filter(|l| *l > MAX_BODY) {
        let error = app::error::AppError::invalid(
            "request",
            format!(
                "the request is {} MiB; at most {} MiB is accepted",
                length.div_ceil(1024 * 1024),
                MAX_BODY / (1024 * 1024)
            ),
        );
        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response();
    }
    next.run(request).await
}

/// Refuses a state-changing request another site's page made (cross-site request forgery): a
/// browser says where a request comes from in `Origin` and `Sec-Fetch-Site`, and only this
/// portal's own pages may post here. Clients that are not browsers (the CLI, CI, webhooks) send
/// neither and are authenticated otherwise.
async fn refuse_cross_origin(
    public_origin: Arc<str>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let method = request.method();
    if matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let cross_site = text("sec-fetch-site") == Some("cross-site");
    let foreign_origin = text("origin").is_some_and(|origin| {
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        let own_host = text("host");
        origin != public_origin.as_ref() && (authority.is_none() || authority != own_host)
    });
    if cross_site || foreign_origin {
        let error = app::error::AppError::Forbidden(
            "This request came from another site's page; Slipway takes changes only from its own pages.".into(),
        );
        return (axum::http::StatusCode::FORBIDDEN, axum::Json(error)).into_response();
    }
    next.run(request).await
}

/// What pages may load and run: the portal's own scripts, styles, wasm and requests, no frames,
/// no plugins, no forms posting elsewhere. (Leptos's hydration scripts are inline.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "slipway_session";

#[derive(Clone)]
pub struct ServerState {
    pub leptos: LeptosOptions,
    pub ctx: AppCtx,
    pub providers: Arc<Providers>,
    /// The local forge's bare repositories (served over smart HTTP by `git_http`).
    pub git_root: Arc<std::path::Path>,
    pub git_limits: crate::config::GitLimits,
    /// One permit per smart HTTP request running on this replica.
    pub git_slots: Arc<tokio::sync::Semaphore>,
    pub https: bool,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

/// The sign-in providers the configuration names, in the order the sign-in page shows them.
pub fn providers(config: &Config) -> anyhow::Result<Providers> {
    let mut providers: Providers = Providers::new();
    if let Some(github) = &config.github {
        let provider = GitHubProvider::new(github, config.callback_url("github"), &config.egress)?;
        providers.insert("github", Arc::new(provider));
    }
    for settings in [&config.microsoft, &config.oidc].into_iter().flatten() {
        let provider = OidcProvider::new(
            settings.clone(),
            config.callback_url(settings.id),
            &config.egress,
        );
        providers.insert(settings.id, Arc::new(provider));
    }
    Ok(providers)
}

pub fn state(
    config: &Config,
    db: DatabaseConnection,
    demo: bool,
    leptos: LeptosOptions,
) -> anyhow::Result<ServerState> {
    let providers = providers(config)?;
    let order = ["github", "microsoft", "oidc"];
    let sign_in_methods = order
        .iter()
        .filter_map(|id| providers.get(id))
        .map(|p| SignInMethod {
            id: p.id().to_string(),
            label: p.label().to_string(),
            href: format!("/auth/{}", p.id()),
        })
        .collect();
    Ok(ServerState {
        leptos,
        ctx: AppCtx {
            db: db.clone(),
            secrets: app::server::secrets::SecretBox::from_server_secret(
                config.secret_key.expose(),
            ),
            repos: Arc::new(crate::adapters::git_sources::GitSources::new(
                &config.data_dir,
                &config.egress,
            )),
            forge: Arc::new(crate::adapters::forges::Forges::new(
                crate::adapters::local_forge::LocalForge::new(
                    db.clone(),
                    &config.data_dir,
                    config.public_url.as_str(),
                ),
                &config.egress,
            )),
            workspace_git: Arc::new(crate::adapters::workspace_git::GitWorkspaces::new(
                &config.data_dir,
                &config.egress,
            )),
            local_git: Arc::new(crate::adapters::local_forge::LocalGitRepos::new(
                &config.data_dir,
            )),
            registry: match &config.registry {
                Some(settings) => Arc::new(crate::adapters::oci_registry::OciRegistry::new(
                    settings.clone(),
                    &config.egress,
                )),
                None => Arc::new(app::server::registry::DbRegistry { db: db.clone() }),
            },
            messenger: Arc::new(crate::adapters::messenger::Mailer::new(
                config.smtp.as_ref(),
                &config.egress,
            )?),
            jobs_wake: Arc::new(tokio::sync::Notify::new()),
            cache: Arc::default(),
            live: Arc::default(),
            portal: Arc::new(PortalSettings {
                demo,
                sign_in_methods,
                admins: config.admins.clone(),
                public_url: config.public_url.to_string(),
                environments_workspace: config.environments_workspace.clone(),
            }),
        },
        providers: Arc::new(providers),
        git_root: Arc::from(config.data_dir.join("git")),
        git_limits: config.git_limits.clone(),
        git_slots: Arc::new(tokio::sync::Semaphore::new(config.git_limits.concurrency)),
        https: config.is_https(),
    })
}

// Long: the route table: one line per route, read top to bottom as the URL space
pub fn router(state: ServerState) -> Router {
    let routes = generate_route_list(App);
    let ctx = state.ctx.clone();
    let page_context = move || provide_context(ctx.clone());
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.ctx.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.https)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/auth/demo/{login}", post(auth::demo_sign_in))
        .route("/auth/logout", post(auth::sign_out))
        .route("/api/events", get(crate::routes::events::events))
        .route("/hooks/github", post(crate::routes::hooks::github))
        .route(
            "/hooks/build-completed",
            post(crate::routes::hooks::build_completed),
        )
        .route(
            "/hooks/stage-verified",
            post(crate::routes::hooks::stage_verified),
        );
    for id in state.providers.keys().copied() {
        router = router
            .route(
                &format!("/auth/{id}"),
                get(move |State(state): State<ServerState>| auth::start(state, id)),
            )
            .route(
                &format!("/auth/{id}/callback"),
                get(
                    move |State(state): State<ServerState>,
                          session: Session,
                          headers: axum::http::HeaderMap,
                          Query(params): Query<CallbackParams>| {
                        auth::callback(state, id, session, headers, params)
                    },
                ),
            );
    }
    if state.ctx.portal.demo {
        if let Some(data_dir) = state.git_root.parent() {
            router = router.merge(crate::demo_cloud::routes(
                crate::demo_cloud::DemoCloud::new(data_dir),
            ));
        }
    }
    let leptos = state.leptos.clone();
    let public_origin: Arc<str> = {
        let url = &state.ctx.portal.public_url;
        match url.split_once("://") {
            Some((scheme, rest)) => Arc::from(format!(
                "{scheme}://{}",
                rest.split('/').next().unwrap_or_default()
            )),
            None => Arc::from(url.trim_end_matches('/')),
        }
    };
    let not_found = leptos_axum::file_and_error_handler_with_context::<ServerState, _>(
        page_context.clone(),
        shell,
    );
    router
        .leptos_routes_with_context(&state, routes, page_context, move || shell(leptos.clone()))
        .fallback(
            move |uri: axum::http::Uri,
                  State(state): State<ServerState>,
                  request: axum::extract::Request| {
                let not_found = not_found.clone();
                async move {
                    let root = std::path::PathBuf::from(state.leptos.site_root.as_ref());
                    let file = crate::site::serve(&root, &request);
                    match file.await {
                        Some(file) => file,
                        None => not_found(uri, State(state), request).await,
                    }
                }
            },
        )
        // HTML, server function answers and JSON: compressed as the browser asks (static files
        // come precompressed, and the layer leaves an encoded answer alone).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .br(true)
                .gzip(true),
        )
        .layer(sessions)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_large_bodies))
        .layer(axum::middleware::from_fn(move |request, next| {
            refuse_cross_origin(public_origin.clone(), request, next)
        }))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Git's smart HTTP streams packs of any size and authenticates with access tokens, not
        // sessions: it sits outside the body limits and the session layer.
        .route(
            "/git/{*path}",
            axum::routing::get(crate::git_http::serve).post(crate::git_http::serve),
        )
        .with_state(state)
}

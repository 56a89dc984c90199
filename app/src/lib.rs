//! The Slipway portal: the HTML shell, the `App` component and its routes. Shared by the server
//! (feature `ssr`) and the browser bundle (feature `hydrate`).

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod wire;

use components::shell::Shell;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};
use pages::NotFoundPage;
use routes::*;

/// The document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Slipway".to_string() } else { format!("{page} · Slipway") } />
        <Router>
            <Shell>
                <Routes fallback=|| view! { <NotFoundPage /> }>
                    <Route path=path!("/") view=pages::HomePage ssr=SsrMode::Async />
                    <Route path=path!("/auth/signin") view=pages::SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/auth/demo") view=pages::DemoSignInPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/workspaces") view={Lazy::<WorkspacesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/workspaces/:slug") view={Lazy::<WorkspaceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/workspaces/:slug/versioning") view={Lazy::<VersioningRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/forge/:org/:name") view={Lazy::<ForgeRepositoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/forge/:org/:name/pulls/:number") view={Lazy::<PullRequestRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/catalog") view={Lazy::<CatalogRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/catalog/sources") view={Lazy::<SourcesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/resources") view=pages::ResourcesPage ssr=SsrMode::Async />
                    <Route path=path!("/resources/new") view={Lazy::<NewResourceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug") view={Lazy::<ResourceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/drift") view={Lazy::<DriftRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug/edit") view={Lazy::<EditResourceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug/diff") view={Lazy::<RevisionDiffRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/executors") view={Lazy::<ExecutorsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/executors/:slug") view={Lazy::<ExecutorRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/integrations") view={Lazy::<IntegrationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/integrations/:slug") view={Lazy::<IntegrationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/catalog/:key") view={Lazy::<TemplateRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/repositories") view={Lazy::<RepositoriesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/repositories/new") view={Lazy::<NewRepositoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name") view={Lazy::<RepositoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name/edit") view={Lazy::<EditRepositoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name/pulls/:number") view={Lazy::<GovernedPullRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases") view={Lazy::<ReleasesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/freezes") view={Lazy::<FreezesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/new") view={Lazy::<NewReleaseManifestRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases/:id") view={Lazy::<ReleaseRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/:kind/:name") view={Lazy::<ReleaseManifestRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/:kind/:name/edit") view={Lazy::<EditReleaseManifestRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<AdminUsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/groups") view={Lazy::<AdminGroupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/groups/:name") view={Lazy::<AdminGroupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/access") view={Lazy::<AdminAccessRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/notifications") view={Lazy::<AdminNotificationsRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </Shell>
        </Router>
    }
}

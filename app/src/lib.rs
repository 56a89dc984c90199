//! The Slipway portal: the HTML shell, the `App` component and its routes. Shared by the server
//! (feature `ssr`) and the browser bundle (feature `hydrate`).

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use components::shell::Shell;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::*;

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
        <Stylesheet id="leptos" href="/pkg/slipway.css" />
        <Title formatter=|page: String| if page.is_empty() { "Slipway".to_string() } else { format!("{page} · Slipway") } />
        <Router>
            <Shell>
                <Routes fallback=|| view! { <NotFoundPage /> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/auth/signin") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/auth/demo") view=DemoSignInPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/workspaces") view=WorkspacesPage ssr=SsrMode::Async />
                    <Route path=path!("/workspaces/:slug") view=WorkspacePage ssr=SsrMode::Async />
                    <Route path=path!("/workspaces/:slug/versioning") view=VersioningPage ssr=SsrMode::Async />
                    <Route path=path!("/forge/:org/:name") view=ForgeRepositoryPage ssr=SsrMode::Async />
                    <Route path=path!("/forge/:org/:name/pulls/:number") view=PullRequestPage ssr=SsrMode::Async />
                    <Route path=path!("/catalog") view=CatalogPage ssr=SsrMode::Async />
                    <Route path=path!("/catalog/sources") view=SourcesPage ssr=SsrMode::Async />
                    <Route path=path!("/resources") view=ResourcesPage ssr=SsrMode::Async />
                    <Route path=path!("/resources/new") view=NewResourcePage ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug") view=ResourcePage ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug/edit") view=EditResourcePage ssr=SsrMode::Async />
                    <Route path=path!("/resources/:slug/diff") view=RevisionDiffPage ssr=SsrMode::Async />
                    <Route path=path!("/executors") view=ExecutorsPage ssr=SsrMode::Async />
                    <Route path=path!("/executors/:slug") view=ExecutorPage ssr=SsrMode::Async />
                    <Route path=path!("/integrations") view=IntegrationsPage ssr=SsrMode::Async />
                    <Route path=path!("/integrations/:slug") view=IntegrationPage ssr=SsrMode::Async />
                    <Route path=path!("/catalog/:key") view=TemplatePage ssr=SsrMode::Async />
                    <Route path=path!("/repositories") view=RepositoriesPage ssr=SsrMode::Async />
                    <Route path=path!("/repositories/new") view=NewRepositoryPage ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name") view=RepositoryPage ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name/edit") view=EditRepositoryPage ssr=SsrMode::Async />
                    <Route path=path!("/repositories/:name/pulls/:number") view=GovernedPullPage ssr=SsrMode::Async />
                    <Route path=path!("/releases") view=ReleasesPage ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/new") view=NewReleaseManifestPage ssr=SsrMode::Async />
                    <Route path=path!("/releases/:id") view=ReleasePage ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/:kind/:name") view=ReleaseManifestPage ssr=SsrMode::Async />
                    <Route path=path!("/releases/manifests/:kind/:name/edit") view=EditReleaseManifestPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/groups") view=AdminGroupsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/groups/:name") view=AdminGroupPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/access") view=AdminAccessPage ssr=SsrMode::Async />
                </Routes>
            </Shell>
        </Router>
    }
}

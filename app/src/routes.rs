//! How the browser bundle is split: one part per area of the portal, fetched the first time a
//! page of that area is shown (and, for a page the server rendered, before it hydrates).
//!
//! Each area is one split point, so the pages of an area share their code: per-page split points
//! made 670 shared parts (100–360 files per page, a 600 KB loader script). A visit downloads the
//! shell and the areas it opens, never the manifest editors of the others.
//!
//! The pages of a first visit and of every day — the landing page, sign-in and the resources
//! list — are not split: they come with the shell (see `App`), so opening them fetches one file
//! instead of the shell and some eighty shared parts, each compressed on its own.

use crate::pages::*;
use leptos::prelude::*;
use leptos_router::LazyRoute;

macro_rules! areas {
    ($(
        $(#[$meta:meta])*
        $area:ident in $loader:ident, loaded by $preload:ident {
            $($route:ident => $page:ident),* $(,)?
        }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Copy, Debug)]
            pub enum $area {
                $($route),*
            }

            // One split point for the whole area: its pages' code is loaded together.
            #[leptos::lazy]
            fn $loader(page: $area) -> AnyView {
                match page {
                    $($area::$route => view! { <$page /> }.into_any()),*
                }
            }

            $(
                pub struct $route;

                impl LazyRoute for $route {
                    fn data() -> Self {
                        $route
                    }

                    async fn view(_route: Self) -> AnyView {
                        $loader($area::$route).await
                    }

                    // The router awaits this before it hydrates or shows the route, so the
                    // area's code is in place and `view` renders at once: a view still loading
                    // would hydrate as an empty placeholder against the server's markup.
                    async fn preload() {
                        #[cfg(feature = "hydrate")]
                        $preload().await;
                    }
                }
            )*
        )*
    };
}

areas! {
    /// The account: personal access tokens.
    Account in account_area, loaded by __preload_account_area {
        AccountRoute => AccountPage,
    }
    /// Workspaces, the local forge's repositories and pull requests.
    Workspaces in workspaces_area, loaded by __preload_workspaces_area {
        WorkspacesRoute => WorkspacesPage,
        WorkspaceRoute => WorkspacePage,
        ForgeRepositoryRoute => ForgeRepositoryPage,
        PullRequestRoute => PullRequestPage,
    }
    /// A workspace's versioning: the Conventional Commits parser and the version computation.
    Versioning in versioning_area, loaded by __preload_versioning_area {
        VersioningRoute => VersioningPage,
    }
    /// A resource, its generated form and its revisions.
    Resources in resources_area, loaded by __preload_resources_area {
        NewResourceRoute => NewResourcePage,
        ResourceRoute => ResourcePage,
        EditResourceRoute => EditResourcePage,
        RevisionDiffRoute => RevisionDiffPage,
        DriftRoute => DriftPage,
    }
    /// The catalog: templates, source code and versions.
    Catalog in catalog_area, loaded by __preload_catalog_area {
        CatalogRoute => CatalogPage,
        SourcesRoute => SourcesPage,
        TemplateRoute => TemplatePage,
    }
    /// Executors and their runs.
    Executors in executors_area, loaded by __preload_executors_area {
        ExecutorsRoute => ExecutorsPage,
        ExecutorRoute => ExecutorPage,
    }
    /// Integrations and their typed settings.
    Integrations in integrations_area, loaded by __preload_integrations_area {
        IntegrationsRoute => IntegrationsPage,
        IntegrationRoute => IntegrationPage,
    }
    /// Governed repositories: the manifest editor, plans and governed pull requests.
    Repositories in repositories_area, loaded by __preload_repositories_area {
        RepositoriesRoute => RepositoriesPage,
        NewRepositoryRoute => NewRepositoryPage,
        RepositoryRoute => RepositoryPage,
        EditRepositoryRoute => EditRepositoryPage,
        GovernedPullRoute => GovernedPullPage,
    }
    /// Releases: tracks, manifests, sign-off and DORA.
    Releases in releases_area, loaded by __preload_releases_area {
        ReleasesRoute => ReleasesPage,
        NewReleaseManifestRoute => NewReleaseManifestPage,
        ReleaseRoute => ReleasePage,
        ReleaseManifestRoute => ReleaseManifestPage,
        EditReleaseManifestRoute => EditReleaseManifestPage,
        FreezesRoute => FreezesPage,
    }
    /// The audit log.
    Audit in audit_area, loaded by __preload_audit_area {
        AuditRoute => AuditPage,
    }
    /// Users, groups and role bindings.
    Admin in admin_area, loaded by __preload_admin_area {
        AdminUsersRoute => AdminUsersPage,
        AdminGroupsRoute => AdminGroupsPage,
        AdminGroupRoute => AdminGroupPage,
        AdminAccessRoute => AdminAccessPage,
        AdminNotificationsRoute => AdminNotificationsPage,
    }
}

//! One file per page (or per small family of pages).

mod account;
mod admin;
mod audit;
mod catalog;
mod drift;
mod executors;
mod home;
mod integrations;
mod not_found;
mod releases;
mod repositories;
mod resources;
mod sign_in;
mod sources;
mod versioning;
mod workspaces;

pub use account::AccountPage;
pub use admin::{
    AdminAccessPage, AdminGroupPage, AdminGroupsPage, AdminNotificationsPage, AdminUsersPage,
};
pub use audit::AuditPage;
pub use catalog::{CatalogPage, TemplatePage};
pub use drift::DriftPage;
pub use executors::{ExecutorPage, ExecutorsPage};
pub use home::HomePage;
pub use integrations::{IntegrationPage, IntegrationsPage};
pub use not_found::NotFoundPage;
pub use releases::{
    EditReleaseManifestPage, FreezesPage, NewReleaseManifestPage, ReleaseManifestPage, ReleasePage,
    ReleasesPage,
};
pub use repositories::{
    EditRepositoryPage, GovernedPullPage, NewRepositoryPage, RepositoriesPage, RepositoryPage,
};
pub use resources::{
    EditResourcePage, NewResourcePage, ResourcePage, ResourcesPage, RevisionDiffPage,
};
pub use sign_in::{DemoSignInPage, SignInPage};
pub use sources::SourcesPage;
pub use versioning::VersioningPage;
pub use workspaces::{ForgeRepositoryPage, PullRequestPage, WorkspacePage, WorkspacesPage};

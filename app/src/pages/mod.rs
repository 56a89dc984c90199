//! One file per page (or per small family of pages).

mod admin;
mod areas;
mod audit;
mod catalog;
mod home;
mod not_found;
mod sign_in;

pub use admin::{AdminAccessPage, AdminGroupPage, AdminGroupsPage, AdminUsersPage};
pub use areas::{ReleasesPage, RepositoriesPage, WorkspacesPage};
pub use audit::AuditPage;
pub use catalog::{CatalogPage, TemplatePage};
pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use sign_in::{DemoSignInPage, SignInPage};

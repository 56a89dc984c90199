//! A repository's versions: its version tags as a timeline, each branch's base tag, and the
//! next version each branch would get — computed in the browser, from the same domain code the
//! CLI runs, as a pull request title is typed. Anyone signed in may look (as with workspaces).

use crate::error::AppError;
pub use crate::wire::versioning::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};
    pub use crate::server::versioning;
}

/// The versioning view of a workspace's repository (fetched from the forge first).
#[server(endpoint = "get_versioning")]
pub async fn get_versioning(workspace: String) -> Result<RepositoryVersioning, AppError> {
    use guard::*;
    respond(
        async {
            require(
                Action::Read,
                ResourceRef::entity(EntityType::Workspace, workspace.trim().to_string()),
            )
            .await?;
            versioning::repository(&ctx()?, workspace.trim()).await
        }
        .await,
    )
}

//! Administration: users, groups and role bindings. Reading needs read on `access`, changing
//! needs administer on `access`.

use crate::error::AppError;
pub use crate::wire::admin::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::directory;
    pub use crate::server::request::{ctx, require, respond};

    pub fn access() -> ResourceRef {
        ResourceRef::of_type(EntityType::Access)
    }
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, access()).await?;
            directory::list_users(&ctx()?.db).await
        }
        .await,
    )
}

#[server(endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<GroupRow>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, access()).await?;
            directory::list_groups(&ctx()?.db).await
        }
        .await,
    )
}

#[server(endpoint = "group_detail")]
pub async fn get_group_detail(name: String) -> Result<GroupDetail, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, access()).await?;
            directory::group_detail(&ctx()?.db, &name).await
        }
        .await,
    )
}

#[server(endpoint = "create_group")]
pub async fn create_group(name: String, description: String) -> Result<GroupRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::create_group(&ctx()?.db, &caller.actor(), &name, &description).await
        }
        .await,
    )
}

#[server(endpoint = "delete_group")]
pub async fn delete_group(name: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::delete_group(&ctx()?.db, &caller.actor(), &name).await
        }
        .await,
    )
}

#[server(endpoint = "add_group_member")]
pub async fn add_group_member(group: String, user: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::add_group_member(&ctx()?.db, &caller.actor(), &group, &user).await
        }
        .await,
    )
}

#[server(endpoint = "remove_group_member")]
pub async fn remove_group_member(group: String, user: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::remove_group_member(&ctx()?.db, &caller.actor(), &group, &user).await
        }
        .await,
    )
}

#[server(endpoint = "list_role_bindings")]
pub async fn list_role_bindings() -> Result<Vec<BindingRow>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, access()).await?;
            directory::list_bindings(&ctx()?.db).await
        }
        .await,
    )
}

#[server(endpoint = "create_role_binding")]
pub async fn create_role_binding(binding: NewBinding) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::create_binding(&ctx()?.db, &caller.actor(), &binding).await
        }
        .await,
    )
}

#[server(endpoint = "delete_role_binding")]
pub async fn delete_role_binding(id: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            directory::delete_binding(&ctx()?.db, &caller.actor(), id).await
        }
        .await,
    )
}

//! The catalog: templates and their hierarchy. Reading needs read on `template`; creating and
//! changing and deleting need create / update / delete on `template`.

use crate::error::AppError;
pub use crate::wire::catalog::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::catalog;
    pub use crate::server::request::{ctx, require, respond};

    pub fn templates() -> ResourceRef {
        ResourceRef::of_type(EntityType::Template)
    }
}

#[server(endpoint = "get_catalog")]
pub async fn get_catalog() -> Result<CatalogView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, templates()).await?;
            let templates_list = catalog::list_templates(&ctx()?.db).await?;
            Ok(CatalogView {
                tree: catalog::tree(&templates_list),
                templates: templates_list,
                can_create: caller.may(Action::Create, &templates()),
            })
        }
        .await,
    )
}

#[server(endpoint = "create_template")]
pub async fn create_template(template: NewTemplate) -> Result<TemplateRow, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Create, templates()).await?;
            catalog::create_template(&ctx()?.db, &caller.actor(), &template).await
        }
        .await,
    )
}

/// Changes the template named by `template.key` (keys never change).
#[server(endpoint = "update_template")]
pub async fn update_template(template: NewTemplate) -> Result<TemplateRow, AppError> {
    use guard::*;
    respond(
        async {
            let resource =
                ResourceRef::entity(EntityType::Template, template.key.trim().to_string());
            let caller = require(Action::Update, resource).await?;
            catalog::update_template(&ctx()?.db, &caller.actor(), &template).await
        }
        .await,
    )
}

#[server(endpoint = "delete_template")]
pub async fn delete_template(key: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(
                Action::Delete,
                ResourceRef::entity(EntityType::Template, key.clone()),
            )
            .await?;
            catalog::delete_template(&ctx()?.db, &caller.actor(), &key).await
        }
        .await,
    )
}

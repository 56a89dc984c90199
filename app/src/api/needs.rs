//! "Needs you": what waits for the signed-in person (the shell's count, the home page's list)
//! and the recent activity on what they own. Each item is one they may act on: the list is
//! computed from their own groups and roles.

use crate::error::AppError;
pub use crate::wire::needs::*;
use leptos::prelude::*;

/// The topics whose changes can change someone's list, as the live stream names them.
#[cfg(feature = "ssr")]
const TOPICS: [crate::domain::rbac::EntityType; 3] = [
    crate::domain::rbac::EntityType::Release,
    crate::domain::rbac::EntityType::Resource,
    crate::domain::rbac::EntityType::Repository,
];

#[server(endpoint = "get_needs")]
pub async fn get_needs() -> Result<NeedsView, AppError> {
    use crate::domain::rbac::ResourceRef;
    use crate::server::request::{ctx, require_signed_in, respond};
    respond(
        async {
            let caller = require_signed_in().await?;
            let ctx = ctx()?;
            let items = match ctx.cache.needs.get(&caller.user.id, caller.version) {
                Some(items) => items,
                None => {
                    let groups =
                        crate::server::directory::groups_of(&ctx.db, caller.user.id).await?;
                    let login = caller.actor().label;
                    let may = |action, on: &ResourceRef| caller.may(action, on);
                    let person = crate::server::needs::Person {
                        login: &login,
                        groups: &groups,
                        may: &may,
                    };
                    let items = crate::server::needs::needs_of(&ctx, &person).await?;
                    ctx.cache
                        .needs
                        .put(caller.user.id, caller.version, items.clone());
                    items
                }
            };
            let topics = TOPICS
                .iter()
                .filter(|t| {
                    caller.may(
                        crate::domain::rbac::Action::Read,
                        &ResourceRef::of_type(**t),
                    )
                })
                .map(|t| t.as_str().to_string())
                .collect();
            Ok(NeedsView { items, topics })
        }
        .await,
    )
}

/// The latest changes to the resources the caller created and the releases they started.
#[server(endpoint = "get_my_activity")]
pub async fn get_my_activity() -> Result<Vec<ActivityRow>, AppError> {
    use crate::server::request::{ctx, require_signed_in, respond};
    respond(
        async {
            use crate::domain::rbac::{Action, EntityType, ResourceRef};
            let caller = require_signed_in().await?;
            let mut rows =
                crate::server::needs::activity(&ctx()?.db, &caller.actor().label).await?;
            // Owning something is not reading it: a role taken away hides its activity too.
            rows.retain(|row| match row.href.strip_prefix("/resources/") {
                Some(_) => caller.may(
                    Action::Read,
                    &ResourceRef::entity(EntityType::Resource, row.what.clone()),
                ),
                None => caller.may(Action::Read, &ResourceRef::of_type(EntityType::Release)),
            });
            Ok(rows)
        }
        .await,
    )
}

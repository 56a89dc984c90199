//! The audit log page's data: events filtered by actor, entity and action, newest first, paged.

use crate::error::AppError;
pub use crate::wire::audit::*;
use leptos::prelude::*;

#[server(endpoint = "list_audit_events")]
pub async fn list_audit_events(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::domain::rbac::{Action, EntityType, ResourceRef};
    use crate::server::request::{ctx, require, respond};
    respond(
        async {
            require(Action::Read, ResourceRef::of_type(EntityType::Audit)).await?;
            crate::server::audit::list(&ctx()?.db, &filter).await
        }
        .await,
    )
}

/// Checks the whole chain of events, as `slipway audit verify` does: the number of events
/// verified, or the first break.
#[server(endpoint = "verify_audit_chain")]
pub async fn verify_audit_chain() -> Result<String, AppError> {
    use crate::domain::rbac::{Action, EntityType, ResourceRef};
    use crate::server::request::{ctx, require, respond};
    respond(
        async {
            require(Action::Read, ResourceRef::of_type(EntityType::Audit)).await?;
            match crate::server::audit::verify(&ctx()?.db).await? {
                Ok(count) => Ok(format!(
                    "The audit log is intact: {} verified.",
                    crate::domain::names::counted(count, "event", "events")
                )),
                Err(found) => Err(AppError::Conflict(format!(
                    "The audit log was tampered with: {found}."
                ))),
            }
        }
        .await,
    )
}

//! Freeze windows: the freezes page, lifting a window early, the emergency freeze, and
//! exceptions to a freeze. Editing a FreezeWindow goes through the release manifests' editor.

use crate::error::AppError;
pub use crate::wire::freezes::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::api::releases::guard::editor;
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::request::{ctx, require, respond};

    pub fn releases() -> ResourceRef {
        ResourceRef::of_type(EntityType::Release)
    }
}

#[server(endpoint = "get_freezes")]
pub async fn get_freezes() -> Result<FreezesView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, releases()).await?;
            let editor = editor(&caller).await?;
            let db = &ctx()?.db;
            let me = caller.actor().label;
            let (freezes, exceptions) =
                crate::server::freezes::overview(db, (&me, &editor.groups)).await?;
            let mut environments: Vec<String> = Vec::new();
            for (_, manifest) in crate::server::release_manifests::all(db).await? {
                if let crate::domain::manifests::Manifest::ReleaseTrack(track) = manifest {
                    for env in track.environments() {
                        if !environments.contains(env) {
                            environments.push(env.clone());
                        }
                    }
                }
            }
            Ok(FreezesView {
                freezes,
                exceptions,
                can_edit: caller.may(Action::Update, &releases())
                    && editor.owns(crate::domain::freezes::FREEZE_OWNERS),
                environments,
            })
        }
        .await,
    )
}

/// Lifts the window of a freeze that holds now (platform / SRE).
#[server(endpoint = "lift_freeze")]
pub async fn lift_freeze(name: String, reason: String) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, releases()).await?;
            let editor = editor(&caller).await?;
            crate::server::freezes::lift(&ctx()?, &editor, name.trim(), &reason).await
        }
        .await,
    )
}

/// The emergency button: freezes `environments` (none: everything) now, until lifted
/// (platform / SRE). Returns the freeze's name.
#[server(endpoint = "emergency_freeze")]
pub async fn emergency_freeze(
    reason: String,
    #[server(default)] environments: Vec<String>,
) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, releases()).await?;
            let editor = editor(&caller).await?;
            crate::server::freezes::emergency(&ctx()?, &editor, &reason, &environments).await
        }
        .await,
    )
}

/// Asks for a stage (`stage:<id>`), a build (`build:<id>`) or a resource's plan (`plan:<id>`)
/// to go through the freeze that holds it. Whoever may read it may ask; the freeze's group
/// decides.
#[server(endpoint = "request_freeze_exception")]
pub async fn request_freeze_exception(subject: String, reason: String) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let subject = subject.trim();
            crate::server::request::require_signed_in().await?;
            let access = crate::server::freezes::subject_access(&ctx()?.db, subject).await?;
            let caller = require(Action::Read, access).await?;
            crate::server::freezes::request_exception(&ctx()?, &caller.actor(), subject, &reason)
                .await
        }
        .await,
    )
}

/// Approves an exception: a member of the freeze's exception group who did not ask for it.
/// Returns whether it is granted now.
#[server(endpoint = "approve_freeze_exception")]
pub async fn approve_freeze_exception(id: i64, comment: String) -> Result<bool, AppError> {
    use guard::*;
    respond(
        async {
            let caller = crate::server::request::require_signed_in().await?;
            let groups = crate::server::directory::groups_of(&ctx()?.db, caller.user.id).await?;
            crate::server::freezes::approve_exception(
                &ctx()?,
                &caller.actor(),
                &groups,
                id,
                &comment,
            )
            .await
        }
        .await,
    )
}

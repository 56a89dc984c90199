//! Releases: the release manifests (Application, ApplicationSet, ReleaseTrack), each edited only
//! by its owning group and kept with revisions.

use crate::error::AppError;
pub use crate::wire::releases::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::release_manifests;
    pub use crate::server::request::{ctx, require, respond};

    pub fn all() -> ResourceRef {
        ResourceRef::of_type(EntityType::Release)
    }

    /// The caller as ownership sees them.
    pub async fn editor(
        caller: &crate::server::request::Caller,
    ) -> crate::error::AppResult<release_manifests::Editor> {
        Ok(release_manifests::Editor {
            actor: caller.actor(),
            groups: crate::server::directory::groups_of(&ctx()?.db, caller.user.id).await?,
            administers: caller.may(
                Action::Administer,
                &ResourceRef::of_type(EntityType::Access),
            ),
        })
    }
}

#[server(endpoint = "get_release_manifests")]
pub async fn get_release_manifests() -> Result<ReleaseManifestsView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let editor = editor(&caller).await?;
            let db = &ctx()?.db;
            let stored = release_manifests::all(db).await?;
            let current = crate::server::deployments::current(db).await?;
            let previous = crate::server::deployments::previous_versions(db, &current).await?;
            let me = caller.actor().label;
            let (rollbacks, holds) =
                crate::server::deployments::rollbacks_and_holds(db, (&me, &editor.groups)).await?;
            Ok(ReleaseManifestsView {
                rollbacks,
                holds,
                tracks: stored
                    .iter()
                    .filter(|(m, _)| m.kind == "ReleaseTrack")
                    .map(|(m, _)| (m.name.clone(), m.source.clone()))
                    .collect(),
                manifests: release_manifests::list(db).await?,
                deployed: current
                    .into_iter()
                    .zip(previous)
                    .map(|(d, previous)| DeployedRow {
                        previous,
                        ..crate::server::deployments::deployed_row(d)
                    })
                    .collect(),
                groups: editor.groups,
                can_write: caller.may(Action::Update, &all()),
                administers: editor.administers,
                can_simulate: ctx()?.portal.demo
                    && caller.may(
                        Action::Update,
                        &ResourceRef::of_type(EntityType::Repository),
                    ),
            })
        }
        .await,
    )
}

/// The demo's stand-in for CI: records a build of `application` (its next patch version) as a
/// signed build-completed notification would, so it deploys to the pre-release environments.
/// Only under `slipway serve --demo`, and only for those who may change repositories (CI pushes
/// there). Returns the version built.
#[server(endpoint = "simulate_build")]
pub async fn simulate_build(application: String) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            let caller =
                require(Action::Update, ResourceRef::of_type(EntityType::Repository)).await?;
            crate::server::deployments::simulate_build(&ctx()?, &caller.actor(), application.trim())
                .await
        }
        .await,
    )
}

/// The four DORA figures of the production environments over the last `days` (one of
/// [`DORA_WINDOWS`](crate::domain::releases::DORA_WINDOWS)); `None` while no track names a
/// production environment.
#[server(endpoint = "get_delivery")]
pub async fn get_delivery(days: u32) -> Result<Option<crate::domain::releases::Dora>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, all()).await?;
            if !crate::domain::releases::DORA_WINDOWS.contains(&days) {
                return Err(AppError::invalid("days", "must be 7, 28, 90 or 365"));
            }
            crate::server::deployments::dora(&ctx()?.db, days).await
        }
        .await,
    )
}

#[server(endpoint = "get_release_manifest")]
pub async fn get_release_manifest(
    kind: String,
    name: String,
) -> Result<ReleaseManifestDetail, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let mut detail =
                release_manifests::detail(&ctx()?.db, kind.trim(), name.trim()).await?;
            detail.can_edit = caller.may(Action::Update, &all())
                && editor(&caller).await?.owns(&detail.row.owner);
            Ok(detail)
        }
        .await,
    )
}

/// Saves a release manifest: `kind` and `name` empty create the one the text names; otherwise
/// `revision` must be the one the text was edited from.
#[server(endpoint = "save_release_manifest")]
pub async fn save_release_manifest(
    kind: String,
    name: String,
    revision: i32,
    source: String,
) -> Result<ReleaseManifestRow, AppError> {
    use guard::*;
    respond(
        async {
            let (kind, name) = (kind.trim(), name.trim());
            let creating = kind.is_empty() && name.is_empty();
            let caller = require(
                if creating {
                    Action::Create
                } else {
                    Action::Update
                },
                all(),
            )
            .await?;
            let editor = editor(&caller).await?;
            release_manifests::save(
                &ctx()?.db,
                &editor,
                (!creating).then_some((kind, name)),
                revision,
                &source,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "get_releases")]
pub async fn get_releases() -> Result<ReleasesView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let db = &ctx()?.db;
            Ok(ReleasesView {
                releases: crate::server::releases::list(db).await?,
                app_sets: release_manifests::all(db)
                    .await?
                    .into_iter()
                    .filter(|(m, _)| m.kind == "ApplicationSet")
                    .map(|(m, _)| m.name)
                    .collect(),
                can_start: caller.may(Action::Administer, &all()),
            })
        }
        .await,
    )
}

/// Asks for `application` in `environment` to go back to its previous version (anyone who reads
/// releases; its sign-off decides). Returns the rollback's id.
#[server(endpoint = "request_rollback")]
pub async fn request_rollback(
    environment: String,
    application: String,
    reason: String,
) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            crate::server::deployments::request_rollback(
                &ctx()?,
                &caller.actor(),
                environment.trim(),
                application.trim(),
                &reason,
            )
            .await
        }
        .await,
    )
}

/// A vote on a rollback awaiting sign-off; returns its state.
#[server(endpoint = "vote_rollback")]
pub async fn vote_rollback(
    id: i64,
    group: String,
    approve: bool,
    comment: String,
) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let voter = crate::server::releases::Voter {
                actor: caller.actor(),
                groups: editor(&caller).await?.groups,
            };
            crate::server::deployments::vote_rollback(
                &ctx()?,
                &voter,
                id,
                &group,
                approve,
                &comment,
            )
            .await
        }
        .await,
    )
}

/// Lifts a promotion hold (those who may change releases).
#[server(endpoint = "lift_promotion_hold")]
pub async fn lift_promotion_hold(id: i64) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, all()).await?;
            crate::server::deployments::lift_hold(&ctx()?, &caller.actor(), id).await
        }
        .await,
    )
}

/// Makes (or replaces) a ReleaseTrack's verification secret: platform / SRE, who keep tracks.
/// Shown once.
#[server(endpoint = "rotate_verification_secret")]
pub async fn rotate_verification_secret(track: String) -> Result<String, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Update, all()).await?;
            let editor = editor(&caller).await?;
            crate::server::releases::rotate_verification_secret(&ctx()?, &editor, track.trim())
                .await
        }
        .await,
    )
}

#[server(endpoint = "get_release")]
pub async fn get_release(id: i64) -> Result<ReleaseView, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let (me, groups) = (caller.actor().label, editor(&caller).await?.groups);
            crate::server::releases::detail(&ctx()?.db, id, (&me, &groups)).await
        }
        .await,
    )
}

/// Starts a release of an application set's bundle (`hotfix` given: a hotfix of its completed
/// release, through the hotfix stages): release managers (administer on releases).
#[server(endpoint = "start_release")]
pub async fn start_release(
    app_set: String,
    bundle: String,
    hotfix: Option<String>,
    /// The confirmation that a build whose release was rejected is to be released again.
    same_build: Option<String>,
) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, all()).await?;
            let ticked = |v: Option<String>| v.is_some_and(|h| !h.is_empty() && h != "false");
            let (hotfix, same_build) = (ticked(hotfix), ticked(same_build));
            crate::server::releases::start(
                &ctx()?,
                &caller.actor(),
                app_set.trim(),
                bundle.trim(),
                hotfix,
                same_build,
            )
            .await
        }
        .await,
    )
}

/// Approves or rejects a stage. Reading releases is the permission asked of the role; the vote
/// itself is authorized by the stage's sign-off groups, which the release track (owned by
/// platform / SRE) names: only their members vote, each once, and never the starter's approval.
#[server(endpoint = "vote_release")]
pub async fn vote_release(
    id: i64,
    stage: i32,
    group: String,
    approve: bool,
    comment: String,
) -> Result<crate::domain::releases::StageState, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let voter = crate::server::releases::Voter {
                actor: caller.actor(),
                groups: editor(&caller).await?.groups,
            };
            crate::server::releases::vote(
                &ctx()?,
                &voter,
                id,
                stage,
                group.trim(),
                approve,
                &comment,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "withdraw_vote")]
pub async fn withdraw_vote(id: i64, stage: i32) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Read, all()).await?;
            let voter = crate::server::releases::Voter {
                actor: caller.actor(),
                groups: editor(&caller).await?.groups,
            };
            crate::server::releases::withdraw(&ctx()?, &voter, id, stage).await
        }
        .await,
    )
}

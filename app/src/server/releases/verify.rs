//! Stage verification: a release stage with `verify: true`, once deployed, waits for the
//! environment's tests or monitoring to report on it — a `POST /hooks/stage-verified` signed
//! with the track's verification secret, as the build hook is signed — before the next stage
//! opens. `passed` opens it; `failed` stops the release like a rejection. One report per stage:
//! a second (a replay, or a late contradiction) is refused.

use super::deploy::open_stage;
use super::{environments_of, locked_stage};
use crate::domain::manifests::Manifest;
use crate::domain::releases::{ReleaseState, StageState};
use crate::error::{AppError, AppResult};
use crate::server::audit::{self, Change};
use crate::server::entities::{release_manifests as manifests, releases};
use crate::server::{Actor, AppCtx};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// How old a report's timestamp may be (either way), in seconds.
const MAX_SKEW: i64 = 300;
/// The longest `details`, in characters, and `url`, in bytes.
const MAX_DETAILS: usize = 2000;
const MAX_URL: usize = 500;

fn purpose(manifest_id: i64) -> String {
    format!("release_manifest:{manifest_id}:verify_secret")
}

/// What the environment's tests or monitoring report.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    /// The release candidate tag (`webshop-2026.12-rc.0`).
    release: String,
    /// The stage, counted from 1 as the release page shows it.
    stage: i32,
    /// `passed` or `failed`.
    result: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    url: String,
}

/// What the stage keeps of the report.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Kept {
    pub passed: bool,
    pub details: String,
    pub url: String,
    pub at: String,
}

pub(crate) fn kept(stage: &crate::server::entities::stage_runs::Model) -> Option<Kept> {
    stage
        .verification
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
}

/// Makes a new verification secret for the ReleaseTrack `name`, replacing any other (platform /
/// SRE, who own tracks), and returns it: the only time it is shown.
pub async fn rotate_verification_secret(
    ctx: &AppCtx,
    editor: &crate::server::release_manifests::Editor,
    name: &str,
) -> AppResult<String> {
    use rand::RngCore;
    audit::audited(&ctx.db, &editor.actor, async |txn| {
        let model = manifests::Entity::find()
            .filter(manifests::Column::Kind.eq("ReleaseTrack"))
            .filter(manifests::Column::Name.eq(name))
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("ReleaseTrack {name}")))?;
        if !editor.owns(&model.owner) {
            return Err(AppError::Forbidden(format!(
                "ReleaseTrack {name} is kept by the group {}, and you are not in it",
                model.owner
            )));
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("slv_{}", hex::encode(bytes));
        let had = model.verify_secret.is_some();
        let mut active: manifests::ActiveModel = model.clone().into();
        active.verify_secret = Set(Some(ctx.secrets.seal(&purpose(model.id), &secret)));
        active.update(txn).await?;
        let change = Change::new(
            "release_manifest.verify_secret",
            "release",
            format!("ReleaseTrack/{name}"),
        )
        .after(&serde_json::json!({ "replaced": had }));
        Ok((secret, change))
    })
    .await
}

/// How a report ended: the stage's verification recorded (and whether it passed), or refused
/// with the status to answer and why.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Recorded { passed: bool },
    Refused { status: u16, reason: String },
}

fn refused(status: u16, reason: impl Into<String>) -> AppResult<Verified> {
    let reason: String = reason.into().chars().take(300).collect();
    tracing::warn!(status, reason = ?reason, "refused a stage verification");
    Ok(Verified::Refused { status, reason })
}

/// Receives a stage verification report: its signature checked against the track's secret
/// (`X-Slipway-Signature: sha256=<HMAC of "<timestamp>." + body>`), its timestamp within five
/// minutes; then recorded on the stage and the release moved on (or stopped), in one
/// transaction with its audit event.
pub async fn receive_verification(
    ctx: &AppCtx,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> AppResult<Verified> {
    let report: Report = match serde_json::from_slice(body) {
        Ok(report) => report,
        Err(e) => return refused(400, format!("the report does not read: {e}")),
    };
    let passed = match report.result.as_str() {
        "passed" => true,
        "failed" => false,
        other => return refused(400, format!("result is passed or failed, not {other:?}")),
    };
    if report.details.chars().count() > MAX_DETAILS {
        return refused(
            400,
            format!("details is longer than {MAX_DETAILS} characters"),
        );
    }
    if report.url.len() > MAX_URL
        || !(report.url.is_empty()
            || report.url.starts_with("https://")
            || report.url.starts_with("http://"))
    {
        return refused(
            400,
            format!("url must be an http(s) address of at most {MAX_URL} bytes"),
        );
    }
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return refused(401, "no X-Slipway-Timestamp");
    };
    if (now - at).abs() > MAX_SKEW {
        return refused(
            401,
            format!(
                "the timestamp is {}s away from now (at most {MAX_SKEW}s)",
                now - at
            ),
        );
    }
    let Some(release) = releases::Entity::find()
        .filter(releases::Column::RcTag.eq(&report.release))
        .one(&ctx.db)
        .await?
    else {
        return refused(404, format!("no release {}", report.release));
    };
    // The secret of the track the release's set follows.
    let track = crate::server::release_manifests::all(&ctx.db)
        .await?
        .into_iter()
        .find_map(|(_, m)| match m {
            Manifest::ApplicationSet(set) if set.metadata.name == release.app_set => {
                Some(set.release_track)
            }
            _ => None,
        })
        .unwrap_or_default();
    let sealed = manifests::Entity::find()
        .filter(manifests::Column::Kind.eq("ReleaseTrack"))
        .filter(manifests::Column::Name.eq(&track))
        .one(&ctx.db)
        .await?
        .and_then(|m| m.verify_secret.map(|s| (m.id, s)));
    let Some((manifest_id, sealed)) = sealed else {
        return refused(
            401,
            format!(
                "the track {track} of {} has no verification secret",
                release.rc_tag
            ),
        );
    };
    let secret = ctx
        .secrets
        .open(&purpose(manifest_id), &sealed)
        .map_err(|_| AppError::internal("a track's verification secret does not open"))?;
    let signed = format!("{at}.");
    if !crate::server::secrets::signed_sha256(
        secret.as_bytes(),
        &[signed.as_bytes(), body],
        signature,
    ) {
        return refused(
            401,
            format!("the signature does not match the verification secret of {track}"),
        );
    }
    record(ctx, &release, &report, passed).await
}

async fn record(
    ctx: &AppCtx,
    release: &releases::Model,
    report: &Report,
    passed: bool,
) -> AppResult<Verified> {
    let actor = Actor::system("verification");
    let position = report.stage - 1;
    let outcome = audit::audited(&ctx.db, &actor, async |txn| {
        let stage = match locked_stage(txn, release.id, position).await {
            Ok(stage) => stage,
            Err(AppError::NotFound(_)) => {
                return Ok((
                    Verified::Refused {
                        status: 404,
                        reason: format!("{} has no stage {}", release.rc_tag, report.stage),
                    },
                    None,
                ));
            }
            Err(e) => return Err(e),
        };
        let refusal = if !stage.verify {
            Some(format!(
                "stage {} of {} asks for no verification",
                report.stage, release.rc_tag
            ))
        } else if stage.verification.is_some() {
            Some(format!(
                "stage {} of {} was verified already",
                report.stage, release.rc_tag
            ))
        } else if stage.state != StageState::Deployed {
            Some(format!(
                "stage {} of {} is {}: it is verified once deployed",
                report.stage,
                release.rc_tag,
                stage.state.label().to_lowercase()
            ))
        } else if release.state != ReleaseState::Running {
            Some(format!(
                "{} is {}: it takes no verification",
                release.rc_tag,
                release.state.as_str()
            ))
        } else {
            None
        };
        if let Some(reason) = refusal {
            return Ok((
                Verified::Refused {
                    status: 409,
                    reason,
                },
                None,
            ));
        }
        let now = chrono::Utc::now();
        let kept = Kept {
            passed,
            details: report.details.clone(),
            url: report.url.clone(),
            at: crate::server::when(&now),
        };
        let mut active: crate::server::entities::stage_runs::ActiveModel = stage.clone().into();
        active.verification = Set(Some(
            serde_json::to_string(&kept).map_err(AppError::internal)?,
        ));
        active.update(txn).await?;
        if passed {
            let next = crate::server::entities::stage_runs::Entity::find()
                .filter(crate::server::entities::stage_runs::Column::ReleaseId.eq(release.id))
                .filter(crate::server::entities::stage_runs::Column::Position.eq(position + 1))
                .one(txn)
                .await?;
            if let Some(next) = next {
                open_stage(txn, &next, now).await?;
            }
        } else {
            let mut active: releases::ActiveModel = release.clone().into();
            active.state = Set(ReleaseState::Rejected);
            active.completed_at = Set(Some(now));
            active.update(txn).await?;
        }
        let action = if passed {
            "release.verified"
        } else {
            "release.verification_failed"
        };
        let change = Change::new(action, "release", &release.rc_tag).after(&serde_json::json!({
            "stage": report.stage,
            "environments": environments_of(&stage),
            "details": report.details,
            "url": report.url,
        }));
        Ok((Verified::Recorded { passed }, Some(change)))
    })
    .await?;
    if outcome == (Verified::Recorded { passed: true }) {
        ctx.jobs_wake.notify_one();
    }
    Ok(outcome)
}

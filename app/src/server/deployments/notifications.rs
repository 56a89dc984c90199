//! Build-completed notifications: signed by the repository's build secret, accepted once, recorded,
//! and the demo's simulated build.

use super::*;

/// How old a notification's timestamp may be (either way), in seconds.
pub const MAX_SKEW: i64 = 300;

pub(super) fn purpose(repository_id: i64) -> String {
    format!("repository:{repository_id}:build_secret")
}

/// Makes a new build secret for `name`, replacing any other, and returns it: the only time it
/// is shown (it goes into the repository's CI secret `SLIPWAY_WEBHOOK_SECRET`).
pub async fn rotate_build_secret(ctx: &AppCtx, actor: &Actor, name: &str) -> AppResult<String> {
    use rand::RngCore;
    audit::audited(&ctx.db, actor, async |txn| {
        let model = repositories::Entity::find()
            .filter(repositories::Column::Name.eq(name))
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("Repository {name}")))?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("slw_{}", hex::encode(bytes));
        let had = model.build_secret.is_some();
        let mut active: repositories::ActiveModel = model.clone().into();
        active.build_secret = Set(Some(ctx.secrets.seal(&purpose(model.id), &secret)));
        active.update(txn).await?;
        let change = Change::new("repository.build_secret", "repository", name)
            .after(&serde_json::json!({ "replaced": had }));
        Ok((secret, change))
    })
    .await
}

/// What became of a notification.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Recorded; its deployment job queued.
    Accepted {
        build: i64,
        job: i64,
    },
    /// The same repository, application and version again (a re-run of the workflow): nothing
    /// new.
    Known {
        build: i64,
    },
    Refused {
        status: u16,
        reason: String,
    },
}

/// A refusal: logged (escaped, bounded), and audited as a summary at most once a minute per
/// replica — a flood of unsigned requests neither fills the audit log nor retires every
/// replica's caches with each request.
pub(super) async fn refuse(
    ctx: &AppCtx,
    status: u16,
    reason: String,
    repository: &str,
) -> AppResult<Received> {
    let reason: String = reason.chars().take(300).collect();
    tracing::warn!(status, reason = ?reason, repository = ?repository, "refused a build-completed notification");
    let (first, earlier) = ctx
        .cache
        .first_refusal_this_minute(chrono::Utc::now().timestamp());
    if !first {
        return Ok(Received::Refused { status, reason });
    }
    let change = Change::new(
        "build.refused",
        "repository",
        if repository.is_empty() {
            "unknown"
        } else {
            repository
        },
    )
    .after(&serde_json::json!({
        "status": status,
        "reason": reason,
        "refused_the_minute_before": earlier,
        "note": "further refusals this minute are counted in the server log only",
    }));
    audit::event(&ctx.db, &Actor::system("build-webhook"), change).await?;
    Ok(Received::Refused { status, reason })
}

/// Checks and records a build-completed notification (`now`: seconds since the epoch).
pub async fn receive_build(
    ctx: &AppCtx,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> AppResult<Received> {
    let notification = match BuildNotification::parse(body) {
        Ok(n) => n,
        Err(reason) => return refuse(ctx, 400, reason, "").await,
    };
    let name = notification
        .repository
        .split('/')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(&name))
        .one(&ctx.db)
        .await?;
    let Some((model, sealed)) = model.and_then(|m| m.build_secret.clone().map(|s| (m, s))) else {
        return refuse(
            ctx,
            401,
            format!("{name} is not a governed repository with a build secret"),
            &name,
        )
        .await;
    };
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return refuse(ctx, 401, "no X-Slipway-Timestamp".into(), &name).await;
    };
    if (now - at).abs() > MAX_SKEW {
        return refuse(
            ctx,
            401,
            format!(
                "the timestamp is {}s away from now (at most {MAX_SKEW}s)",
                now - at
            ),
            &name,
        )
        .await;
    }
    let secret = ctx
        .secrets
        .open(&purpose(model.id), &sealed)
        .map_err(|_| AppError::internal("a repository's build secret does not open"))?;
    let signed = format!("{at}.");
    if !crate::server::secrets::signed_sha256(
        secret.as_bytes(),
        &[signed.as_bytes(), body],
        signature,
    ) {
        return refuse(
            ctx,
            401,
            "the signature does not match the repository's build secret".into(),
            &name,
        )
        .await;
    }
    // As recorded: the hex digits, lowercased.
    let signature = signature.trim_start_matches("sha256=").to_ascii_lowercase();
    let actor = Actor::system(&format!("ci:{}", notification.repository));
    record_build(ctx, &actor, &notification, &name, &signature).await
}

/// Records a build that was verified (or, in the demo, made by Slipway itself) and queues its
/// pre-release deployment, once: `signature` is unique per notification, so a replay is refused,
/// and a version already built is answered with the build that has it.
pub(super) async fn record_build(
    ctx: &AppCtx,
    actor: &Actor,
    notification: &BuildNotification,
    name: &str,
    signature: &str,
) -> AppResult<Received> {
    /// What the transaction found; refusals are recorded after it, in their own.
    enum Found {
        Replay,
        NotOurs,
        Recorded(Received),
    }
    let found = audit::audited(&ctx.db, actor, async |txn| {
        if builds::Entity::find()
            .filter(builds::Column::Signature.eq(signature))
            .one(txn)
            .await?
            .is_some()
        {
            return Ok((Found::Replay, None));
        }
        if let Some(known) = builds::Entity::find()
            .filter(builds::Column::Repository.eq(&notification.repository))
            .filter(builds::Column::Application.eq(&notification.application))
            .filter(builds::Column::Version.eq(&notification.version))
            .one(txn)
            .await?
        {
            return Ok((Found::Recorded(Received::Known { build: known.id }), None));
        }
        // A repository's build secret speaks for that repository only: it announces builds of
        // the applications whose manifests name it, never another team's.
        let built_here = application(txn, &notification.application)
            .await?
            .filter(|app| app.repository.as_deref() == Some(name));
        let Some(app) = built_here else {
            return Ok((Found::NotOurs, None));
        };
        let (build, job, change) = insert_build(txn, notification, name, signature, &app).await?;
        Ok((
            Found::Recorded(Received::Accepted { build, job }),
            Some(change),
        ))
    })
    .await?;
    match found {
        Found::Replay => {
            let reason = "a replay of a notification already received".into();
            refuse(ctx, 409, reason, name).await
        }
        Found::NotOurs => {
            let reason = format!(
                "no application {:?} names repository {name} in its manifest: a repository's build secret announces builds of its own applications only",
                notification.application
            );
            refuse(ctx, 403, reason, name).await
        }
        Found::Recorded(received) => {
            if matches!(received, Received::Accepted { .. }) {
                ctx.jobs_wake.notify_one();
            }
            Ok(received)
        }
    }
}

/// The build's row and its pre-release deployment job (one per build, run in order per
/// application), with the audit event that records them.
async fn insert_build<C: ConnectionTrait>(
    txn: &C,
    notification: &BuildNotification,
    name: &str,
    signature: &str,
    app: &crate::domain::release_manifests::Application,
) -> AppResult<(i64, i64, Change<'static>)> {
    let image = notification.image_of(&app.image).unwrap_or_default();
    let build = builds::ActiveModel {
        repository: Set(notification.repository.clone()),
        application: Set(notification.application.clone()),
        version: Set(notification.version.clone()),
        commit: Set(notification.commit.clone()),
        branch: Set(notification.branch.clone()),
        run_url: Set(notification.run.clone()),
        image: Set(image.clone()),
        signature: Set(signature.to_string()),
        received_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let job = crate::server::jobs::enqueue_job::<PrereleaseDeploy, _>(
        txn,
        &BuildJob { build: build.id },
        Some(&format!("prerelease:{}", build.id)),
        Some(&format!("deploy:{}", notification.application)),
        5,
    )
    .await?;
    let change = Change::new("build.completed", "repository", name).after(&serde_json::json!({
        "application": notification.application,
        "version": notification.version,
        "commit": notification.commit,
        "image": image,
        "job": job.id,
    }));
    Ok((build.id, job.id, change))
}

/// The demo's "Simulate a build" (`slipway serve --demo` only; refused otherwise): what a
/// governed repository's CI would send after a push to its primary branch — the application's
/// next patch version (after the newest built one), a commit and an image digest made up for
/// it — recorded through the same path as a signed notification, so it deploys to the
/// pre-release environments as a real build does. Returns the version.
pub async fn simulate_build(ctx: &AppCtx, actor: &Actor, application: &str) -> AppResult<String> {
    use crate::domain::semver::Version;
    use rand::RngCore;
    if !ctx.portal.demo {
        return Err(AppError::Forbidden(
            "builds are simulated only in the demo (slipway serve --demo); CI posts real ones to /hooks/build-completed".into(),
        ));
    }
    let Some(app) = self::application(&ctx.db, application).await? else {
        return Err(AppError::NotFound(format!(
            "no Application named {application}"
        )));
    };
    let repository = app.repository.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "{application} names no repository (spec.repository): nothing builds it"
        ))
    })?;
    let model = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(&repository))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{application} is built from {repository}, which is not a governed repository"
            ))
        })?;
    let manifests = crate::domain::repositories::parse_source(&model.source).map_err(|_| {
        AppError::internal(format!("the stored manifests of {repository} do not load"))
    })?;
    let organization = crate::server::repositories::organization(&ctx.db, &manifests).await?;
    let latest = builds::Entity::find()
        .filter(builds::Column::Application.eq(application))
        .all(&ctx.db)
        .await?
        .into_iter()
        .filter_map(|b| Version::parse_tag(&b.version).ok())
        .filter(|v| v.pre.is_empty())
        .max();
    let next = match latest {
        Some(v) => Version::new(v.major, v.minor, v.patch + 1),
        None => Version::new(1, 0, 0),
    };
    let mut bytes = [0u8; 52];
    rand::thread_rng().fill_bytes(&mut bytes);
    let notification = BuildNotification {
        repository: format!("{organization}/{repository}"),
        application: application.to_string(),
        version: next.tag(),
        commit: hex::encode(&bytes[..20]),
        branch: "main".into(),
        run: format!(
            "{}/repositories/{repository}",
            ctx.portal.public_url.trim_end_matches('/')
        ),
        images: vec![crate::domain::releases::BuiltImage {
            name: app.image.rsplit('/').next().unwrap_or_default().to_string(),
            digest: format!("sha256:{}", hex::encode(&bytes[20..52])),
        }],
    };
    let signature = format!("demo:{}", hex::encode(&bytes[..16]));
    match record_build(ctx, actor, &notification, &repository, &signature).await? {
        Received::Accepted { .. } | Received::Known { .. } => Ok(next.tag()),
        Received::Refused { reason, .. } => Err(AppError::Conflict(reason)),
    }
}

//! What runs where: the deployment history, each environment's current deployments and the DORA
//! figures.

use super::*;

/// A deployment as the pages show it.
pub fn deployed_row(d: deployments::Model) -> crate::wire::releases::DeployedRow {
    crate::wire::releases::DeployedRow {
        previous: None,
        environment: d.environment,
        application: d.application,
        version: d.version,
        image: d.image,
        kind: d.kind,
        since: crate::server::when(&d.deployed_at),
        by: d.deployed_by,
        commit: d.config_commit,
    }
}

/// The most deployments an application's history shows.
pub const HISTORY: u64 = 200;

/// An application's deployments, newest first (at most [`HISTORY`]).
pub async fn history<C: ConnectionTrait>(
    db: &C,
    application: &str,
) -> AppResult<Vec<deployments::Model>> {
    use sea_orm::QuerySelect;
    Ok(deployments::Entity::find()
        .filter(deployments::Column::Application.eq(application))
        .order_by_desc(deployments::Column::DeployedAt)
        .order_by_desc(deployments::Column::Id)
        .limit(HISTORY)
        .all(db)
        .await?)
}

/// What each environment runs now: the latest deployment per environment and application (the
/// highest id: deployments are recorded in the order they happen), read without the history.
pub async fn current<C: ConnectionTrait>(db: &C) -> AppResult<Vec<deployments::Model>> {
    use sea_orm::QuerySelect;
    let latest: Vec<i64> = deployments::Entity::find()
        .select_only()
        .column_as(deployments::Column::Id.max(), "id")
        .group_by(deployments::Column::Environment)
        .group_by(deployments::Column::Application)
        .into_tuple()
        .all(db)
        .await?;
    let mut rows = Vec::with_capacity(latest.len());
    for chunk in latest.chunks(500) {
        rows.extend(
            deployments::Entity::find()
                .filter(deployments::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    // In track order (dev, staging, production…), as people read a pipeline; environments no
    // track names go last, by name.
    let mut order: Vec<String> = Vec::new();
    for (_, manifest) in crate::server::release_manifests::all(db).await? {
        if let Manifest::ReleaseTrack(track) = manifest {
            for env in track.environments() {
                if !order.contains(env) {
                    order.push(env.clone());
                }
            }
        }
    }
    let place = |env: &str| order.iter().position(|e| e == env).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        (place(&a.environment), &a.environment, &a.application).cmp(&(
            place(&b.environment),
            &b.environment,
            &b.application,
        ))
    });
    Ok(rows)
}

/// The DORA figures of the production environments (the last release stage of every track) over
/// the `days` before now; `None` while no track names a production environment.
pub async fn dora<C: ConnectionTrait>(
    db: &C,
    days: u32,
) -> AppResult<Option<crate::domain::releases::Dora>> {
    use crate::domain::releases::{dora, DeploymentFact};
    use sea_orm::QuerySelect;
    let mut production: Vec<String> = Vec::new();
    for (_, manifest) in crate::server::release_manifests::all(db).await? {
        if let Manifest::ReleaseTrack(track) = manifest {
            for env in track.production() {
                if !production.contains(env) {
                    production.push(env.clone());
                }
            }
        }
    }
    if production.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    // A successor is always later, so the window's deployments are all the history needed.
    let from = now - chrono::Duration::days(i64::from(days));
    // Only the columns the figures need, each with when its version was built (the builds'
    // index on version answers that inside the same query).
    type Row = (
        String,
        String,
        crate::domain::releases::DeploymentKind,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let rows: Vec<Row> = deployments::Entity::find()
        .select_only()
        .columns([
            deployments::Column::Application,
            deployments::Column::Environment,
            deployments::Column::Kind,
            deployments::Column::DeployedAt,
        ])
        .column_as(
            sea_orm::sea_query::Expr::cust(
                "(SELECT MIN(builds.received_at) FROM builds \
                 WHERE builds.version = deployments.version \
                 AND builds.application = deployments.application)",
            ),
            "built_at",
        )
        .filter(deployments::Column::Environment.is_in(production.clone()))
        .filter(deployments::Column::DeployedAt.gt(from))
        .order_by_asc(deployments::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let facts: Vec<DeploymentFact> = rows
        .into_iter()
        .map(
            |(application, environment, kind, at, built)| DeploymentFact {
                built_at: built.map(|b| b.timestamp()),
                application,
                environment,
                at: at.timestamp(),
                restores: matches!(
                    kind,
                    crate::domain::releases::DeploymentKind::Hotfix
                        | crate::domain::releases::DeploymentKind::Rollback
                ),
            },
        )
        .collect();
    Ok(Some(dora(&facts, &production, now.timestamp(), days)))
}

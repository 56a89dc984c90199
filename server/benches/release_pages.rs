//! What the Releases page reads as the deployment history grows: a year of 100,000 deployments
//! of 40 applications in four environments (25,000 builds), on SQLite. Each of our reads is
//! printed beside a baseline measured in the same run:
//!   - the DORA figures over 365 days (the window's production deployments, their builds, the
//!     four figures and the weekly bars) against only reading the same deployment rows;
//!   - what each environment runs now (the latest deployment per environment and application)
//!     against reading every deployment row, which is what answering it in memory costs.

use app::server::entities::{builds, deployments, release_manifests};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use std::time::Instant;

const APPLICATIONS: usize = 40;
const DEPLOYMENTS: usize = 100_000;
const RUNS: usize = 7;
const ENVIRONMENTS: [&str; 4] = ["development", "preview", "staging", "production"];
const TRACK: &str = "apiVersion: lowops.manifests.v1\nkind: ReleaseTrack\nmetadata:\n  name: bench\nspec:\n  preReleaseStages:\n  - environments: [development, preview]\n  releaseStages:\n  - environments: [staging]\n  - environments: [production]\n  hotfixStages:\n  - environments: [staging, production]\n";

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir =
            std::env::temp_dir().join(format!("slipway-bench-releases-{}", rand::random::<u64>()));
        let url = format!("sqlite://{}/bench.db", dir.display());
        let db = server::db::connect(&url).await.unwrap();
        server::db::migrate(&db).await.unwrap();
        let now = chrono::Utc::now();
        let started = Instant::now();
        release_manifests::Entity::insert(release_manifests::ActiveModel {
            kind: Set("ReleaseTrack".into()),
            name: Set("bench".into()),
            owner: Set("sre".into()),
            source: Set(TRACK.into()),
            revision: Set(1),
            created_by: Set("bench".into()),
            created_at: Set(now),
            updated_by: Set("bench".into()),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&db)
        .await
        .unwrap();
        // Every fourth deployment is a new build: 25,000 builds, each deployed to the four
        // environments over the following hours; one production deployment in ten is a hotfix.
        let step = 365 * 86_400 / DEPLOYMENTS as i64;
        let txn = app::server::begin_write(&db).await.unwrap();
        let mut build_rows = Vec::new();
        let mut deployment_rows = Vec::new();
        for n in 0..DEPLOYMENTS {
            let application = format!("app-{:02}", n / 4 % APPLICATIONS);
            let build = n / 4;
            let version = format!("v1.{}.0", build / APPLICATIONS);
            let at = now - chrono::Duration::seconds((DEPLOYMENTS - n) as i64 * step);
            if n % 4 == 0 {
                build_rows.push(builds::ActiveModel {
                    repository: Set(format!("acme/{application}")),
                    application: Set(application.clone()),
                    version: Set(version.clone()),
                    commit: Set(format!("{build:040x}")),
                    branch: Set("main".into()),
                    run_url: Set(String::new()),
                    image: Set(format!(
                        "registry.example.com/acme/{application}@sha256:{build:064x}"
                    )),
                    signature: Set(format!("sha256={build:064x}")),
                    received_at: Set(at - chrono::Duration::hours(2)),
                    ..Default::default()
                });
            }
            deployment_rows.push(deployments::ActiveModel {
                environment: Set(ENVIRONMENTS[n % 4].into()),
                application: Set(application),
                version: Set(version),
                image: Set(format!("registry.example.com/acme/app@sha256:{build:064x}")),
                kind: Set(if n % 4 == 3 && build % 10 == 9 {
                    app::domain::releases::DeploymentKind::Hotfix
                } else {
                    app::domain::releases::DeploymentKind::Release
                }),
                build_id: Set(None),
                release_id: Set(None),
                config_commit: Set(format!("{n:040x}")),
                deployed_by: Set("bench".into()),
                deployed_at: Set(at),
                ..Default::default()
            });
            if deployment_rows.len() == 1000 {
                deployments::Entity::insert_many(std::mem::take(&mut deployment_rows))
                    .exec(&txn)
                    .await
                    .unwrap();
            }
            if build_rows.len() == 1000 {
                builds::Entity::insert_many(std::mem::take(&mut build_rows))
                    .exec(&txn)
                    .await
                    .unwrap();
            }
        }
        if !build_rows.is_empty() {
            builds::Entity::insert_many(build_rows)
                .exec(&txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        println!(
            "release_pages: {DEPLOYMENTS} deployments written in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let (mut dora_times, mut read_times, mut current_times, mut all_times) =
            (vec![], vec![], vec![], vec![]);
        for _ in 0..RUNS {
            let started = Instant::now();
            let figures = app::server::deployments::dora(&db, 365)
                .await
                .unwrap()
                .unwrap();
            dora_times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(figures.production_deployments as usize, DEPLOYMENTS / 4);
            assert!(figures.failures > 0 && figures.lead_time.is_some());

            let started = Instant::now();
            let from = chrono::Utc::now() - chrono::Duration::days(365);
            let rows = deployments::Entity::find()
                .filter(deployments::Column::Environment.is_in(["production"]))
                .filter(deployments::Column::DeployedAt.gt(from))
                .all(&db)
                .await
                .unwrap();
            read_times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(rows.len(), DEPLOYMENTS / 4);

            let started = Instant::now();
            let latest = app::server::deployments::current(&db).await.unwrap();
            current_times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(latest.len(), APPLICATIONS * ENVIRONMENTS.len());

            let started = Instant::now();
            let every = deployments::Entity::find().all(&db).await.unwrap();
            all_times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(every.len(), DEPLOYMENTS);
        }
        let (ours, read) = (median(dora_times), median(read_times));
        println!(
            "release_pages: read the window's production deployments (baseline) {read:8.1} ms"
        );
        println!("release_pages: DORA over 365 days (read, builds, figures)         {ours:8.1} ms");
        println!(
            "release_pages: ratio DORA / read {:.2} (median of {RUNS})",
            ours / read
        );
        let (ours, read) = (median(current_times), median(all_times));
        println!("release_pages: read every deployment (baseline)                   {read:8.1} ms");
        println!("release_pages: what each environment runs now                     {ours:8.1} ms");
        println!(
            "release_pages: ratio now-running / read-all {:.3} (median of {RUNS})",
            ours / read
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}

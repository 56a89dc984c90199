//! How fast `slipway audit verify` walks the hash chain, beside a baseline measured in the same
//! run: hashing the same records in memory (the floor any verifier pays). The ratio is the cost
//! of reading the chain out of the database, page by page. And the audit page's free-text
//! search (one word that matches one event) beside the same LIKE scan on a plain table. And the
//! live pages' watcher turn beside primary-key reads of the plain table.

use app::server::audit::{record, verify, Change};
use app::server::Actor;
use sea_orm::{ConnectionTrait, Statement};
use std::time::Instant;

const EVENTS: i64 = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("slipway-bench-{}", rand::random::<u64>()));
        let url = format!("sqlite://{}/bench.db", dir.display());
        let db = server::db::connect(&url).await.unwrap();
        server::db::migrate(&db).await.unwrap();

        let started = Instant::now();
        let txn = app::server::begin_write(&db).await.unwrap();
        let actor = Actor::system("bench");
        for i in 0..EVENTS {
            let change = Change::new("group.create", "group", i)
                .after(&serde_json::json!({"name": format!("group-{i}"), "description": "benchmark group"}));
            record(&txn, &actor, change).await.unwrap();
        }
        txn.commit().await.unwrap();
        let write_secs = started.elapsed().as_secs_f64();

        // Write baseline: the same rows inserted plainly, no head row, no hash chain.
        db.execute_unprepared(
            "CREATE TABLE plain_events (seq INTEGER PRIMARY KEY, occurred_at TEXT, actor TEXT, \
             action TEXT, entity_type TEXT, entity_id TEXT, after TEXT)",
        )
        .await
        .unwrap();
        let started = Instant::now();
        let txn = app::server::begin_write(&db).await.unwrap();
        for i in 0..EVENTS {
            let after = serde_json::json!({"name": format!("group-{i}"), "description": "benchmark group"}).to_string();
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "INSERT INTO plain_events (seq, occurred_at, actor, action, entity_type, entity_id, after) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (i + 1).into(),
                    chrono::Utc::now().to_rfc3339().into(),
                    "bench".into(),
                    "group.create".into(),
                    "group".into(),
                    i.to_string().into(),
                    after.into(),
                ],
            ))
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();
        let plain_write_secs = started.elapsed().as_secs_f64();

        // Best of three for both, so a noisy neighbour hurts neither more than the other.
        let mut ours = f64::MAX;
        let mut baseline = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let checked = verify(&db).await.unwrap().unwrap();
            ours = ours.min(started.elapsed().as_secs_f64());
            assert_eq!(checked, EVENTS as u64);

            let rows = app::server::audit::list(
                &db,
                &app::wire::audit::AuditFilter { page: 1, ..Default::default() },
            )
            .await
            .unwrap();
            let sample = rows.events.first().unwrap().clone();
            let record = app::domain::audit::AuditRecord {
                seq: sample.seq,
                occurred_at: sample.occurred_at.clone(),
                actor_id: None,
                actor: sample.actor.clone(),
                action: sample.action.clone(),
                entity_type: sample.entity_type.clone(),
                entity_id: sample.entity_id.clone(),
                before: sample.before.clone(),
                after: sample.after.clone(),
                prev_hash: "0".repeat(64),
            };
            let started = Instant::now();
            let mut last = String::new();
            for seq in 0..EVENTS {
                let mut r = record.clone();
                r.seq = seq;
                r.prev_hash = std::mem::take(&mut last);
                last = std::hint::black_box(r.compute_hash());
            }
            baseline = baseline.min(started.elapsed().as_secs_f64());
        }
        // Search: the page's query (count and first page, every column, lowered) against one
        // LIKE over the plain table's `after` column, the least any text search scans.
        let mut search = f64::MAX;
        let mut plain_search = f64::MAX;
        for _ in 0..3 {
            let filter = app::wire::audit::AuditFilter {
                text: format!("group-{}", EVENTS - 7),
                page: 1,
                ..Default::default()
            };
            let started = Instant::now();
            let found = app::server::audit::list(&db, &filter).await.unwrap();
            search = search.min(started.elapsed().as_secs_f64());
            assert_eq!(found.total, 1);
            let started = Instant::now();
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!(
                        "SELECT seq FROM plain_events WHERE after LIKE '%group-{}%'",
                        EVENTS - 7
                    ),
                ))
                .await
                .unwrap();
            plain_search = plain_search.min(started.elapsed().as_secs_f64());
            assert_eq!(rows.len(), 1);
        }
        println!(
            "audit search (SQLite, {EVENTS} events, one word): {:.1} ms; baseline one LIKE over a plain table: {:.1} ms; ratio {:.2}x",
            search * 1000.0,
            plain_search * 1000.0,
            search / plain_search
        );
        // Live pages: the watcher's turn, idle (the head unchanged: one primary-key read) and
        // with 50 new events (their entity names read by sequence range), against reading one
        // row, and 50 rows, of the plain table by primary key.
        let head = app::server::cache::version(&db).await.unwrap();
        let best = |runs: Vec<f64>| runs.into_iter().fold(f64::MAX, f64::min);
        let mut idle = Vec::new();
        let mut fifty = Vec::new();
        let mut one_row = Vec::new();
        let mut fifty_rows = Vec::new();
        for _ in 0..200 {
            let started = Instant::now();
            let (_, changed) = app::server::live::changes_since(&db, Some(head)).await.unwrap();
            idle.push(started.elapsed().as_secs_f64());
            assert!(changed.is_empty());
            let started = Instant::now();
            let (_, changed) = app::server::live::changes_since(&db, Some(head - 50)).await.unwrap();
            fifty.push(started.elapsed().as_secs_f64());
            assert_eq!(changed.len(), 50);
            let plain = |sql: String| {
                let db = &db;
                async move {
                    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                        .await
                        .unwrap()
                }
            };
            let started = Instant::now();
            assert_eq!(plain(format!("SELECT seq FROM plain_events WHERE seq = {head}")).await.len(), 1);
            one_row.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            let rows = plain(format!(
                "SELECT entity_type, entity_id, after FROM plain_events WHERE seq > {} AND seq <= {head}",
                head - 50
            ))
            .await;
            fifty_rows.push(started.elapsed().as_secs_f64());
            assert_eq!(rows.len(), 50);
        }
        let (idle, fifty, one_row, fifty_rows) = (best(idle), best(fifty), best(one_row), best(fifty_rows));
        println!(
            "live pages, watcher turn (SQLite, {EVENTS} events): idle {:.0} µs, 50 new events {:.0} µs; \
             baseline one primary-key row {:.0} µs, 50 rows by range {:.0} µs; ratios {:.2}x, {:.2}x",
            idle * 1e6,
            fifty * 1e6,
            one_row * 1e6,
            fifty_rows * 1e6,
            idle / one_row,
            fifty / fifty_rows
        );
        let rate = |secs: f64| EVENTS as f64 / secs;
        println!(
            "audit verify (SQLite, {EVENTS} events): {:.0} events/s; baseline in-memory chain hashing: {:.0} events/s; ratio {:.2}x",
            rate(ours),
            rate(baseline),
            ours / baseline
        );
        println!(
            "audit write (SQLite, one transaction, {EVENTS} events): {:.0} events/s; \
             baseline plain inserts: {:.0} events/s; ratio {:.2}x",
            rate(write_secs),
            rate(plain_write_secs),
            write_secs / plain_write_secs
        );
        db.close().await.ok();
        let _ = std::fs::remove_dir_all(dir);
    });
}

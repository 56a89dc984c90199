//! The audit log: every change writes one chained event in its own transaction; tampering
//! through SQL is found by `slipway audit verify`, which names the first bad event.

use crate::db_test;
use crate::support::TestDb;
use app::domain::audit::ChainBreak;
use app::error::AppError;
use app::server::audit::verify;
use app::server::directory;
use app::server::Actor;
use sea_orm::ConnectionTrait;

async fn five_events(db: &TestDb) {
    let actor = Actor::system("test");
    for name in ["alpha", "beta", "gamma", "delta", "epsilon"] {
        directory::create_group(&db.conn, &actor, name, "a group")
            .await
            .unwrap();
    }
}

fn verify_cli(db: &TestDb) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &db.url)
        .env("SLIPWAY_DATA_DIR", &db.dir)
        .env("SLIPWAY_CONFIG", "/nonexistent-is-not-used")
        .env_remove("SLIPWAY_CONFIG")
        .current_dir(&db.dir)
        .output()
        .expect("the slipway binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    )
}

db_test! {
    async fn changes_are_chained_and_verify(db: TestDb) {
        five_events(&db).await;
        assert_eq!(verify(&db.conn).await.unwrap(), Ok(5));
        // The log names what changed as people do: the group's name, not its row id.
        let filter = app::api::audit::AuditFilter { page: 1, ..Default::default() };
        let page = app::server::audit::list(&db.conn, &filter).await.unwrap();
        let names: Vec<(&str, &str)> = page.events.iter().map(|e| (e.entity_type.as_str(), e.entity_name.as_str())).collect();
        assert_eq!(names, vec![("group", "epsilon"), ("group", "delta"), ("group", "gamma"), ("group", "beta"), ("group", "alpha")]);
        // Free text in any case, a date range, and bad dates named all at once.
        let find = |text: &str, from: &str, to: &str| app::api::audit::AuditFilter { text: text.into(), from: from.into(), to: to.into(), page: 1, ..Default::default() };
        let found = app::server::audit::list(&db.conn, &find("EPSIL", "", "")).await.unwrap();
        assert_eq!(found.events.iter().map(|e| e.entity_name.as_str()).collect::<Vec<_>>(), ["epsilon"]);
        let today = chrono::Utc::now().date_naive();
        let (today_text, yesterday) = (today.format("%Y-%m-%d").to_string(), today.pred_opt().unwrap().format("%Y-%m-%d").to_string());
        assert_eq!(app::server::audit::list(&db.conn, &find("", &today_text, &today_text)).await.unwrap().total, 5);
        assert_eq!(app::server::audit::list(&db.conn, &find("", "", &yesterday)).await.unwrap().total, 0);
        assert_eq!(app::server::audit::list(&db.conn, &find("100%_", "", "")).await.unwrap().total, 0, "LIKE's wildcards are taken literally");
        let refused = app::server::audit::list(&db.conn, &find("", "yesterday", "2026-13-01")).await.unwrap_err();
        assert_eq!(refused.problems(), vec![("from", "\"yesterday\" is not a date (YYYY-MM-DD)"), ("to", "\"2026-13-01\" is not a date (YYYY-MM-DD)")]);
        assert_eq!(verify_cli(&db), (0, "The audit log is intact: 5 events verified.".to_string()));
    }
}

db_test! {
    async fn a_changed_event_is_named(db: TestDb) {
        five_events(&db).await;
        db.conn
            .execute_unprepared("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
            .await
            .unwrap();
        assert_eq!(verify(&db.conn).await.unwrap(), Err(ChainBreak::Changed { seq: 3 }));
        assert_eq!(
            verify_cli(&db),
            (1, "The audit log has been tampered with: event #3 was changed after it was written.".to_string())
        );
    }
}

db_test! {
    async fn removed_events_are_named_in_the_middle_and_at_the_end(db: TestDb) {
        five_events(&db).await;
        db.conn.execute_unprepared("DELETE FROM audit_events WHERE seq = 5").await.unwrap();
        assert_eq!(
            verify(&db.conn).await.unwrap(),
            Err(ChainBreak::Removed { after: 4, missing_from: 5 })
        );
        db.conn.execute_unprepared("DELETE FROM audit_events WHERE seq = 2").await.unwrap();
        assert_eq!(
            verify_cli(&db),
            (1, "The audit log has been tampered with: events were removed: #2 is missing after #1.".to_string())
        );
    }
}

db_test! {
    async fn an_inserted_event_is_named(db: TestDb) {
        five_events(&db).await;
        // A forger who renumbers the tail to make room and recomputes the forged row's own hash
        // still cannot make it chain.
        db.conn
            .execute_unprepared("UPDATE audit_events SET seq = seq + 100 WHERE seq >= 3")
            .await
            .unwrap();
        let forged = app::domain::audit::AuditRecord {
            seq: 3,
            occurred_at: "2026-11-23T00:00:00.000000Z".into(),
            actor_id: None,
            actor: "mallory".into(),
            action: "group.create".into(),
            entity_type: "group".into(),
            entity_id: "99".into(),
            before: None,
            after: None,
            prev_hash: "f".repeat(64),
        };
        let hash = forged.compute_hash();
        db.conn
            .execute_unprepared(&format!(
                "INSERT INTO audit_events (seq, occurred_at, actor_id, actor, action, entity_type, entity_id, before, after, prev_hash, hash) \
                 VALUES (3, '{}', NULL, 'mallory', 'group.create', 'group', '99', NULL, NULL, '{}', '{}')",
                forged.occurred_at, forged.prev_hash, hash
            ))
            .await
            .unwrap();
        assert_eq!(verify(&db.conn).await.unwrap(), Err(ChainBreak::Inserted { seq: 3 }));
        assert_eq!(
            verify_cli(&db),
            (1, "The audit log has been tampered with: event #3 was inserted: it does not follow the event before it.".to_string())
        );
    }
}

db_test! {
    async fn a_refused_change_writes_nothing(db: TestDb) {
        five_events(&db).await;
        let actor = Actor::system("test");
        let bad_name = directory::create_group(&db.conn, &actor, "../etc", "").await.unwrap_err();
        assert_eq!(bad_name, AppError::invalid("name", "must start with a lowercase letter"));
        let duplicate = directory::create_group(&db.conn, &actor, "alpha", "").await.unwrap_err();
        assert_eq!(duplicate, AppError::invalid("name", "a group named \"alpha\" already exists"));
        let missing = directory::add_group_member(&db.conn, &actor, "alpha", "nobody").await.unwrap_err();
        assert_eq!(missing, AppError::invalid("user", "no user has the login or email \"nobody\""));
        assert_eq!(verify(&db.conn).await.unwrap(), Ok(5));
    }
}

db_test! {
    async fn concurrent_writers_never_fork_the_chain(db: TestDb) {
        let mut tasks = Vec::new();
        for i in 0..12 {
            let conn = db.conn.clone();
            tasks.push(tokio::spawn(async move {
                directory::create_group(&conn, &Actor::system("test"), &format!("group-{i}"), "").await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(verify(&db.conn).await.unwrap(), Ok(12));
    }
}

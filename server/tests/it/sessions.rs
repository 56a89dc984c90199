//! The database session store: what one replica writes, another reads; expiry is honoured.

use crate::db_test;
use server::session_store::DbSessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;

db_test! {
    async fn sessions_round_trip_and_expire(db: TestDb) {
        let store = DbSessionStore::new(db.conn.clone());
        let mut record = Record {
            id: Id::default(),
            data: [("user_id".to_string(), serde_json::json!(7))].into_iter().collect(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        // A second store over the same database stands in for another replica.
        let other = DbSessionStore::new(db.conn.clone());
        let loaded = other.load(&record.id).await.unwrap().expect("the session is shared");
        assert_eq!(loaded.data, record.data);
        record.data.insert("theme".into(), serde_json::json!("dark"));
        store.save(&record).await.unwrap();
        assert_eq!(other.load(&record.id).await.unwrap().unwrap().data.len(), 2);

        let mut stale = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
        };
        store.create(&mut stale).await.unwrap();
        assert!(store.load(&stale.id).await.unwrap().is_none(), "expired sessions never load");
        assert_eq!(store.delete_expired().await.unwrap(), 1);

        store.delete(&record.id).await.unwrap();
        assert!(other.load(&record.id).await.unwrap().is_none());
    }
}

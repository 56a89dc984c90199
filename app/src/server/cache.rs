//! Per-replica read caches that stay exact across replicas.
//!
//! Every state change appends an audit event in its own transaction (DESIGN.md), and appending
//! bumps the one `audit_head` row. So the head's sequence number is a version of the whole
//! database that every replica can read with one primary-key lookup: an entry computed after
//! reading version V is served only while the head still reads V, and the first write anywhere —
//! on any replica — retires every entry at once. Nothing needs to be told to invalidate, and a
//! write path cannot forget to.
//!
//! The read order is what keeps it exact: read the version first, then compute. A write landing
//! between the two is already in the value but not in its tag, so the entry is retired on the
//! next read; the reverse order could tag stale data with a new version.

use super::entities::audit_head;
use super::request::Caller;
use crate::wire::resources::ResourcePage;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How many entries one map keeps before it drops those of older versions (and, if every entry
/// is current, all of them): a bound on memory, not a tuning knob.
const CAPACITY: usize = 10_000;

/// The database's version: the audit chain's head sequence.
pub async fn version<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let seq: Option<i64> = audit_head::Entity::find_by_id(1)
        .select_only()
        .column(audit_head::Column::LastSeq)
        .into_tuple()
        .one(db)
        .await?;
    seq.ok_or_else(|| DbErr::RecordNotFound("audit_head row 1".into()))
}

/// A map whose entries are tagged with the version they were computed at.
pub struct Versioned<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K: Eq + Hash, V: Clone> Default for Versioned<K, V> {
    fn default() -> Self {
        Versioned {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Versioned<K, V> {
    /// The entry for `key` if it was computed at `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((at, value)) if *at == version => Some(value.clone()),
            _ => None,
        }
    }

    /// Stores `value`, computed after reading `version`.
    pub fn put(&self, key: K, version: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| *at >= version);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (version, value));
    }

    pub fn remove(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The signed-in caller behind a session id, until the session's own expiry.
#[derive(Clone)]
pub struct SessionCaller {
    pub caller: Caller,
    /// Unix seconds, as the sessions table stores it.
    pub expires_at: i64,
}

/// The caches one replica keeps.
#[derive(Default)]
pub struct ReadCache {
    /// Session id → caller: spares the session, user, group and binding reads on every request.
    pub callers: Versioned<String, SessionCaller>,
    /// Page number → the resources list page as every reader sees it.
    pub resource_pages: Versioned<u64, ResourcePage>,
    /// User id → what waits for them ("Needs you"): the shell asks on every page.
    pub needs: Versioned<i64, Vec<crate::wire::needs::Need>>,
    /// Refused unauthenticated requests (webhooks) this minute: only the first of each minute
    /// is written to the audit log; the rest are counted and logged.
    pub refusals: std::sync::Mutex<RefusalWindow>,
}

#[derive(Default)]
pub struct RefusalWindow {
    /// The minute (Unix seconds / 60) counted.
    pub minute: i64,
    pub count: u64,
}

impl ReadCache {
    /// Counts a refusal; true when it is the first of its minute (and so is audited).
    pub fn first_refusal_this_minute(&self, now: i64) -> (bool, u64) {
        let mut window = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        let minute = now.div_euclid(60);
        if window.minute != minute {
            let before = window.count;
            *window = RefusalWindow { minute, count: 1 };
            return (true, before);
        }
        window.count += 1;
        (false, window.count)
    }
}

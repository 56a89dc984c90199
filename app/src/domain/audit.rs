//! The audit trail's hash chain: how one event's hash is computed from its content and the
//! previous hash, and how a stored chain is checked. Storage lives in the server.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first event chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as it is hashed: every field that a reader of the audit log relies on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// RFC 3339 in UTC with microseconds, exactly as stored.
    pub occurred_at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
}

impl AuditRecord {
    /// SHA-256 over a length-prefixed encoding of every field, so no two different records can
    /// encode to the same bytes (no separator ambiguity).
    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut field = |value: Option<&str>| match value {
            None => hasher.update(b"-"),
            Some(text) => {
                hasher.update(b"+");
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
        };
        field(Some(&self.seq.to_string()));
        field(Some(&self.occurred_at));
        field(self.actor_id.map(|id| id.to_string()).as_deref());
        field(Some(&self.actor));
        field(Some(&self.action));
        field(Some(&self.entity_type));
        field(Some(&self.entity_id));
        field(self.before.as_deref());
        field(self.after.as_deref());
        field(Some(&self.prev_hash));
        hex::encode(hasher.finalize())
    }
}

/// A stored event: its content and the hash stored beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub record: AuditRecord,
    pub hash: String,
}

/// The first break found in a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The event's content no longer matches its own hash.
    Changed { seq: i64 },
    /// The event carries a valid hash of its content but does not follow the event before it.
    Inserted { seq: i64 },
    /// Events are missing: `after` is the last intact one (0 when the chain starts wrong).
    Removed { after: i64, missing_from: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Changed { seq } => {
                write!(f, "event #{seq} was changed after it was written")
            }
            ChainBreak::Inserted { seq } => {
                write!(
                    f,
                    "event #{seq} was inserted: it does not follow the event before it"
                )
            }
            ChainBreak::Removed {
                after,
                missing_from,
            } => write!(
                f,
                "events were removed: #{missing_from} is missing after #{after}"
            ),
        }
    }
}

/// The chain's recorded end: the last sequence number and hash written, kept apart from the
/// events so that deleting the newest events is noticed too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub last_seq: i64,
    pub last_hash: String,
}

/// Checks a chain one event at a time, in sequence order, so a long log can be streamed
/// through it page by page.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, event: &StoredEvent) -> Result<(), ChainBreak> {
        let record = &event.record;
        if record.compute_hash() != event.hash {
            return Err(ChainBreak::Changed { seq: record.seq });
        }
        if record.seq > self.expected_seq {
            return Err(ChainBreak::Removed {
                after: self.expected_seq - 1,
                missing_from: self.expected_seq,
            });
        }
        if record.seq < self.expected_seq || record.prev_hash != self.prev_hash {
            return Err(ChainBreak::Inserted { seq: record.seq });
        }
        self.prev_hash = event.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Compares the end of the events with the recorded head; returns how many were checked.
    pub fn finish(self, head: &ChainHead) -> Result<u64, ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if head.last_seq > last_seq {
            return Err(ChainBreak::Removed {
                after: last_seq,
                missing_from: last_seq + 1,
            });
        }
        if head.last_seq < last_seq || head.last_hash != self.prev_hash {
            return Err(ChainBreak::Inserted {
                seq: head.last_seq + 1,
            });
        }
        Ok(last_seq as u64)
    }
}

/// Checks a whole chain held in memory.
pub fn verify_chain(events: &[StoredEvent], head: &ChainHead) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::default();
    for event in events {
        verifier.push(event)?;
    }
    verifier.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(length: i64) -> (Vec<StoredEvent>, ChainHead) {
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut events = Vec::new();
        for seq in 1..=length {
            let record = AuditRecord {
                seq,
                occurred_at: format!("2026-11-23T00:00:0{seq}.000000Z"),
                actor_id: Some(1),
                actor: "ada".into(),
                action: "group.create".into(),
                entity_type: "group".into(),
                entity_id: seq.to_string(),
                before: None,
                after: Some(format!("{{\"name\":\"g{seq}\"}}")),
                prev_hash: prev_hash.clone(),
            };
            let hash = record.compute_hash();
            prev_hash = hash.clone();
            events.push(StoredEvent { record, hash });
        }
        let head = ChainHead {
            last_seq: length,
            last_hash: prev_hash,
        };
        (events, head)
    }

    #[test]
    fn an_intact_chain_verifies_and_counts_its_events() {
        let (events, head) = chain(5);
        assert_eq!(verify_chain(&events, &head), Ok(5));
        assert_eq!(
            verify_chain(
                &[],
                &ChainHead {
                    last_seq: 0,
                    last_hash: GENESIS_HASH.into()
                }
            ),
            Ok(0)
        );
    }

    #[test]
    fn a_changed_field_is_named_by_its_event() {
        let (mut events, head) = chain(5);
        events[2].record.after = Some("{\"name\":\"evil\"}".into());
        assert_eq!(
            verify_chain(&events, &head),
            Err(ChainBreak::Changed { seq: 3 })
        );
    }

    #[test]
    fn a_removed_event_in_the_middle_or_at_the_end_is_found() {
        let (mut events, head) = chain(5);
        events.remove(1);
        assert_eq!(
            verify_chain(&events, &head),
            Err(ChainBreak::Removed {
                after: 1,
                missing_from: 2
            })
        );
        let (mut events, head) = chain(5);
        events.pop();
        assert_eq!(
            verify_chain(&events, &head),
            Err(ChainBreak::Removed {
                after: 4,
                missing_from: 5
            })
        );
    }

    #[test]
    fn an_inserted_event_with_a_self_consistent_hash_is_found() {
        let (mut events, head) = chain(3);
        // Renumber and re-hash an event so its own hash is right but its link is not.
        let mut forged = events[1].record.clone();
        forged.prev_hash = GENESIS_HASH.into();
        let hash = forged.compute_hash();
        events[1] = StoredEvent {
            record: forged,
            hash,
        };
        assert_eq!(
            verify_chain(&events, &head),
            Err(ChainBreak::Inserted { seq: 2 })
        );

        let (mut events, head) = chain(3);
        let mut extra = events[2].record.clone();
        extra.seq = 4;
        extra.prev_hash = events[2].hash.clone();
        let hash = extra.compute_hash();
        events.push(StoredEvent {
            record: extra,
            hash,
        });
        assert_eq!(
            verify_chain(&events, &head),
            Err(ChainBreak::Inserted { seq: 4 })
        );
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let (events, _) = chain(1);
        let mut shifted = events[0].record.clone();
        shifted.actor = "ad".into();
        shifted.action = "agroup.create".into();
        assert_ne!(shifted.compute_hash(), events[0].hash);
    }
}

//! The wire types of audit: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use serde::{Deserialize, Serialize};

pub const AUDIT_PAGE_SIZE: u64 = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Login of the actor, exact.
    #[serde(default)]
    pub actor: String,
    /// `type` or `type:id`, e.g. `group` or `group:3`.
    #[serde(default)]
    pub entity: String,
    /// An action or its prefix, e.g. `group.` or `session.sign_in`.
    #[serde(default)]
    pub action: String,
    /// Events from this day on (`YYYY-MM-DD`, UTC).
    #[serde(default)]
    pub from: String,
    /// Events up to the end of this day (`YYYY-MM-DD`, UTC).
    #[serde(default)]
    pub to: String,
    /// Words found anywhere in the event: actor, action, entity, before or after.
    #[serde(default)]
    pub text: String,
    /// 1-based.
    #[serde(default)]
    pub page: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventRow {
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The entity as people name it (a slug, key, login or name the event recorded); the id
    /// when the event names none.
    pub entity_name: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEventRow>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

//! The wire types of "Needs you": what waits for the signed-in person, and the recent activity
//! on what they own.

use crate::domain::needs::NeedKind;
use serde::{Deserialize, Serialize};

/// One thing that waits for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub kind: NeedKind,
    /// What waits, the same each time it is found (`sign_off:stage:4`): a person is told of
    /// each key once.
    pub key: String,
    /// The groups through which it is the person's (a stage's sign-off groups), if any: a
    /// group's Slack or webhook is told once for all its members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// What it is ("Sign off production of webshop-2026.12-rc.0").
    pub title: String,
    /// Why it is theirs ("You are in security, which must sign off: 0 of 1 approvals").
    pub why: String,
    /// Where to act on it.
    pub href: String,
    /// Since when it waits (as people read it), for the oldest first.
    pub since: String,
}

/// What waits for the person, oldest first, and the topics whose changes may change it (those
/// they may follow: the shell reads the list again when one changes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsView {
    pub items: Vec<Need>,
    pub topics: Vec<String>,
}

/// Recent changes on what the person owns: their resources and the releases they started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub at: String,
    pub actor: String,
    /// The audit action, e.g. `resource.approve`.
    pub action: String,
    /// What it was done to, as people name it.
    pub what: String,
    pub href: String,
}

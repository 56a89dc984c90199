//! The wire types of admin: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub providers: Vec<String>,
    pub groups: Vec<String>,
    pub last_sign_in_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: i64,
    pub login: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub member_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: GroupRow,
    pub members: Vec<UserRef>,
    pub bindings: Vec<BindingRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRow {
    pub id: i64,
    pub subject_kind: String,
    pub subject: String,
    pub role: String,
    pub scope: String,
}

/// A role binding as typed into the admin form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBinding {
    /// `user` or `group`.
    pub subject_kind: String,
    /// A login or email, or a group name.
    pub subject: String,
    pub role: String,
    /// `global`, `entity_type` or `entity`.
    pub scope_kind: String,
    #[serde(default)]
    pub entity_type: String,
    #[serde(default)]
    pub entity_id: String,
}

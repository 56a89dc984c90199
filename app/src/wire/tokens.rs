//! The wire types of tokens: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenRow {
    pub id: i64,
    pub name: String,
    /// The token's first characters, so a person can tell their tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// `read` or `write`.
    pub scope: String,
    pub expires_at: Option<String>,
    /// Past its expiry: it opens nothing.
    pub expired: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub tokens: Vec<AccessTokenRow>,
    /// The local-forge workspaces this person may read: (repository, HTTPS clone URL).
    pub repositories: Vec<(String, String)>,
}

/// A token just created: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub row: AccessTokenRow,
    pub token: String,
}

//! The wire types of session: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use serde::{Deserialize, Serialize};

/// A way to sign in, as the sign-in page offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethod {
    /// `github`, `microsoft` or `oidc`.
    pub id: String,
    pub label: String,
    /// Where the button goes: the server route that starts the flow.
    pub href: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub methods: Vec<SignInMethod>,
    pub demo: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    /// The caller's grants in words, for the user menu and the home page.
    pub grants: Vec<String>,
    pub groups: Vec<String>,
    pub can_admin: bool,
    pub can_audit: bool,
}

impl CurrentUser {
    pub fn initials(&self) -> String {
        let mut letters = self
            .name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>();
        if letters.is_empty() {
            letters = self.login.chars().take(1).collect();
        }
        letters.to_uppercase()
    }
}

/// One of the seeded users the demo sign-in page offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub login: String,
    pub name: String,
    pub groups: Vec<String>,
    pub grants: Vec<String>,
}

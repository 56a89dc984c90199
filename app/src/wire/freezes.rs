//! The wire types of freeze windows: the freezes page, exceptions, and the note a frozen stage,
//! plan or build carries.

use serde::{Deserialize, Serialize};

/// Where a freeze window stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FreezeState {
    /// Holding now.
    Active,
    /// Its current window was lifted early.
    Lifted,
    /// Not holding now; a window is to come.
    Upcoming,
    /// Over: no window is to come.
    Over,
}

impl FreezeState {
    pub fn label(self) -> &'static str {
        match self {
            FreezeState::Active => "Frozen",
            FreezeState::Lifted => "Lifted",
            FreezeState::Upcoming => "Upcoming",
            FreezeState::Over => "Over",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeRow {
    pub name: String,
    pub revision: i32,
    pub reason: String,
    /// "environments production; workspaces prod-infra", or "everything".
    pub scope: String,
    /// How it holds: "At 18:00 on Friday for 62h (Europe/Amsterdam)", "from … until lifted".
    pub schedule: String,
    pub state: FreezeState,
    /// The window holding now (or lifted): since, and until ("until lifted" when it has no end).
    pub since: Option<String>,
    pub until: Option<String>,
    /// The next window, when it is not holding.
    pub next: Option<String>,
    /// Who lifted the current window, when, and why.
    pub lifted: Option<String>,
    pub exception_group: String,
    pub approvals: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionView {
    pub id: i64,
    pub freeze: String,
    /// `stage:<id>`, `plan:<id>` or `build:<id>`.
    pub subject: String,
    /// The subject as people read it, and where it is.
    pub label: String,
    pub href: String,
    pub requested_by: String,
    pub reason: String,
    pub group: String,
    pub approvals: u32,
    pub approved_by: Vec<String>,
    pub granted: bool,
    /// The caller may approve it now (in the group, not the requester, not yet approved).
    pub can_approve: bool,
    pub created_at: String,
}

/// The freezes page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezesView {
    pub freezes: Vec<FreezeRow>,
    pub exceptions: Vec<ExceptionView>,
    /// The caller edits and lifts freezes (platform / SRE), and may press the emergency button.
    pub can_edit: bool,
    /// The environments the release tracks name, for the emergency freeze's scope.
    pub environments: Vec<String>,
}

/// What holds a stage, a plan or a build now: shown where it waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenNote {
    pub freeze: String,
    pub reason: String,
    /// "2026-12-14 07:00 UTC", or none: until lifted.
    pub until: Option<String>,
    /// "Frozen until … because … (FreezeWindow …)".
    pub message: String,
    /// The subject the note is for (`stage:<id>` …), for asking an exception.
    pub subject: String,
    /// The exception asked for it, if any.
    pub exception: Option<ExceptionView>,
}

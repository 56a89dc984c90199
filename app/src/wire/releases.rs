//! The wire types of releases: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::wire::repositories::RevisionRow;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseManifestRow {
    /// Application | ApplicationSet | ReleaseTrack
    pub kind: String,
    pub name: String,
    /// The group that edits it.
    pub owner: String,
    pub revision: i32,
    /// One line: an application's image and team, a set's applications and track, a track's stages.
    pub summary: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseManifestsView {
    pub manifests: Vec<ReleaseManifestRow>,
    /// The text of each ReleaseTrack, to draw its pipeline.
    pub tracks: Vec<(String, String)>,
    /// The caller's groups: a manifest is theirs to edit when its owner is among them.
    pub groups: Vec<String>,
    /// May write releases at all (and administers access: edits whatever the owner).
    pub can_write: bool,
    pub administers: bool,
    /// What each environment runs now, by environment then application.
    pub deployed: Vec<DeployedRow>,
    pub rollbacks: Vec<RollbackView>,
    pub holds: Vec<HoldView>,
    /// The demo (`--demo`) offers "Simulate a build" to those who may change repositories.
    pub can_simulate: bool,
}

/// An application's current deployment in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedRow {
    /// The version a rollback would go back to (filled where the page offers one).
    pub previous: Option<String>,
    pub environment: String,
    pub application: String,
    pub version: String,
    /// `registry/…@sha256:…`, or empty for a build without an image.
    pub image: String,
    pub kind: crate::domain::releases::DeploymentKind,
    pub since: String,
    pub by: String,
    /// The configuration repository's commit.
    pub commit: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseManifestDetail {
    pub row: ReleaseManifestRow,
    pub source: String,
    pub revisions: Vec<RevisionRow>,
    pub can_edit: bool,
    /// An Application's deployments, newest first (empty for the other kinds).
    pub deployments: Vec<DeployedRow>,
    /// A ReleaseTrack has a verification secret (stage verification callbacks are signed with it).
    pub has_verify_secret: bool,
}

/// A release, as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRow {
    pub id: i64,
    pub app_set: String,
    pub bundle: String,
    /// Release or Hotfix.
    pub kind: crate::domain::releases::DeploymentKind,
    pub rc_tag: String,
    pub state: crate::domain::releases::ReleaseState,
    pub starter: String,
    pub production_tag: Option<String>,
    pub created_at: String,
}

/// One stage of a release: where it deploys, who signs it off, its state and the votes cast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    pub id: i64,
    pub position: i32,
    pub environments: Vec<String>,
    pub sign_off: Vec<(String, u32)>,
    pub state: crate::domain::releases::StageState,
    /// The gate in a sentence ("Waiting for security 0/1").
    pub gate: String,
    pub votes: Vec<VoteRow>,
    /// The freeze that holds its deployment now, if one does.
    pub frozen: Option<crate::wire::freezes::FrozenNote>,
    /// "Soak time 24h: opens at …", while the stage before has not run its soak time yet.
    pub soak: Option<String>,
    /// For a stage that asks for verification: waiting for it, or what it said.
    pub verification: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRow {
    pub voter: String,
    pub group: String,
    pub approve: bool,
    pub comment: String,
    pub at: String,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseView {
    pub row: ReleaseRow,
    /// (application, version, image by digest)
    pub items: Vec<(String, String, String)>,
    pub stages: Vec<StageView>,
    /// (when, what) in the order it happened: the start, each vote and withdrawal, the end.
    pub timeline: Vec<(String, String)>,
    /// The caller: their login and groups, to offer the sign-off form where it applies.
    pub me: String,
    pub my_groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleasesView {
    pub releases: Vec<ReleaseRow>,
    /// The application sets a release can be started for.
    pub app_sets: Vec<String>,
    pub can_start: bool,
}

/// A rollback as the releases page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackView {
    pub id: i64,
    pub environment: String,
    pub application: String,
    pub from_version: String,
    pub to_version: String,
    pub requested_by: String,
    pub reason: String,
    /// awaiting_sign_off | approved | deployed | rejected
    pub state: String,
    /// The gate in a sentence, or the state.
    pub gate: String,
    pub sign_off: Vec<(String, u32)>,
    /// "✓ pat (product)" per vote.
    pub votes: Vec<String>,
    /// The freeze whose exception group signs it off, when one held the environment.
    pub freeze: Option<String>,
    /// The viewer's groups among its sign-off, while it awaits their vote.
    pub my_groups: Vec<String>,
    /// The viewer asked for it (may reject, never approve).
    pub asked_it: bool,
    pub commit: Option<String>,
    pub created_at: String,
}

/// A promotion hold in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldView {
    pub id: i64,
    pub environment: String,
    pub application: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: String,
}

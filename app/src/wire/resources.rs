//! The wire types of resources: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use super::sources::{IntegrationChoice, VersionRow};
use crate::domain::resources::{DiffLine, ResourceState, ResourceStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rows per page of the resources list.
pub const PAGE_SIZE: u64 = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceListRow {
    pub slug: String,
    pub name: String,
    pub template_key: String,
    pub template_name: String,
    /// The source code version's ref.
    pub version: String,
    pub state: ResourceState,
    pub status: ResourceStatus,
    pub integrations: Vec<String>,
    pub parents: Vec<String>,
    pub revision: i32,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePage {
    pub rows: Vec<ResourceListRow>,
    pub total: u64,
    /// Zero-based.
    pub page: u64,
    pub per_page: u64,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentRef {
    pub slug: String,
    pub name: String,
    pub template: String,
}

/// One variable as the resource page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableValue {
    pub name: String,
    /// The value as the form shows it (strings bare, the rest JSON); none when the module's
    /// default applies or the variable is sensitive.
    pub value: Option<String>,
    pub sensitive: bool,
    /// A sensitive value is stored (sealed).
    pub sensitive_set: bool,
    /// Taken from a parent's output when planned: `parent.output`.
    #[serde(default)]
    pub bound_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeFile {
    pub name: String,
    pub contents: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub revision: i32,
    pub author: String,
    pub created_at: String,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceDetail {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub template_key: String,
    pub template_name: String,
    pub version: VersionRow,
    pub state: ResourceState,
    pub status: ResourceStatus,
    /// A parent whose output this resource takes applied new outputs: plan it again.
    #[serde(default)]
    pub parent_changed: Option<String>,
    pub parents: Vec<ParentRef>,
    pub children: Vec<ParentRef>,
    pub integrations: Vec<IntegrationChoice>,
    pub variables: Vec<VariableValue>,
    /// The last apply's outputs; a sensitive one's value is never sent.
    pub outputs: Vec<crate::wire::plans::OutputRow>,
    pub revision: i32,
    pub revisions: Vec<RevisionRow>,
    pub files: Vec<CodeFile>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub can_edit: bool,
    pub can_delete: bool,
}

/// What the create / edit form needs: the template, its versions (each with its variables),
/// the resources that may be parents, and the cloud integrations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceForm {
    pub template_key: String,
    pub template_name: String,
    pub versions: Vec<VersionRow>,
    pub parent_candidates: Vec<ParentRef>,
    /// Each candidate parent's outputs, `(parent slug, output name)`: what a variable may be
    /// bound to.
    pub parent_outputs: Vec<(String, String)>,
    /// Whether a parent resource is required (some parent template is concrete).
    pub parent_required: bool,
    pub cloud_integrations: Vec<IntegrationChoice>,
    /// Set when editing.
    pub current: Option<ResourceDetail>,
    /// Concrete templates with at least one version, for the "new resource" picker.
    pub templates: Vec<(String, String)>,
    /// Workspaces the new resource's code may go to: (slug, "org/name on provider").
    pub workspaces: Vec<(String, String)>,
}

/// A resource as typed into its form. `parents` and `integrations` are ticked boxes keyed by
/// slug; `values` are the variables' fields as typed (blank = default; a blank sensitive field
/// on an edit keeps the stored value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceInput {
    pub slug: String,
    pub name: String,
    pub template: String,
    pub version_id: String,
    #[serde(default)]
    pub parents: BTreeMap<String, String>,
    #[serde(default)]
    pub integrations: BTreeMap<String, String>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Variables taken from a parent's output when planned, `variable → "parent.output"`
    /// (blank: typed in `values`).
    #[serde(default)]
    pub bindings: BTreeMap<String, String>,
    /// The workspace the resource's code goes to (its slug); empty for none. Fixed at creation.
    #[serde(default)]
    pub workspace: String,
    /// On an edit, the revision the form was filled from: a save over a newer one is refused.
    #[serde(default, deserialize_with = "revision_or_none")]
    pub base_revision: Option<i32>,
}

/// A form's hidden revision field: empty or absent is none.
fn revision_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => n.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiff {
    pub name: String,
    pub lines: Vec<DiffLine>,
    pub changed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionDiff {
    pub slug: String,
    pub name: String,
    pub from: RevisionRow,
    pub to: RevisionRow,
    pub revisions: Vec<RevisionRow>,
    pub fields: Vec<FieldChange>,
    pub files: Vec<FileDiff>,
}

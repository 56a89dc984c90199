//! The wire types of catalog: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::templates::TreeBox;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub is_abstract: bool,
    /// Parent keys, sorted.
    pub parents: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogView {
    pub templates: Vec<TemplateRow>,
    /// The hierarchy laid out for drawing.
    pub tree: Vec<TreeBox>,
    pub can_create: bool,
}

/// A template as typed into the form. `parents` is a comma-separated list of keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTemplate {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Present (any value) when the form's "abstract" box is ticked.
    #[serde(default)]
    pub is_abstract: Option<String>,
    #[serde(default)]
    pub parents: String,
}

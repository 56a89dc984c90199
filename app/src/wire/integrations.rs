//! The wire types of integrations: what its server functions take and answer,
//! shared by the services that build them and the pages that show them.

use crate::domain::integrations::{Fields, IntegrationKind, Provider};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub kind: IntegrationKind,
    pub provider: Provider,
    /// Plain settings only.
    pub settings: Fields,
    /// Which secret fields hold a value; the values never leave the server.
    pub secrets_set: Vec<String>,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsView {
    pub integrations: Vec<IntegrationRow>,
    pub can_create: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationDetail {
    pub integration: IntegrationRow,
    pub can_edit: bool,
    /// What uses it (source code URLs, resources), which blocks deleting it.
    pub used_by: Vec<String>,
}

/// An integration as typed into its form. Secret fields left blank keep their stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub provider: String,
    #[serde(default)]
    pub settings: Fields,
    #[serde(default)]
    pub secrets: Fields,
}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: String,
    pub kind: crate::domain::integrations::IntegrationKind,
    pub provider: crate::domain::integrations::Provider,
    /// JSON object of the plain settings.
    pub settings: String,
    /// The secret fields as one sealed JSON object.
    pub secrets: Option<String>,
    /// JSON list of the stored secrets' names.
    pub secret_names: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

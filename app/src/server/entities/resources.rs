use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub template_id: i64,
    pub source_code_version_id: i64,
    pub state: crate::domain::resources::ResourceState,
    pub status: crate::domain::resources::ResourceStatus,
    /// JSON object; sensitive values sealed.
    pub variables: String,
    /// Non-sensitive output values (JSON object; sensitive ones masked).
    pub outputs: String,
    /// Sealed `output -json` of the last apply, sensitive values included.
    pub sealed_outputs: Option<String>,
    /// Why the resource should be planned again: a parent it takes an output from changed.
    pub parent_changed: Option<String>,
    pub revision: i32,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

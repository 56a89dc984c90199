use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "executors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: String,
    pub runtime: crate::domain::executors::Runtime,
    /// JSON list of arguments.
    pub arguments: String,
    pub source_code_id: i64,
    pub git_ref: String,
    pub module_path: String,
    pub state: crate::domain::resources::ResourceState,
    pub status: crate::domain::resources::ResourceStatus,
    /// Sealed state file.
    pub tf_state: Option<String>,
    pub outputs: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

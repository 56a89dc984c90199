use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspace_resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: i64,
    pub workspace_id: i64,
    pub folder: String,
    pub folder_slug: String,
    pub status: crate::domain::workspaces::WorkspaceStatus,
    pub status_message: Option<String>,
    pub merged_commit: Option<String>,
    /// The resource revision whose code someone's approval last merged.
    pub merged_revision: Option<i32>,
    pub last_job_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

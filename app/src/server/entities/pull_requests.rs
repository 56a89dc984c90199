use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pull_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub resource_id: Option<i64>,
    pub kind: crate::domain::workspaces::SyncKind,
    pub number: i64,
    pub head_branch: String,
    pub base_branch: String,
    pub title: String,
    pub body: String,
    pub url: String,
    pub state: crate::domain::workspaces::PullState,
    pub head_commit: Option<String>,
    pub merge_commit: Option<String>,
    pub created_by: String,
    /// JSON array: everyone whose sync wrote a commit into it (`None`: only `created_by`).
    pub authors: Option<String>,
    /// The resource revision its head commit renders.
    pub revision: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

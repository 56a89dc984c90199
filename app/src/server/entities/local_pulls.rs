use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_pulls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub repository: String,
    pub number: i64,
    pub head_branch: String,
    pub base_branch: String,
    pub title: String,
    pub body: String,
    pub state: crate::domain::workspaces::PullState,
    pub head_commit: Option<String>,
    pub base_commit: Option<String>,
    pub merge_commit: Option<String>,
    pub author: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub merged_by: Option<String>,
    pub merged_at: Option<DateTimeUtc>,
    pub merge_method: Option<String>,
    pub merge_verdict: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "executor_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub executor_id: i64,
    pub job_id: i64,
    pub action: crate::domain::executors::RunAction,
    pub status: crate::domain::jobs::JobStatus,
    pub exit_code: Option<i32>,
    pub commit: Option<String>,
    pub outputs: String,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

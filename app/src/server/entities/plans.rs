use sea_orm::entity::prelude::*;

/// One plan of a resource: the folder of one commit planned, and (once approved and merged)
/// that saved plan applied.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resource_id: i64,
    pub pull_request_id: Option<i64>,
    /// update: `plan`; delete: `plan -destroy`.
    pub mode: crate::domain::workspaces::SyncKind,
    /// The pull request head the plan was made for (an approval binds to it).
    pub commit: String,
    /// The commit whose folder was run.
    pub code_commit: String,
    pub folder: String,
    pub status: crate::domain::plans::PlanStatus,
    pub job_id: i64,
    pub apply_job_id: Option<i64>,
    pub base_state_version_id: Option<i64>,
    pub summary: Option<String>,
    pub adds: i32,
    pub changes: i32,
    pub destroys: i32,
    pub plan_file: Option<String>,
    pub plan_json: Option<String>,
    pub runtime: crate::domain::executors::Runtime,
    pub runtime_version: Option<String>,
    pub error: Option<String>,
    /// JSON `[ {variable, from, value} ]`: the variables taken from parents' outputs.
    pub inputs: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub requested_by: String,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub applied_at: Option<DateTimeUtc>,
    /// A change, or a drift check (refresh-only; applied, it accepts the drift).
    pub purpose: crate::domain::drift::PlanPurpose,
    /// JSON of `[domain::policies::PolicyResult]`.
    pub policy: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspaces")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub provider: crate::domain::integrations::Provider,
    pub integration_id: i64,
    pub repository: String,
    pub configuration: String,
    pub description: String,
    pub labels: String,
    pub status: crate::domain::workspaces::WorkspaceStatus,
    pub status_message: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Minutes between scheduled drift checks of its resources; 0: none on a schedule.
    pub drift_interval_minutes: i32,
    pub drift_next_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

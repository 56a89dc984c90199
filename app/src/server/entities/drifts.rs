use sea_orm::entity::prelude::*;

/// What a drift check found on a resource, from the first check that saw it until it is
/// resolved.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drifts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resource_id: i64,
    pub workspace_id: i64,
    pub status: crate::domain::drift::DriftStatus,
    pub detected_at: DateTimeUtc,
    /// The newest check that found it.
    pub plan_id: Option<i64>,
    pub last_seen_at: DateTimeUtc,
    /// JSON of `domain::plans::PlanSummary` of that check.
    pub summary: String,
    pub objects: i32,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub reason: Option<String>,
    pub resolution: Option<crate::domain::drift::Resolution>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution_plan_id: Option<i64>,
    pub reconcile_by: Option<String>,
    pub reconcile_at: Option<DateTimeUtc>,
    /// Accepting the world as it is, proposed (someone else approves): by whom, when, and the
    /// check whose refresh-only plan would be applied.
    pub accept_by: Option<String>,
    pub accept_at: Option<DateTimeUtc>,
    pub accept_plan_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

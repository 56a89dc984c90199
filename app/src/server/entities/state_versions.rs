use sea_orm::entity::prelude::*;

/// One version of a resource's state, as the runtime wrote it through the HTTP backend.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "state_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resource_id: i64,
    pub serial: i64,
    pub lineage: String,
    /// Sealed.
    pub state: String,
    pub size: i64,
    pub sha256: String,
    pub plan_id: Option<i64>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

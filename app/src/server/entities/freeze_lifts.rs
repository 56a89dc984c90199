use sea_orm::entity::prelude::*;

/// A freeze window lifted early (the revision lifted: an edit arms it again).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freeze_lifts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub freeze: String,
    pub revision: i32,
    pub window_start: DateTimeUtc,
    /// None: the window lasted until lifted.
    pub window_end: Option<DateTimeUtc>,
    pub lifted_by: String,
    pub reason: String,
    pub lifted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// The lock on a resource's state while a run holds it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "state_locks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: i64,
    pub lock_id: String,
    pub info: String,
    pub holder: String,
    pub locked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

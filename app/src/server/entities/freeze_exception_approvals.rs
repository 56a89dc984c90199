use sea_orm::entity::prelude::*;

/// One member's approval of an exception (once each: a unique index).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freeze_exception_approvals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub exception_id: i64,
    pub approver: String,
    pub comment: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// One person's vote on a rollback (once each: a unique index).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rollback_votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rollback_id: i64,
    pub voter: String,
    pub group_name: String,
    pub approve: bool,
    pub comment: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

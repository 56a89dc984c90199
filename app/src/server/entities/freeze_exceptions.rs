use sea_orm::entity::prelude::*;

/// An exception asked for: one subject (`stage:<id>`, `plan:<id>`, `build:<id>`) may go through
/// one freeze once enough distinct members of its group approve.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freeze_exceptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub freeze: String,
    pub subject: String,
    pub label: String,
    pub requested_by: String,
    pub reason: String,
    pub group_name: String,
    pub approvals: i32,
    pub created_at: DateTimeUtc,
    pub granted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

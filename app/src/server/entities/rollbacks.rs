use sea_orm::entity::prelude::*;

/// A rollback of one application in one environment to the version before.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rollbacks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub environment: String,
    pub application: String,
    pub from_deployment_id: i64,
    pub to_deployment_id: i64,
    pub from_version: String,
    pub to_version: String,
    pub requested_by: String,
    pub reason: String,
    /// JSON `[{group, approvals}]`.
    pub sign_off: String,
    pub freeze: Option<String>,
    /// awaiting_sign_off | approved | deployed | rejected
    pub state: String,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub config_commit: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A hold on automatic pre-release deployments of one application into one environment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promotion_holds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub environment: String,
    pub application: String,
    pub reason: String,
    pub rollback_id: Option<i64>,
    pub set_by: String,
    pub set_at: DateTimeUtc,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

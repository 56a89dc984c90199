use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub environment: String,
    pub application: String,
    pub version: String,
    pub image: String,
    pub kind: crate::domain::releases::DeploymentKind,
    pub build_id: Option<i64>,
    pub release_id: Option<i64>,
    pub config_commit: String,
    pub deployed_by: String,
    pub deployed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub app_set: String,
    pub bundle: String,
    pub kind: crate::domain::releases::DeploymentKind,
    pub rc: i32,
    pub rc_tag: String,
    pub state: crate::domain::releases::ReleaseState,
    pub starter: String,
    pub production_tag: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

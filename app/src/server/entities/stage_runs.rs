use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stage_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub position: i32,
    pub environments: String,
    pub sign_off: String,
    pub state: crate::domain::releases::StageState,
    pub updated_at: DateTimeUtc,
    /// Minutes the stage before must have been deployed before this one's gate opens.
    pub soak_minutes: i32,
    /// After it deploys, the next stage waits for a signed verification callback.
    pub verify: bool,
    /// JSON of the callback received: `{result, details, url, at}`.
    pub verification: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

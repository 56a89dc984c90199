use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_manifests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub owner: String,
    pub source: String,
    pub revision: i32,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
    /// A ReleaseTrack's verification secret, sealed (stage verification callbacks are signed
    /// with it).
    pub verify_secret: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

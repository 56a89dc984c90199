use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_bindings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `user` or `group`.
    pub subject_kind: String,
    pub subject_id: i64,
    pub role: String,
    /// `global`, `entity_type` or `entity`.
    pub scope_kind: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

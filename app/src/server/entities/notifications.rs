use sea_orm::entity::prelude::*;

/// What one person or group was told, once per event key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `user` or `group`.
    pub recipient_kind: String,
    pub recipient: String,
    pub event_key: String,
    pub topic: String,
    pub title: String,
    pub why: String,
    pub href: String,
    /// Whether the in-app list shows it.
    pub shown: bool,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

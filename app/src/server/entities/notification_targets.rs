use sea_orm::entity::prelude::*;

/// A person's or a group's Slack or webhook URL (sealed), and the webhook's signing secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `user` or `group`.
    pub owner_kind: String,
    pub owner: String,
    pub channel: String,
    pub url_sealed: String,
    pub secret_sealed: Option<String>,
    pub host: String,
    pub set_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

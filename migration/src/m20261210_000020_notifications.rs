//! Notifications: what each person or group was told (once per thing that waits, or per
//! outcome), on which channels it went out and how each delivery ended; the channels people
//! turned off; the Slack and webhook URLs of people and groups (sealed); and how far the
//! notifier has read the audit log for outcomes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationOptOuts {
    Table,
    Id,
    UserId,
    Topic,
    Channel,
}

#[derive(DeriveIden)]
enum NotificationTargets {
    Table,
    Id,
    /// `user` or `group`.
    OwnerKind,
    /// The user's login or the group's name.
    Owner,
    /// `slack` or `webhook`.
    Channel,
    /// The URL, sealed (a Slack webhook URL is a credential).
    UrlSealed,
    /// The webhook's signing secret, sealed (Slack: none).
    SecretSealed,
    /// The URL's host, to show without the secret parts.
    Host,
    SetBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    RecipientKind,
    Recipient,
    /// What it is about, the same each time it is found (`sign_off:stage:4`, `outcome:812`).
    EventKey,
    Topic,
    Title,
    Why,
    Href,
    /// Whether the person's in-app list shows it (their choice at the time).
    Shown,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum NotificationDeliveries {
    Table,
    Id,
    NotificationId,
    Channel,
    /// Where it goes, as an admin may read it (an address, or a URL's host).
    Target,
    JobId,
    Attempts,
    LastError,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotifierCursor {
    Table,
    Id,
    AuditSeq,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationOptOuts::Table)
                    .col(big_pk_auto(NotificationOptOuts::Id))
                    .col(big_integer(NotificationOptOuts::UserId))
                    .col(string_len(NotificationOptOuts::Topic, 32))
                    .col(string_len(NotificationOptOuts::Channel, 16))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NotificationOptOuts::Table, NotificationOptOuts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_opt_outs_once")
                    .table(NotificationOptOuts::Table)
                    .col(NotificationOptOuts::UserId)
                    .col(NotificationOptOuts::Topic)
                    .col(NotificationOptOuts::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationTargets::Table)
                    .col(big_pk_auto(NotificationTargets::Id))
                    .col(string_len(NotificationTargets::OwnerKind, 8))
                    .col(string_len(NotificationTargets::Owner, 200))
                    .col(string_len(NotificationTargets::Channel, 16))
                    .col(text(NotificationTargets::UrlSealed))
                    .col(text_null(NotificationTargets::SecretSealed))
                    .col(string_len(NotificationTargets::Host, 255))
                    .col(string_len(NotificationTargets::SetBy, 200))
                    .col(timestamp_with_time_zone(NotificationTargets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_targets_once")
                    .table(NotificationTargets::Table)
                    .col(NotificationTargets::OwnerKind)
                    .col(NotificationTargets::Owner)
                    .col(NotificationTargets::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(string_len(Notifications::RecipientKind, 8))
                    .col(string_len(Notifications::Recipient, 200))
                    .col(string_len(Notifications::EventKey, 300))
                    .col(string_len(Notifications::Topic, 32))
                    .col(text(Notifications::Title))
                    .col(text(Notifications::Why))
                    .col(text(Notifications::Href))
                    .col(boolean(Notifications::Shown))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .to_owned(),
            )
            .await?;
        // Told once: a second sweep (another replica, or after a restart) finds it there.
        manager
            .create_index(
                Index::create()
                    .name("notifications_once")
                    .table(Notifications::Table)
                    .col(Notifications::RecipientKind)
                    .col(Notifications::Recipient)
                    .col(Notifications::EventKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationDeliveries::Table)
                    .col(big_pk_auto(NotificationDeliveries::Id))
                    .col(big_integer(NotificationDeliveries::NotificationId))
                    .col(string_len(NotificationDeliveries::Channel, 16))
                    .col(text(NotificationDeliveries::Target))
                    .col(big_integer_null(NotificationDeliveries::JobId))
                    .col(integer(NotificationDeliveries::Attempts).default(0))
                    .col(text_null(NotificationDeliveries::LastError))
                    .col(timestamp_with_time_zone_null(
                        NotificationDeliveries::SentAt,
                    ))
                    .col(timestamp_with_time_zone(NotificationDeliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                NotificationDeliveries::Table,
                                NotificationDeliveries::NotificationId,
                            )
                            .to(Notifications::Table, Notifications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_deliveries_once")
                    .table(NotificationDeliveries::Table)
                    .col(NotificationDeliveries::NotificationId)
                    .col(NotificationDeliveries::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotifierCursor::Table)
                    .col(integer(NotifierCursor::Id).primary_key())
                    .col(big_integer(NotifierCursor::AuditSeq))
                    .col(timestamp_with_time_zone(NotifierCursor::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Outcomes start from now: what was decided before notifications existed is not sent.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO notifier_cursor (id, audit_seq, updated_at) \
                 SELECT 1, COALESCE(MAX(seq), 0), CURRENT_TIMESTAMP FROM audit_events",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotifierCursor::Table.into_iden(),
            NotificationDeliveries::Table.into_iden(),
            Notifications::Table.into_iden(),
            NotificationTargets::Table.into_iden(),
            NotificationOptOuts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

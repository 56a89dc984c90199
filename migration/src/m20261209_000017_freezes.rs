//! Freeze windows (the windows themselves are `FreezeWindow` manifests, kept with the release
//! manifests): a window lifted early, exceptions to a freeze with the distinct members who
//! approved each, and a job's note that it waits for a freeze (so lifting one wakes it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    /// `freeze` while a job waits for a freeze to end (it is queued again then).
    WaitingOn,
}

#[derive(DeriveIden)]
enum FreezeLifts {
    Table,
    Id,
    /// The FreezeWindow's name, and the revision lifted (an edit arms it again).
    Freeze,
    Revision,
    /// The window lifted: its start, and its end (none: it lasted until lifted).
    WindowStart,
    WindowEnd,
    LiftedBy,
    Reason,
    LiftedAt,
}

#[derive(DeriveIden)]
enum FreezeExceptions {
    Table,
    Id,
    Freeze,
    /// What may go through: `stage:<id>`, `plan:<id>` or `build:<id>`.
    Subject,
    /// The subject as people read it (a release's stage, a resource's plan, a build).
    Label,
    RequestedBy,
    Reason,
    /// The group whose distinct members approve it, and how many must.
    GroupName,
    Approvals,
    CreatedAt,
    GrantedAt,
}

#[derive(DeriveIden)]
enum FreezeExceptionApprovals {
    Table,
    Id,
    ExceptionId,
    Approver,
    Comment,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(string_len_null(Jobs::WaitingOn, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FreezeLifts::Table)
                    .col(big_pk_auto(FreezeLifts::Id))
                    .col(string_len(FreezeLifts::Freeze, 100))
                    .col(integer(FreezeLifts::Revision))
                    .col(timestamp_with_time_zone(FreezeLifts::WindowStart))
                    .col(timestamp_with_time_zone_null(FreezeLifts::WindowEnd))
                    .col(string_len(FreezeLifts::LiftedBy, 200))
                    .col(text(FreezeLifts::Reason))
                    .col(timestamp_with_time_zone(FreezeLifts::LiftedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("freeze_lifts_by_freeze")
                    .table(FreezeLifts::Table)
                    .col(FreezeLifts::Freeze)
                    .col(FreezeLifts::Revision)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FreezeExceptions::Table)
                    .col(big_pk_auto(FreezeExceptions::Id))
                    .col(string_len(FreezeExceptions::Freeze, 100))
                    .col(string_len(FreezeExceptions::Subject, 64))
                    .col(string_len(FreezeExceptions::Label, 300))
                    .col(string_len(FreezeExceptions::RequestedBy, 200))
                    .col(text(FreezeExceptions::Reason))
                    .col(string_len(FreezeExceptions::GroupName, 100))
                    .col(integer(FreezeExceptions::Approvals))
                    .col(timestamp_with_time_zone(FreezeExceptions::CreatedAt))
                    .col(timestamp_with_time_zone_null(FreezeExceptions::GrantedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("freeze_exceptions_one_per_subject")
                    .table(FreezeExceptions::Table)
                    .col(FreezeExceptions::Freeze)
                    .col(FreezeExceptions::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FreezeExceptionApprovals::Table)
                    .col(big_pk_auto(FreezeExceptionApprovals::Id))
                    .col(big_integer(FreezeExceptionApprovals::ExceptionId))
                    .col(string_len(FreezeExceptionApprovals::Approver, 200))
                    .col(text(FreezeExceptionApprovals::Comment))
                    .col(timestamp_with_time_zone(
                        FreezeExceptionApprovals::CreatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                FreezeExceptionApprovals::Table,
                                FreezeExceptionApprovals::ExceptionId,
                            )
                            .to(FreezeExceptions::Table, FreezeExceptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("freeze_exception_approvals_once_each")
                    .table(FreezeExceptionApprovals::Table)
                    .col(FreezeExceptionApprovals::ExceptionId)
                    .col(FreezeExceptionApprovals::Approver)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FreezeExceptionApprovals::Table.into_iden(),
            FreezeExceptions::Table.into_iden(),
            FreezeLifts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::WaitingOn)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

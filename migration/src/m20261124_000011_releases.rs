//! Releases of an application set's bundle: the items (each application's version and image
//! digest, tagged with the release candidate tag before anything is deployed), the stage runs in
//! the track's order, and the votes cast at each. Tags the embedded registry records.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
    AppSet,
    Bundle,
    /// release | hotfix
    Kind,
    Rc,
    RcTag,
    /// running | rejected | completed
    State,
    Starter,
    ProductionTag,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum ReleaseItems {
    Table,
    Id,
    ReleaseId,
    Application,
    Version,
    Image,
}

#[derive(DeriveIden)]
enum StageRuns {
    Table,
    Id,
    ReleaseId,
    Position,
    /// JSON list of environments.
    Environments,
    /// JSON list of {group, approvals}.
    SignOff,
    State,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Votes {
    Table,
    Id,
    StageRunId,
    Voter,
    GroupName,
    Approve,
    Comment,
    CreatedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum RegistryTags {
    Table,
    Id,
    Image,
    Tag,
    Digest,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Long: the tables and indexes of this migration, one statement each; a released migration is never edited
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Releases::Table)
                    .col(big_pk_auto(Releases::Id))
                    .col(string_len(Releases::AppSet, 100))
                    .col(string_len(Releases::Bundle, 32))
                    .col(string_len(Releases::Kind, 16))
                    .col(integer(Releases::Rc))
                    .col(string_len_uniq(Releases::RcTag, 200))
                    .col(string_len(Releases::State, 16))
                    .col(string_len(Releases::Starter, 200))
                    .col(string_len_null(Releases::ProductionTag, 200))
                    .col(timestamp_with_time_zone(Releases::CreatedAt))
                    .col(timestamp_with_time_zone_null(Releases::CompletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseItems::Table)
                    .col(big_pk_auto(ReleaseItems::Id))
                    .col(big_integer(ReleaseItems::ReleaseId))
                    .col(string_len(ReleaseItems::Application, 100))
                    .col(string_len(ReleaseItems::Version, 100))
                    .col(string_len(ReleaseItems::Image, 400))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseItems::Table, ReleaseItems::ReleaseId)
                            .to(Releases::Table, Releases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StageRuns::Table)
                    .col(big_pk_auto(StageRuns::Id))
                    .col(big_integer(StageRuns::ReleaseId))
                    .col(integer(StageRuns::Position))
                    .col(text(StageRuns::Environments))
                    .col(text(StageRuns::SignOff))
                    .col(string_len(StageRuns::State, 24))
                    .col(timestamp_with_time_zone(StageRuns::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StageRuns::Table, StageRuns::ReleaseId)
                            .to(Releases::Table, Releases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("stage_runs_position")
                            .unique()
                            .col(StageRuns::ReleaseId)
                            .col(StageRuns::Position),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Votes::Table)
                    .col(big_pk_auto(Votes::Id))
                    .col(big_integer(Votes::StageRunId))
                    .col(string_len(Votes::Voter, 200))
                    .col(string_len(Votes::GroupName, 100))
                    .col(boolean(Votes::Approve))
                    .col(text(Votes::Comment))
                    .col(timestamp_with_time_zone(Votes::CreatedAt))
                    .col(timestamp_with_time_zone_null(Votes::WithdrawnAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Votes::Table, Votes::StageRunId)
                            .to(StageRuns::Table, StageRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RegistryTags::Table)
                    .col(big_pk_auto(RegistryTags::Id))
                    .col(string_len(RegistryTags::Image, 300))
                    .col(string_len(RegistryTags::Tag, 200))
                    .col(string_len(RegistryTags::Digest, 80))
                    .col(timestamp_with_time_zone(RegistryTags::CreatedAt))
                    .index(
                        Index::create()
                            .name("registry_tags_once")
                            .unique()
                            .col(RegistryTags::Image)
                            .col(RegistryTags::Tag),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RegistryTags::Table.into_iden(),
            Votes::Table.into_iden(),
            StageRuns::Table.into_iden(),
            ReleaseItems::Table.into_iden(),
            Releases::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

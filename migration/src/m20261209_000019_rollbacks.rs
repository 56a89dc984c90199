//! Rollbacks: going back to an environment's previous version of an application, signed off as
//! the stage that deployed the current one was (or by the freeze's exception group while a
//! freeze holds the environment), written as a revert commit on the environment configuration
//! repository; and the promotion hold that keeps automatic pre-release deployments from undoing
//! it until someone lifts it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rollbacks {
    Table,
    Id,
    Environment,
    Application,
    /// The deployment rolled back, and the one whose version it goes back to.
    FromDeploymentId,
    ToDeploymentId,
    FromVersion,
    ToVersion,
    RequestedBy,
    Reason,
    /// JSON `[{group, approvals}]`: who must sign it off.
    SignOff,
    /// The freeze that held the environment when it was asked for (its group signs it off).
    Freeze,
    /// awaiting_sign_off | approved | deployed | rejected
    State,
    CreatedAt,
    DecidedAt,
    /// The revert commit on the environment configuration repository.
    ConfigCommit,
}

#[derive(DeriveIden)]
enum RollbackVotes {
    Table,
    Id,
    RollbackId,
    Voter,
    GroupName,
    Approve,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PromotionHolds {
    Table,
    Id,
    Environment,
    Application,
    Reason,
    RollbackId,
    SetBy,
    SetAt,
    LiftedBy,
    LiftedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rollbacks::Table)
                    .col(big_pk_auto(Rollbacks::Id))
                    .col(string_len(Rollbacks::Environment, 100))
                    .col(string_len(Rollbacks::Application, 100))
                    .col(big_integer(Rollbacks::FromDeploymentId))
                    .col(big_integer(Rollbacks::ToDeploymentId))
                    .col(string_len(Rollbacks::FromVersion, 100))
                    .col(string_len(Rollbacks::ToVersion, 100))
                    .col(string_len(Rollbacks::RequestedBy, 200))
                    .col(text(Rollbacks::Reason))
                    .col(text(Rollbacks::SignOff))
                    .col(string_len_null(Rollbacks::Freeze, 100))
                    .col(string_len(Rollbacks::State, 32))
                    .col(timestamp_with_time_zone(Rollbacks::CreatedAt))
                    .col(timestamp_with_time_zone_null(Rollbacks::DecidedAt))
                    .col(string_len_null(Rollbacks::ConfigCommit, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rollbacks_by_target")
                    .table(Rollbacks::Table)
                    .col(Rollbacks::Environment)
                    .col(Rollbacks::Application)
                    .col(Rollbacks::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RollbackVotes::Table)
                    .col(big_pk_auto(RollbackVotes::Id))
                    .col(big_integer(RollbackVotes::RollbackId))
                    .col(string_len(RollbackVotes::Voter, 200))
                    .col(string_len(RollbackVotes::GroupName, 100))
                    .col(boolean(RollbackVotes::Approve))
                    .col(text(RollbackVotes::Comment))
                    .col(timestamp_with_time_zone(RollbackVotes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RollbackVotes::Table, RollbackVotes::RollbackId)
                            .to(Rollbacks::Table, Rollbacks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rollback_votes_once_each")
                    .table(RollbackVotes::Table)
                    .col(RollbackVotes::RollbackId)
                    .col(RollbackVotes::Voter)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PromotionHolds::Table)
                    .col(big_pk_auto(PromotionHolds::Id))
                    .col(string_len(PromotionHolds::Environment, 100))
                    .col(string_len(PromotionHolds::Application, 100))
                    .col(text(PromotionHolds::Reason))
                    .col(big_integer_null(PromotionHolds::RollbackId))
                    .col(string_len(PromotionHolds::SetBy, 200))
                    .col(timestamp_with_time_zone(PromotionHolds::SetAt))
                    .col(string_len_null(PromotionHolds::LiftedBy, 200))
                    .col(timestamp_with_time_zone_null(PromotionHolds::LiftedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("promotion_holds_by_target")
                    .table(PromotionHolds::Table)
                    .col(PromotionHolds::Environment)
                    .col(PromotionHolds::Application)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PromotionHolds::Table.into_iden(),
            RollbackVotes::Table.into_iden(),
            Rollbacks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

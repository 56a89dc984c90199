//! Resources for real: every resource pull request is planned, the saved plan is what an
//! approval covers and what is applied after the merge; Slipway keeps each resource's state
//! (every version, sealed) as a Terraform/OpenTofu HTTP state backend, with a lock per resource
//! held in the database; outputs are recorded after an apply, sensitive ones
//! sealed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    /// Sealed `output -json` of the last apply (sensitive values included); `outputs` keeps
    /// the values anyone may read, sensitive ones masked.
    SealedOutputs,
    /// Set when a parent whose output this resource takes applied new outputs: why it should
    /// be planned again (cleared by its next apply).
    ParentChanged,
}

#[derive(DeriveIden)]
enum PullRequests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    ResourceId,
    PullRequestId,
    /// apply | destroy
    Mode,
    /// The pull request's head commit the plan was made for: an approval binds to it.
    Commit,
    /// The commit whose folder was run: the head for a change, the folder as last merged for
    /// a destroy (the delete branch has no folder left).
    CodeCommit,
    /// The resource's folder in that commit.
    Folder,
    /// queued | planning | ready | failed | superseded | applying | applied | apply_failed | stale
    Status,
    JobId,
    ApplyJobId,
    /// The state version the plan was made against (null: no state yet).
    BaseStateVersionId,
    /// JSON of `domain::plans::PlanSummary` (no sensitive value in it).
    Summary,
    Adds,
    Changes,
    Destroys,
    /// The saved plan file, base64, sealed.
    PlanFile,
    /// `show -json` of the plan, sealed (it holds sensitive values).
    PlanJson,
    /// opentofu | terraform: a saved plan applies only with the program that made it.
    Runtime,
    RuntimeVersion,
    /// The error lines of a failed plan or apply.
    Error,
    /// JSON: the variables taken from parents' outputs, as resolved for this plan (a sensitive
    /// output's value left out).
    Inputs,
    ApprovedBy,
    ApprovedAt,
    RequestedBy,
    CreatedAt,
    FinishedAt,
    AppliedAt,
}

#[derive(DeriveIden)]
enum StateVersions {
    Table,
    Id,
    ResourceId,
    Serial,
    Lineage,
    /// The state file, sealed.
    State,
    Size,
    Sha256,
    /// The plan whose apply wrote it (null: written outside an apply Slipway ran).
    PlanId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StateLocks {
    Table,
    ResourceId,
    LockId,
    /// The lock's info as Terraform sent it (JSON: ID, Operation, Who, Version, Created).
    Info,
    Holder,
    LockedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Long: three tables and their keys, one statement each
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [
            text_null(Resources::SealedOutputs),
            text_null(Resources::ParentChanged),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Resources::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(big_pk_auto(Plans::Id))
                    .col(big_integer(Plans::ResourceId))
                    .col(big_integer_null(Plans::PullRequestId))
                    .col(string_len(Plans::Mode, 16))
                    .col(string_len(Plans::Commit, 64))
                    .col(string_len(Plans::CodeCommit, 64))
                    .col(string_len(Plans::Folder, 300))
                    .col(string_len(Plans::Status, 16))
                    .col(big_integer(Plans::JobId))
                    .col(big_integer_null(Plans::ApplyJobId))
                    .col(big_integer_null(Plans::BaseStateVersionId))
                    .col(text_null(Plans::Summary))
                    .col(integer(Plans::Adds).default(0))
                    .col(integer(Plans::Changes).default(0))
                    .col(integer(Plans::Destroys).default(0))
                    .col(text_null(Plans::PlanFile))
                    .col(text_null(Plans::PlanJson))
                    .col(string_len(Plans::Runtime, 16))
                    .col(string_len_null(Plans::RuntimeVersion, 40))
                    .col(text_null(Plans::Error))
                    .col(text_null(Plans::Inputs))
                    .col(string_len_null(Plans::ApprovedBy, 200))
                    .col(timestamp_with_time_zone_null(Plans::ApprovedAt))
                    .col(string_len(Plans::RequestedBy, 200))
                    .col(timestamp_with_time_zone(Plans::CreatedAt))
                    .col(timestamp_with_time_zone_null(Plans::FinishedAt))
                    .col(timestamp_with_time_zone_null(Plans::AppliedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::PullRequestId)
                            .to(PullRequests::Table, PullRequests::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plans_by_resource")
                    .table(Plans::Table)
                    .col(Plans::ResourceId)
                    .col(Plans::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plans_by_job")
                    .table(Plans::Table)
                    .col(Plans::JobId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StateVersions::Table)
                    .col(big_pk_auto(StateVersions::Id))
                    .col(big_integer(StateVersions::ResourceId))
                    .col(big_integer(StateVersions::Serial))
                    .col(string_len(StateVersions::Lineage, 64))
                    .col(text(StateVersions::State))
                    .col(big_integer(StateVersions::Size))
                    .col(string_len(StateVersions::Sha256, 64))
                    .col(big_integer_null(StateVersions::PlanId))
                    .col(string_len(StateVersions::CreatedBy, 200))
                    .col(timestamp_with_time_zone(StateVersions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StateVersions::Table, StateVersions::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StateVersions::Table, StateVersions::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("state_versions_by_resource")
                    .table(StateVersions::Table)
                    .col(StateVersions::ResourceId)
                    .col(StateVersions::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StateLocks::Table)
                    .col(big_integer(StateLocks::ResourceId).primary_key())
                    .col(string_len(StateLocks::LockId, 100))
                    .col(text(StateLocks::Info))
                    .col(string_len(StateLocks::Holder, 200))
                    .col(timestamp_with_time_zone(StateLocks::LockedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StateLocks::Table, StateLocks::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StateLocks::Table.into_iden(),
            StateVersions::Table.into_iden(),
            Plans::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [Resources::ParentChanged, Resources::SealedOutputs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Resources::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! Durable jobs (claimed with a lease; retried with backoff; their output kept line by line),
//! and executors: OpenTofu/Terraform modules run on demand, each run a job.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    /// queued | running | succeeded | failed
    Status,
    Attempts,
    MaxAttempts,
    RunAt,
    LockedBy,
    LockedUntil,
    LastError,
    /// Enqueuing the same key twice gives the same job.
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum JobLogs {
    Table,
    Id,
    JobId,
    Seq,
    Attempt,
    Stream,
    Line,
    At,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SourceCodes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Executors {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Runtime,
    /// JSON list of arguments, passed as argv (never through a shell).
    Arguments,
    SourceCodeId,
    GitRef,
    ModulePath,
    State,
    Status,
    /// The module's state file after the last apply, sealed (it holds secrets).
    TfState,
    Outputs,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ExecutorIntegrations {
    Table,
    ExecutorId,
    IntegrationId,
}

#[derive(DeriveIden)]
enum ExecutorRuns {
    Table,
    Id,
    ExecutorId,
    JobId,
    /// plan | apply
    Action,
    /// queued | running | succeeded | failed
    Status,
    ExitCode,
    Commit,
    Outputs,
    Error,
    RequestedBy,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Long: the tables and indexes of this migration, one statement each; a released migration is never edited
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(big_pk_auto(Jobs::Id))
                    .col(string_len(Jobs::Kind, 64))
                    .col(text(Jobs::Payload))
                    .col(string_len(Jobs::Status, 16))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(string_len_null(Jobs::LockedBy, 100))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(text_null(Jobs::LastError))
                    .col(string_len_null(Jobs::IdempotencyKey, 200).unique_key())
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_claim")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobLogs::Table)
                    .col(big_pk_auto(JobLogs::Id))
                    .col(big_integer(JobLogs::JobId))
                    .col(integer(JobLogs::Seq))
                    .col(integer(JobLogs::Attempt))
                    .col(string_len(JobLogs::Stream, 8))
                    .col(text(JobLogs::Line))
                    .col(timestamp_with_time_zone(JobLogs::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobLogs::Table, JobLogs::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("job_logs_seq")
                            .unique()
                            .col(JobLogs::JobId)
                            .col(JobLogs::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Executors::Table)
                    .col(big_pk_auto(Executors::Id))
                    .col(string_len_uniq(Executors::Slug, 63))
                    .col(string_len(Executors::Name, 200))
                    .col(string_len(Executors::Description, 2000))
                    .col(string_len(Executors::Runtime, 16))
                    .col(text(Executors::Arguments))
                    .col(big_integer(Executors::SourceCodeId))
                    .col(string_len(Executors::GitRef, 255))
                    .col(string_len(Executors::ModulePath, 500))
                    .col(string_len(Executors::State, 16))
                    .col(string_len(Executors::Status, 16))
                    .col(text_null(Executors::TfState))
                    .col(text(Executors::Outputs))
                    .col(string_len(Executors::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Executors::CreatedAt))
                    .col(timestamp_with_time_zone(Executors::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Executors::Table, Executors::SourceCodeId)
                            .to(SourceCodes::Table, SourceCodes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExecutorIntegrations::Table)
                    .col(big_integer(ExecutorIntegrations::ExecutorId))
                    .col(big_integer(ExecutorIntegrations::IntegrationId))
                    .primary_key(
                        Index::create()
                            .col(ExecutorIntegrations::ExecutorId)
                            .col(ExecutorIntegrations::IntegrationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ExecutorIntegrations::Table,
                                ExecutorIntegrations::ExecutorId,
                            )
                            .to(Executors::Table, Executors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ExecutorIntegrations::Table,
                                ExecutorIntegrations::IntegrationId,
                            )
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExecutorRuns::Table)
                    .col(big_pk_auto(ExecutorRuns::Id))
                    .col(big_integer(ExecutorRuns::ExecutorId))
                    .col(big_integer(ExecutorRuns::JobId))
                    .col(string_len(ExecutorRuns::Action, 16))
                    .col(string_len(ExecutorRuns::Status, 16))
                    .col(integer_null(ExecutorRuns::ExitCode))
                    .col(string_len_null(ExecutorRuns::Commit, 64))
                    .col(text(ExecutorRuns::Outputs))
                    .col(text_null(ExecutorRuns::Error))
                    .col(string_len(ExecutorRuns::RequestedBy, 200))
                    .col(timestamp_with_time_zone(ExecutorRuns::CreatedAt))
                    .col(timestamp_with_time_zone_null(ExecutorRuns::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ExecutorRuns::Table, ExecutorRuns::ExecutorId)
                            .to(Executors::Table, Executors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ExecutorRuns::Table, ExecutorRuns::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ExecutorRuns::Table.into_iden(),
            ExecutorIntegrations::Table.into_iden(),
            Executors::Table.into_iden(),
            JobLogs::Table.into_iden(),
            Jobs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

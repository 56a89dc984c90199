//! Workspaces (Git repositories holding resources' generated code), the pull requests Slipway
//! opens in them, which resource lives in which workspace folder, personal access tokens for the
//! local forge's Git endpoint, and a serial key on jobs (one job per workspace at a time).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    Slug,
    Name,
    /// local_git | github | bitbucket | azure_devops
    Provider,
    IntegrationId,
    /// What the user named: `org/name` (local, GitHub, Bitbucket) or `org/project/name` (Azure).
    Repository,
    /// JSON `RepoConfig`, from the forge at registration; immutable.
    Configuration,
    Description,
    /// JSON list of strings.
    Labels,
    /// in_progress | done | error
    Status,
    StatusMessage,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WorkspaceResources {
    Table,
    ResourceId,
    WorkspaceId,
    /// `<template_key>/<folder slug>`, fixed when the resource joins the workspace.
    Folder,
    /// The folder slug alone (branch suffix).
    FolderSlug,
    /// in_progress | done | error: the resource's workspace work.
    Status,
    StatusMessage,
    /// The commit on the default branch that last carried this resource's code.
    MergedCommit,
    /// The last job queued for it (its log is shown on the resource page).
    LastJobId,
}

#[derive(DeriveIden)]
enum PullRequests {
    Table,
    Id,
    WorkspaceId,
    ResourceId,
    /// update | delete
    Kind,
    /// The forge's number (the local forge numbers per workspace).
    Number,
    HeadBranch,
    BaseBranch,
    Title,
    Body,
    Url,
    /// open | merged | closed
    State,
    HeadCommit,
    MergeCommit,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

/// The local forge's own pull requests (what GitHub or Azure DevOps keep for theirs).
#[derive(DeriveIden)]
enum LocalPulls {
    Table,
    Id,
    /// `org/name` under the data dir's `git` folder.
    Repository,
    Number,
    HeadBranch,
    BaseBranch,
    Title,
    Body,
    /// open | merged | closed
    State,
    /// The head and base commits when it was merged or closed (the diff stays viewable).
    HeadCommit,
    BaseCommit,
    MergeCommit,
    Author,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Id,
    UserId,
    Name,
    /// The first characters, shown so a user can tell tokens apart.
    Prefix,
    /// SHA-256 of the token, hex; the token itself is shown once and never stored.
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    /// Jobs sharing a key run one at a time, in order (`workspace:<id>`).
    SerialKey,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Long: the tables and indexes of this migration, one statement each; a released migration is never edited
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workspaces::Table)
                    .col(big_pk_auto(Workspaces::Id))
                    .col(string_len_uniq(Workspaces::Slug, 100))
                    .col(string_len(Workspaces::Name, 200))
                    .col(string_len(Workspaces::Provider, 32))
                    .col(big_integer(Workspaces::IntegrationId))
                    .col(string_len(Workspaces::Repository, 300))
                    .col(text(Workspaces::Configuration))
                    .col(string_len(Workspaces::Description, 2000))
                    .col(text(Workspaces::Labels))
                    .col(string_len(Workspaces::Status, 16))
                    .col(text_null(Workspaces::StatusMessage))
                    .col(string_len(Workspaces::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Workspaces::CreatedAt))
                    .col(timestamp_with_time_zone(Workspaces::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Workspaces::Table, Workspaces::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkspaceResources::Table)
                    .col(big_integer(WorkspaceResources::ResourceId).primary_key())
                    .col(big_integer(WorkspaceResources::WorkspaceId))
                    .col(string_len(WorkspaceResources::Folder, 210))
                    .col(string_len(WorkspaceResources::FolderSlug, 100))
                    .col(string_len(WorkspaceResources::Status, 16))
                    .col(text_null(WorkspaceResources::StatusMessage))
                    .col(string_len_null(WorkspaceResources::MergedCommit, 64))
                    .col(big_integer_null(WorkspaceResources::LastJobId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkspaceResources::Table, WorkspaceResources::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkspaceResources::Table, WorkspaceResources::WorkspaceId)
                            .to(Workspaces::Table, Workspaces::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .index(
                        Index::create()
                            .name("workspace_resources_folder")
                            .unique()
                            .col(WorkspaceResources::WorkspaceId)
                            .col(WorkspaceResources::Folder),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PullRequests::Table)
                    .col(big_pk_auto(PullRequests::Id))
                    .col(big_integer(PullRequests::WorkspaceId))
                    .col(big_integer_null(PullRequests::ResourceId))
                    .col(string_len(PullRequests::Kind, 16))
                    .col(big_integer(PullRequests::Number))
                    .col(string_len(PullRequests::HeadBranch, 255))
                    .col(string_len(PullRequests::BaseBranch, 255))
                    .col(string_len(PullRequests::Title, 300))
                    .col(text(PullRequests::Body))
                    .col(string_len(PullRequests::Url, 1000))
                    .col(string_len(PullRequests::State, 16))
                    .col(string_len_null(PullRequests::HeadCommit, 64))
                    .col(string_len_null(PullRequests::MergeCommit, 64))
                    .col(string_len(PullRequests::CreatedBy, 200))
                    .col(timestamp_with_time_zone(PullRequests::CreatedAt))
                    .col(timestamp_with_time_zone(PullRequests::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PullRequests::Table, PullRequests::WorkspaceId)
                            .to(Workspaces::Table, Workspaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PullRequests::Table, PullRequests::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .index(
                        Index::create()
                            .name("pull_requests_number")
                            .unique()
                            .col(PullRequests::WorkspaceId)
                            .col(PullRequests::Number),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pull_requests_head")
                    .table(PullRequests::Table)
                    .col(PullRequests::WorkspaceId)
                    .col(PullRequests::HeadBranch)
                    .col(PullRequests::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LocalPulls::Table)
                    .col(big_pk_auto(LocalPulls::Id))
                    .col(string_len(LocalPulls::Repository, 300))
                    .col(big_integer(LocalPulls::Number))
                    .col(string_len(LocalPulls::HeadBranch, 255))
                    .col(string_len(LocalPulls::BaseBranch, 255))
                    .col(string_len(LocalPulls::Title, 300))
                    .col(text(LocalPulls::Body))
                    .col(string_len(LocalPulls::State, 16))
                    .col(string_len_null(LocalPulls::HeadCommit, 64))
                    .col(string_len_null(LocalPulls::BaseCommit, 64))
                    .col(string_len_null(LocalPulls::MergeCommit, 64))
                    .col(string_len(LocalPulls::Author, 200))
                    .col(timestamp_with_time_zone(LocalPulls::CreatedAt))
                    .col(timestamp_with_time_zone(LocalPulls::UpdatedAt))
                    .index(
                        Index::create()
                            .name("local_pulls_number")
                            .unique()
                            .col(LocalPulls::Repository)
                            .col(LocalPulls::Number),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessTokens::Table)
                    .col(big_pk_auto(AccessTokens::Id))
                    .col(big_integer(AccessTokens::UserId))
                    .col(string_len(AccessTokens::Name, 100))
                    .col(string_len(AccessTokens::Prefix, 16))
                    .col(string_len_uniq(AccessTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(AccessTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(AccessTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AccessTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccessTokens::Table, AccessTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(string_len_null(Jobs::SerialKey, 100))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::SerialKey)
                    .to_owned(),
            )
            .await?;
        for table in [
            AccessTokens::Table.into_iden(),
            LocalPulls::Table.into_iden(),
            PullRequests::Table.into_iden(),
            WorkspaceResources::Table.into_iden(),
            Workspaces::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Reviews bind to the commit reviewed: a workspace pull request keeps everyone who wrote a
//! commit into it (none of them may approve it), and an approval of a governed repository's pull
//! request records the head it approved (a later commit leaves it behind). Personal access
//! tokens get a scope (read or write; the tokens made before could write) and an expiry.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PullRequests {
    Table,
    /// JSON array of the labels of everyone whose sync wrote a commit into the pull request.
    Authors,
    /// The resource revision its head commit renders.
    Revision,
}

#[derive(DeriveIden)]
enum WorkspaceResources {
    Table,
    /// The resource revision whose code was last merged by someone's approval.
    MergedRevision,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Scope,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LocalPullReviews {
    Table,
    /// The head commit the reviewer approved.
    Commit,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(AccessTokens::Table)
                    .add_column(
                        ColumnDef::new(AccessTokens::Scope)
                            .string()
                            .not_null()
                            .default("write"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AccessTokens::Table)
                    .add_column(
                        ColumnDef::new(AccessTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PullRequests::Table)
                    .add_column(ColumnDef::new(PullRequests::Authors).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PullRequests::Table)
                    .add_column(ColumnDef::new(PullRequests::Revision).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspaceResources::Table)
                    .add_column(
                        ColumnDef::new(WorkspaceResources::MergedRevision)
                            .integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LocalPullReviews::Table)
                    .add_column(ColumnDef::new(LocalPullReviews::Commit).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [AccessTokens::ExpiresAt, AccessTokens::Scope] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AccessTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspaceResources::Table)
                    .drop_column(WorkspaceResources::MergedRevision)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PullRequests::Table)
                    .drop_column(PullRequests::Revision)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LocalPullReviews::Table)
                    .drop_column(LocalPullReviews::Commit)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PullRequests::Table)
                    .drop_column(PullRequests::Authors)
                    .to_owned(),
            )
            .await
    }
}

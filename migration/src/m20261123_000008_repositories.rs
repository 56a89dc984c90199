//! Governed repositories: each holds its manifests (one GithubRepository and the
//! BuildDefinitions under it, as one multi-document YAML text in the reference format) and every
//! earlier text as a numbered revision.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Id,
    /// The GithubRepository's `metadata.name`; fixed once created.
    Name,
    /// GITHUB_FLOW | GIT_FLOW | TRUNK_BASED (from the current manifests, for lists).
    Strategy,
    /// The manifests' current text.
    Source,
    Revision,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RepositoryRevisions {
    Table,
    Id,
    RepositoryId,
    Revision,
    Source,
    Author,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Repositories::Table)
                    .col(big_pk_auto(Repositories::Id))
                    .col(string_len_uniq(Repositories::Name, 100))
                    .col(string_len(Repositories::Strategy, 16))
                    .col(text(Repositories::Source))
                    .col(integer(Repositories::Revision))
                    .col(string_len(Repositories::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Repositories::CreatedAt))
                    .col(string_len(Repositories::UpdatedBy, 200))
                    .col(timestamp_with_time_zone(Repositories::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RepositoryRevisions::Table)
                    .col(big_pk_auto(RepositoryRevisions::Id))
                    .col(big_integer(RepositoryRevisions::RepositoryId))
                    .col(integer(RepositoryRevisions::Revision))
                    .col(text(RepositoryRevisions::Source))
                    .col(string_len(RepositoryRevisions::Author, 200))
                    .col(timestamp_with_time_zone(RepositoryRevisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                RepositoryRevisions::Table,
                                RepositoryRevisions::RepositoryId,
                            )
                            .to(Repositories::Table, Repositories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("repository_revisions_number")
                            .unique()
                            .col(RepositoryRevisions::RepositoryId)
                            .col(RepositoryRevisions::Revision),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RepositoryRevisions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Repositories::Table).to_owned())
            .await
    }
}

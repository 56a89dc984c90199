//! Governed repositories: each holds its manifests (one GithubRepository and the
//! BuildDefinitions under it, as one multi-document YAML text in the reference format), every
//! earlier text as a numbered revision, and what was last applied (the revision and its rulesets,
//! which Slipway enforces itself on the local forge); and approvals of local-forge pull requests.

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
    /// The revision last provisioned (its rulesets are the ones in force).
    AppliedRevision,
    /// JSON list of the rulesets applied (name, role, request body).
    AppliedRulesets,
}

#[derive(DeriveIden)]
enum LocalPullReviews {
    Table,
    Id,
    Repository,
    Number,
    Reviewer,
    CreatedAt,
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
                    .col(integer_null(Repositories::AppliedRevision))
                    .col(text_null(Repositories::AppliedRulesets))
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
        manager
            .create_table(
                Table::create()
                    .table(LocalPullReviews::Table)
                    .col(big_pk_auto(LocalPullReviews::Id))
                    .col(string_len(LocalPullReviews::Repository, 300))
                    .col(big_integer(LocalPullReviews::Number))
                    .col(string_len(LocalPullReviews::Reviewer, 200))
                    .col(timestamp_with_time_zone(LocalPullReviews::CreatedAt))
                    .index(
                        Index::create()
                            .name("local_pull_reviews_once")
                            .unique()
                            .col(LocalPullReviews::Repository)
                            .col(LocalPullReviews::Number)
                            .col(LocalPullReviews::Reviewer),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LocalPullReviews::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RepositoryRevisions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Repositories::Table).to_owned())
            .await
    }
}

//! Builds and deployments. A governed repository gets a sealed secret that signs its CI's
//! build-completed notifications; each notification accepted is a build (once per repository,
//! application and version: a redelivery is the same build), and each DeploymentConfig Slipway
//! commits to the environment configuration repository is a deployment.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repositories {
    Table,
    /// Sealed (`repository:<id>:build_secret`); None until one is made.
    BuildSecret,
}

#[derive(DeriveIden)]
enum Builds {
    Table,
    Id,
    Repository,
    Application,
    Version,
    Commit,
    Branch,
    RunUrl,
    /// `registry/path/name@sha256:…`, or empty for a build without an image.
    Image,
    /// The signature of the notification first accepted (a replay of it is refused).
    Signature,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Id,
    Environment,
    Application,
    Version,
    Image,
    /// prerelease | release | hotfix
    Kind,
    BuildId,
    /// The release it is a stage of (release and hotfix deployments).
    ReleaseId,
    /// The configuration repository's commit that made it.
    ConfigCommit,
    DeployedBy,
    DeployedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Repositories::Table)
                    .add_column(text_null(Repositories::BuildSecret))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Builds::Table)
                    .col(big_pk_auto(Builds::Id))
                    .col(string_len(Builds::Repository, 200))
                    .col(string_len(Builds::Application, 100))
                    .col(string_len(Builds::Version, 100))
                    .col(string_len(Builds::Commit, 64))
                    .col(string_len(Builds::Branch, 255))
                    .col(string_len(Builds::RunUrl, 500))
                    .col(string_len(Builds::Image, 400))
                    .col(string_len_uniq(Builds::Signature, 80))
                    .col(timestamp_with_time_zone(Builds::ReceivedAt))
                    .index(
                        Index::create()
                            .name("builds_once")
                            .unique()
                            .col(Builds::Repository)
                            .col(Builds::Application)
                            .col(Builds::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deployments::Table)
                    .col(big_pk_auto(Deployments::Id))
                    .col(string_len(Deployments::Environment, 100))
                    .col(string_len(Deployments::Application, 100))
                    .col(string_len(Deployments::Version, 100))
                    .col(string_len(Deployments::Image, 400))
                    .col(string_len(Deployments::Kind, 16))
                    .col(big_integer_null(Deployments::BuildId))
                    .col(big_integer_null(Deployments::ReleaseId))
                    .col(string_len(Deployments::ConfigCommit, 64))
                    .col(string_len(Deployments::DeployedBy, 200))
                    .col(timestamp_with_time_zone(Deployments::DeployedAt))
                    .index(
                        Index::create()
                            .name("deployments_of_build_once")
                            .unique()
                            .col(Deployments::BuildId)
                            .col(Deployments::Environment),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deployments_of_release_once")
                    .table(Deployments::Table)
                    .unique()
                    .col(Deployments::ReleaseId)
                    .col(Deployments::Environment)
                    .col(Deployments::Application)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Deployments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Builds::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Repositories::Table)
                    .drop_column(Repositories::BuildSecret)
                    .to_owned(),
            )
            .await
    }
}

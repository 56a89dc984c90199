//! Indexes for the release pages' reads as the deployment history grows: the DORA window
//! (production environments since a moment), what each environment runs now (the latest row per
//! environment and application), an application's history, and the build of a deployed version.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Environment,
    Application,
    DeployedAt,
}

#[derive(DeriveIden)]
enum Builds {
    Table,
    Application,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("deployments_by_environment_time")
                    .table(Deployments::Table)
                    .col(Deployments::Environment)
                    .col(Deployments::DeployedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deployments_by_application")
                    .table(Deployments::Table)
                    .col(Deployments::Application)
                    .col(Deployments::Environment)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("builds_by_version")
                    .table(Builds::Table)
                    .col(Builds::Version)
                    .col(Builds::Application)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("builds_by_version", Builds::Table.into_iden()),
            ("deployments_by_application", Deployments::Table.into_iden()),
            (
                "deployments_by_environment_time",
                Deployments::Table.into_iden(),
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

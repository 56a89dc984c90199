//! Soak time: a release stage keeps its track stage's `soakTime` (minutes), so its gate opens
//! only once the stage before it has been deployed that long — as the track said when the
//! release started, whatever the track says later.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StageRuns {
    Table,
    SoakMinutes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StageRuns::Table)
                    .add_column(integer(StageRuns::SoakMinutes).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StageRuns::Table)
                    .drop_column(StageRuns::SoakMinutes)
                    .to_owned(),
            )
            .await
    }
}

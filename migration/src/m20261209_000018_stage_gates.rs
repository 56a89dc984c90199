//! Stage gates beyond sign-off. Soak time: a release stage keeps its track stage's `soakTime`
//! (minutes), so its gate opens only once the stage before it has been deployed that long.
//! Verification: a stage that says `verify: true` waits, once deployed, for a signed callback
//! from the environment's tests or monitoring (kept on the stage) before the next one opens; the
//! callback is signed with the track's verification secret (sealed, like build secrets). Both
//! as the track said when the release started, whatever it says later.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StageRuns {
    Table,
    SoakMinutes,
    Verify,
    /// JSON `{result, details, url, at}` of the callback received.
    Verification,
}

#[derive(DeriveIden)]
enum ReleaseManifests {
    Table,
    VerifySecret,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [
            integer(StageRuns::SoakMinutes).default(0).to_owned(),
            boolean(StageRuns::Verify).default(false).to_owned(),
            text_null(StageRuns::Verification),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(StageRuns::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ReleaseManifests::Table)
                    .add_column(text_null(ReleaseManifests::VerifySecret))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReleaseManifests::Table)
                    .drop_column(ReleaseManifests::VerifySecret)
                    .to_owned(),
            )
            .await?;
        for column in [
            StageRuns::Verification,
            StageRuns::Verify,
            StageRuns::SoakMinutes,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(StageRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

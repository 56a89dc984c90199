//! A governed pull request keeps the record of its merge: who merged it, when, and the Merge
//! Authorized verdict as it stood at that moment (the rules can change later; the record must
//! not).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LocalPulls {
    Table,
    MergedBy,
    MergedAt,
    /// The merge method used (merge, squash).
    MergeMethod,
    /// JSON of the verdict the merge passed (null: the repository had no strategy).
    MergeVerdict,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            ColumnDef::new(LocalPulls::MergedBy)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(LocalPulls::MergedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(LocalPulls::MergeMethod)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(LocalPulls::MergeVerdict)
                .text()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(LocalPulls::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            LocalPulls::MergeVerdict,
            LocalPulls::MergeMethod,
            LocalPulls::MergedAt,
            LocalPulls::MergedBy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LocalPulls::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

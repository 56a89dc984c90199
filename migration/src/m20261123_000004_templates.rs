//! Catalog templates and their parent links (a directed acyclic graph; cycles are refused by
//! the service before anything is written).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    Key,
    Name,
    Description,
    IsAbstract,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TemplateParents {
    Table,
    TemplateId,
    ParentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .col(big_pk_auto(Templates::Id))
                    .col(string_len_uniq(Templates::Key, 63))
                    .col(string_len(Templates::Name, 200))
                    .col(string_len(Templates::Description, 2000))
                    .col(boolean(Templates::IsAbstract))
                    .col(timestamp_with_time_zone(Templates::CreatedAt))
                    .col(timestamp_with_time_zone(Templates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TemplateParents::Table)
                    .col(big_integer(TemplateParents::TemplateId))
                    .col(big_integer(TemplateParents::ParentId))
                    .primary_key(
                        Index::create()
                            .col(TemplateParents::TemplateId)
                            .col(TemplateParents::ParentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TemplateParents::Table, TemplateParents::TemplateId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TemplateParents::Table, TemplateParents::ParentId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TemplateParents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Templates::Table).to_owned())
            .await
    }
}

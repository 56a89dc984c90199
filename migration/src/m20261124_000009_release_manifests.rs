//! Release manifests (Application, ApplicationSet, ReleaseTrack), one document each, with every
//! earlier text as a numbered revision. `owner` is the group that may edit it: an Application's
//! team, the release managers for ApplicationSets, platform / SRE for ReleaseTracks.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReleaseManifests {
    Table,
    Id,
    Kind,
    Name,
    Owner,
    Source,
    Revision,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReleaseManifestRevisions {
    Table,
    Id,
    ManifestId,
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
                    .table(ReleaseManifests::Table)
                    .col(big_pk_auto(ReleaseManifests::Id))
                    .col(string_len(ReleaseManifests::Kind, 32))
                    .col(string_len(ReleaseManifests::Name, 100))
                    .col(string_len(ReleaseManifests::Owner, 100))
                    .col(text(ReleaseManifests::Source))
                    .col(integer(ReleaseManifests::Revision))
                    .col(string_len(ReleaseManifests::CreatedBy, 200))
                    .col(timestamp_with_time_zone(ReleaseManifests::CreatedAt))
                    .col(string_len(ReleaseManifests::UpdatedBy, 200))
                    .col(timestamp_with_time_zone(ReleaseManifests::UpdatedAt))
                    .index(
                        Index::create()
                            .name("release_manifests_kind_name")
                            .unique()
                            .col(ReleaseManifests::Kind)
                            .col(ReleaseManifests::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseManifestRevisions::Table)
                    .col(big_pk_auto(ReleaseManifestRevisions::Id))
                    .col(big_integer(ReleaseManifestRevisions::ManifestId))
                    .col(integer(ReleaseManifestRevisions::Revision))
                    .col(text(ReleaseManifestRevisions::Source))
                    .col(string_len(ReleaseManifestRevisions::Author, 200))
                    .col(timestamp_with_time_zone(
                        ReleaseManifestRevisions::CreatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ReleaseManifestRevisions::Table,
                                ReleaseManifestRevisions::ManifestId,
                            )
                            .to(ReleaseManifests::Table, ReleaseManifests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("release_manifest_revisions_number")
                            .unique()
                            .col(ReleaseManifestRevisions::ManifestId)
                            .col(ReleaseManifestRevisions::Revision),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ReleaseManifestRevisions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ReleaseManifests::Table).to_owned())
            .await
    }
}

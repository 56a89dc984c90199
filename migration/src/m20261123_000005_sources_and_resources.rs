//! Integrations (credentials sealed at rest), source code repositories and the versions of
//! them templates use, and resources with their parents, integrations and revisions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Kind,
    Provider,
    Settings,
    /// One sealed JSON object of the secret fields.
    Secrets,
    /// The names of the stored secrets (JSON list), so the form can say which are set.
    SecretNames,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SourceCodes {
    Table,
    Id,
    Url,
    IntegrationId,
    Description,
    /// JSON: default branch, tags, branches and module folders found by the last refresh.
    Listing,
    RefreshedAt,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SourceCodeVersions {
    Table,
    Id,
    TemplateId,
    SourceCodeId,
    GitRef,
    Commit,
    ModulePath,
    /// JSON: the variables and outputs discovered at the commit.
    Interface,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    Slug,
    Name,
    TemplateId,
    SourceCodeVersionId,
    State,
    Status,
    /// JSON object; sensitive values are sealed.
    Variables,
    Outputs,
    Revision,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResourceParents {
    Table,
    ResourceId,
    ParentId,
}

#[derive(DeriveIden)]
enum ResourceIntegrations {
    Table,
    ResourceId,
    IntegrationId,
}

#[derive(DeriveIden)]
enum ResourceRevisions {
    Table,
    Id,
    ResourceId,
    Revision,
    /// JSON: what the revision page shows and diffs (sensitive values only as fingerprints).
    Snapshot,
    Author,
    CreatedAt,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Long: the tables and indexes of this migration, one statement each; a released migration is never edited
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        manager
            .create_table(
                Table::create()
                    .table(Integrations::Table)
                    .col(big_pk_auto(Integrations::Id))
                    .col(string_len_uniq(Integrations::Slug, 63))
                    .col(string_len(Integrations::Name, 200))
                    .col(string_len(Integrations::Description, 2000))
                    .col(string_len(Integrations::Kind, 16))
                    .col(string_len(Integrations::Provider, 32))
                    .col(text(Integrations::Settings))
                    .col(text_null(Integrations::Secrets))
                    .col(text(Integrations::SecretNames))
                    .col(timestamp_with_time_zone(Integrations::CreatedAt))
                    .col(timestamp_with_time_zone(Integrations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SourceCodes::Table)
                    .col(big_pk_auto(SourceCodes::Id))
                    .col(string_len_uniq(SourceCodes::Url, 2000))
                    .col(big_integer(SourceCodes::IntegrationId))
                    .col(string_len(SourceCodes::Description, 2000))
                    .col(text(SourceCodes::Listing))
                    .col(timestamp_with_time_zone_null(SourceCodes::RefreshedAt))
                    .col(text_null(SourceCodes::LastError))
                    .col(timestamp_with_time_zone(SourceCodes::CreatedAt))
                    .foreign_key(&mut fk(
                        (SourceCodes::Table, SourceCodes::IntegrationId),
                        (Integrations::Table, Integrations::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SourceCodeVersions::Table)
                    .col(big_pk_auto(SourceCodeVersions::Id))
                    .col(big_integer(SourceCodeVersions::TemplateId))
                    .col(big_integer(SourceCodeVersions::SourceCodeId))
                    .col(string_len(SourceCodeVersions::GitRef, 255))
                    .col(string_len(SourceCodeVersions::Commit, 64))
                    .col(string_len(SourceCodeVersions::ModulePath, 500))
                    .col(text(SourceCodeVersions::Interface))
                    .col(timestamp_with_time_zone(SourceCodeVersions::CreatedAt))
                    .foreign_key(&mut fk(
                        (SourceCodeVersions::Table, SourceCodeVersions::TemplateId),
                        (Templates::Table, Templates::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (SourceCodeVersions::Table, SourceCodeVersions::SourceCodeId),
                        (SourceCodes::Table, SourceCodes::Id),
                        Restrict,
                    ))
                    .index(
                        Index::create()
                            .name("source_code_versions_unique")
                            .unique()
                            .col(SourceCodeVersions::TemplateId)
                            .col(SourceCodeVersions::SourceCodeId)
                            .col(SourceCodeVersions::GitRef)
                            .col(SourceCodeVersions::ModulePath),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Resources::Table)
                    .col(big_pk_auto(Resources::Id))
                    .col(string_len_uniq(Resources::Slug, 63))
                    .col(string_len(Resources::Name, 200))
                    .col(big_integer(Resources::TemplateId))
                    .col(big_integer(Resources::SourceCodeVersionId))
                    .col(string_len(Resources::State, 16))
                    .col(string_len(Resources::Status, 16))
                    .col(text(Resources::Variables))
                    .col(text(Resources::Outputs))
                    .col(integer(Resources::Revision))
                    .col(string_len(Resources::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Resources::CreatedAt))
                    .col(timestamp_with_time_zone(Resources::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Resources::Table, Resources::TemplateId),
                        (Templates::Table, Templates::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (Resources::Table, Resources::SourceCodeVersionId),
                        (SourceCodeVersions::Table, SourceCodeVersions::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("resources_template")
                    .table(Resources::Table)
                    .col(Resources::TemplateId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceParents::Table)
                    .col(big_integer(ResourceParents::ResourceId))
                    .col(big_integer(ResourceParents::ParentId))
                    .primary_key(
                        Index::create()
                            .col(ResourceParents::ResourceId)
                            .col(ResourceParents::ParentId),
                    )
                    .foreign_key(&mut fk(
                        (ResourceParents::Table, ResourceParents::ResourceId),
                        (Resources::Table, Resources::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (ResourceParents::Table, ResourceParents::ParentId),
                        (Resources::Table, Resources::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceIntegrations::Table)
                    .col(big_integer(ResourceIntegrations::ResourceId))
                    .col(big_integer(ResourceIntegrations::IntegrationId))
                    .primary_key(
                        Index::create()
                            .col(ResourceIntegrations::ResourceId)
                            .col(ResourceIntegrations::IntegrationId),
                    )
                    .foreign_key(&mut fk(
                        (
                            ResourceIntegrations::Table,
                            ResourceIntegrations::ResourceId,
                        ),
                        (Resources::Table, Resources::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (
                            ResourceIntegrations::Table,
                            ResourceIntegrations::IntegrationId,
                        ),
                        (Integrations::Table, Integrations::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceRevisions::Table)
                    .col(big_pk_auto(ResourceRevisions::Id))
                    .col(big_integer(ResourceRevisions::ResourceId))
                    .col(integer(ResourceRevisions::Revision))
                    .col(text(ResourceRevisions::Snapshot))
                    .col(string_len(ResourceRevisions::Author, 200))
                    .col(timestamp_with_time_zone(ResourceRevisions::CreatedAt))
                    .foreign_key(&mut fk(
                        (ResourceRevisions::Table, ResourceRevisions::ResourceId),
                        (Resources::Table, Resources::Id),
                        Cascade,
                    ))
                    .index(
                        Index::create()
                            .name("resource_revisions_unique")
                            .unique()
                            .col(ResourceRevisions::ResourceId)
                            .col(ResourceRevisions::Revision),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ResourceRevisions::Table.into_iden(),
            ResourceIntegrations::Table.into_iden(),
            ResourceParents::Table.into_iden(),
            Resources::Table.into_iden(),
            SourceCodeVersions::Table.into_iden(),
            SourceCodes::Table.into_iden(),
            Integrations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

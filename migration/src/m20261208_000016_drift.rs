//! Drift: each workspace checks its provisioned resources on a schedule (a refresh-only plan of
//! the code as merged); what a check finds is a drift record with a life (open, acknowledged,
//! resolved by a reconcile or by accepting the real world). A plan now says what it is for: a
//! change (`change`) or a drift check (`drift`, refresh-only; applied, it accepts the drift),
//! and keeps what the policies said of it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    /// Minutes between drift checks of the workspace's resources; 0: never on a schedule.
    DriftIntervalMinutes,
    /// When the next scheduled check is due (null: one interval after the first look).
    DriftNextAt,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    /// change | drift
    Purpose,
    /// JSON of `[domain::policies::PolicyResult]`: what each policy said of the plan, and who
    /// overrode a denial.
    Policy,
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Drifts {
    Table,
    Id,
    ResourceId,
    WorkspaceId,
    /// open | acknowledged | resolved
    Status,
    /// When a check first found it.
    DetectedAt,
    /// The newest check that found it (its summary is this drift's), and when it ran.
    PlanId,
    LastSeenAt,
    /// JSON of `domain::plans::PlanSummary`: what changed outside the code (no sensitive value).
    Summary,
    /// How many objects drifted (changed or gone).
    Objects,
    AcknowledgedBy,
    AcknowledgedAt,
    /// Why it is known and left for now.
    Reason,
    /// reconciled | accepted | cleared
    Resolution,
    ResolvedBy,
    ResolvedAt,
    /// The plan that resolved it: a reconcile's apply, or the accepted check's.
    ResolutionPlanId,
    /// A reconcile asked for: by whom (its pull request is the resource's open one).
    ReconcileBy,
    ReconcileAt,
    /// Accepting the world as it is, proposed: by whom, when, and the check whose plan would
    /// be applied (someone else approves it).
    AcceptBy,
    AcceptAt,
    AcceptPlanId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut interval = integer(Workspaces::DriftIntervalMinutes);
        interval.default(1440);
        for mut column in [
            interval,
            timestamp_with_time_zone_null(Workspaces::DriftNextAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Workspaces::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(string_len(Plans::Purpose, 16).default("change"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(text_null(Plans::Policy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Drifts::Table)
                    .col(big_pk_auto(Drifts::Id))
                    .col(big_integer(Drifts::ResourceId))
                    .col(big_integer(Drifts::WorkspaceId))
                    .col(string_len(Drifts::Status, 16))
                    .col(timestamp_with_time_zone(Drifts::DetectedAt))
                    .col(big_integer_null(Drifts::PlanId))
                    .col(timestamp_with_time_zone(Drifts::LastSeenAt))
                    .col(text(Drifts::Summary))
                    .col(integer(Drifts::Objects).default(0))
                    .col(string_len_null(Drifts::AcknowledgedBy, 200))
                    .col(timestamp_with_time_zone_null(Drifts::AcknowledgedAt))
                    .col(text_null(Drifts::Reason))
                    .col(string_len_null(Drifts::Resolution, 16))
                    .col(string_len_null(Drifts::ResolvedBy, 200))
                    .col(timestamp_with_time_zone_null(Drifts::ResolvedAt))
                    .col(big_integer_null(Drifts::ResolutionPlanId))
                    .col(string_len_null(Drifts::ReconcileBy, 200))
                    .col(timestamp_with_time_zone_null(Drifts::ReconcileAt))
                    .col(string_len_null(Drifts::AcceptBy, 200))
                    .col(timestamp_with_time_zone_null(Drifts::AcceptAt))
                    .col(big_integer_null(Drifts::AcceptPlanId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Drifts::Table, Drifts::ResourceId)
                            .to(Resources::Table, Resources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Drifts::Table, Drifts::WorkspaceId)
                            .to(Workspaces::Table, Workspaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Drifts::Table, Drifts::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("drifts_by_resource", [Drifts::ResourceId, Drifts::Status]),
            ("drifts_by_status", [Drifts::Status, Drifts::DetectedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Drifts::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Drifts::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .drop_column(Plans::Purpose)
                    .drop_column(Plans::Policy)
                    .to_owned(),
            )
            .await?;
        for column in [Workspaces::DriftNextAt, Workspaces::DriftIntervalMinutes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Workspaces::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! SeaORM entities: one file a table, used directly by the services.

pub mod access_tokens;
pub mod audit_events;
pub mod audit_head;
pub mod builds;
pub mod deployments;
pub mod drifts;
pub mod executor_integrations;
pub mod executor_runs;
pub mod executors;
pub mod freeze_exception_approvals;
pub mod freeze_exceptions;
pub mod freeze_lifts;
pub mod group_members;
pub mod groups;
pub mod identities;
pub mod integrations;
pub mod job_logs;
pub mod jobs;
pub mod local_pull_reviews;
pub mod local_pulls;
pub mod notification_deliveries;
pub mod notification_opt_outs;
pub mod notification_targets;
pub mod notifications;
pub mod notifier_cursor;
pub mod plans;
pub mod promotion_holds;
pub mod pull_requests;
pub mod registry_tags;
pub mod release_items;
pub mod release_manifest_revisions;
pub mod release_manifests;
pub mod releases;
pub mod repositories;
pub mod repository_revisions;
pub mod resource_integrations;
pub mod resource_parents;
pub mod resource_revisions;
pub mod resources;
pub mod role_bindings;
pub mod rollback_votes;
pub mod rollbacks;
pub mod sessions;
pub mod source_code_versions;
pub mod source_codes;
pub mod stage_runs;
pub mod state_locks;
pub mod state_versions;
pub mod template_parents;
pub mod templates;
pub mod users;
pub mod votes;
pub mod workspace_resources;
pub mod workspaces;

/// Stores a domain state (an enum with `as_str` and `parse`) in a text column: a row loads as a
/// state the domain knows, or fails to load naming the text, instead of a string compared as a
/// literal and parsed back with a silent default. The traits are the ones SeaORM's
/// `DeriveValueType` writes for string enums; a derive would put `cfg` and SeaORM into the pure
/// domain, so they are written here once for every state.
macro_rules! text_state {
    ($($state:ty),* $(,)?) => {$(
        impl From<$state> for sea_orm::Value {
            fn from(state: $state) -> Self {
                state.as_str().into()
            }
        }

        impl sea_orm::TryGetable for $state {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let text = String::try_get_by(res, idx)?;
                <$state>::parse(&text).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                        "{text:?} is not a {}",
                        stringify!($state)
                    )))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $state {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let text = <String as sea_orm::sea_query::ValueType>::try_from(value)?;
                <$state>::parse(&text).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($state).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        impl sea_orm::sea_query::Nullable for $state {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$state> for $state {
            fn into_active_value(self) -> sea_orm::ActiveValue<$state> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )*};
}

text_state!(
    crate::domain::releases::DeploymentKind,
    crate::domain::workspaces::PullState,
    crate::domain::workspaces::SyncKind,
    crate::domain::integrations::IntegrationKind,
    crate::domain::integrations::Provider,
    crate::domain::jobs::JobStatus,
    crate::domain::plans::PlanStatus,
    crate::domain::drift::PlanPurpose,
    crate::domain::drift::DriftStatus,
    crate::domain::drift::Resolution,
    crate::domain::executors::RunAction,
    crate::domain::executors::Runtime,
    crate::domain::releases::ReleaseState,
    crate::domain::releases::StageState,
    crate::domain::resources::ResourceState,
    crate::domain::resources::ResourceStatus,
    crate::domain::workspaces::WorkspaceStatus,
);

//! SeaORM entities: one file a table, used directly by the services.

pub mod audit_events;
pub mod audit_head;
pub mod executor_integrations;
pub mod executor_runs;
pub mod executors;
pub mod group_members;
pub mod groups;
pub mod identities;
pub mod integrations;
pub mod job_logs;
pub mod jobs;
pub mod resource_integrations;
pub mod resource_parents;
pub mod resource_revisions;
pub mod resources;
pub mod role_bindings;
pub mod sessions;
pub mod source_code_versions;
pub mod source_codes;
pub mod template_parents;
pub mod templates;
pub mod users;

//! SeaORM entities: one file a table, used directly by the services.

pub mod audit_events;
pub mod audit_head;
pub mod group_members;
pub mod groups;
pub mod identities;
pub mod role_bindings;
pub mod sessions;
pub mod template_parents;
pub mod templates;
pub mod users;

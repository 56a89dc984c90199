//! Pure rules of Slipway: no I/O, no async, no `cfg`. Compiled into both the server and the
//! browser bundle, and where most unit tests live.

pub mod audit;
pub mod branching;
pub mod conventional;
pub mod drift;
pub mod executors;
pub mod freezes;
pub mod hcl;
pub mod integrations;
pub mod jobs;
pub mod manifests;
pub mod modules;
pub mod names;
pub mod needs;
pub mod notifications;
pub mod plans;
pub mod policies;
pub mod pushes;
pub mod rbac;
pub mod release_manifests;
pub mod releases;
pub mod repositories;
pub mod resource_code;
pub mod resources;
pub mod semver;
pub mod state_listing;
pub mod templates;
pub mod variable_types;
pub mod versioning;
pub mod workflows;
pub mod workspaces;
pub mod yaml;
pub mod yaml_out;

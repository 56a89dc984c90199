//! Server functions, one file per area. Each one is thin: authorize, call a service, map the
//! error (`respond` turns a refusal into its HTTP status).

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod drift;
pub mod executors;
pub mod freezes;
pub mod integrations;
pub mod needs;
pub mod notifications;
pub mod plans;
pub mod releases;
pub mod repositories;
pub mod resources;
pub mod session;
pub mod sources;
pub mod tokens;
pub mod versioning;
pub mod workspaces;

//! Integration tests of the `slipway` server: one binary, every database test on SQLite and on
//! PostgreSQL.

mod support;

mod audit;
mod auth;
mod authz;
mod catalog;
mod cli;
mod demo_estate;
mod deployments;
mod durability;
mod executors;
mod forges;
mod forms;
mod gates;
mod generated_code;
mod git_http;
mod github_checks;
mod github_provisioning;
mod governance;
mod integrations;
mod live;
mod local_forge;
mod manifests;
mod oci_registry;
mod oidc_tokens;
mod release_manifests;
mod releases;
mod replicas;
mod repositories;
mod resources;
mod sandbox;
mod sessions;
mod ssh;
mod versioning;
mod workspaces;

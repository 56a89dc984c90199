//! The `slipway` server: CLI, configuration, database, axum router, sessions, sign-in routes
//! and the adapters that implement the app's ports (OAuth/OIDC providers).

pub mod adapters;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_cloud;
pub mod demo_estate;
pub mod demo_modules;
pub mod git_http;
pub mod jobs;
pub mod log_lines;
pub mod router;
pub mod routes;
pub mod sandbox;
pub mod session_store;
pub mod site;
pub mod state_backend;

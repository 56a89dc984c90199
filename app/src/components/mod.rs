//! Pieces every page uses: the shell around pages, and the common states (loading, empty,
//! error) drawn the same way everywhere.

pub mod badges;
pub mod common;
pub mod drift;
pub mod freeze;
pub mod live;
pub mod manifest_editor;
pub mod notify;
pub mod plan_card;
pub mod shell;
pub mod sign_in;
pub mod template_versions;
pub mod workspace_panel;

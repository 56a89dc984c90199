//! Pieces every page uses: the shell around pages, and the common states (loading, empty,
//! error) drawn the same way everywhere.

pub mod common;
pub mod live;
pub mod shell;

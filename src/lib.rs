//! impt: a drop-in successor of the Electric Imp `impt` CLI.
//!
//! Layers, top to bottom (a module imports only layers below it; see ARCHITECTURE.md):
//! `cli` (argument parsing, dispatch) → `watch` (the build-run-log loop) → `commands` (what
//! each command does; `commands::core` what they share) → `sim` (a local
//! impCentral-compatible server) → `output` (the only place that prints) → `api` (the
//! impCentral client and the wire vocabulary shared with the sim) → `config` (auth, project
//! and test files) → `builder` (the Squirrel preprocessor) → `vm` (the Squirrel VM) →
//! `error`.

pub mod api;
pub mod builder;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod output;
pub mod sim;
pub mod vm;
pub mod watch;

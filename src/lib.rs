//! impt: a drop-in successor of the Electric Imp `impt` CLI.
//!
//! Layers, top to bottom (a module imports only layers below it; see ARCHITECTURE.md):
//! `cli` (argument parsing, dispatch) → `watch` (the build-run-log loop) → `commands` (what
//! each command does; `commands::core` what they share) → `output` (the only place that
//! prints) → `api` (the impCentral client) → `config` (auth, project and test files) →
//! `error` → `sync` (the tokio runtime builder, the mutex-poison policy). Below them, the
//! workspace's library crates (`crates/`): `impt_sim` (a local impCentral-compatible server) → `impt_vm` (the Squirrel VM) and `impt_wire` (the wire
//! vocabulary shared by the client and the sim); `impt_builder` (the Squirrel preprocessor).

#![forbid(unsafe_code)]

pub mod api;
mod cli;
mod commands;
pub mod config;
pub mod error;
mod output;
mod sync;
pub mod watch;

pub use cli::{main, run_argv};

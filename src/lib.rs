//! impt: a drop-in successor of the Electric Imp `impt` CLI.
//!
//! Data flows one way: `cli` (argument parsing, dispatch) → `commands` (what each command
//! does) → `api`/`config` (impCentral client, auth/project/test files) → `output` (the only
//! place that prints). `sim` is a local impCentral-compatible server, `builder` the Squirrel
//! preprocessor and `watch` the build-run-log loop.

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

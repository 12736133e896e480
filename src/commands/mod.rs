//! What each command does, one file per command group. Commands report through
//! [`Ui`](crate::output::Ui) and return `Ok(())` on success (the dispatcher then prints
//! `IMPT COMMAND SUCCEEDS`). What the groups share lives in [`core`]; a group file imports
//! only `core`, never a sibling.

pub mod account;
pub mod auth;
pub mod build;
pub mod core;
pub mod device;
pub mod dg;
pub mod log;
pub mod loginkey;
pub mod product;
pub mod project;
pub mod simdevice;
pub mod test;
pub mod webhook;

pub use self::core::{Args, CommandCtx};

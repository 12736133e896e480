//! `impt loginkey` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{loginkey, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "loginkey",
        about: "Login key manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new(
            "loginkey",
            "create",
            "Creates a new login key.",
            "Creates a new login key for the current account. The key itself is the id printed.",
            loginkey::CreateOpts::table(),
        ),
        CmdSpec::new(
            "loginkey",
            "delete",
            "Deletes a login key.",
            "Deletes the specified login key of the current account.",
            loginkey::DeleteOpts::table(),
        ),
        CmdSpec::new(
            "loginkey",
            "info",
            "Displays information about a login key.",
            "Displays information about the specified login key.",
            loginkey::InfoOpts::table(),
        ),
        CmdSpec::new(
            "loginkey",
            "list",
            "Displays the login keys of the current account.",
            "Lists every login key of the current account.",
            loginkey::ListOpts::table(),
        ),
        CmdSpec::new(
            "loginkey",
            "update",
            "Updates a login key.",
            "Changes the description of the specified login key.",
            loginkey::UpdateOpts::table(),
        ),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => loginkey::create(ctx, &loginkey::CreateOpts::from_args(args)).await,
        "delete" => loginkey::delete(ctx, &loginkey::DeleteOpts::from_args(args)).await,
        "info" => loginkey::info(ctx, &loginkey::InfoOpts::from_args(args)).await,
        "list" => loginkey::list_cmd(ctx).await,
        "update" => loginkey::update(ctx, &loginkey::UpdateOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command loginkey {cmd}"
        ))),
    }
}

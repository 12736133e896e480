//! `impt account` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{account, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "account",
        about: "Shows the accounts you can work with.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("account", "info", "Displays information about an account.", "Shows the details of an account: the current account by default, or the one given with --user.", account::InfoOpts::table()),
        CmdSpec::new("account", "list", "Lists the accounts available to you.", "Lists the current account and the accounts it collaborates with.", account::ListOpts::table()),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "info" => account::info(ctx, &account::InfoOpts::from_args(args)).await,
        "list" => account::list(ctx, &account::ListOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command account {cmd}"
        ))),
    }
}

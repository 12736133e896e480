//! `impt account` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{account, Args, Ctx};
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
        CmdSpec::new("account", "info", "Displays information about an account.", "Shows the details of an account: the current account by default, or the one given with --user.", vec![
            Opt::s("user", 'u', "ACCOUNT_IDENTIFIER", "The account (id, email or username). The current account when not given.").default("me"),
        ]),
        CmdSpec::new("account", "list", "Lists the accounts available to you.", "Lists the current account and the accounts it collaborates with.", vec![]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "info" => account::info(ctx, args).await,
        "list" => account::list(ctx, args).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command account {cmd}"
        ))),
    }
}

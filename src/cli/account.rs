//! `impt account` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::account;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "account",
        about: "Shows the accounts you can work with.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("account", "info", "Displays information about an account.", "Shows the details of an account: the current account by default, or the one given with --user.", account::InfoOpts::table())
        .run(run!(account::info, account::InfoOpts)),
        CmdSpec::new("account", "list", "Lists the accounts available to you.", "Lists the current account and the accounts it collaborates with.", account::ListOpts::table())
        .run(run!(account::list, account::ListOpts)),
    ]
}

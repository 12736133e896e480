//! `impt loginkey` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::loginkey;

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
        )
        .run(run!(loginkey::create, loginkey::CreateOpts)),
        CmdSpec::new(
            "loginkey",
            "delete",
            "Deletes a login key.",
            "Deletes the specified login key of the current account.",
            loginkey::DeleteOpts::table(),
        )
        .run(run!(loginkey::delete, loginkey::DeleteOpts)),
        CmdSpec::new(
            "loginkey",
            "info",
            "Displays information about a login key.",
            "Displays information about the specified login key.",
            loginkey::InfoOpts::table(),
        )
        .run(run!(loginkey::info, loginkey::InfoOpts)),
        CmdSpec::new(
            "loginkey",
            "list",
            "Displays the login keys of the current account.",
            "Lists every login key of the current account.",
            loginkey::ListOpts::table(),
        )
        .run(run!(loginkey::list_cmd)),
        CmdSpec::new(
            "loginkey",
            "update",
            "Updates a login key.",
            "Changes the description of the specified login key.",
            loginkey::UpdateOpts::table(),
        )
        .run(run!(loginkey::update, loginkey::UpdateOpts)),
    ]
}

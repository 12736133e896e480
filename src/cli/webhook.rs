//! `impt webhook` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::webhook;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "webhook",
        about: "Webhook manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("webhook", "create", "Creates a new webhook.", "Creates a webhook for a Device Group (by default the Project's): impCentral calls the URL on the event.", webhook::CreateOpts::table())
        .run(run!(webhook::create, webhook::CreateOpts)),
        CmdSpec::new("webhook", "delete", "Deletes a webhook.", "Deletes the specified webhook.", webhook::DeleteOpts::table())
        .run(run!(webhook::delete, webhook::DeleteOpts)),
        CmdSpec::new("webhook", "info", "Displays information about a webhook.", "Displays information about the specified webhook.", webhook::InfoOpts::table())
        .run(run!(webhook::info, webhook::InfoOpts)),
        CmdSpec::new("webhook", "list", "Displays a list of webhooks.", "Lists the webhooks available to the current account, filtered by the options; values of one option are alternatives.", webhook::ListOpts::table())
        .run(run!(webhook::list_cmd, webhook::ListOpts)),
        CmdSpec::new("webhook", "update", "Updates a webhook.", "Changes the URL and/or content type of the specified webhook.", webhook::UpdateOpts::table())
        .run(run!(webhook::update, webhook::UpdateOpts)),
    ]
}

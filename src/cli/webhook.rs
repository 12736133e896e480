//! `impt webhook` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{webhook, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "webhook",
        about: "Webhook manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("webhook", "create", "Creates a new webhook.", "Creates a webhook for a Device Group (by default the Project's): impCentral calls the URL on the event.", webhook::CreateOpts::table()),
        CmdSpec::new("webhook", "delete", "Deletes a webhook.", "Deletes the specified webhook.", webhook::DeleteOpts::table()),
        CmdSpec::new("webhook", "info", "Displays information about a webhook.", "Displays information about the specified webhook.", webhook::InfoOpts::table()),
        CmdSpec::new("webhook", "list", "Displays a list of webhooks.", "Lists the webhooks available to the current account, filtered by the options; values of one option are alternatives.", webhook::ListOpts::table()),
        CmdSpec::new("webhook", "update", "Updates a webhook.", "Changes the URL and/or content type of the specified webhook.", webhook::UpdateOpts::table()),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => webhook::create(ctx, &webhook::CreateOpts::from_args(args)).await,
        "delete" => webhook::delete(ctx, &webhook::DeleteOpts::from_args(args)).await,
        "info" => webhook::info(ctx, &webhook::InfoOpts::from_args(args)).await,
        "list" => webhook::list_cmd(ctx, &webhook::ListOpts::from_args(args)).await,
        "update" => webhook::update(ctx, &webhook::UpdateOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command webhook {cmd}"
        ))),
    }
}

//! `impt device` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{device, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "device",
        about: "Lists, assigns, restarts, renames and removes Devices.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("device", "assign", "Assigns a Device to a Device Group.", "Assigns the specified Device to a Device Group (by default the Project's Device Group). A Device already assigned elsewhere is reassigned after confirmation.", device::AssignOpts::table()),
        CmdSpec::new("device", "info", "Displays information about a Device.", "Shows the details of the specified Device, with its Device Group and that group's current Deployment.", device::InfoOpts::table()),
        CmdSpec::new("device", "list", "Displays a list of Devices.", "Lists the Devices of the current account and of the accounts it collaborates with, optionally filtered. Values of one filter are alternatives; different filters must all match.", device::ListOpts::table()),
        CmdSpec::new("device", "remove", "Removes a Device from the account.", "Removes the specified Device from the current account. With --force an assigned Device is unassigned first.", device::RemoveOpts::table()),
        CmdSpec::new("device", "restart", "Restarts a Device.", "Sends a restart request to the specified Device, optionally a conditional one, and can then stream its logs.", device::RestartOpts::table()),
        CmdSpec::new("device", "unassign", "Unassigns a Device from its Device Group.", "Unassigns the specified Device from the Device Group it is assigned to.", device::UnassignOpts::table()),
        CmdSpec::new("device", "update", "Updates a Device.", "Changes the name of the specified Device.", device::UpdateOpts::table()),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "assign" => device::assign(ctx, &device::AssignOpts::from_args(args)).await,
        "info" => device::info(ctx, &device::InfoOpts::from_args(args)).await,
        "list" => device::list(ctx, &device::ListOpts::from_args(args)).await,
        "remove" => device::remove(ctx, &device::RemoveOpts::from_args(args)).await,
        "restart" => device::restart(ctx, &device::RestartOpts::from_args(args)).await,
        "unassign" => device::unassign(ctx, &device::UnassignOpts::from_args(args)).await,
        "update" => device::update(ctx, &device::UpdateOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!("unknown command device {cmd}"))),
    }
}

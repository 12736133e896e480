//! `impt device` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::device;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "device",
        about: "Lists, assigns, restarts, renames and removes Devices.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("device", "assign", "Assigns a Device to a Device Group.", "Assigns the specified Device to a Device Group (by default the Project's Device Group). A Device already assigned elsewhere is reassigned after confirmation.", device::AssignOpts::table())
        .run(run!(device::assign, device::AssignOpts)),
        CmdSpec::new("device", "info", "Displays information about a Device.", "Shows the details of the specified Device, with its Device Group and that group's current Deployment.", device::InfoOpts::table())
        .run(run!(device::info, device::InfoOpts)),
        CmdSpec::new("device", "list", "Displays a list of Devices.", "Lists the Devices of the current account and of the accounts it collaborates with, optionally filtered. Values of one filter are alternatives; different filters must all match.", device::ListOpts::table())
        .run(run!(device::list, device::ListOpts)),
        CmdSpec::new("device", "remove", "Removes a Device from the account.", "Removes the specified Device from the current account. With --force an assigned Device is unassigned first.", device::RemoveOpts::table())
        .run(run!(device::remove, device::RemoveOpts)),
        CmdSpec::new("device", "restart", "Restarts a Device.", "Sends a restart request to the specified Device, optionally a conditional one, and can then stream its logs.", device::RestartOpts::table())
        .run(run!(device::restart, device::RestartOpts)),
        CmdSpec::new("device", "unassign", "Unassigns a Device from its Device Group.", "Unassigns the specified Device from the Device Group it is assigned to.", device::UnassignOpts::table())
        .run(run!(device::unassign, device::UnassignOpts)),
        CmdSpec::new("device", "update", "Updates a Device.", "Changes the name of the specified Device.", device::UpdateOpts::table())
        .run(run!(device::update, device::UpdateOpts)),
    ]
}

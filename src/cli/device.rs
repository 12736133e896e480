//! `impt device` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::api::types::DG_TYPE_NAMES;
use crate::commands::{device, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "device",
        about: "Lists, assigns, restarts, renames and removes Devices.",
        commands: commands(),
    }
}

fn device_opt() -> Opt {
    Opt::s(
        "device",
        'd',
        "DEVICE_IDENTIFIER",
        "The Device: its id, MAC address, agent id or name.",
    )
    .req()
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("device", "assign", "Assigns a Device to a Device Group.", "Assigns the specified Device to a Device Group (by default the Project's Device Group). A Device already assigned elsewhere is reassigned after confirmation.", vec![
            device_opt(),
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group to assign the Device to. Default: the Device Group of the Project."),
            Opt::f("confirmed", 'q', "Reassigns without asking for confirmation."),
        ]),
        CmdSpec::new("device", "info", "Displays information about a Device.", "Shows the details of the specified Device, with its Device Group and that group's current Deployment.", vec![
            device_opt(),
        ]),
        CmdSpec::new("device", "list", "Displays a list of Devices.", "Lists the Devices of the current account and of the accounts it collaborates with, optionally filtered. Values of one filter are alternatives; different filters must all match.", vec![
            Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Only Devices owned by this account. Repeatable."),
            Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Only Devices assigned to Device Groups of this Product. Repeatable."),
            Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Only Devices assigned to this Device Group. Repeatable."),
            Opt::a("dg-type", 'y', "device_group_type", "Only Devices assigned to Device Groups of this type. Repeatable.").choices(&DG_TYPE_NAMES),
            Opt::f("unassigned", 'u', "Only Devices not assigned to any Device Group."),
            Opt::f("assigned", 'a', "Only Devices assigned to a Device Group."),
            Opt::f("online", 'n', "Only Devices that are online."),
            Opt::f("offline", 'f', "Only Devices that are offline."),
        ]),
        CmdSpec::new("device", "remove", "Removes a Device from the account.", "Removes the specified Device from the current account. With --force an assigned Device is unassigned first.", vec![
            device_opt(),
            Opt::f("force", 'f', "Unassigns the Device from its Device Group before removing it."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("device", "restart", "Restarts a Device.", "Sends a restart request to the specified Device, optionally a conditional one, and can then stream its logs.", vec![
            device_opt(),
            Opt::f("conditional", 'c', "Sends a conditional restart request (the Device restarts only if new code is pending)."),
            Opt::f("log", 'l', "Streams the Device's logs afterwards (like impt log stream); Ctrl-C ends it."),
        ]),
        CmdSpec::new("device", "unassign", "Unassigns a Device from its Device Group.", "Unassigns the specified Device from the Device Group it is assigned to.", vec![
            device_opt(),
            Opt::s0("unbond", 'u', "unbond_key", "The unbond key needed to unassign a Device from a production Device Group."),
        ]),
        CmdSpec::new("device", "update", "Updates a Device.", "Changes the name of the specified Device.", vec![
            device_opt(),
            Opt::s0("name", 'n', "device_name", "The new name of the Device (empty to clear it).").req(),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "assign" => device::assign(ctx, args).await,
        "info" => device::info(ctx, args).await,
        "list" => device::list(ctx, args).await,
        "remove" => device::remove(ctx, args).await,
        "restart" => device::restart(ctx, args).await,
        "unassign" => device::unassign(ctx, args).await,
        "update" => device::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!("unknown command device {cmd}"))),
    }
}

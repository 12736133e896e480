//! `impt dg` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::{dg, Args};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "dg",
        about:
            "Creates, lists, updates and deletes Device Groups; manages their Devices and builds.",
        commands: commands(),
    }
}

/// `dg create`: factory groups need both targets; a region only suits production groups.
fn check_create(args: &Args) -> std::result::Result<(), String> {
    let o = dg::CreateOpts::from_args(args);
    let t = o.dg_type.unwrap_or_else(|| "development".into());
    if matches!(t.as_str(), "factory" | "pre-factory") {
        for (name, value) in [("dut", &o.dut), ("target", &o.target)] {
            if value.as_ref().filter(|v| !v.is_empty()).is_none() {
                return Err(format!(
                    "Option \"--{name}\" must be specified for Device Group of type \"{t}\"."
                ));
            }
        }
    }
    if o.region.as_ref().is_some_and(|r| !r.is_empty())
        && !matches!(t.as_str(), "production" | "pre-production")
    {
        return Err(crate::commands::core::targets::wrong_type_for_option(
            "region",
            &t,
            "pre-production",
            "production",
        ));
    }
    Ok(())
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("dg", "builds", "Displays and manages the builds of a Device Group.", "Lists the builds (Deployments) of a Device Group; can first unflag all or only the old flagged builds and delete the old unflagged ones.", dg::BuildsOpts::table())
        .run(run!(dg::builds, dg::BuildsOpts)),
        CmdSpec::new("dg", "create", "Creates a new Device Group.", "Creates a Device Group in a Product (by default the Project's Product). The name must be new within that Product.", dg::CreateOpts::table()).check(check_create)
        .run(run!(dg::create, dg::CreateOpts)),
        CmdSpec::new("dg", "delete", "Deletes a Device Group.", "Deletes a Device Group (by default the Project's). With --force its Devices are unassigned and its flagged builds unflagged first.", dg::DeleteOpts::table())
        .run(run!(dg::delete, dg::DeleteOpts)),
        CmdSpec::new("dg", "info", "Displays information about a Device Group.", "Shows the details of a Device Group (by default the Project's).", dg::InfoOpts::table())
        .run(run!(dg::info, dg::InfoOpts)),
        CmdSpec::new("dg", "list", "Displays a list of Device Groups.", "Lists the Device Groups of the current account and of the accounts it collaborates with, optionally filtered. Values of one filter are alternatives; different filters must all match.", dg::ListOpts::table())
        .run(run!(dg::list, dg::ListOpts)),
        CmdSpec::new("dg", "reassign", "Reassigns the Devices of one Device Group to another.", "Moves every Device assigned to the --from Device Group to the --to Device Group (by default the Project's).", dg::ReassignOpts::table())
        .run(run!(dg::reassign, dg::ReassignOpts)),
        CmdSpec::new("dg", "restart", "Restarts the Devices of a Device Group.", "Sends a restart request to every Device assigned to a Device Group (by default the Project's), and can then stream their logs.", dg::RestartOpts::table())
        .run(run!(dg::restart, dg::RestartOpts)),
        CmdSpec::new("dg", "unassign", "Unassigns all Devices from a Device Group.", "Unassigns every Device assigned to a Device Group (by default the Project's).", dg::UnassignOpts::table())
        .run(run!(dg::unassign, dg::UnassignOpts)),
        CmdSpec::new("dg", "update", "Updates a Device Group.", "Changes the attributes of a Device Group (by default the Project's): name, description, targets, blessing behaviour, Min supported Deployment, environment variables.", dg::UpdateOpts::table())
        .run(run!(dg::update, dg::UpdateOpts)),
    ]
}

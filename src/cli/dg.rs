//! `impt dg` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::api::types::DG_TYPE_NAMES;
use crate::commands::{dg, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "dg",
        about:
            "Creates, lists, updates and deletes Device Groups; manages their Devices and builds.",
        commands: commands(),
    }
}

fn dg_opt(desc: &'static str) -> Opt {
    Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", desc)
}

const DG_DEFAULT: &str = "The Device Group. Default: the Device Group of the Project.";
const ENV_DESC: &str = "Environment variables of the Device Group, as the text of a JSON object.";

/// `dg create`: factory groups need both targets; a region only suits production groups.
fn check_create(args: &Args) -> std::result::Result<(), String> {
    let t = args.str("dg-type").unwrap_or_else(|| "development".into());
    if matches!(t.as_str(), "factory" | "pre-factory") {
        for o in ["dut", "target"] {
            if args.str(o).filter(|v| !v.is_empty()).is_none() {
                return Err(format!(
                    "Option \"--{o}\" must be specified for Device Group of type \"{t}\"."
                ));
            }
        }
    }
    if args.str("region").is_some_and(|r| !r.is_empty())
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
        CmdSpec::new("dg", "builds", "Displays and manages the builds of a Device Group.", "Lists the builds (Deployments) of a Device Group; can first unflag all or only the old flagged builds and delete the old unflagged ones.", vec![
            dg_opt(DG_DEFAULT),
            Opt::f("unflag", 'u', "Unflags every flagged build of the Device Group."),
            Opt::f("unflag-old", 'o', "Unflags the flagged builds older than the Min supported Deployment."),
            Opt::f("remove", 'r', "Deletes the unflagged builds older than the Min supported Deployment."),
            Opt::f("confirmed", 'q', "Deletes without asking for confirmation."),
        ]),
        CmdSpec::new("dg", "create", "Creates a new Device Group.", "Creates a Device Group in a Product (by default the Project's Product). The name must be new within that Product.", vec![
            Opt::s("name", 'n', "device_group_name", "Name of the new Device Group, unique within the Product.").req(),
            Opt::s("dg-type", 'y', "device_group_type", "Type of the new Device Group.").choices(&DG_TYPE_NAMES).default("development"),
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
            Opt::s0("descr", 's', "device_group_description", "Description of the Device Group."),
            Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "The device-under-test target of a factory (dut) or pre-factory (pre-dut) Device Group, from the same Product."),
            Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "The production target of a factory (production) or pre-factory (pre-production) Device Group, from the same Product."),
            Opt::s0("region", 'r', "region_name", "Region of a production or pre-production Device Group."),
            Opt::s("env-variable", 'e', "", ENV_DESC),
        ]).check(check_create),
        CmdSpec::new("dg", "delete", "Deletes a Device Group.", "Deletes a Device Group (by default the Project's). With --force its Devices are unassigned and its flagged builds unflagged first.", vec![
            dg_opt("The Device Group to delete. Default: the Device Group of the Project."),
            Opt::f("force", 'f', "Unassigns the Device Group's Devices and unflags its builds before deleting it."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("dg", "info", "Displays information about a Device Group.", "Shows the details of a Device Group (by default the Project's).", vec![
            dg_opt(DG_DEFAULT),
            Opt::f("full", 'u', "Also shows the groups targeting it, its Webhooks and its Devices."),
        ]),
        CmdSpec::new("dg", "list", "Displays a list of Device Groups.", "Lists the Device Groups of the current account and of the accounts it collaborates with, optionally filtered. Values of one filter are alternatives; different filters must all match.", vec![
            Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Only Device Groups owned by this account. Repeatable."),
            Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Only Device Groups of this Product. Repeatable."),
            Opt::a("dg-type", 'y', "device_group_type", "Only Device Groups of this type. Repeatable.").choices(&DG_TYPE_NAMES),
        ]),
        CmdSpec::new("dg", "reassign", "Reassigns the Devices of one Device Group to another.", "Moves every Device assigned to the --from Device Group to the --to Device Group (by default the Project's).", vec![
            Opt::s("from", 'f', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose Devices are moved.").req(),
            Opt::s("to", 't', "DEVICE_GROUP_IDENTIFIER", "The Device Group receiving the Devices. Default: the Device Group of the Project."),
        ]),
        CmdSpec::new("dg", "restart", "Restarts the Devices of a Device Group.", "Sends a restart request to every Device assigned to a Device Group (by default the Project's), and can then stream their logs.", vec![
            dg_opt(DG_DEFAULT),
            Opt::f("conditional", 'c', "Sends a conditional restart request (Devices restart only if new code is pending)."),
            Opt::f("log", 'l', "Streams the logs of the restarted Devices afterwards; Ctrl-C ends it."),
        ]),
        CmdSpec::new("dg", "unassign", "Unassigns all Devices from a Device Group.", "Unassigns every Device assigned to a Device Group (by default the Project's).", vec![
            dg_opt(DG_DEFAULT),
            Opt::s0("unbond", 'u', "unbond_key", "The unbond key needed to unassign Devices from a production Device Group."),
        ]),
        CmdSpec::new("dg", "update", "Updates a Device Group.", "Changes the attributes of a Device Group (by default the Project's): name, description, targets, blessing behaviour, Min supported Deployment, environment variables.", vec![
            dg_opt(DG_DEFAULT),
            Opt::s("name", 'n', "device_group_name", "New name of the Device Group."),
            Opt::s0("descr", 's', "device_group_description", "New description of the Device Group."),
            Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "New device-under-test target (factory and pre-factory Device Groups only)."),
            Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "New production target (factory and pre-factory Device Groups only)."),
            Opt::b("load-code-after-blessing", 'l', "Whether production code is loaded right after blessing (production and pre-production Device Groups only)."),
            Opt::s("min-supported-deployment", 'm', "BUILD_IDENTIFIER", "A build of this Device Group to become its Min supported Deployment; it cannot be older than the current one."),
            Opt::s("env-variable", 'e', "", ENV_DESC),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "builds" => dg::builds(ctx, args).await,
        "create" => dg::create(ctx, args).await,
        "delete" => dg::delete(ctx, args).await,
        "info" => dg::info(ctx, args).await,
        "list" => dg::list(ctx, args).await,
        "reassign" => dg::reassign(ctx, args).await,
        "restart" => dg::restart(ctx, args).await,
        "unassign" => dg::unassign(ctx, args).await,
        "update" => dg::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!("unknown command dg {cmd}"))),
    }
}

//! `impt project` commands.

use super::parse::command_help;
use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{project, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "project",
        about: "Project manipulation commands: link source files in the current directory to a Device Group.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("project", "create", "Creates a new Device Group and a Project for it.", "Creates a new Device Group in the given Product and a Project File in the current directory that links the device and agent source files to it. Missing source files are created empty.", vec![
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product of the new Device Group.").req(),
            Opt::f("create-product", 'c', "Creates the Product, named by --product, when it does not exist.").alias('i'),
            Opt::s("name", 'n', "device_group_name", "Name of the new Device Group. Must be unique within the Product.").req(),
            Opt::s0("descr", 's', "device_group_description", "Description of the new Device Group."),
            Opt::s("device-file", 'x', "device_file", "The device source file. Created empty when it does not exist.").default("device.nut"),
            Opt::s("agent-file", 'y', "agent_file", "The agent source file. Created empty when it does not exist.").default("agent.nut"),
            Opt::f("pre-factory", 'f', "Creates a pre-factory Device Group (for factory firmware) instead of a development one. Requires --target."),
            Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "The device-under-test target (a pre-dut Device Group of the same Product). Only with --pre-factory."),
            Opt::f("create-dut", 'w', "Creates the device-under-test target, named by --dut, when it does not exist."),
            Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "The production target (a pre-production Device Group of the same Product). Only with --pre-factory."),
            Opt::f("create-target", 'r', "Creates the production target, named by --target, when it does not exist.").alias('j'),
            Opt::f("confirmed", 'q', "Overwrites an existing Project File without asking for confirmation."),
            Opt::f("create-files", 'c', "Accepted for compatibility: missing source files are always created.").long_only().hidden(),
        ]),
        CmdSpec::new("project", "delete", "Deletes the Project.", "Deletes the Project File of the current directory; with --files also the source files it links, with --entities also its Device Group (and targets, builds, and the Product when nothing else uses it). The Local Auth File is never deleted.", vec![
            Opt::f("entities", 'e', "Also deletes the Project's Device Group with its builds, its targets used by no other group, and the Product when it has no other Device Groups. Devices are unassigned, flagged builds unflagged."),
            Opt::f("files", 'f', "Also deletes the device and agent source files of the Project."),
            Opt::f("all", 'a', "Same as --entities and --files together."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("project", "info", "Displays information about the Project.", "Displays the Project of the current directory: its source files and Device Group.", vec![
            Opt::f("full", 'u', "Also shows the Device Group's devices, webhooks and targets, and the login status."),
        ]),
        CmdSpec::new("project", "link", "Creates a Project for an existing Device Group.", "Creates a Project File in the current directory that links the device and agent source files to an existing development or pre-factory Device Group. Missing source files are created empty.", vec![
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group to link.").req(),
            Opt::s("device-file", 'x', "device_file", "The device source file. Created empty when it does not exist.").default("device.nut"),
            Opt::s("agent-file", 'y', "agent_file", "The agent source file. Created empty when it does not exist.").default("agent.nut"),
            Opt::f("confirmed", 'q', "Overwrites an existing Project File without asking for confirmation."),
            Opt::f("create-files", 'c', "Accepted for compatibility: missing source files are always created.").hidden(),
        ]),
        CmdSpec::new("project", "update", "Updates the Project.", "Changes the source files of the Project and/or the name, description and targets of its Device Group.", vec![
            Opt::s("name", 'n', "device_group_name", "New name of the Project's Device Group."),
            Opt::s0("descr", 's', "device_group_description", "New description of the Project's Device Group."),
            Opt::s("device-file", 'x', "device_file", "New device source file. Created empty when it does not exist."),
            Opt::s("agent-file", 'y', "agent_file", "New agent source file. Created empty when it does not exist."),
            Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "New device-under-test target of a pre-factory Device Group."),
            Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "New production target of a pre-factory Device Group."),
            Opt::f("rename-files", 'r', "Renames the old source files to the new names given by --device-file/--agent-file.").hidden(),
        ]),
    ]
}

/// Checks of `project create` that are reported with the command's help.
fn check_create(args: &Args) -> std::result::Result<(), String> {
    let together =
        |a: &str, b: &str| format!("Options \"--{a}\" and \"--{b}\" must be specified together.");
    let pre = args.flag("pre-factory");
    if pre != args.has("target") {
        return Err(together("pre-factory", "target"));
    }
    // 2.6.1 also requires --dut with --pre-factory; the Development Guide's examples omit it,
    // so only --dut without --pre-factory is refused here.
    if args.has("dut") && !pre {
        return Err(together("pre-factory", "dut"));
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => {
            if let Err(msg) = check_create(args) {
                let spec = commands().into_iter().find(|c| c.name == "create");
                let help = spec.map(|s| command_help(&s)).unwrap_or_default();
                return Err(ImptError::Usage { help, msg });
            }
            project::create(ctx, args).await
        }
        "delete" => project::delete(ctx, args).await,
        "info" => project::info(ctx, args).await,
        "link" => project::link(ctx, args).await,
        "update" => project::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command project {cmd}"
        ))),
    }
}

//! `impt project` commands.

use super::parse::command_help;
use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::{project, Args, CommandCtx};
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
        CmdSpec::new("project", "create", "Creates a new Device Group and a Project for it.", "Creates a new Device Group in the given Product and a Project File in the current directory that links the device and agent source files to it. Missing source files are created empty.", project::CreateOpts::table())
        .run(create),
        CmdSpec::new("project", "delete", "Deletes the Project.", "Deletes the Project File of the current directory; with --files also the source files it links, with --entities also its Device Group (and targets, builds, and the Product when nothing else uses it). The Local Auth File is never deleted.", project::DeleteOpts::table())
        .run(run!(project::delete, project::DeleteOpts)),
        CmdSpec::new("project", "info", "Displays information about the Project.", "Displays the Project of the current directory: its source files and Device Group.", project::InfoOpts::table())
        .run(run!(project::info, project::InfoOpts)),
        CmdSpec::new("project", "link", "Creates a Project for an existing Device Group.", "Creates a Project File in the current directory that links the device and agent source files to an existing development or pre-factory Device Group. Missing source files are created empty.", project::LinkOpts::table())
        .run(run!(project::link, project::LinkOpts)),
        CmdSpec::new("project", "update", "Updates the Project.", "Changes the source files of the Project and/or the name, description and targets of its Device Group.", project::UpdateOpts::table())
        .run(run!(project::update, project::UpdateOpts)),
    ]
}

/// Checks of `project create` that are reported with the command's help.
fn check_create(o: &project::CreateOpts) -> std::result::Result<(), String> {
    let together =
        |a: &str, b: &str| format!("Options \"--{a}\" and \"--{b}\" must be specified together.");
    let pre = o.pre_factory;
    if pre != o.target.is_some() {
        return Err(together("pre-factory", "target"));
    }
    // impt 2.6.1 also requires --dut with --pre-factory; the Development Guide's examples omit it,
    // so only --dut without --pre-factory is refused here.
    if o.dut.is_some() && !pre {
        return Err(together("pre-factory", "dut"));
    }
    Ok(())
}

/// `project create`: its checks first (a failure shows the command's help).
fn create<'a>(
    ctx: &'a CommandCtx,
    args: &'a Args,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'a>> {
    let o = project::CreateOpts::from_args(args);
    Box::pin(async move {
        if let Err(msg) = check_create(&o) {
            let spec = commands().into_iter().find(|c| c.name == "create");
            let help = spec.map(|s| command_help(&s)).unwrap_or_default();
            return Err(ImptError::Usage { help, msg });
        }
        project::create(ctx, &o).await
    })
}

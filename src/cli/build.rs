//! `impt build` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::{build, Args, CommandCtx};
use crate::error::Result;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "build",
        about: "Build (Deployment) manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("build", "cleanup", "Deletes builds that no longer belong to a Device Group.", "Deletes \"zombie\" builds, i.e. builds whose Device Group was deleted. Flagged builds are kept unless --unflag is given.", build::CleanupOpts::table())
        .run(run!(build::cleanup, build::CleanupOpts)),
        CmdSpec::new("build", "copy", "Copies a build to another Device Group.", "Creates a new build in the given Device Group with the source code of the specified build (by default the current build of the Project's Device Group).", build::CopyOpts::table())
        .run(run!(build::copy, build::CopyOpts)),
        CmdSpec::new("build", "delete", "Deletes a build.", "Deletes the specified build. A build that is the Min supported build of its Device Group, or newer, cannot be deleted.", build::DeleteOpts::table())
        .run(run!(build::delete, build::DeleteOpts)),
        CmdSpec::new("build", "deploy", "Creates a build from source files.", "Creates a new build (Deployment) for a Device Group from device and agent source files. Devices are not restarted.", [build::DeployOpts::table(), build::BuilderOpts::table()].concat())
        .run(run!(build::deploy, build::DeployOpts, build::BuilderOpts)),
        CmdSpec::new("build", "get", "Downloads the source code of a build.", "Writes the device and agent source code of the specified build (by default the current build of the Project's Device Group) to files and shows the build's information.", build::GetOpts::table())
        .run(run!(build::get, build::GetOpts)),
        CmdSpec::new("build", "info", "Displays information about a build.", "Displays information about the specified build (by default the current build of the Project's Device Group).", build::InfoOpts::table())
        .run(run!(build::info, build::InfoOpts)),
        CmdSpec::new("build", "libraries", "Fetches #require libraries into the user cache.", "Fetches Electric Imp libraries, as #require \"NAME:VERSION\" names them, from their GitHub repositories into the user cache, so that local compile checks, impt watch and impt sim need no network for them later. By default the libraries the device and agent files #require. Not part of the original impt.", build::LibrariesOpts::table())
        .run(run!(sync build::libraries, build::LibrariesOpts)),
        CmdSpec::new("build", "list", "Displays a list of builds.", "Lists the builds the current account can access, optionally filtered. Values of one filter option are OR-ed, different options are AND-ed.", build::ListOpts::table())
        .run(run!(build::list_cmd, build::ListOpts)),
        CmdSpec::new("build", "preprocess", "Prints a source file as the Builder preprocessor expands it.", "Runs the Builder-compatible preprocessor on FILE (@include, @set, @if, @macro, @{...}) and prints the code that would be deployed, like Builder's pleasebuild, with its options and the [builder] table of impt.toml. Not part of the original impt.", build::BuilderOpts::preprocess_table())
        .positional("FILE")
        .raw()
        .run(preprocess),
        CmdSpec::new("build", "run", "Creates a build and runs it on the devices.", "Creates a new build for a Device Group, makes it the Min supported build of the group and restarts the group's devices; with --log then streams their logs.", [build::RunOpts::table(), build::BuilderOpts::table()].concat())
        .run(run!(build::run, build::RunOpts, build::BuilderOpts)),
        CmdSpec::new("build", "update", "Updates a build.", "Changes the description, tags and/or \"flagged\" attribute of the specified build (by default the current build of the Project's Device Group).", build::UpdateOpts::table())
        .run(run!(build::update, build::UpdateOpts)),
    ]
}

/// `build preprocess FILE`: the positional file and the Builder options.
fn preprocess<'a>(
    ctx: &'a CommandCtx,
    args: &'a Args,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'a>> {
    let file = args.positional.clone().unwrap_or_default();
    let r = build::preprocess(ctx, &file, &build::BuilderOpts::from_args(args));
    Box::pin(async move { r })
}

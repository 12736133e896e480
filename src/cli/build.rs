//! `impt build` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{build, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "build",
        about: "Build (Deployment) manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("build", "cleanup", "Deletes builds that no longer belong to a Device Group.", "Deletes \"zombie\" builds, i.e. builds whose Device Group was deleted. Flagged builds are kept unless --unflag is given.", build::CleanupOpts::table()),
        CmdSpec::new("build", "copy", "Copies a build to another Device Group.", "Creates a new build in the given Device Group with the source code of the specified build (by default the current build of the Project's Device Group).", build::CopyOpts::table()),
        CmdSpec::new("build", "delete", "Deletes a build.", "Deletes the specified build. A build that is the Min supported build of its Device Group, or newer, cannot be deleted.", build::DeleteOpts::table()),
        CmdSpec::new("build", "deploy", "Creates a build from source files.", "Creates a new build (Deployment) for a Device Group from device and agent source files. Devices are not restarted.", [build::DeployOpts::table(), build::BuilderOpts::table()].concat()),
        CmdSpec::new("build", "get", "Downloads the source code of a build.", "Writes the device and agent source code of the specified build (by default the current build of the Project's Device Group) to files and shows the build's information.", build::GetOpts::table()),
        CmdSpec::new("build", "info", "Displays information about a build.", "Displays information about the specified build (by default the current build of the Project's Device Group).", build::InfoOpts::table()),
        CmdSpec::new("build", "libraries", "Fetches #require libraries into the user cache.", "Fetches Electric Imp libraries, as #require \"NAME:VERSION\" names them, from their GitHub repositories into the user cache, so that local compile checks, impt watch and impt sim need no network for them later. By default the libraries the device and agent files #require. Not part of the original impt.", build::LibrariesOpts::table()),
        CmdSpec::new("build", "list", "Displays a list of builds.", "Lists the builds the current account can access, optionally filtered. Values of one filter option are OR-ed, different options are AND-ed.", build::ListOpts::table()),
        CmdSpec::new("build", "preprocess", "Prints a source file as the Builder preprocessor expands it.", "Runs the Builder-compatible preprocessor on FILE (@include, @set, @if, @macro, @{...}) and prints the code that would be deployed, like Builder's pleasebuild, with its options and the [builder] table of impt.toml. Not part of the original impt.", build::BuilderOpts::preprocess_table())
        .positional("FILE")
        .raw(),
        CmdSpec::new("build", "run", "Creates a build and runs it on the devices.", "Creates a new build for a Device Group, makes it the Min supported build of the group and restarts the group's devices; with --log then streams their logs.", [build::RunOpts::table(), build::BuilderOpts::table()].concat()),
        CmdSpec::new("build", "update", "Updates a build.", "Changes the description, tags and/or \"flagged\" attribute of the specified build (by default the current build of the Project's Device Group).", build::UpdateOpts::table()),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "cleanup" => build::cleanup(ctx, &build::CleanupOpts::from_args(args)).await,
        "copy" => build::copy(ctx, &build::CopyOpts::from_args(args)).await,
        "delete" => build::delete(ctx, &build::DeleteOpts::from_args(args)).await,
        "deploy" => {
            let b = build::BuilderOpts::from_args(args);
            build::deploy(ctx, &build::DeployOpts::from_args(args), &b).await
        }
        "get" => build::get(ctx, &build::GetOpts::from_args(args)).await,
        "info" => build::info(ctx, &build::InfoOpts::from_args(args)).await,
        "libraries" => build::libraries(ctx, &build::LibrariesOpts::from_args(args)),
        "list" => build::list_cmd(ctx, &build::ListOpts::from_args(args)).await,
        "run" => {
            let b = build::BuilderOpts::from_args(args);
            build::run(ctx, &build::RunOpts::from_args(args), &b).await
        }
        "update" => build::update(ctx, &build::UpdateOpts::from_args(args)).await,
        "preprocess" => build::preprocess(
            ctx,
            args.positional.as_deref().unwrap_or_default(),
            &build::BuilderOpts::from_args(args),
        ),
        _ => Err(ImptError::Internal(format!("unknown command build {cmd}"))),
    }
}

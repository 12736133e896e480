//! `impt build` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::api::types::DG_TYPE_NAMES;
use crate::commands::{build, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "build",
        about: "Build (Deployment) manipulation commands.",
        commands: commands(),
    }
}

fn dg_opt() -> Opt {
    Opt::s(
        "dg",
        'g',
        "DEVICE_GROUP_IDENTIFIER",
        "The Device Group the build is created for. Default: the Device Group of the Project.",
    )
}

fn build_opt(desc: &'static str) -> Opt {
    Opt::s("build", 'b', "BUILD_IDENTIFIER", desc)
}

/// The options shared by `build deploy` and `build run`.
fn deploy_opts() -> Vec<Opt> {
    vec![
        dg_opt(),
        Opt::s("device-file", 'x', "device_file", "The file with the device source code. Default: the Project's device file; without one, empty device code is deployed."),
        Opt::s("agent-file", 'y', "agent_file", "The file with the agent source code. Default: the Project's agent file; without one, empty agent code is deployed."),
        Opt::s0("descr", 's', "build_description", "Description of the build."),
        Opt::s0("origin", 'o', "origin", "Free-form origin of the build."),
        Opt::a("tag", 't', "tag", "A tag of the build. Repeatable."),
        Opt::b("flagged", 'f', "Sets the \"flagged\" attribute of the build (flagged builds cannot be deleted). Sent only when given."),
        Opt::f("no-preprocess", 'P', "Deploys the source files as they are, without running the Builder preprocessor on files that contain Builder directives (impt-rs extension).").long_only(),
    ]
}

/// `pleasebuild`'s options (same names and meanings; see `crate::builder::settings`), on top
/// of the `[builder]` table of impt.toml. `preprocess` gets Builder's short -l and -c too.
fn builder_opts(preprocess: bool) -> Vec<Opt> {
    let o = |long, desc| Opt::f(long, ' ', desc).long_only();
    let v = |long, name, desc| Opt::s(long, ' ', name, desc).long_only();
    let f = |long, desc| Opt::so(long, ' ', "path_to_file", desc).long_only();
    let short = |opt: Opt, c| {
        if preprocess {
            Opt {
                short: Some(c),
                ..opt
            }
        } else {
            opt
        }
    };
    vec![
        Opt::a("var", 'D', "NAME=VALUE", "A Builder variable (Builder's -D). Repeatable."),
        short(o("lines", "Adds #line directives naming the source file and line of each part (Builder's -l)."), 'l'),
        v("github-user", "username", "A GitHub username."),
        v("github-token", "token", "A GitHub personal access token."),
        v("azure-user", "username", "An Azure Repos username."),
        v("azure-token", "token", "An Azure Repos personal access token."),
        v("bitbucket-server-addr", "address", "A Bitbucket Server address."),
        v("bitbucket-server-user", "username", "A Bitbucket Server username."),
        v("bitbucket-server-token", "token", "A Bitbucket Server personal access token or password."),
        Opt::a("lib", ' ', "path_to_file", "A JavaScript file, directory or glob of library functions. Repeatable.").long_only(),
        o("use-remote-relative-includes", "Resolves every local include relative to the file that mentions it, remote ones too."),
        o("suppress-duplicate-includes-warning", "No warning when the same file content is included several times."),
        short(o("cache", "Caches remotely included files (in .builder-cache)."), 'c'),
        o("clear-cache", "Empties the cache first."),
        v("cache-exclude-list", "path_to_file", "A file listing include paths never cached."),
        f("save-dependencies", "Saves the Git blob of every remote include (default file: dependencies.json)."),
        f("use-dependencies", "Includes remote files at the blobs saved in this file (default: dependencies.json)."),
        f("save-directives", "Saves the Builder variables in this file (default: directives.json)."),
        f("use-directives", "Starts with the Builder variables of this file (default: directives.json)."),
    ]
}

fn commands() -> Vec<CmdSpec> {
    let mut run_opts = deploy_opts();
    let pre = run_opts.pop().expect("no-preprocess");
    run_opts.push(Opt::f("conditional", 'c', "Restarts the devices conditionally: devices already running a supported build only get a notification."));
    run_opts.push(Opt::f(
        "log",
        'l',
        "After the restart, streams the logs of the Device Group's devices until Ctrl-C.",
    ));
    run_opts.push(pre);
    run_opts.extend(builder_opts(false));
    let deploy_opts = [deploy_opts(), builder_opts(false)].concat();
    vec![
        CmdSpec::new("build", "cleanup", "Deletes builds that no longer belong to a Device Group.", "Deletes \"zombie\" builds, i.e. builds whose Device Group was deleted. Flagged builds are kept unless --unflag is given.", vec![
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "Only deletes the zombie builds of this Product."),
            Opt::f("unflag", 'u', "Also deletes flagged zombie builds, unflagging them first."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("build", "copy", "Copies a build to another Device Group.", "Creates a new build in the given Device Group with the source code of the specified build (by default the current build of the Project's Device Group).", vec![
            build_opt("The build to copy. Default: the current build of the Project's Device Group."),
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group the copy is created in.").req(),
            Opt::f("all", 'a', "Also copies the description, origin, tags and \"flagged\" attribute."),
        ]),
        CmdSpec::new("build", "delete", "Deletes a build.", "Deletes the specified build. A build that is the Min supported build of its Device Group, or newer, cannot be deleted.", vec![
            build_opt("The build to delete.").req(),
            Opt::f("force", 'f', "Deletes the build even when it is flagged (unflags it first)."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("build", "deploy", "Creates a build from source files.", "Creates a new build (Deployment) for a Device Group from device and agent source files. Devices are not restarted.", deploy_opts),
        CmdSpec::new("build", "get", "Downloads the source code of a build.", "Writes the device and agent source code of the specified build (by default the current build of the Project's Device Group) to files and shows the build's information.", vec![
            build_opt("The build. Default: the current build of the Project's Device Group."),
            Opt::s("device-file", 'x', "device_file", "The file to write the device code to. Default: the Project's device file."),
            Opt::s("agent-file", 'y', "agent_file", "The file to write the agent code to. Default: the Project's agent file."),
            Opt::f("device-only", 'i', "Downloads the device code only."),
            Opt::f("agent-only", 'j', "Downloads the agent code only."),
            Opt::f("confirmed", 'q', "Overwrites existing files without asking for confirmation."),
        ]),
        CmdSpec::new("build", "info", "Displays information about a build.", "Displays information about the specified build (by default the current build of the Project's Device Group).", vec![
            build_opt("The build. Default: the current build of the Project's Device Group."),
        ]),
        CmdSpec::new("build", "list", "Displays a list of builds.", "Lists the builds the current account can access, optionally filtered. Values of one filter option are OR-ed, different options are AND-ed.", vec![
            Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Lists builds of this owner only. Repeatable."),
            Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Lists builds of this Product only. Repeatable."),
            Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Lists builds of this Device Group only. Repeatable."),
            Opt::a("dg-type", 'y', "DEVICE_GROUP_TYPE", "Lists builds of Device Groups of this type only. Repeatable.").choices(&DG_TYPE_NAMES),
            Opt::a("sha", 's', "deployment_sha", "Lists builds with this SHA only. Repeatable."),
            Opt::a("tag", 't', "tag", "Lists builds with this tag only. Repeatable."),
            Opt::f("flagged", 'f', "Lists flagged builds only."),
            Opt::f("unflagged", 'u', "Lists unflagged builds only."),
            Opt::f("non-zombie", 'n', "Lists builds that belong to a Device Group only."),
            Opt::f("zombie", 'm', "Lists builds whose Device Group was deleted only."),
        ]),
        CmdSpec::new("build", "preprocess", "Prints a source file as the Builder preprocessor expands it.", "Runs the Builder-compatible preprocessor on FILE (@include, @set, @if, @macro, @{...}) and prints the code that would be deployed, like Builder's pleasebuild, with its options and the [builder] table of impt.toml. Not part of the original impt.", builder_opts(true))
        .positional("FILE")
        .raw(),
        CmdSpec::new("build", "run", "Creates a build and runs it on the devices.", "Creates a new build for a Device Group, makes it the Min supported build of the group and restarts the group's devices; with --log then streams their logs.", run_opts),
        CmdSpec::new("build", "update", "Updates a build.", "Changes the description, tags and/or \"flagged\" attribute of the specified build (by default the current build of the Project's Device Group).", vec![
            build_opt("The build. Default: the current build of the Project's Device Group."),
            Opt::s0("descr", 's', "build_description", "New description of the build."),
            Opt::a("tag", 't', "tag", "A tag to add. Repeatable."),
            Opt::a("remove-tag", 'r', "tag", "A tag to remove. Repeatable."),
            Opt::b("flagged", 'f', "Sets or clears the \"flagged\" attribute."),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "cleanup" => build::cleanup(ctx, args).await,
        "copy" => build::copy(ctx, args).await,
        "delete" => build::delete(ctx, args).await,
        "deploy" => build::deploy(ctx, args).await,
        "get" => build::get(ctx, args).await,
        "info" => build::info(ctx, args).await,
        "list" => build::list_cmd(ctx, args).await,
        "run" => build::run(ctx, args).await,
        "update" => build::update(ctx, args).await,
        "preprocess" => build::preprocess(ctx, args),
        _ => Err(ImptError::Internal(format!("unknown command build {cmd}"))),
    }
}

//! `impt test` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::test;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "test",
        about: "Test manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("test", "create", "Creates a test configuration.", "Creates the Test Configuration File in the current directory: the Device Group whose devices run the tests, optional device/agent source files deployed with them, the test file patterns and the run settings.", test::CreateOpts::table())
        .run(run!(test::create, test::CreateOpts)),
        CmdSpec::new("test", "delete", "Deletes the test configuration.", "Deletes the Test Configuration File of the current directory with the .builder-cache and .build directories; optionally the GitHub credentials and Builder variables files it references and its Device Group.", test::DeleteOpts::table())
        .run(run!(test::delete, test::DeleteOpts)),
        CmdSpec::new("test", "github", "Creates or updates a GitHub credentials file.", "Writes a GitHub credentials file with a user name and a password or personal access token, used for GitHub includes of the tests.", test::GithubOpts::table())
        .run(run!(test::github, test::GithubOpts)),
        CmdSpec::new("test", "info", "Displays the test configuration.", "Displays the Test Configuration of the current directory with its Device Group.", test::InfoOpts::table())
        .run(run!(test::info, test::InfoOpts)),
        CmdSpec::new("test", "run", "Runs the tests.", "Runs the tests of the Test Configuration of the current directory on the devices of its Device Group and reports the results.", test::RunOpts::table())
        .run(run!(test::run, test::RunOpts)),
        CmdSpec::new("test", "update", "Updates the test configuration.", "Changes settings of the Test Configuration File of the current directory. An option of a file given without a value removes that file from the configuration.", test::UpdateOpts::table())
        .run(run!(test::update, test::UpdateOpts)),
    ]
}

//! `impt test` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{test, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "test",
        about: "Test manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("test", "create", "Creates a test configuration.", "Creates the Test Configuration File in the current directory: the Device Group whose devices run the tests, optional device/agent source files deployed with them, the test file patterns and the run settings.", vec![
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose devices run the tests.").req(),
            Opt::s("device-file", 'x', "device_file", "A device source file deployed together with the tests. Must exist."),
            Opt::s("agent-file", 'y', "agent_file", "An agent source file deployed together with the tests. Must exist."),
            Opt::n("timeout", 't', "timeout", "Seconds a test may take before it is reported as failed.").default("30"),
            Opt::b("stop-on-fail", 's', "Stops the whole run at the first failing test."),
            Opt::b("allow-disconnect", 'a', "Keeps testing when the device disconnects."),
            Opt::b("builder-cache", 'e', "Caches remote includes of the preprocessor in .builder-cache."),
            Opt::a("test-file", 'f', "test_file", "A glob pattern of test files. Repeatable. Default: *.test.nut and tests/**/*.test.nut."),
            Opt::s("github-config", 'i', "github_config", "The GitHub credentials file used for GitHub includes. May not exist yet."),
            Opt::s("builder-config", 'j', "builder_config", "A JSON file of Builder variables. May not exist yet."),
            Opt::f("confirmed", 'q', "Overwrites an existing Test Configuration File without asking for confirmation."),
        ]),
        CmdSpec::new("test", "delete", "Deletes the test configuration.", "Deletes the Test Configuration File of the current directory with the .builder-cache and .build directories; optionally the GitHub credentials and Builder variables files it references and its Device Group.", vec![
            Opt::f("github-config", 'i', "Also deletes the GitHub credentials file referenced by the Test Configuration."),
            Opt::f("builder-config", 'j', "Also deletes the Builder variables file referenced by the Test Configuration."),
            Opt::f("entities", 'e', "Also deletes the Device Group with its builds (devices are unassigned), and its Product when it has no other Device Group."),
            Opt::f("all", 'a', "Same as --github-config, --builder-config and --entities together."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("test", "github", "Creates or updates a GitHub credentials file.", "Writes a GitHub credentials file with a user name and a password or personal access token, used for GitHub includes of the tests.", vec![
            Opt::s("github-config", 'i', "github_config", "The path of the GitHub credentials file.").req(),
            Opt::s("user", 'u', "github_user", "The GitHub user name. Asked for when not given."),
            Opt::s0("pwd", 'w', "github_password", "The GitHub password or personal access token. Asked for when not given."),
            Opt::f("confirmed", 'q', "Overwrites an existing file without asking for confirmation."),
        ]),
        CmdSpec::new("test", "info", "Displays the test configuration.", "Displays the Test Configuration of the current directory with its Device Group.", vec![]),
        CmdSpec::new("test", "run", "Runs the tests.", "Runs the tests of the Test Configuration of the current directory on the devices of its Device Group and reports the results.", vec![
            Opt::s0("tests", 't', "test_pattern", "Selects the tests to run: [test_file_name][:test_class_name][::test_method_name]."),
            Opt::f("clear-cache", 'e', "Deletes the .builder-cache directory before running."),
            Opt::a("report", 'r', "junit|json FILE", "Also writes the result of every test to a file: --report junit FILE (JUnit XML) or --report json FILE (file, name, time, failure message; tests of sessions that never started as not run). Repeatable.").nargs(2).long_only(),
        ]),
        CmdSpec::new("test", "update", "Updates the test configuration.", "Changes settings of the Test Configuration File of the current directory. An option of a file given without a value removes that file from the configuration.", vec![
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose devices run the tests."),
            Opt::so("device-file", 'x', "device_file", "A device source file deployed together with the tests. Must exist. No value: none."),
            Opt::so("agent-file", 'y', "agent_file", "An agent source file deployed together with the tests. Must exist. No value: none."),
            Opt::n("timeout", 't', "timeout", "Seconds a test may take before it is reported as failed."),
            Opt::b("stop-on-fail", 's', "Stops the whole run at the first failing test."),
            Opt::b("allow-disconnect", 'a', "Keeps testing when the device disconnects."),
            Opt::b("builder-cache", 'e', "Caches remote includes of the preprocessor; false also clears .builder-cache."),
            Opt::a("test-file", 'f', "test_file", "A glob pattern of test files; replaces the list. Repeatable."),
            Opt::so("github-config", 'i', "github_config", "The GitHub credentials file. No value: none."),
            Opt::so("builder-config", 'j', "builder_config", "A JSON file of Builder variables. No value: none."),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => test::create(ctx, args).await,
        "delete" => test::delete(ctx, args).await,
        "github" => test::github(ctx, args).await,
        "info" => test::info(ctx, args).await,
        "run" => test::run(ctx, args).await,
        "update" => test::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!("unknown command test {cmd}"))),
    }
}

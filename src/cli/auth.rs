//! `impt auth` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::auth;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "auth",
        about: "Authentication commands: log in to impCentral, log out, show the login status.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new(
            "auth",
            "info",
            "Shows the login status of the current directory.",
            "Shows the authentication (login) status that applies to the current directory: which Auth File or environment variables are used, the endpoint and the account.",
            auth::InfoOpts::table(),
        )
        .run(run!(auth::info)),
        CmdSpec::new(
            "auth",
            "login",
            "Logs in to impCentral and saves the credentials.",
            "Logs in to impCentral with a user name (or email) and password, or with a login key, and writes the Global Auth File (or the Local Auth File of the current directory with --local).",
            auth::LoginOpts::table(),
        )
        .usage("impt auth login [--local] [--endpoint <endpoint_url>] [--user <user_id> [--pwd <password>] | --lk <login_key_id>] [--temp] [--confirmed] [--output <mode>] [--help]")
        .run(run!(auth::login, auth::LoginOpts)),
        CmdSpec::new(
            "auth",
            "logout",
            "Logs out by deleting the Auth File.",
            "Deletes the Global Auth File, or the Local Auth File of the current directory with --local.",
            auth::LogoutOpts::table(),
        )
        .run(run!(auth::logout, auth::LogoutOpts)),
    ]
}

//! `impt auth` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{auth, Args, Ctx};
use crate::error::{ImptError, Result};

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
            vec![],
        ),
        CmdSpec::new(
            "auth",
            "login",
            "Logs in to impCentral and saves the credentials.",
            "Logs in to impCentral with a user name (or email) and password, or with a login key, and writes the Global Auth File (or the Local Auth File of the current directory with --local).",
            vec![
                Opt::f("local", 'l', "Writes the Local Auth File in the current directory instead of the Global Auth File."),
                Opt::s("endpoint", 'e', "endpoint_url", "The impCentral API endpoint; https://api.electricimp.com/v5 when not given."),
                Opt::s("user", 'u', "user_id", "The account's user name or email address."),
                Opt::s0("pwd", 'w', "password", "The account's password. Asked for when --user is given without it."),
                Opt::s("lk", 'k', "login_key_id", "A login key to log in with."),
                Opt::f("temp", 't', "Saves neither the login key nor the refresh token: the login ends when the access token expires."),
                Opt::f("confirmed", 'q', "Overwrites an existing Auth File without asking."),
            ],
        )
        .usage("impt auth login [--local] [--endpoint <endpoint_url>] [--user <user_id> [--pwd <password>] | --lk <login_key_id>] [--temp] [--confirmed] [--output <mode>] [--help]"),
        CmdSpec::new(
            "auth",
            "logout",
            "Logs out by deleting the Auth File.",
            "Deletes the Global Auth File, or the Local Auth File of the current directory with --local.",
            vec![Opt::f("local", 'l', "Deletes the Local Auth File instead of the Global Auth File.")],
        ),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "info" => auth::info(ctx).await,
        "login" => auth::login(ctx, args).await,
        "logout" => auth::logout(ctx, args).await,
        _ => Err(ImptError::Internal(format!("unknown command auth {cmd}"))),
    }
}

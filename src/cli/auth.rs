//! `impt auth` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{auth, Args, CommandCtx};
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
            auth::InfoOpts::table(),
        ),
        CmdSpec::new(
            "auth",
            "login",
            "Logs in to impCentral and saves the credentials.",
            "Logs in to impCentral with a user name (or email) and password, or with a login key, and writes the Global Auth File (or the Local Auth File of the current directory with --local).",
            auth::LoginOpts::table(),
        )
        .usage("impt auth login [--local] [--endpoint <endpoint_url>] [--user <user_id> [--pwd <password>] | --lk <login_key_id>] [--temp] [--confirmed] [--output <mode>] [--help]"),
        CmdSpec::new(
            "auth",
            "logout",
            "Logs out by deleting the Auth File.",
            "Deletes the Global Auth File, or the Local Auth File of the current directory with --local.",
            auth::LogoutOpts::table(),
        ),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "info" => auth::info(ctx).await,
        "login" => auth::login(ctx, &auth::LoginOpts::from_args(args)).await,
        "logout" => auth::logout(ctx, &auth::LogoutOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!("unknown command auth {cmd}"))),
    }
}

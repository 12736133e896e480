//! `impt loginkey` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{loginkey, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "loginkey",
        about: "Login key manipulation commands.",
        commands: commands(),
    }
}

fn pwd() -> Opt {
    Opt::s0(
        "pwd",
        'w',
        "password",
        "The account password. Asked for (without echo) when not given.",
    )
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new(
            "loginkey",
            "create",
            "Creates a new login key.",
            "Creates a new login key for the current account. The key itself is the id printed.",
            vec![
                pwd(),
                Opt::s0(
                    "descr",
                    's',
                    "login_key_description",
                    "Description of the login key.",
                ),
            ],
        ),
        CmdSpec::new(
            "loginkey",
            "delete",
            "Deletes a login key.",
            "Deletes the specified login key of the current account.",
            vec![
                Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key to delete.").req(),
                pwd(),
                Opt::f(
                    "confirmed",
                    'q',
                    "Executes the operation without asking for confirmation.",
                ),
            ],
        ),
        CmdSpec::new(
            "loginkey",
            "info",
            "Displays information about a login key.",
            "Displays information about the specified login key.",
            vec![Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key.").req()],
        ),
        CmdSpec::new(
            "loginkey",
            "list",
            "Displays the login keys of the current account.",
            "Lists every login key of the current account.",
            vec![],
        ),
        CmdSpec::new(
            "loginkey",
            "update",
            "Updates a login key.",
            "Changes the description of the specified login key.",
            vec![
                Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key to update.").req(),
                pwd(),
                Opt::s0(
                    "descr",
                    's',
                    "login_key_description",
                    "New description of the login key.",
                )
                .req(),
            ],
        ),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => loginkey::create(ctx, args).await,
        "delete" => loginkey::delete(ctx, args).await,
        "info" => loginkey::info(ctx, args).await,
        "list" => loginkey::list_cmd(ctx).await,
        "update" => loginkey::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command loginkey {cmd}"
        ))),
    }
}

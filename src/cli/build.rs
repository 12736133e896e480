//! `impt build` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "build",
        about: "",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![]
}

pub async fn run(_ctx: &Ctx, cmd: &str, _args: &Args) -> Result<()> {
    Err(ImptError::Internal(format!("unknown command build {cmd}")))
}

//! `impt product` commands.

use super::spec::{CmdSpec, GroupSpec};
use crate::commands::{product, Args, CommandCtx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "product",
        about: "Product manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("product", "create", "Creates a new Product.", "Creates a new Product, owned by the current account or by --owner.", product::CreateOpts::table()),
        CmdSpec::new("product", "delete", "Deletes a Product.", "Deletes the specified Product (by default the Project's Product). With --force also its Device Groups, unassigning their devices and unflagging their builds; with --builds also all its builds.", product::DeleteOpts::table()),
        CmdSpec::new("product", "info", "Displays information about a Product.", "Displays information about the specified Product (by default the Project's Product).", product::InfoOpts::table()),
        CmdSpec::new("product", "list", "Displays a list of Products.", "Lists the Products of the current account and of the accounts it collaborates with.", product::ListOpts::table()),
        CmdSpec::new("product", "update", "Updates a Product.", "Changes the name and/or description of the specified Product (by default the Project's Product).", product::UpdateOpts::table()),
    ]
}

pub async fn run(ctx: &CommandCtx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => product::create(ctx, &product::CreateOpts::from_args(args)).await,
        "delete" => product::delete(ctx, &product::DeleteOpts::from_args(args)).await,
        "info" => product::info(ctx, &product::InfoOpts::from_args(args)).await,
        "list" => product::list_cmd(ctx, &product::ListOpts::from_args(args)).await,
        "update" => product::update(ctx, &product::UpdateOpts::from_args(args)).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command product {cmd}"
        ))),
    }
}

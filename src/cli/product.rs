//! `impt product` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::product;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "product",
        about: "Product manipulation commands.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("product", "create", "Creates a new Product.", "Creates a new Product, owned by the current account or by --owner.", product::CreateOpts::table())
        .run(run!(product::create, product::CreateOpts)),
        CmdSpec::new("product", "delete", "Deletes a Product.", "Deletes the specified Product (by default the Project's Product). With --force also its Device Groups, unassigning their devices and unflagging their builds; with --builds also all its builds.", product::DeleteOpts::table())
        .run(run!(product::delete, product::DeleteOpts)),
        CmdSpec::new("product", "info", "Displays information about a Product.", "Displays information about the specified Product (by default the Project's Product).", product::InfoOpts::table())
        .run(run!(product::info, product::InfoOpts)),
        CmdSpec::new("product", "list", "Displays a list of Products.", "Lists the Products of the current account and of the accounts it collaborates with.", product::ListOpts::table())
        .run(run!(product::list_cmd, product::ListOpts)),
        CmdSpec::new("product", "update", "Updates a Product.", "Changes the name and/or description of the specified Product (by default the Project's Product).", product::UpdateOpts::table())
        .run(run!(product::update, product::UpdateOpts)),
    ]
}

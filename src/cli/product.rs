//! `impt product` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{product, Args, Ctx};
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
        CmdSpec::new("product", "create", "Creates a new Product.", "Creates a new Product, owned by the current account or by --owner.", vec![
            Opt::s("name", 'n', "product_name", "Name of the Product. Must be unique among the owner's Products.").req(),
            Opt::s0("descr", 's', "product_description", "Description of the Product."),
            Opt::s("owner", 'o', "ACCOUNT_IDENTIFIER", "The account to create the Product for (a collaborator's account)."),
        ]),
        CmdSpec::new("product", "delete", "Deletes a Product.", "Deletes the specified Product (by default the Project's Product). With --force also its Device Groups, unassigning their devices and unflagging their builds; with --builds also all its builds.", vec![
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product to delete. Default: the Product of the Project."),
            Opt::f("builds", 'b', "Also deletes every build of the Product, including builds of deleted Device Groups."),
            Opt::f("force", 'f', "Also deletes the Product's Device Groups, unassigning devices and unflagging builds."),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("product", "info", "Displays information about a Product.", "Displays information about the specified Product (by default the Project's Product).", vec![
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
            Opt::f("full", 'u', "Also shows the Product's Device Groups with their builds, targets, webhooks and devices."),
        ]),
        CmdSpec::new("product", "list", "Displays a list of Products.", "Lists the Products of the current account and of the accounts it collaborates with.", vec![
            Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Lists Products of this owner only. Repeatable: any of the owners."),
        ]),
        CmdSpec::new("product", "update", "Updates a Product.", "Changes the name and/or description of the specified Product (by default the Project's Product).", vec![
            Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
            Opt::s("name", 'n', "product_name", "New name of the Product."),
            Opt::s0("descr", 's', "product_description", "New description of the Product."),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => product::create(ctx, args).await,
        "delete" => product::delete(ctx, args).await,
        "info" => product::info(ctx, args).await,
        "list" => product::list_cmd(ctx, args).await,
        "update" => product::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command product {cmd}"
        ))),
    }
}

//! `impt webhook` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::api::types::{DG_TYPE_NAMES, WEBHOOK_EVENTS};
use crate::commands::{webhook, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "webhook",
        about: "Webhook manipulation commands.",
        commands: commands(),
    }
}

const MIMES: &[&str] = &["json", "urlencoded"];

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("webhook", "create", "Creates a new webhook.", "Creates a webhook for a Device Group (by default the Project's): impCentral calls the URL on the event.", vec![
            Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group. Default: the Device Group of the Project."),
            Opt::s("url", 'u', "target_url", "The URL called on the event.").req(),
            Opt::s("event", 'e', "trigger_event", "The event that triggers the webhook.").req().choices(&WEBHOOK_EVENTS),
            Opt::s("mime", 'm', "content_type", "The content type of the webhook's requests.").req().choices(MIMES),
        ]),
        CmdSpec::new("webhook", "delete", "Deletes a webhook.", "Deletes the specified webhook.", vec![
            Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook to delete.").req(),
            Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
        ]),
        CmdSpec::new("webhook", "info", "Displays information about a webhook.", "Displays information about the specified webhook.", vec![Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook.").req()]),
        CmdSpec::new("webhook", "list", "Displays a list of webhooks.", "Lists the webhooks available to the current account, filtered by the options; values of one option are alternatives.", vec![
            Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Webhooks of Device Groups owned by this account."),
            Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Webhooks of Device Groups of this Product."),
            Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Webhooks of this Device Group."),
            Opt::a("url", 'u', "target_url", "Webhooks with this URL."),
            Opt::a("event", 'e', "trigger_event", "Webhooks of this event.").choices(&WEBHOOK_EVENTS),
            Opt::a("dg-type", 'y', "DEVICE_GROUP_TYPE", "Webhooks of Device Groups of this type.").choices(&DG_TYPE_NAMES),
        ]),
        CmdSpec::new("webhook", "update", "Updates a webhook.", "Changes the URL and/or content type of the specified webhook.", vec![
            Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook to update.").req(),
            Opt::s("url", 'u', "target_url", "The new URL."),
            Opt::s("mime", 'm', "content_type", "The new content type.").choices(MIMES),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "create" => webhook::create(ctx, args).await,
        "delete" => webhook::delete(ctx, args).await,
        "info" => webhook::info(ctx, args).await,
        "list" => webhook::list_cmd(ctx, args).await,
        "update" => webhook::update(ctx, args).await,
        _ => Err(ImptError::Internal(format!(
            "unknown command webhook {cmd}"
        ))),
    }
}

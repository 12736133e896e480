//! `webhook create|delete|info|list|update`.

use impt_wire::requests;
use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::options::{options, Opt};

/// impt names of the webhook content types, as `--mime` takes them.
const MIMES: &[&str] = &["json", "urlencoded"];

use super::core::ident::dg_or_project;
use super::core::listing::{dg_types, id_filters, list, resolve_ids};
use super::core::{print_created, print_info, print_list, update_entity, CommandCtx};
use crate::api::{attr_str, id_of, rel_id};
use crate::error::{Entity, Result};
use impt_wire::types::WEBHOOK_MIME;
use impt_wire::types::{DG_TYPE_NAMES, WEBHOOK_EVENTS};

fn mime(name: &str) -> &'static str {
    WEBHOOK_MIME
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .unwrap_or("application/json")
}

/// A webhook by id (webhooks are identified by id only).
async fn find_hook(ctx: &CommandCtx, id: &str) -> Result<Value> {
    ctx.get_existing(Entity::Webhook, id).await
}

options! {
    /// Options of `webhook create`.
    pub struct CreateOpts {
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group. Default: the Device Group of the Project."),
        url: str = Opt::s("url", 'u', "target_url", "The URL called on the event.").req(),
        event: str = Opt::s("event", 'e', "trigger_event", "The event that triggers the webhook.").req().choices(&WEBHOOK_EVENTS),
        mime: str = Opt::s("mime", 'm', "content_type", "The content type of the webhook's requests.").req().choices(MIMES),
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    let (dg, _) = dg_or_project(ctx, o.dg.clone()).await?;
    let body = requests::create_webhook(
        &dg["type"],
        id_of(&dg),
        &o.event.clone().unwrap_or_default(),
        &o.url.clone().unwrap_or_default(),
        mime(&o.mime.clone().unwrap_or_default()),
    );
    let data = ctx.client().await?.create(Entity::Webhook, &body).await?;
    print_created(ctx, Entity::Webhook, id_of(&data), &data);
    Ok(())
}

options! {
    /// Options of `webhook info`.
    pub struct InfoOpts {
        wh: str = Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook.").req(),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let hook = find_hook(ctx, &o.wh.clone().unwrap_or_default()).await?;
    print_info(ctx, Entity::Webhook, &hook).await
}

options! {
    /// Options of `webhook update`.
    pub struct UpdateOpts {
        wh: str = Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook to update.").req(),
        url: str = Opt::s("url", 'u', "target_url", "The new URL."),
        mime: str = Opt::s("mime", 'm', "content_type", "The new content type.").choices(MIMES),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let id = o.wh.clone().unwrap_or_default();
    let old = find_hook(ctx, &id).await?;
    let mut attrs = Map::new();
    if let Some(u) = o.url.clone() {
        attrs.insert("url".into(), json!(u));
    }
    if let Some(m) = o.mime.clone() {
        attrs.insert("content_type".into(), json!(mime(&m)));
    }
    let body = requests::update_webhook(&id, attrs);
    update_entity(ctx, Entity::Webhook, &old, &id, &body).await
}

options! {
    /// Options of `webhook delete`.
    pub struct DeleteOpts {
        wh: str = Opt::s("wh", 'w', "WEBHOOK_ID", "The webhook to delete.").req(),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    let id = o.wh.clone().unwrap_or_default();
    let hook = find_hook(ctx, &id).await?;
    let mut plan = DeletePlan::default();
    plan.entity(Entity::Webhook, hook, id);
    plan.run(ctx, o.confirmed).await
}

options! {
    /// Options of `webhook list`.
    pub struct ListOpts {
        owner: strs = Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Webhooks of Device Groups owned by this account."),
        product: strs = Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Webhooks of Device Groups of this Product."),
        dg: strs = Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Webhooks of this Device Group."),
        url: strs = Opt::a("url", 'u', "target_url", "Webhooks with this URL."),
        event: strs = Opt::a("event", 'e', "trigger_event", "Webhooks of this event.").choices(&WEBHOOK_EVENTS),
        dg_type: strs = Opt::a("dg-type", 'y', "DEVICE_GROUP_TYPE", "Webhooks of Device Groups of this type.").choices(&DG_TYPE_NAMES),
    }
}

pub async fn list_cmd(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let filters = id_filters(ctx, &[(&o.dg, "devicegroup.id", Entity::DeviceGroup)]).await?;
    let mut items = list(ctx, Entity::Webhook, &filters).await?;
    // The API filters by group only; the rest is checked here, through each hook's group.
    let owners = resolve_ids(ctx, Entity::Account, &o.owner.clone()).await?;
    let products = resolve_ids(ctx, Entity::Product, &o.product.clone()).await?;
    let types = dg_types(&o.dg_type);
    let urls = o.url.clone();
    let events = o.event.clone();
    let mut kept = Vec::new();
    for h in items.drain(..) {
        if !urls.is_empty() && !urls.iter().any(|u| Some(u.as_str()) == attr_str(&h, "url")) {
            continue;
        }
        if !events.is_empty()
            && !events
                .iter()
                .any(|e| Some(e.as_str()) == attr_str(&h, "event"))
        {
            continue;
        }
        let dg = match rel_id(&h, "devicegroup") {
            Some(id) => ctx.get(Entity::DeviceGroup, id).await?,
            None => None,
        };
        let dg_ref = dg.as_ref();
        if !o.owner.is_empty()
            && !dg_ref
                .and_then(|g| rel_id(g, "owner"))
                .is_some_and(|o| owners.iter().any(|x| x == o))
        {
            continue;
        }
        if !o.product.is_empty()
            && !dg_ref
                .and_then(|g| rel_id(g, "product"))
                .is_some_and(|p| products.iter().any(|x| x == p))
        {
            continue;
        }
        if !o.dg_type.is_empty()
            && !dg_ref
                .and_then(|g| g["type"].as_str())
                .is_some_and(|t| types.iter().any(|x| x == t))
        {
            continue;
        }
        kept.push(h);
    }
    print_list(ctx, Entity::Webhook, kept).await
}

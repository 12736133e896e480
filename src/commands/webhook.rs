//! `webhook create|delete|info|list|update`.

use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::ident::dg_or_project;
use super::core::listing::{add_filter, dg_types, list, resolve_ids};
use super::core::{print_created, print_list, print_updated, Args, Ctx};
use crate::api::types::WEBHOOK_MIME;
use crate::api::{attr_str, encode_segment, id_of, rel_id};
use crate::error::{Entity, ImptError, Result};

fn mime(name: &str) -> &'static str {
    WEBHOOK_MIME
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .unwrap_or("application/json")
}

async fn find_hook(ctx: &Ctx, id: &str) -> Result<Value> {
    ctx.get(Entity::Webhook, id)
        .await?
        .ok_or_else(|| ImptError::NotFound {
            entity: Entity::Webhook,
            ident: id.to_string(),
        })
}

pub async fn create(ctx: &Ctx, args: &Args) -> Result<()> {
    let (dg, _) = dg_or_project(ctx, args.str("dg")).await?;
    let body = json!({"data": {
        "type": "webhook",
        "attributes": {"event": args.str("event"), "url": args.str("url"), "content_type": mime(&args.str("mime").unwrap_or_default())},
        "relationships": {"devicegroup": {"type": dg["type"], "id": id_of(&dg)}},
    }});
    let doc = ctx
        .client()
        .await?
        .post("/webhooks", &body)
        .await?
        .unwrap_or_default();
    let data = &doc["data"];
    print_created(ctx, Entity::Webhook, id_of(data), data);
    Ok(())
}

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let hook = find_hook(ctx, &args.str("wh").unwrap_or_default()).await?;
    ctx.ui
        .result(&super::core::display::info(ctx, Entity::Webhook, &hook).await?);
    Ok(())
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let id = args.str("wh").unwrap_or_default();
    find_hook(ctx, &id).await?;
    let mut attrs = Map::new();
    if let Some(u) = args.str("url") {
        attrs.insert("url".into(), json!(u));
    }
    if let Some(m) = args.str("mime") {
        attrs.insert("content_type".into(), json!(mime(&m)));
    }
    ctx.client()
        .await?
        .patch(
            &format!("/webhooks/{}", encode_segment(&id)),
            &json!({"data": {"type": "webhook", "id": id, "attributes": attrs}}),
        )
        .await?;
    print_updated(ctx, Entity::Webhook, &id);
    Ok(())
}

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    let id = args.str("wh").unwrap_or_default();
    let hook = find_hook(ctx, &id).await?;
    let mut plan = DeletePlan::default();
    plan.entity(Entity::Webhook, hook, id);
    plan.run(ctx, args.flag("confirmed")).await
}

pub async fn list_cmd(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut filters = Vec::new();
    add_filter(
        ctx,
        &mut filters,
        "devicegroup.id",
        Entity::DeviceGroup,
        args.strs("dg"),
    )
    .await?;
    let mut items = list(ctx, Entity::Webhook, &filters).await?;
    // The API filters by group only; the rest is checked here, through each hook's group.
    let owners = resolve_ids(ctx, Entity::Account, &args.strs("owner")).await?;
    let products = resolve_ids(ctx, Entity::Product, &args.strs("product")).await?;
    let types = dg_types(args);
    let urls = args.strs("url");
    let events = args.strs("event");
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
        if args.has("owner")
            && !dg_ref
                .and_then(|g| rel_id(g, "owner"))
                .is_some_and(|o| owners.iter().any(|x| x == o))
        {
            continue;
        }
        if args.has("product")
            && !dg_ref
                .and_then(|g| rel_id(g, "product"))
                .is_some_and(|p| products.iter().any(|x| x == p))
        {
            continue;
        }
        if args.has("dg-type")
            && !dg_ref
                .and_then(|g| g["type"].as_str())
                .is_some_and(|t| types.iter().any(|x| x == t))
        {
            continue;
        }
        kept.push(h);
    }
    print_list(ctx, Entity::Webhook, &kept).await
}

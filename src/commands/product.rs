//! `product create|delete|info|list|update`.

use serde_json::{json, Value};

use super::core::delete::DeletePlan;
use super::core::display::{self, info_map, short_body};
use super::core::ident::{find, product_or_project};
use super::core::listing::{add_filter, list};
use super::core::{print_created, print_list, print_updated, Args, Ctx};
use crate::api::{encode_segment, id_of, rel_id};
use crate::error::{Entity, Result};

pub async fn create(ctx: &Ctx, args: &Args) -> Result<()> {
    let name = args.str("name").unwrap_or_default();
    let mut data = json!({"type": "product", "attributes": {"name": name}});
    if let Some(d) = args.str("descr") {
        data["attributes"]["description"] = json!(d);
    }
    if let Some(owner) = args.str("owner") {
        let acc = find(ctx, Entity::Account, &owner).await?;
        data["relationships"] = json!({"owner": {"type": "account", "id": id_of(&acc)}});
    }
    let doc = ctx
        .client()
        .await?
        .post("/products", &json!({ "data": data }))
        .await?
        .unwrap_or_default();
    print_created(ctx, Entity::Product, &name, &doc["data"]);
    Ok(())
}

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let (p, _) = product_or_project(ctx, args.str("product"), true).await?;
    let mut m = info_map(ctx, Entity::Product, &p).await?;
    if args.flag("full") {
        let dgs = ctx
            .list(
                Entity::DeviceGroup,
                &[("product.id", id_of(&p).to_string())],
            )
            .await?;
        let mut shown = Vec::new();
        for dg in &dgs {
            let mut dm = short_body(Entity::DeviceGroup, dg);
            for (rel, label) in [
                ("current_deployment", "Current Deployment"),
                ("min_supported_deployment", "Min supported Deployment"),
            ] {
                if let Some(id) = rel_id(dg, rel) {
                    if let Some(b) = ctx.get(Entity::Deployment, id).await? {
                        dm.insert(
                            label.into(),
                            Value::Object(short_body(Entity::Deployment, &b)),
                        );
                    }
                }
            }
            for (rel, label) in [
                ("production_target", "Production Target"),
                ("dut_target", "DUT Target"),
            ] {
                if let Some(id) = rel_id(dg, rel) {
                    if let Some(t) = ctx.get(Entity::DeviceGroup, id).await? {
                        dm.insert(
                            label.into(),
                            Value::Object(short_body(Entity::DeviceGroup, &t)),
                        );
                    }
                }
            }
            display::dg_full_additions(ctx, dg, &mut dm).await?;
            shown.push(json!({ "Device Group": dm }));
        }
        if !shown.is_empty() {
            m.insert("Device Groups".into(), Value::Array(shown));
        }
    }
    ctx.ui.result(&json!({ "Product": m }));
    Ok(())
}

pub async fn list_cmd(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut filters = Vec::new();
    add_filter(
        ctx,
        &mut filters,
        "owner.id",
        Entity::Account,
        args.strs("owner"),
    )
    .await?;
    let items = list(ctx, Entity::Product, &filters).await?;
    print_list(ctx, Entity::Product, &items).await
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let (p, ident) = product_or_project(ctx, args.str("product"), false).await?;
    let mut attrs = serde_json::Map::new();
    if let Some(n) = args.str("name") {
        attrs.insert("name".into(), json!(n));
    }
    if let Some(d) = args.str("descr") {
        attrs.insert("description".into(), json!(d));
    }
    let id = id_of(&p);
    ctx.client()
        .await?
        .patch(
            &format!("/products/{}", encode_segment(id)),
            &json!({"data": {"type": "product", "id": id, "attributes": attrs}}),
        )
        .await?;
    print_updated(ctx, Entity::Product, &ident);
    Ok(())
}

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    let (p, ident) = product_or_project(ctx, args.str("product"), false).await?;
    let pid = id_of(&p).to_string();
    let mut plan = DeletePlan::default();
    plan.entity(Entity::Product, p.clone(), ident);
    let force = args.flag("force");
    let builds = args.flag("builds");
    if force {
        for dg in ctx
            .list(Entity::DeviceGroup, &[("product.id", pid.clone())])
            .await?
        {
            let dgid = id_of(&dg).to_string();
            plan.add_dg_forced(ctx, &dg, &dgid, false).await?;
        }
    }
    if builds {
        for b in ctx
            .list(Entity::Deployment, &[("product.id", pid.clone())])
            .await?
        {
            if force && crate::api::attr(&b, "flagged").and_then(Value::as_bool) == Some(true) {
                plan.unflag(b.clone());
            }
            let bid = id_of(&b).to_string();
            plan.entity(Entity::Deployment, b, bid);
        }
    }
    plan.run(ctx, args.flag("confirmed")).await
}

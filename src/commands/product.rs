//! `product create|delete|info|list|update`.

use impt_wire::requests;
use serde_json::{json, Value};

use super::core::delete::DeletePlan;
use super::core::display::{self, info_map, short_body};
use super::core::ident::{find, product_or_project};
use super::core::listing::{id_filters, list};
use super::core::options::{options, Opt};
use super::core::{print_created, print_list, update_entity, CommandCtx};
use crate::api::{id_of, rel_id};
use crate::error::{Entity, Result};

options! {
    /// Options of `product create`.
    pub struct CreateOpts {
        name: str = Opt::s("name", 'n', "product_name", "Name of the Product. Must be unique among the owner's Products.").req(),
        descr: str = Opt::s0("descr", 's', "product_description", "Description of the Product."),
        owner: str = Opt::s("owner", 'o', "ACCOUNT_IDENTIFIER", "The account to create the Product for (a collaborator's account)."),
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    let name = o.name.clone().unwrap_or_default();
    let owner = match o.owner.clone() {
        Some(owner) => Some(find(ctx, Entity::Account, &owner).await?),
        None => None,
    };
    let body = requests::create_product(&name, o.descr.as_deref(), owner.as_ref().map(id_of));
    let data = ctx.client().await?.create(Entity::Product, &body).await?;
    print_created(ctx, Entity::Product, &name, &data);
    Ok(())
}

options! {
    /// Options of `product info`.
    pub struct InfoOpts {
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
        full: flag = Opt::f("full", 'u', "Also shows the Product's Device Groups with their builds, targets, webhooks and devices."),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let (p, _) = product_or_project(ctx, o.product.clone(), true).await?;
    let mut m = info_map(ctx, Entity::Product, &p).await?;
    if o.full {
        let dgs = ctx
            .list(
                Entity::DeviceGroup,
                &[("product.id", id_of(&p).to_string())],
            )
            .await?;
        let mut shown = Vec::new();
        for dg in &dgs {
            let mut dm = short_body(Entity::DeviceGroup, dg);
            // its builds and targets, as `dg info` shows them
            let rels = display::info_relations(Entity::DeviceGroup)
                .iter()
                .filter(|(_, _, k)| matches!(k, Entity::Deployment | Entity::DeviceGroup));
            for &(rel, label, kind) in rels {
                if let Some(id) = rel_id(dg, rel) {
                    if let Some(r) = ctx.get(kind, id).await? {
                        dm.insert(label.into(), Value::Object(short_body(kind, &r)));
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

options! {
    /// Options of `product list`.
    pub struct ListOpts {
        owner: strs = Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Lists Products of this owner only. Repeatable: any of the owners."),
    }
}

pub async fn list_cmd(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let filters = id_filters(ctx, &[(&o.owner, "owner.id", Entity::Account)]).await?;
    let items = list(ctx, Entity::Product, &filters).await?;
    print_list(ctx, Entity::Product, items).await
}

options! {
    /// Options of `product update`.
    pub struct UpdateOpts {
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
        name: str = Opt::s("name", 'n', "product_name", "New name of the Product."),
        descr: str = Opt::s0("descr", 's', "product_description", "New description of the Product."),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let (p, ident) = product_or_project(ctx, o.product.clone(), false).await?;
    let mut attrs = serde_json::Map::new();
    if let Some(n) = o.name.clone() {
        attrs.insert("name".into(), json!(n));
    }
    if let Some(d) = o.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    let id = id_of(&p);
    let body = requests::update_product(id, attrs);
    update_entity(ctx, Entity::Product, &p, &ident, &body).await
}

options! {
    /// Options of `product delete`.
    pub struct DeleteOpts {
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product to delete. Default: the Product of the Project."),
        builds: flag = Opt::f("builds", 'b', "Also deletes every build of the Product, including builds of deleted Device Groups."),
        force: flag = Opt::f("force", 'f', "Also deletes the Product's Device Groups, unassigning devices and unflagging builds."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    let (p, ident) = product_or_project(ctx, o.product.clone(), false).await?;
    let pid = id_of(&p).to_string();
    let mut plan = DeletePlan::default();
    plan.entity(Entity::Product, p.clone(), ident);
    let force = o.force;
    let builds = o.builds;
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
    plan.run(ctx, o.confirmed).await
}

//! `device assign|info|list|remove|restart|unassign|update`.

use serde_json::{json, Value};

use super::core::delete::DeletePlan;
use super::core::devices::change_devices;
use super::core::ident::{dg_or_project, find, find_full};
use super::core::listing::{dg_type_filter, id_filters, list as list_filtered};
use super::core::{display, print_list, print_updated, Args, Ctx};
use crate::api::{attr, encode_segment, id_of, rel_id};
use crate::error::{Entity, ImptError, Result};

/// The device of `--device`, and the identifier as typed.
async fn device_opt(ctx: &Ctx, args: &Args) -> Result<(Value, String)> {
    let ident = args.str("device").unwrap_or_default();
    if ident.is_empty() {
        return Err(ImptError::NoIdentifier(Entity::Device));
    }
    Ok((find(ctx, Entity::Device, &ident).await?, ident))
}

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let ident = args.str("device").unwrap_or_default();
    let device = find_full(ctx, Entity::Device, &ident).await?;
    ctx.ui
        .result(&display::info(ctx, Entity::Device, &device).await?);
    Ok(())
}

pub async fn list(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut filters = id_filters(
        ctx,
        args,
        &[
            ("owner", "owner.id", Entity::Account),
            ("product", "product.id", Entity::Product),
            ("dg", "devicegroup.id", Entity::DeviceGroup),
        ],
    )
    .await?;
    filters.extend(dg_type_filter(args, "devicegroup.type"));
    let mut items = list_filtered(ctx, Entity::Device, &filters).await?;
    let (assigned, unassigned) = (args.flag("assigned"), args.flag("unassigned"));
    if assigned != unassigned {
        items.retain(|d| rel_id(d, "devicegroup").is_some() == assigned);
    }
    let (online, offline) = (args.flag("online"), args.flag("offline"));
    if online != offline {
        items.retain(|d| {
            (attr(d, "device_online").and_then(Value::as_bool) == Some(true)) == online
        });
    }
    print_list(ctx, Entity::Device, &items).await
}

pub async fn assign(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, ident) = device_opt(ctx, args).await?;
    let (dg, dg_ident) = dg_or_project(ctx, args.str("dg")).await?;
    let current = rel_id(&device, "devicegroup");
    if current == Some(id_of(&dg)) {
        ctx.ui.info(&format!(
            "Device \"{ident}\" is already assigned to Device Group \"{dg_ident}\"."
        ));
        ctx.ui.json_empty();
        return Ok(());
    }
    if current.is_some() && !args.flag("confirmed") {
        ctx.ui.confirm(Some(&format!(
            "Device \"{ident}\" is assigned to another Device Group. It will be reassigned to Device Group \"{dg_ident}\"."
        )))?;
    }
    change_devices(
        ctx,
        reqwest::Method::POST,
        id_of(&dg),
        &[id_of(&device)],
        &[],
    )
    .await?;
    ctx.ui.info(&format!(
        "Device \"{ident}\" is assigned successfully to Device Group \"{dg_ident}\"."
    ));
    ctx.ui.json_empty();
    Ok(())
}

pub async fn unassign(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, ident) = device_opt(ctx, args).await?;
    match rel_id(&device, "devicegroup") {
        None => ctx
            .ui
            .info(&format!("Device \"{ident}\" is already unassigned.")),
        Some(dg) => {
            // As in impt 2.6.1, the unbond key of this command is not sent.
            change_devices(ctx, reqwest::Method::DELETE, dg, &[id_of(&device)], &[]).await?;
            ctx.ui
                .info(&format!("Device \"{ident}\" is unassigned successfully."));
        }
    }
    ctx.ui.json_empty();
    Ok(())
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, ident) = device_opt(ctx, args).await?;
    let id = id_of(&device);
    let name = args.str("name").unwrap_or_default();
    ctx.client()
        .await?
        .patch(
            &format!("/devices/{}", encode_segment(id)),
            &json!({"data": {"type": "device", "id": id, "attributes": {"name": name}}}),
        )
        .await?;
    print_updated(ctx, Entity::Device, &ident);
    Ok(())
}

pub async fn remove(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, ident) = device_opt(ctx, args).await?;
    let device = ctx
        .get(Entity::Device, id_of(&device))
        .await?
        .unwrap_or(device);
    let mut plan = DeletePlan::default();
    if args.flag("force") && rel_id(&device, "devicegroup").is_some() {
        plan.unassign(device.clone());
    }
    plan.remove.push((device, ident));
    plan.run(ctx, args.flag("confirmed")).await
}

pub async fn restart(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, ident) = device_opt(ctx, args).await?;
    let id = id_of(&device).to_string();
    let what =
        super::core::restart::request_restart(ctx, Entity::Device, &id, args.flag("conditional"))
            .await?;
    ctx.ui
        .info(&format!("{what} for Device \"{ident}\" is successful."));
    if args.flag("log") {
        return super::core::stream::stream_devices(ctx, &[id]).await;
    }
    ctx.ui.json_empty();
    Ok(())
}

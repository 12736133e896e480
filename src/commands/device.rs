//! `device assign|info|list|remove|restart|unassign|update`.

use serde_json::Value;

use super::core::delete::DeletePlan;
use super::core::devices::change_devices;
use super::core::display::Rows;
use super::core::ident::{dg_or_project, find, find_full};
use super::core::listing::{dg_type_filter, either, list_each, owner_product_dg};
use super::core::options::{options, Opt};
use super::core::{print_info, print_rows, update_entity, CommandCtx};
use crate::api::{attr, id_of, rel_id};
use crate::error::{Entity, ImptError, Result};
use impt_wire::types::DG_TYPE_NAMES;

fn device_opt() -> Opt {
    Opt::s(
        "device",
        'd',
        "DEVICE_IDENTIFIER",
        "The Device: its id, MAC address, agent id or name.",
    )
    .req()
}

/// The device of `--device`, and the identifier as typed.
async fn find_device(ctx: &CommandCtx, device: &Option<String>) -> Result<(Value, String)> {
    let ident = device.clone().unwrap_or_default();
    if ident.is_empty() {
        return Err(ImptError::NoIdentifier(Entity::Device));
    }
    Ok((find(ctx, Entity::Device, &ident).await?, ident))
}

options! {
    /// Options of `device info`.
    pub struct InfoOpts {
        device: str = device_opt(),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let ident = o.device.clone().unwrap_or_default();
    let device = find_full(ctx, Entity::Device, &ident).await?;
    print_info(ctx, Entity::Device, &device).await
}

options! {
    /// Options of `device list`.
    pub struct ListOpts {
        owner: strs = Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Only Devices owned by this account. Repeatable."),
        product: strs = Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Only Devices assigned to Device Groups of this Product. Repeatable."),
        dg: strs = Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Only Devices assigned to this Device Group. Repeatable."),
        dg_type: strs = Opt::a("dg-type", 'y', "device_group_type", "Only Devices assigned to Device Groups of this type. Repeatable.").choices(&DG_TYPE_NAMES),
        unassigned: flag = Opt::f("unassigned", 'u', "Only Devices not assigned to any Device Group."),
        assigned: flag = Opt::f("assigned", 'a', "Only Devices assigned to a Device Group."),
        online: flag = Opt::f("online", 'n', "Only Devices that are online."),
        offline: flag = Opt::f("offline", 'f', "Only Devices that are offline."),
    }
}

pub async fn list(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let mut filters = owner_product_dg(ctx, &o.owner, &o.product, &o.dg).await?;
    filters.extend(dg_type_filter(&o.dg_type, "devicegroup.type"));
    let assigned = either(o.assigned, o.unassigned);
    let online = either(o.online, o.offline);
    let mut rows = Rows::new(Entity::Device);
    list_each(ctx, Entity::Device, &filters, &mut |mut items| {
        if let Some(assigned) = assigned {
            items.retain(|d| rel_id(d, "devicegroup").is_some() == assigned);
        }
        if let Some(online) = online {
            items.retain(|d| {
                (attr(d, "device_online").and_then(Value::as_bool) == Some(true)) == online
            });
        }
        rows.take(items);
    })
    .await?;
    print_rows(ctx, rows).await
}

options! {
    /// Options of `device assign`.
    pub struct AssignOpts {
        device: str = device_opt(),
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group to assign the Device to. Default: the Device Group of the Project."),
        confirmed: flag = Opt::f("confirmed", 'q', "Reassigns without asking for confirmation."),
    }
}

pub async fn assign(ctx: &CommandCtx, o: &AssignOpts) -> Result<()> {
    let (device, ident) = find_device(ctx, &o.device).await?;
    let (dg, dg_ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let current = rel_id(&device, "devicegroup");
    if current == Some(id_of(&dg)) {
        ctx.ui.info(&format!(
            "Device \"{ident}\" is already assigned to Device Group \"{dg_ident}\"."
        ));
        super::core::Changed::new()
            .entity(Entity::Device, &device)
            .entity(Entity::DeviceGroup, &dg)
            .print(ctx);
        return Ok(());
    }
    if current.is_some() && !o.confirmed {
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
    super::core::Changed::new()
        .entity(Entity::Device, &device)
        .entity(Entity::DeviceGroup, &dg)
        .print(ctx);
    Ok(())
}

options! {
    /// Options of `device unassign`.
    pub struct UnassignOpts {
        device: str = device_opt(),
        unbond: str = Opt::s0("unbond", 'u', "unbond_key", "The unbond key needed to unassign a Device from a production Device Group."),
    }
}

pub async fn unassign(ctx: &CommandCtx, o: &UnassignOpts) -> Result<()> {
    let (device, ident) = find_device(ctx, &o.device).await?;
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
    super::core::Changed::new()
        .entity(Entity::Device, &device)
        .print(ctx);
    Ok(())
}

options! {
    /// Options of `device update`.
    pub struct UpdateOpts {
        device: str = device_opt(),
        name: str = Opt::s0("name", 'n', "device_name", "The new name of the Device (empty to clear it).").req(),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let (device, ident) = find_device(ctx, &o.device).await?;
    let id = id_of(&device);
    let name = o.name.clone().unwrap_or_default();
    let body = impt_wire::requests::rename_device(id, &name);
    update_entity(ctx, Entity::Device, &device, &ident, &body).await
}

options! {
    /// Options of `device remove`.
    pub struct RemoveOpts {
        device: str = device_opt(),
        force: flag = Opt::f("force", 'f', "Unassigns the Device from its Device Group before removing it."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn remove(ctx: &CommandCtx, o: &RemoveOpts) -> Result<()> {
    let (device, ident) = find_device(ctx, &o.device).await?;
    let device = ctx
        .get(Entity::Device, id_of(&device))
        .await?
        .unwrap_or(device);
    let mut plan = DeletePlan::default();
    if o.force && rel_id(&device, "devicegroup").is_some() {
        plan.unassign(device.clone());
    }
    plan.remove.push((device, ident));
    plan.run(ctx, o.confirmed).await
}

options! {
    /// Options of `device restart`.
    pub struct RestartOpts {
        device: str = device_opt(),
        conditional: flag = Opt::f("conditional", 'c', "Sends a conditional restart request (the Device restarts only if new code is pending)."),
        log: flag = Opt::f("log", 'l', "Streams the Device's logs afterwards (like impt log stream); Ctrl-C ends it."),
    }
}

pub async fn restart(ctx: &CommandCtx, o: &RestartOpts) -> Result<()> {
    let (device, ident) = find_device(ctx, &o.device).await?;
    let id = id_of(&device).to_string();
    // Subscribed before the restart, so the first lines of the restarted code are shown.
    let tail = match o.log {
        true => Some(super::core::stream::Tail::open(ctx, std::slice::from_ref(&id)).await?),
        false => None,
    };
    let what =
        super::core::restart::request_restart(ctx, Entity::Device, &id, o.conditional).await?;
    ctx.ui
        .info(&format!("{what} for Device \"{ident}\" is successful."));
    if let Some(tail) = tail {
        return tail.run(ctx).await;
    }
    super::core::Changed::new()
        .entity(Entity::Device, &device)
        .print(ctx);
    Ok(())
}

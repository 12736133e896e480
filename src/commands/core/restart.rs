//! Restarting the devices of a Device Group (`dg restart`, `build run`).

use serde_json::Value;

use super::display::{short, truncated};
use super::stream::Tail;
use super::CommandCtx;
use crate::api::id_of;
use crate::error::{Entity, Result};

/// Lists the group's devices and restarts them (or conditionally). Prints the original's
/// messages and returns the devices (empty: nothing was restarted). With `log`, the devices'
/// log stream is opened and subscribed before the restart is sent (returned to be run), so
/// the first lines of the restarted code are shown.
pub async fn restart_dg(
    ctx: &CommandCtx,
    dg: &Value,
    ident: &str,
    conditional: bool,
    log: bool,
) -> Result<(Vec<Value>, Option<Tail>)> {
    let id = id_of(dg).to_string();
    let devices = ctx
        .list(Entity::Device, &[("devicegroup.id", id.clone())])
        .await?;
    if devices.is_empty() {
        ctx.ui.info(&format!(
            "Device Group \"{ident}\" does not have assigned Devices."
        ));
        return Ok((devices, None));
    }
    let tail = if log {
        let ids: Vec<String> = devices.iter().map(|d| id_of(d).to_string()).collect();
        Some(Tail::open(ctx, &ids).await?)
    } else {
        None
    };
    let what = request_restart(ctx, Entity::DeviceGroup, &id, conditional).await?;
    ctx.ui.info(&format!(
        "{what} for Devices assigned to Device Group \"{ident}\" is successful:"
    ));
    print_devices_info(ctx, &devices);
    Ok((devices, tail))
}

/// Restarts a device or a group's devices (see [`crate::api::restart`]). Returns how the original's
/// success message starts: `Restart request` or `Conditional restart request`.
pub async fn request_restart(
    ctx: &CommandCtx,
    entity: Entity,
    id: &str,
    conditional: bool,
) -> Result<&'static str> {
    crate::api::restart(ctx.client().await?, entity, id, conditional).await?;
    Ok(if conditional {
        "Conditional restart request"
    } else {
        "Restart request"
    })
}

/// Device list data at info level, cut to 5 plus `And <n> more Device(s).`.
pub fn print_devices_info(ctx: &CommandCtx, devices: &[Value]) {
    if ctx.ui.is_json()
        || !matches!(
            ctx.ui.mode(),
            crate::output::Mode::Default | crate::output::Mode::Debug
        )
    {
        return;
    }
    let shown: Vec<Value> = devices.iter().map(|d| short(Entity::Device, d)).collect();
    let (head, more) = truncated(&shown, "Device");
    ctx.ui.result(&head);
    if let Some(m) = more {
        ctx.ui.info(&m);
    }
}

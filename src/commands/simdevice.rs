//! `impt sim device list|disconnect|reconnect|power-cycle|pin`: drive the virtual devices of
//! a running simulator (`impt sim`, or the one of `impt watch --sim`) from another shell,
//! through its control endpoints. Not part of the original impt.

use serde_json::{json, Value};

use super::core::options::{options, Opt};
use super::core::CommandCtx;
use crate::api::simctl::{self, SimControl};
use crate::error::{ImptError, Result};

options! {
    /// Which simulator and which of its devices.
    pub struct TargetOpts {
        device: str = Opt::s("device", 'd', "DEVICE_IDENTIFIER", "The virtual device: its id or MAC address. Default: the simulator's only device."),
        port: num = Opt::n("port", 'p', "PORT", "The simulator's port on 127.0.0.1 (impt sim prints it; impt watch --sim too). Default: the simulator of the current login's endpoint."),
    }
}

options! {
    /// Options of `sim device list`.
    pub struct ListOpts {
        port: num = Opt::n("port", 'p', "PORT", "The simulator's port on 127.0.0.1 (impt sim prints it; impt watch --sim too). Default: the simulator of the current login's endpoint."),
    }
}

options! {
    /// Options of `sim device disconnect`.
    pub struct DisconnectOpts {
        target: flatten(TargetOpts),
        seconds: num = Opt::n("for", 'f', "SECONDS", "Restores the connection after this many seconds (of the simulator's clock). Default: only sim device reconnect restores it."),
        reason: str = Opt::s("reason", 'r', "REASON", "What the device's failed connection attempts report: NO_WIFI (default), NO_IP_ADDRESS, NOT_RESOLVED, NO_SERVER, … or the number."),
    }
}

options! {
    /// Options of `sim device reconnect` and `sim device power-cycle`.
    pub struct DeviceOpts {
        target: flatten(TargetOpts),
    }
}

options! {
    /// Options of `sim device pin`.
    pub struct PinOpts {
        target: flatten(TargetOpts),
        pin: str = Opt::s("pin", 'n', "PIN", "The input pin, e.g. pin1 or pinM (the device's imp type has it).").req(),
        value: str = Opt::s("value", 'v', "VALUE", "0 or 1 (a digital input: a change runs its callback), or a level from 0.0 to 1.0 (an analog input).").req(),
    }
}

/// The simulator: the one on `--port`, else the one the current login's endpoint names.
fn simulator(port: Option<u64>) -> Result<SimControl> {
    if let Some(p) = port {
        let p = u16::try_from(p)
            .map_err(|_| ImptError::msg(format!("Port {p} is not a TCP port (1 to 65535).")))?;
        return Ok(SimControl::on_port(p));
    }
    let endpoint = crate::config::auth::resolve().ok().map(|a| a.endpoint());
    endpoint
        .as_deref()
        .and_then(SimControl::of_endpoint)
        .ok_or_else(|| {
            ImptError::msg(
                "Which simulator? Give its port with --port (impt sim prints it: \"impCentral simulator listening on http://127.0.0.1:PORT/v5\"), or log in to it with impt auth login --endpoint.",
            )
        })
}

/// The simulator and the device of the options (the only one when none is named).
async fn target(o: &TargetOpts) -> Result<(SimControl, String)> {
    let sim = simulator(o.port)?;
    if let Some(d) = o.device.clone() {
        return Ok((sim, d));
    }
    let devices = sim.devices().await?;
    match devices.as_slice() {
        [one] => {
            let id = one.get("id").and_then(Value::as_str).unwrap_or_default();
            Ok((sim, id.to_string()))
        }
        [] => Err(ImptError::msg("The simulator has no device.")),
        _ => Err(ImptError::msg(format!(
            "The simulator has {} devices: name one with --device (impt sim device list shows them).",
            devices.len()
        ))),
    }
}

pub async fn list(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let sim = simulator(o.port)?;
    let devices = sim.devices().await?;
    if devices.is_empty() {
        ctx.ui.info("The simulator has no device.");
        ctx.ui.json_empty();
        return Ok(());
    }
    let field = |d: &Value, k: &str| d.get(k).cloned().unwrap_or(Value::Null);
    let rows: Vec<Value> = devices
        .iter()
        .map(|d| {
            json!({"Device": {
                "id": field(d, "id"),
                "mac_address": field(d, "mac_address"),
                "imp_type": field(d, "imp_type"),
                "online": field(d, "online"),
                "account": field(d, "account"),
                "devicegroup": field(d, "devicegroup"),
            }})
        })
        .collect();
    ctx.ui.result(&Value::Array(rows));
    Ok(())
}

pub async fn disconnect(ctx: &CommandCtx, o: &DisconnectOpts) -> Result<()> {
    let (sim, device) = target(&o.target).await?;
    sim.disconnect(&device, o.seconds, o.reason.as_deref())
        .await?;
    ctx.ui.info(&match o.seconds {
        Some(s) => format!("The connection of device \"{device}\" is cut for {s} s."),
        None => {
            format!("The connection of device \"{device}\" is cut until impt sim device reconnect.")
        }
    });
    Ok(())
}

pub async fn reconnect(ctx: &CommandCtx, o: &DeviceOpts) -> Result<()> {
    let (sim, device) = target(&o.target).await?;
    sim.reconnect(&device).await?;
    ctx.ui.info(&format!(
        "The connection of device \"{device}\" is restored."
    ));
    Ok(())
}

pub async fn power_cycle(ctx: &CommandCtx, o: &DeviceOpts) -> Result<()> {
    let (sim, device) = target(&o.target).await?;
    sim.power_cycle(&device).await?;
    ctx.ui
        .info(&format!("Device \"{device}\" is powered off and on."));
    Ok(())
}

pub async fn pin(ctx: &CommandCtx, o: &PinOpts) -> Result<()> {
    let raw = o.value.clone().unwrap_or_default();
    let value = simctl::pin_value(&raw).ok_or_else(|| {
        ImptError::msg(format!(
            "Pin value \"{raw}\" is not 0, 1 or a level from 0.0 to 1.0."
        ))
    })?;
    let (sim, device) = target(&o.target).await?;
    let pin = o.pin.clone().unwrap_or_default();
    sim.pin(&device, &pin, value.clone()).await?;
    ctx.ui
        .info(&format!("Pin {pin} of device \"{device}\" is at {value}."));
    Ok(())
}

//! The virtual hardware of devices: which imp type each device is (its `hardware` object
//! comes from `impt_vm`'s imp type tables).

use super::app::App;
use super::error::{ApiError, ApiResult};
use serde_json::Value;

/// The imp type of `device_id` (the default type if the device is gone).
pub fn device_imp_type(app: &App, device_id: &str) -> String {
    let w = app.world();
    w.db.device(device_id)
        .map_or_else(|| app.cfg.imp_type.clone(), |d| d.imp_type.clone())
}

/// A valid imp type name (as the reference spells it) from `name`, or the error text.
pub fn parse_imp_type(name: &str) -> Result<String, String> {
    impt_vm::imp_type(name)
        .map(|t| t.name.to_string())
        .ok_or_else(|| {
            format!(
                "unknown imp type \"{name}\" (one of {})",
                impt_vm::imp_type_names().join(", ")
            )
        })
}

/// The `imp_type` field of a `/_sim/` request body, or `default`.
pub fn imp_type_field(body: &Value, default: &str) -> ApiResult<String> {
    match body.get("imp_type") {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(Value::String(s)) => parse_imp_type(s).map_err(|e| ApiError::bad_request(&e)),
        Some(_) => Err(ApiError::bad_request("\"imp_type\" must be a string.")),
    }
}

pub mod board;
pub mod parts;

use board::Board;
use impt_vm::Value as VmValue;
use std::collections::HashMap;
use std::sync::Mutex;

/// The boards of the devices that have parts attached, by device id.
#[derive(Default)]
pub struct Boards(Mutex<HashMap<String, Board>>);

/// Attach the part file `text` to a device (replacing its parts); checked against the
/// device's imp type.
pub fn attach(app: &App, device_id: &str, text: &str) -> Result<(), String> {
    let typ = device_imp_type(app, device_id);
    let imp = impt_vm::imp_type(&typ).ok_or_else(|| format!("unknown imp type {typ}"))?;
    let file = parts::parse(text, imp)?;
    super::app::lock(&app.boards.0).insert(device_id.to_string(), Board::new(file));
    Ok(())
}

/// Remove a device's parts (it falls back to `impt sim --parts`, if given).
pub fn detach(app: &App, device_id: &str) {
    super::app::lock(&app.boards.0).remove(device_id);
}

/// Runs `f` on the device's board, made from `impt sim --parts` at first use if the device
/// has none; `None` when nothing is attached.
fn with_board<T>(app: &App, device_id: &str, f: impl FnOnce(&mut Board) -> T) -> Option<T> {
    let mut boards = super::app::lock(&app.boards.0);
    if !boards.contains_key(device_id) {
        let text = app.cfg.parts.as_ref()?;
        let typ = device_imp_type(app, device_id);
        let file = parts::parse(text, impt_vm::imp_type(&typ)?).ok()?;
        boards.insert(device_id.to_string(), Board::new(file));
    }
    boards.get_mut(device_id).map(f)
}

/// A bus transaction of a device's code: the answer and the trace lines to log.
pub fn op(
    app: &App,
    device_id: &str,
    op: &str,
    args: &[VmValue],
    now: f64,
) -> (VmValue, Vec<String>) {
    if op == "pin_events" {
        let events = with_board(app, device_id, |b| {
            b.pins
                .iter()
                .map(|(at, pin, v)| {
                    VmValue::Array(vec![
                        VmValue::Float(*at),
                        VmValue::Str(pin.clone()),
                        v.clone(),
                    ])
                })
                .collect()
        });
        return (VmValue::Array(events.unwrap_or_default()), Vec::new());
    }
    with_board(app, device_id, |b| b.op(op, args, now)).unwrap_or((VmValue::Null, Vec::new()))
}

/// A pin the device drove (chip selects of SPI parts).
pub fn pin_written(app: &App, device_id: &str, pin: &str, value: &VmValue) {
    with_board(app, device_id, |b| b.pin_written(pin, value));
}

/// A pin value from JSON (`/_sim/devices/ID/pins`): 0/1, true/false or 0.0-1.0.
pub fn pin_value(v: &Value) -> Option<VmValue> {
    match v {
        Value::Bool(b) => Some(VmValue::Int(*b as i64)),
        Value::Number(n) if n.is_i64() => Some(VmValue::Int(n.as_i64()?.clamp(0, 65535))),
        Value::Number(n) => Some(VmValue::Float(n.as_f64()?.clamp(0.0, 1.0))),
        _ => None,
    }
}

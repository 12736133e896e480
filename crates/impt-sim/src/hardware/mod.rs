//! The virtual hardware of devices: which imp type each device is (its `hardware` object
//! comes from `impt_vm`'s imp type tables).

use super::app::App;
use super::error::{ApiError, ApiResult};
use serde_json::Value;

/// The imp type of `device_id` (the default type if the device is gone).
pub fn device_imp_type(app: &App, device_id: &str) -> String {
    let w = app.world();
    w.db.devices
        .iter()
        .find(|d| d.id == device_id)
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

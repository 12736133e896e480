//! Device changes of a Device Group: assigning and unassigning devices
//! (`device assign|unassign`, `dg unassign|reassign`).

use serde_json::{json, Value};

use super::CommandCtx;
use crate::api::encode_segment;
use crate::error::Result;

/// `{"data": [{"type": "device", "id": …}, …]}` for the devices relationship endpoints.
pub fn devices_body(ids: &[&str]) -> Value {
    json!({ "data": ids.iter().map(|id| json!({"type": "device", "id": id})).collect::<Vec<_>>() })
}

/// `POST` (assign) or `DELETE` (unassign) on `/devicegroups/{dg}/relationships/devices`.
pub async fn change_devices(
    ctx: &CommandCtx,
    method: reqwest::Method,
    dg_id: &str,
    ids: &[&str],
    headers: &[(&str, String)],
) -> Result<()> {
    ctx.client()
        .await?
        .request(
            method,
            &format!(
                "/devicegroups/{}/relationships/devices",
                encode_segment(dg_id)
            ),
            &[],
            Some(&devices_body(ids)),
            headers,
        )
        .await?;
    ctx.invalidate();
    Ok(())
}

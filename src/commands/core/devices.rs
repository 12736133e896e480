//! Device changes of a Device Group: assigning and unassigning devices
//! (`device assign|unassign`, `dg unassign|reassign`).

use serde_json::Value;

use super::CommandCtx;
use crate::api::encode_segment;
use crate::error::Result;

/// `{"data": [{"type": "device", "id": …}, …]}` for the devices relationship endpoints.
pub fn devices_body(ids: &[&str]) -> Value {
    impt_wire::requests::devices(ids)
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

//! Device changes of a Device Group: assigning and unassigning devices
//! (`device assign|unassign`, `dg unassign|reassign`).

use super::CommandCtx;
use crate::api::encode_segment;
use crate::error::Result;

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
            Some(&impt_wire::requests::devices(ids)),
            headers,
        )
        .await?;
    ctx.invalidate();
    Ok(())
}

//! `log get` and `log stream`, and the log streaming used by `build run --log`,
//! `dg restart --log` and `device restart --log`.

use super::Ctx;
use crate::error::{ImptError, Result};

/// Streams the logs of these devices (ids) until Ctrl-C or the stream is closed. Prints
/// `Log stream for Device(s) … is opened.`, `IMPT COMMAND SUCCEEDS` and the log lines.
pub async fn stream_devices(_ctx: &Ctx, _device_ids: &[String]) -> Result<()> {
    Err(ImptError::Internal(
        "log streaming is not implemented yet".into(),
    ))
}

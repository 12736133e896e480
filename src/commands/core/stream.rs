//! Streaming device logs until Ctrl-C (`log stream`, `build run --log`, `dg restart --log`,
//! `device restart --log`), and the text of one log entry.

use std::time::Duration;

use serde_json::Value;

use super::CommandCtx;
use crate::api::logstream::{LogStream, StreamEvent};
use crate::error::{Entity, ImptError, Result};

/// How many device ids the "opened" line shows before `...`.
const SHOWN_IDS: usize = 5;

/// `<ts> [<type>] <msg>`, prefixed by `[<device_id>] ` when asked and present.
pub fn format_log(log: &Value, with_device: bool) -> String {
    let s = |k: &str| match log.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "undefined".to_string(),
        Some(other) => other.to_string(),
    };
    let line = format!("{} [{}] {}", s("ts"), s("type"), s("msg"));
    match log.get("device_id") {
        Some(_) if with_device => format!("[{}] {line}", s("device_id")),
        _ => line,
    }
}

/// Streams the logs of these devices (ids) until Ctrl-C or the stream is closed. Prints
/// `Log stream for Device(s) … is opened.`, `IMPT COMMAND SUCCEEDS` and the log lines.
pub async fn stream_devices(ctx: &CommandCtx, device_ids: &[String]) -> Result<()> {
    let mut ids: Vec<String> = Vec::new();
    for id in device_ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    if ids.is_empty() {
        return Err(ImptError::NoIdentifier(Entity::Device));
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let mut stream = tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            s = open(ctx, &ids) => s?,
        };
        let mut shown: Vec<&str> = ids.iter().take(SHOWN_IDS).map(String::as_str).collect();
        if ids.len() > SHOWN_IDS {
            shown.push("...");
        }
        ctx.ui.stop_spinner();
        ctx.ui.info(&format!(
            "Log stream for Device(s) {} is opened.",
            shown.join(", ")
        ));
        ctx.ui.succeeds();
        ctx.ui.info("");
        ctx.ui.info("Press <Ctrl-C> to exit.");
        loop {
            let ev = tokio::select! {
                _ = &mut ctrl_c => return Ok(()),
                ev = stream.next() => ev,
            };
            match ev {
                Some(StreamEvent::Log(v)) => ctx.ui.log_line(&format_log(&v, true), &v),
                Some(StreamEvent::State(v)) => {
                    if v.get("state").and_then(Value::as_str) == Some("closed") {
                        ctx.ui.info("The log stream is closed.");
                        return Ok(());
                    }
                }
                Some(StreamEvent::Garbled(raw)) => {
                    return Err(ImptError::Internal(format!(
                        "Unexpected format of log stream message: {raw}"
                    )))
                }
                Some(StreamEvent::Lost { reason, .. }) => {
                    ctx.ui.error(&ImptError::msg(reason));
                    break;
                }
                None => {
                    ctx.ui.error(&ImptError::msg("the log stream ended"));
                    break;
                }
            }
        }
        drop(stream);
        ctx.ui
            .info("The log stream is lost. Trying to reconnect...");
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Creates a stream, waits a second as the original does, then adds the devices.
async fn open(ctx: &CommandCtx, ids: &[String]) -> Result<LogStream> {
    let client = ctx.client().await?;
    let stream = LogStream::open(client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in ids {
        stream.add_device(client, id).await?;
    }
    Ok(stream)
}

//! `log get` and `log stream`, and the log streaming used by `build run --log`,
//! `dg restart --log` and `device restart --log`.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::ident::{find, project_dg};
use super::{display, Args, Ctx};
use crate::api::logstream::{LogStream, StreamEvent};
use crate::api::{encode_segment, id_of};
use crate::error::{Entity, ImptError, Result};

/// How many device ids the "opened" line shows before `...`.
const SHOWN_IDS: usize = 5;

/// `<ts> [<type>] <msg>`, prefixed by `[<device_id>] ` when asked and present.
fn format_log(log: &Value, with_device: bool) -> String {
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

/// Lines typed on stdin, read by a detached thread (so a pending read never blocks exit).
/// `None` from the receiver = end of input.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line.clone()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The device of `log get`: the option, else the single device of the Project's group.
async fn log_device(ctx: &Ctx, option: Option<String>) -> Result<Value> {
    if let Some(ident) = option {
        return find(ctx, Entity::Device, &ident).await;
    }
    let Some(project) = ctx.project()? else {
        return Err(ImptError::NoIdentifier(Entity::Device));
    };
    let dg = project_dg(ctx, project.device_group_id().unwrap_or_default()).await?;
    let mut devices = ctx
        .list(
            Entity::Device,
            &[("devicegroup.id", id_of(&dg).to_string())],
        )
        .await?;
    match devices.len() {
        0 => Err(ImptError::NoIdentifier(Entity::Device)),
        1 => Ok(devices.remove(0)),
        _ => {
            let shown = display::list_items(ctx, Entity::Device, &devices).await?;
            Err(ImptError::Multiple {
                entity: Entity::Device,
                ident: None,
                matches: shown.as_array().cloned().unwrap_or_default(),
            })
        }
    }
}

/// Prints one page of historical logs; returns how many entries it had.
async fn print_page(ctx: &Ctx, device_id: &str, page: u64, size: u64) -> Result<usize> {
    let doc = ctx
        .client()
        .await?
        .get_query(
            &format!("/devices/{}/logs", encode_segment(device_id)),
            &[
                ("page[number]".into(), page.to_string()),
                ("page[size]".into(), size.to_string()),
            ],
        )
        .await?;
    let logs = doc
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ctx.ui.is_json() {
        ctx.ui.result(&Value::Array(logs.clone()));
    } else {
        let lines: Vec<Value> = logs.iter().map(|l| json!(format_log(l, false))).collect();
        ctx.ui.result(&Value::Array(lines));
    }
    Ok(logs.len())
}

pub async fn get(ctx: &Ctx, args: &Args) -> Result<()> {
    let device = log_device(ctx, args.str("device")).await?;
    let id = id_of(&device).to_string();
    let size = args.num("page-size").unwrap_or(20);
    if let Some(n) = args.num("page-number") {
        print_page(ctx, &id, n, size).await?;
        return Ok(());
    }
    let mut input = stdin_lines();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut page = 1;
    let mut finished = false;
    loop {
        if finished {
            ctx.ui.info("No more logs are available.");
            return Ok(());
        }
        let count = tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            n = print_page(ctx, &id, page, size) => n?,
        };
        finished = (count as u64) < size;
        ctx.ui.succeeds();
        ctx.ui.info("");
        ctx.ui
            .info("Press <Enter> to see more logs or <Ctrl-C> to exit.");
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            line = input.recv() => {
                if line.is_none() {
                    // End of input: the original just ends here, without a status line.
                    std::process::exit(0);
                }
            }
        }
        page += 1;
    }
}

pub async fn stream(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut ids: Vec<String> = Vec::new();
    for d in args.strs("device") {
        if d.is_empty() {
            return Err(ImptError::NoIdentifier(Entity::Device));
        }
        ids.push(id_of(&find(ctx, Entity::Device, &d).await?).to_string());
    }
    let mut groups = Vec::new();
    for g in args.strs("dg") {
        groups.push(if g.is_empty() {
            let project = ctx
                .project()?
                .ok_or(ImptError::NoIdentifier(Entity::DeviceGroup))?;
            project_dg(ctx, project.device_group_id().unwrap_or_default()).await?
        } else {
            find(ctx, Entity::DeviceGroup, &g).await?
        });
    }
    if !args.has("device") && !args.has("dg") {
        if let Some(project) = ctx.project()? {
            groups.push(project_dg(ctx, project.device_group_id().unwrap_or_default()).await?);
        }
    }
    for g in &groups {
        for d in ctx
            .list(Entity::Device, &[("devicegroup.id", id_of(g).to_string())])
            .await?
        {
            ids.push(id_of(&d).to_string());
        }
    }
    stream_devices(ctx, &ids).await
}

/// Streams the logs of these devices (ids) until Ctrl-C or the stream is closed. Prints
/// `Log stream for Device(s) … is opened.`, `IMPT COMMAND SUCCEEDS` and the log lines.
pub async fn stream_devices(ctx: &Ctx, device_ids: &[String]) -> Result<()> {
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
async fn open(ctx: &Ctx, ids: &[String]) -> Result<LogStream> {
    let client = ctx.client().await?;
    let stream = LogStream::open(client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in ids {
        stream.add_device(client, id).await?;
    }
    Ok(stream)
}

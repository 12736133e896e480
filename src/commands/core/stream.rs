//! Streaming device logs until Ctrl-C (`log stream`, `build run --log`, `dg restart --log`,
//! `device restart --log`), healing drops, and the text of one log entry.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::errmap::LineMaps;
use super::seen::{key_of, Seen};
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

/// A log stream that heals: opened and subscribed before a restart is sent (so the first
/// line of new code is shown), reopened and resubscribed after it drops, with the lines
/// logged meanwhile fetched from the devices' history and each line printed once; where
/// lines cannot be recovered, a gap marker says between which times.
pub struct Tail {
    ids: Vec<String>,
    stream: LogStream,
    seen: HashMap<String, Seen>,
    /// When the first stream opened (lines older than that are not recovered).
    opened_at: String,
    /// The line maps of the code the devices run: error frames name the user's files.
    maps: Option<LineMaps>,
    /// Devices whose next code load is the one the maps are for (the restart `build run`
    /// sends); any other code load makes the maps stale, and they are dropped.
    expected_loads: std::collections::HashSet<String>,
}

/// Pages of history read per device when recovering (100 entries each).
const HISTORY_PAGES: u64 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Tail {
    /// Opens the stream and subscribes the devices; lines arrive from now on and are
    /// printed by [`Tail::run`].
    pub async fn open(ctx: &CommandCtx, device_ids: &[String]) -> Result<Tail> {
        let mut ids: Vec<String> = Vec::new();
        for id in device_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        if ids.is_empty() {
            return Err(ImptError::NoIdentifier(Entity::Device));
        }
        let opened_at = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let stream = open(ctx, &ids).await?;
        Ok(Tail {
            ids,
            stream,
            seen: HashMap::new(),
            opened_at,
            maps: None,
            expected_loads: Default::default(),
        })
    }

    /// Maps runtime error frames through these line maps: those of the code the devices
    /// run, or (`restarting`) of the code they load next. Another code load drops them.
    pub fn with_maps(mut self, maps: LineMaps, restarting: bool) -> Tail {
        self.maps = Some(maps);
        if restarting {
            self.expected_loads = self.ids.iter().cloned().collect();
        }
        self
    }

    /// Prints the lines until Ctrl-C or the stream is closed, healing drops.
    pub async fn run(mut self, ctx: &CommandCtx) -> Result<()> {
        let ctrl_c = super::interrupt::listener()?;
        tokio::pin!(ctrl_c);
        let mut shown: Vec<&str> = self
            .ids
            .iter()
            .take(SHOWN_IDS)
            .map(String::as_str)
            .collect();
        if self.ids.len() > SHOWN_IDS {
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
            loop {
                let ev = tokio::select! {
                    _ = &mut ctrl_c => return Ok(()),
                    ev = self.stream.next() => ev,
                };
                match ev {
                    Some(StreamEvent::Log(v)) => self.print(ctx, v),
                    Some(StreamEvent::State(v)) => {
                        if v.get("state").and_then(Value::as_str) == Some("closed") {
                            ctx.ui.info("The log stream is closed.");
                            ctx.ui.info(ONE_STREAM);
                            return Ok(());
                        }
                    }
                    Some(StreamEvent::Garbled(raw)) => {
                        return Err(ImptError::Internal(format!(
                            "Unexpected format of log stream message: {raw}"
                        )))
                    }
                    Some(StreamEvent::Lost { status, reason }) => {
                        ctx.ui.error(&ImptError::msg(reason));
                        if status == Some(401) {
                            renew(ctx).await;
                        }
                        break;
                    }
                    None => {
                        ctx.ui.error(&ImptError::msg("the log stream ended"));
                        break;
                    }
                }
            }
            ctx.ui
                .info("The log stream is lost. Trying to reconnect...");
            let mut backoff = FIRST_BACKOFF;
            self.stream = loop {
                tokio::select! {
                    _ = &mut ctrl_c => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                let attempt = tokio::select! {
                    _ = &mut ctrl_c => return Ok(()),
                    s = open(ctx, &self.ids) => s,
                };
                match attempt {
                    Ok(s) => break s,
                    Err(e) => {
                        if e.to_string().contains("HTTP/401") {
                            renew(ctx).await;
                        }
                        ctx.ui.debug(&format!("reconnecting the log stream: {e}"));
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            };
            ctx.ui.info("The log stream is reconnected.");
            let recovered = tokio::select! {
                _ = &mut ctrl_c => return Ok(()),
                r = self.recover(ctx) => r,
            };
            if let Err(e) = recovered {
                ctx.ui.error(&ImptError::msg(format!(
                    "the log lines logged while the stream was lost could not be fetched: {e}"
                )));
            }
        }
    }

    /// A line of the stream, unless it was recovered from history already.
    fn print(&mut self, ctx: &CommandCtx, v: Value) {
        let device = v
            .get("device_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if self.seen.entry(device).or_default().on_stream(key_of(&v)) {
            self.show(ctx, v);
        }
    }

    /// Prints a line, an error frame at the user's file and line when the maps know it (the
    /// JSON keeps the logged line as `raw_msg`).
    fn show(&mut self, ctx: &CommandCtx, mut v: Value) {
        if self.maps.is_some() && super::errmap::is_code_load(&v) {
            let device = v
                .get("device_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !self.expected_loads.remove(device) {
                self.maps = None;
            }
        }
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if let Some(m) = self
            .maps
            .as_ref()
            .and_then(|m| m.map(&s("type"), &s("msg")))
        {
            v["raw_msg"] = v["msg"].take();
            v["msg"] = Value::String(m.text);
            v["file"] = Value::String(m.file);
            v["line"] = m.line.into();
            let text = format_log(&v, true);
            if ctx.ui.mode() == crate::output::Mode::Debug {
                ctx.ui
                    .log_line(&format!("{text} [logged as {}]", m.raw), &v);
            } else {
                ctx.ui.log_line(&text, &v);
            }
            return;
        }
        ctx.ui.log_line(&format_log(&v, true), &v);
    }

    /// After a reconnection: each device's lines since the last one shown (or since the
    /// stream first opened), from its history; a gap marker where history does not reach.
    async fn recover(&mut self, ctx: &CommandCtx) -> Result<()> {
        for id in self.ids.clone() {
            let seen = self.seen.entry(id.clone()).or_default();
            let (since, known) = if seen.last_ts.is_empty() {
                (self.opened_at.clone(), false)
            } else {
                (seen.last_ts.clone(), true)
            };
            let (mut entries, reached) = history_since(ctx, &id, &since).await?;
            entries.reverse();
            for e in entries.iter_mut() {
                e["device_id"] = Value::String(id.clone());
            }
            // The last line shown is in history unless history no longer reaches back.
            if known && !reached {
                let to = entries
                    .first()
                    .and_then(|e| e.get("ts"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                ctx.ui.log_line(
                    &format!(
                        "[{id}] --- gap: log lines between {since} and {to} could not be recovered ---"
                    ),
                    &serde_json::json!({"event": "gap", "device_id": id, "from": since, "to": to}),
                );
            }
            let seen = self.seen.entry(id.clone()).or_default();
            for e in seen.on_history(entries, key_of, &since) {
                self.show(ctx, e);
            }
        }
        Ok(())
    }
}

/// History entries of a device (newest first) back to `since`; true when they reach it
/// (an entry at or before `since` was seen, or the history ended).
async fn history_since(ctx: &CommandCtx, id: &str, since: &str) -> Result<(Vec<Value>, bool)> {
    let client = ctx.client().await?;
    let mut out = Vec::new();
    for page in 1..=HISTORY_PAGES {
        let data = client.device_logs(id, page, 100).await?;
        let full = data.len() >= 100;
        let mut reached = false;
        for e in data {
            if e.get("ts").and_then(Value::as_str).unwrap_or_default() <= since {
                reached = true;
            }
            out.push(e);
        }
        if reached || !full {
            // A short page is the end of the history: it reaches back only if it holds the
            // line at `since`.
            return Ok((out, reached));
        }
    }
    Ok((out, false))
}

/// Renews the token after the event stream answered 401.
async fn renew(ctx: &CommandCtx) {
    if let Ok(c) = ctx.client().await {
        if let Ok(t) = c.token().await {
            let _ = c.renew_token(&t).await;
        }
    }
}

/// Why a log stream disappears: impCentral keeps one per account.
pub const ONE_STREAM: &str = "impCentral keeps one log stream per account, and another client \
of this account (impt log stream, impt watch, impt build run -l, the impCentral IDE) opened one, \
which closed this one. Stop the other client, or give each its own account or login key.";

/// Creates a stream, waits a second as the original does, then adds the devices. A stream
/// that is gone meanwhile (another client of the account opened one) says why.
async fn open(ctx: &CommandCtx, ids: &[String]) -> Result<LogStream> {
    let client = ctx.client().await?;
    let stream = LogStream::open(client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in ids {
        match stream.add_device(client, id).await {
            Err(ImptError::Api(a))
                if a.status == 404 && a.errors.iter().any(|e| e.detail.contains("log stream")) =>
            {
                return Err(ImptError::msg(format!(
                    "{} {ONE_STREAM}",
                    ImptError::Api(a)
                )));
            }
            other => other?,
        }
    }
    Ok(stream)
}

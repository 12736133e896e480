//! The log stream of the watched devices, kept alive: reconnects with backoff when it drops
//! (re-adding the devices, renewing the token after a 401, waiting longer after a 429), and
//! recovers the lines logged while it was down from the devices' log history.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::api::Api;
use crate::api::logstream::{LogStream, StreamEvent};
use crate::api::{attr, attr_str, id_of};
use crate::commands::core::seen::{Key, Seen};
use crate::error::ImptError;
use crate::output::watch::{DeviceInfo, Event, LogLine};

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Wait after a 429 on the event-stream connection (its Retry-After is not available).
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// Why a stream that the server closed is not reopened by itself (that would take it from
/// the other client, which might take it back, for ever).
fn taken() -> String {
    format!(
        "the log stream was closed. {} Press l (or send the line l) to take it back",
        crate::commands::core::stream::ONE_STREAM.trim_end_matches('.')
    )
}
fn key(l: &LogLine) -> Key {
    (l.ts.clone(), l.typ.clone(), l.msg.clone())
}

pub fn device_info(d: &Value) -> DeviceInfo {
    DeviceInfo {
        id: id_of(d).to_string(),
        name: attr_str(d, "name").unwrap_or_default().to_string(),
        online: attr(d, "device_online")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn log_line(v: &Value) -> Option<LogLine> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(LogLine {
        device_id: s("device_id")?,
        ts: s("ts").unwrap_or_default(),
        typ: s("type").unwrap_or_default(),
        msg: s("msg").unwrap_or_default(),
        replayed: false,
        mapped: None,
    })
}

/// The online state a status line announces.
fn state_of(l: &LogLine) -> Option<bool> {
    if l.typ != "status" {
        return None;
    }
    match l.msg.as_str() {
        "Device connected" => Some(true),
        "Device disconnected" => Some(false),
        _ => None,
    }
}

struct Supervisor {
    api: Arc<Api>,
    dg_id: String,
    devices: BTreeMap<String, bool>,
    seen: BTreeMap<String, Seen>,
    /// When the first stream opened: lines older than that are not recovered.
    opened_at: String,
    tx: UnboundedSender<Event>,
}

impl Supervisor {
    fn send(&self, ev: Event) -> bool {
        self.tx.send(ev).is_ok()
    }

    fn deliver(&mut self, l: LogLine) -> bool {
        if !self
            .seen
            .entry(l.device_id.clone())
            .or_default()
            .on_stream(key(&l))
        {
            return true;
        }
        self.show(l)
    }

    fn show(&mut self, l: LogLine) -> bool {
        let state = state_of(&l);
        let id = l.device_id.clone();
        if !self.send(Event::Log(l)) {
            return false;
        }
        if let Some(online) = state {
            if self.devices.get(&id) != Some(&online) {
                self.devices.insert(id.clone(), online);
                return self.send(Event::Device {
                    device_id: id,
                    online,
                });
            }
        }
        true
    }

    async fn connect(&self) -> crate::error::Result<LogStream> {
        let client = self.api.client().await?;
        let stream = LogStream::open(client).await?;
        for d in self.devices.keys() {
            stream.add_device(client, d).await?;
        }
        Ok(stream)
    }

    /// After a reconnection: the current devices, then the lines missed meanwhile.
    async fn recover(&mut self) -> crate::error::Result<bool> {
        let list = self.api.group_devices(&self.dg_id).await?;
        for d in list.iter().map(device_info) {
            if self.devices.get(&d.id) != Some(&d.online) {
                let known = self.devices.contains_key(&d.id);
                self.devices.insert(d.id.clone(), d.online);
                if known
                    && !self.send(Event::Device {
                        device_id: d.id.clone(),
                        online: d.online,
                    })
                {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn replay_missed(&mut self) -> crate::error::Result<bool> {
        let ids: Vec<String> = self.devices.keys().cloned().collect();
        for id in ids {
            let since = self
                .seen
                .get(&id)
                .map(|s| s.last_ts.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| self.opened_at.clone());
            let mut entries: Vec<LogLine> = self
                .api
                .device_logs(&id)
                .await?
                .into_iter()
                .filter_map(|mut v| {
                    v["device_id"] = Value::String(id.clone());
                    log_line(&v).map(|l| LogLine {
                        replayed: true,
                        ..l
                    })
                })
                .collect();
            entries.reverse();
            let missed = self
                .seen
                .entry(id.clone())
                .or_default()
                .on_history(entries, key, &since);
            for l in missed {
                if !self.show(l) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn run(mut self) {
        let mut backoff = FIRST_BACKOFF;
        let mut reconnect = false;
        loop {
            let mut wait = None;
            let reason = match self.connect().await {
                Ok(mut stream) => {
                    if !self.send(Event::StreamOpened {
                        devices: self.devices.keys().cloned().collect(),
                        reconnect,
                    }) {
                        return;
                    }
                    if reconnect {
                        match self.replay_missed().await {
                            Ok(true) => {}
                            Ok(false) => return,
                            Err(e) => {
                                let _ = self.send(Event::Error {
                                    message: format!("recovering missed log lines: {e}"),
                                });
                            }
                        }
                    }
                    if !reconnect {
                        self.opened_at = chrono::Utc::now()
                            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string();
                    }
                    reconnect = true;
                    backoff = FIRST_BACKOFF;
                    loop {
                        match stream.next().await {
                            Some(StreamEvent::Log(v)) => {
                                if let Some(l) = log_line(&v) {
                                    if !self.deliver(l) {
                                        return;
                                    }
                                }
                            }
                            Some(StreamEvent::State(v)) => {
                                if v.get("state").and_then(Value::as_str) == Some("closed") {
                                    // Taken by another client: reopening it would take it
                                    // from that one, and so on for ever.
                                    let _ = self.send(Event::StreamLost {
                                        reason: taken(),
                                        retry_ms: None,
                                    });
                                    return;
                                }
                            }
                            Some(StreamEvent::Garbled(raw)) => {
                                if !self.send(Event::Error {
                                    message: format!(
                                        "Unexpected format of log stream message: {raw}"
                                    ),
                                }) {
                                    return;
                                }
                            }
                            Some(StreamEvent::Lost { status, reason }) => {
                                match status {
                                    Some(401) => self.renew().await,
                                    Some(429) => wait = Some(RATE_LIMIT_WAIT),
                                    _ => {}
                                }
                                break reason;
                            }
                            None => break "the log stream ended".to_string(),
                        }
                    }
                }
                Err(ImptError::Api(a))
                    if a.status == 404
                        && a.errors.iter().any(|e| e.detail.contains("log stream")) =>
                {
                    // Gone before the devices were added: another client took it.
                    let _ = self.send(Event::StreamLost {
                        reason: taken(),
                        retry_ms: None,
                    });
                    return;
                }
                Err(e) => {
                    // The event-stream connection's own failures carry only the status text.
                    let text = e.to_string();
                    let status = match &e {
                        ImptError::Api(a) => Some(a.status),
                        _ if text.contains("HTTP/429") => Some(429),
                        _ if text.contains("HTTP/401") => Some(401),
                        _ => None,
                    };
                    match status {
                        Some(429) => wait = Some(RATE_LIMIT_WAIT),
                        Some(401) => self.renew().await,
                        _ => {}
                    }
                    if matches!(
                        e,
                        ImptError::RefreshFailed(_)
                            | ImptError::TokenExpired(_)
                            | ImptError::NotLoggedIn
                            | ImptError::AuthFileNotFound(_)
                    ) {
                        let _ = self.send(Event::Error {
                            message: format!("log stream: {e}"),
                        });
                        wait = Some(MAX_BACKOFF);
                    }
                    e.to_string()
                }
            };
            let delay = wait.map_or(backoff, |w| w.max(backoff));
            if !self.send(Event::StreamLost {
                reason,
                retry_ms: Some(delay.as_millis() as u64),
            }) {
                return;
            }
            tokio::time::sleep(delay).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if reconnect {
                match self.recover().await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(_) => continue,
                }
            }
        }
    }

    async fn renew(&self) {
        if let Ok(c) = self.api.client().await {
            if let Ok(t) = c.token().await {
                let _ = c.renew_token(&t).await;
            }
        }
    }
}

/// Streams the logs of these devices until the receiver of `tx` is dropped.
pub fn spawn(
    api: Arc<Api>,
    dg_id: String,
    devices: &[DeviceInfo],
    tx: UnboundedSender<Event>,
) -> tokio::task::JoinHandle<()> {
    let sup = Supervisor {
        api,
        dg_id,
        devices: devices.iter().map(|d| (d.id.clone(), d.online)).collect(),
        seen: BTreeMap::new(),
        opened_at: String::new(),
        tx,
    };
    tokio::spawn(sup.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_announce_the_online_state() {
        let l = |msg: &str| LogLine {
            device_id: "d".into(),
            ts: "t".into(),
            typ: "status".into(),
            msg: msg.into(),
            replayed: false,
            mapped: None,
        };
        assert_eq!(state_of(&l("Device connected")), Some(true));
        assert_eq!(state_of(&l("Device disconnected")), Some(false));
        assert_eq!(
            state_of(&LogLine {
                typ: "server.log".into(),
                ..l("x")
            }),
            None
        );
    }
}

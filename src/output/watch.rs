//! What the watch loop reports, and how it is printed: text (colored log lines per device
//! and log type, a status line at the bottom of a terminal) or one JSON object per line.
//!
//! JSON events (`-z json`), each `{"event": NAME, …}`:
//! `started {dg{id,name,type}, sha, devices[{id,name,online}]}`, `watching {files}`,
//! `stream_opened {devices, reconnect}`, `stream_lost {reason, retry_ms}`,
//! `changed {paths}`, `deploy_started {sha}`, `skipped {sha, reason}`,
//! `deployed {deployment, sha, ms}`, `restarted {conditional, devices}`,
//! `compile_error {errors[{file,line,column,type,text}]}`, `retry {what, attempt, delay_ms,
//! reason}`, `error {message}`, `log {device_id, ts, type, msg, replayed?}`,
//! `device {device_id, state: online|offline}`, `info {message}`, `quit`.

use std::collections::BTreeMap;
use std::io::Write;

use console::{Style, Term};
use serde_json::{json, Value};

use super::source::Diagnostic;

/// One thing that happened.
#[derive(Clone, Debug)]
pub enum Event {
    /// The loop is set up.
    Started {
        dg_id: String,
        dg_name: String,
        dg_type: String,
        sha: Option<String>,
        devices: Vec<DeviceInfo>,
    },
    /// The set of watched files (sent when it changes).
    Watching {
        files: Vec<String>,
    },
    StreamOpened {
        devices: Vec<String>,
        reconnect: bool,
    },
    StreamLost {
        reason: String,
        retry_ms: u64,
    },
    /// Files changed (after debouncing).
    Changed {
        paths: Vec<String>,
    },
    DeployStarted {
        hash: String,
    },
    /// The code equals what is deployed; no request was sent.
    Skipped {
        sha: String,
    },
    Deployed {
        id: String,
        sha: String,
        /// From the triggering change to the answer of the create request.
        ms: u64,
    },
    Restarted {
        conditional: bool,
        devices: usize,
    },
    CompileError {
        errors: Vec<Diagnostic>,
    },
    /// A transient failure that is being retried.
    Retry {
        what: String,
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    Error {
        message: String,
    },
    Log(LogLine),
    Device {
        device_id: String,
        online: bool,
    },
    Info {
        message: String,
    },
    Quit,
}

#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub online: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub device_id: String,
    pub ts: String,
    pub typ: String,
    pub msg: String,
    /// Recovered from the device's log history after the stream was lost.
    pub replayed: bool,
}

impl Event {
    pub fn to_json(&self) -> Value {
        match self {
            Event::Started {
                dg_id,
                dg_name,
                dg_type,
                sha,
                devices,
            } => {
                json!({"event": "started", "dg": {"id": dg_id, "name": dg_name, "type": dg_type}, "sha": sha,
                "devices": devices.iter().map(|d| json!({"id": d.id, "name": d.name, "online": d.online})).collect::<Vec<_>>()})
            }
            Event::Watching { files } => json!({"event": "watching", "files": files}),
            Event::StreamOpened { devices, reconnect } => {
                json!({"event": "stream_opened", "devices": devices, "reconnect": reconnect})
            }
            Event::StreamLost { reason, retry_ms } => {
                json!({"event": "stream_lost", "reason": reason, "retry_ms": retry_ms})
            }
            Event::Changed { paths } => json!({"event": "changed", "paths": paths}),
            Event::DeployStarted { hash } => json!({"event": "deploy_started", "sha": hash}),
            Event::Skipped { sha } => {
                json!({"event": "skipped", "sha": sha, "reason": "unchanged"})
            }
            Event::Deployed { id, sha, ms } => {
                json!({"event": "deployed", "deployment": id, "sha": sha, "ms": ms})
            }
            Event::Restarted {
                conditional,
                devices,
            } => json!({"event": "restarted", "conditional": conditional, "devices": devices}),
            Event::CompileError { errors } => {
                json!({"event": "compile_error", "errors": errors.iter().map(|d| json!({
                "file": d.file, "line": d.line, "column": d.column, "type": d.kind, "text": d.text})).collect::<Vec<_>>()})
            }
            Event::Retry {
                what,
                attempt,
                delay_ms,
                reason,
            } => {
                json!({"event": "retry", "what": what, "attempt": attempt, "delay_ms": delay_ms, "reason": reason})
            }
            Event::Error { message } => json!({"event": "error", "message": message}),
            Event::Log(l) => {
                let mut v = json!({"event": "log", "device_id": l.device_id, "ts": l.ts, "type": l.typ, "msg": l.msg});
                if l.replayed {
                    v["replayed"] = true.into();
                }
                v
            }
            Event::Device { device_id, online } => {
                json!({"event": "device", "device_id": device_id,
                "state": if *online { "online" } else { "offline" }})
            }
            Event::Info { message } => json!({"event": "info", "message": message}),
            Event::Quit => json!({"event": "quit"}),
        }
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

const DEVICE_COLORS: [console::Color; 5] = [
    console::Color::Cyan,
    console::Color::Magenta,
    console::Color::Blue,
    console::Color::Green,
    console::Color::Yellow,
];

pub struct Renderer {
    json: bool,
    color: bool,
    status_line: bool,
    status_shown: bool,
    term: Term,
    out: std::io::BufWriter<std::io::Stdout>,
    devices: BTreeMap<String, (String, bool)>,
    colors: BTreeMap<String, usize>,
    sha: Option<String>,
    last_deploy: Option<String>,
    busy: Option<&'static str>,
    /// Log lines printed so far.
    pub logs: u64,
}

impl Renderer {
    pub fn new(json: bool) -> Renderer {
        let term = Term::stdout();
        let tty = term.is_term();
        let forced = std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0");
        let no_color = std::env::var_os("NO_COLOR").is_some();
        Renderer {
            json,
            color: !json && !no_color && (tty || forced),
            status_line: !json && tty,
            status_shown: false,
            term,
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            devices: BTreeMap::new(),
            colors: BTreeMap::new(),
            sha: None,
            last_deploy: None,
            busy: None,
            logs: 0,
        }
    }

    fn style(&self, s: Style) -> Style {
        if self.color {
            s.force_styling(true)
        } else {
            s.force_styling(false)
        }
    }

    fn device_style(&mut self, id: &str) -> Style {
        let n = self.colors.len();
        let i = *self.colors.entry(id.to_string()).or_insert(n);
        self.style(Style::new().fg(DEVICE_COLORS[i % DEVICE_COLORS.len()]))
    }

    fn type_style(&self, typ: &str) -> Style {
        let s = if typ.ends_with("error") {
            Style::new().red().bold()
        } else if typ == "status" || typ == "lastexitcode" {
            Style::new().yellow()
        } else if typ.starts_with("agent") {
            Style::new().magenta()
        } else {
            Style::new().green()
        };
        self.style(s)
    }

    fn note(&self, text: &str) -> String {
        format!(
            "{} {text}",
            self.style(Style::new().cyan().bold()).apply_to("»")
        )
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// Prints an event (buffered; call [`flush`](Self::flush) when the queue is drained).
    pub fn emit(&mut self, ev: &Event) {
        self.track(ev);
        if self.json {
            let v = ev.to_json();
            self.line(&v.to_string());
            if matches!(ev, Event::Log(_)) {
                self.logs += 1;
            }
            return;
        }
        self.hide_status();
        match ev {
            Event::Log(l) => {
                self.logs += 1;
                let dev = self.device_style(&l.device_id);
                let typ = self.type_style(&l.typ);
                let text = format!(
                    "{} {} {} {}",
                    dev.apply_to(format!("[{}]", l.device_id)),
                    self.style(Style::new().dim()).apply_to(&l.ts),
                    typ.apply_to(format!("[{}]", l.typ)),
                    l.msg
                );
                self.line(&text);
            }
            Event::Started {
                dg_name,
                dg_type,
                sha,
                devices,
                ..
            } => {
                let t = format!(
                    "Watching Device Group \"{dg_name}\" ({dg_type}), {} device(s), deployed sha {}.",
                    devices.len(),
                    sha.as_deref().map(short).unwrap_or("none")
                );
                let t = self.note(&t);
                self.line(&t);
            }
            Event::Watching { files } => {
                let t = self.note(&format!("Watching {}", files.join(", ")));
                self.line(&t);
            }
            Event::StreamOpened { devices, reconnect } => {
                let t = if *reconnect {
                    format!("Log stream reconnected for {} device(s).", devices.len())
                } else {
                    format!("Log stream for Device(s) {} is opened.", devices.join(", "))
                };
                let t = self.note(&t);
                self.line(&t);
            }
            Event::StreamLost { reason, retry_ms } => {
                let t = self.note(&format!(
                    "The log stream is lost ({reason}). Reconnecting in {retry_ms} ms..."
                ));
                self.line(&t);
            }
            Event::Changed { paths } => {
                let t = self.note(&format!("Changed: {}", paths.join(", ")));
                self.line(&t);
            }
            Event::DeployStarted { .. } => {}
            Event::Skipped { sha } => {
                let t = self.note(&format!(
                    "No changes: the code equals the deployed one ({}); nothing deployed.",
                    short(sha)
                ));
                self.line(&t);
            }
            Event::Deployed { id, sha, ms } => {
                let t = self.note(&format!(
                    "Deployed {} (Deployment \"{id}\") in {ms} ms.",
                    self.style(Style::new().bold()).apply_to(short(sha))
                ));
                self.line(&t);
            }
            Event::Restarted {
                conditional,
                devices,
            } => {
                let t = self.note(&format!(
                    "{} requested for {devices} device(s).",
                    if *conditional {
                        "Conditional restart"
                    } else {
                        "Restart"
                    }
                ));
                self.line(&t);
            }
            Event::CompileError { errors } => {
                let red = self.style(Style::new().red().bold());
                let t = self.note(&format!("{}", red.apply_to("Compilation failed:")));
                self.line(&t);
                for d in errors {
                    let text = format!("{}", red.apply_to(d));
                    self.line(&text);
                }
            }
            Event::Retry {
                what,
                attempt,
                delay_ms,
                reason,
            } => {
                let t = self.note(&format!(
                    "{what} failed ({reason}); retry {attempt} in {delay_ms} ms."
                ));
                self.line(&t);
            }
            Event::Error { message } => {
                let t = format!(
                    "{} {message}",
                    self.style(Style::new().red().bold()).apply_to("Error:")
                );
                self.line(&t);
            }
            Event::Device { device_id, online } => {
                let name = self
                    .devices
                    .get(device_id)
                    .map(|d| d.0.clone())
                    .unwrap_or_else(|| device_id.clone());
                let t = self.note(&format!(
                    "Device \"{name}\" is {}.",
                    if *online { "online" } else { "offline" }
                ));
                self.line(&t);
            }
            Event::Info { message } => {
                let t = self.note(message);
                self.line(&t);
            }
            Event::Quit => {
                let t = self.note("Stopped watching.");
                self.line(&t);
            }
        }
    }

    /// Keeps the status line's data up to date.
    fn track(&mut self, ev: &Event) {
        match ev {
            Event::Started { sha, devices, .. } => {
                self.sha = sha.clone();
                for d in devices {
                    let name = if d.name.is_empty() {
                        d.id.clone()
                    } else {
                        d.name.clone()
                    };
                    self.devices.insert(d.id.clone(), (name, d.online));
                }
            }
            Event::Device { device_id, online } => {
                let e = self
                    .devices
                    .entry(device_id.clone())
                    .or_insert_with(|| (device_id.clone(), *online));
                e.1 = *online;
            }
            Event::DeployStarted { .. } => self.busy = Some("deploying"),
            Event::Deployed { sha, .. } => {
                self.sha = Some(sha.clone());
                self.last_deploy = Some(chrono::Local::now().format("%H:%M:%S").to_string());
                self.busy = None;
            }
            Event::Skipped { .. } | Event::CompileError { .. } | Event::Error { .. } => {
                self.busy = None
            }
            _ => {}
        }
    }

    fn hide_status(&mut self) {
        if self.status_shown {
            let _ = self.out.flush();
            let _ = self.term.clear_line();
            self.status_shown = false;
        }
    }

    fn status_text(&self) -> String {
        let mut parts: Vec<String> = self
            .devices
            .values()
            .map(|(name, online)| {
                if *online {
                    format!("{} {name}", self.style(Style::new().green()).apply_to("●"))
                } else {
                    format!("{} {name}", self.style(Style::new().red()).apply_to("○"))
                }
            })
            .collect();
        parts.push(format!(
            "sha {}",
            self.sha.as_deref().map(short).unwrap_or("none")
        ));
        if let Some(t) = &self.last_deploy {
            parts.push(format!("deployed {t}"));
        }
        if let Some(b) = self.busy {
            parts.push(b.to_string());
        }
        parts.push("r redeploy · c clear · q quit".into());
        let text = parts.join(" │ ");
        let width = self.term.size().1 as usize;
        console::truncate_str(&text, width.saturating_sub(1).max(10), "…").into_owned()
    }

    /// Writes everything out and redraws the status line.
    pub fn flush(&mut self) {
        if self.status_line {
            self.hide_status();
            let s = self.status_text();
            let _ = write!(
                self.out,
                "{}",
                self.style(Style::new().reverse()).apply_to(s)
            );
            self.status_shown = true;
        }
        let _ = self.out.flush();
    }

    /// The `c` key.
    pub fn clear(&mut self) {
        if !self.json {
            let _ = self.out.flush();
            let _ = self.term.clear_screen();
            self.status_shown = false;
        }
    }

    /// Leaves the terminal clean.
    pub fn finish(&mut self) {
        self.hide_status();
        let _ = self.out.flush();
    }
}

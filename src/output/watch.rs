//! What the watch loop reports, and how it is printed: a renderer per output mode, chosen
//! once ([`renderer`]): text (colored log lines per device and log type, a status line at the
//! bottom of a terminal) or one JSON object per line. The watch loop only hands events here.
//!
//! JSON events (`-z json`), each `{"event": NAME, …}`:
//! `started {dg{id,name,type}, sha, devices[{id,name,online}]}`, `watching {files}`,
//! `stream_opened {devices, reconnect}`, `stream_lost {reason, retry_ms}`,
//! `changed {paths}`, `deploy_started {sha}`, `skipped {sha, reason}`,
//! `deployed {deployment, sha, ms}`, `restarted {conditional, devices}`,
//! `compile_error {errors[{file,line,column,severity,message,type,text}]}` (`type` and `text`
//! repeat `severity` and `message`), `retry {what, attempt, delay_ms,
//! reason}`, `log {device_id, ts, type, msg, replayed?, file?, line?, raw_msg?}` (an error
//! frame mapped to the user's file: `msg` names it, `raw_msg` is the line as logged),
//! `pending {reason, retry_ms, login}` (a save not deployed yet, kept and retried;
//! `login`: waiting for `impt auth login`), `error {message}`,
//! `device {device_id, state: online|offline}`, `info {message}`, `divider {device_id, sha}`
//! (the device restarts into the code of `sha`), `quit`.
//! On a factory fixture group also `factory {fixtures}`, `blinkup {device_id, fixture}`,
//! `blessing {device_id, blessed, tally{blessed, failed}}`, and `log` events carry `role`
//! (`fixture` or `dut`).

use std::collections::BTreeMap;
use std::io::Write;
#[cfg(test)]
use std::sync::{Arc, Mutex};

use console::{Style, Term};
use serde_json::{json, Value};

use super::Mode;

/// A compile error or warning, mapped to the user's file and line.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub text: String,
}

impl Diagnostic {
    /// `error` unless the compiler said otherwise (e.g. `warning`).
    pub fn severity(&self) -> &str {
        if self.kind.is_empty() {
            "error"
        } else {
            &self.kind
        }
    }
}

/// `file:line:col: severity: message`, the form editors' problem matchers read.
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file,
            self.line,
            self.column,
            self.severity(),
            self.text
        )
    }
}

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
    /// The log stream dropped; reopened after `retry_ms` (`None`: when the user asks).
    StreamLost {
        reason: String,
        retry_ms: Option<u64>,
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
        /// From the end of the debounce to the answer of the create request.
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
    /// A save whose deployment failed for a transient reason or for want of a login: it
    /// stays pending and is retried after `retry_ms` (or once a login works, `login`).
    Pending {
        reason: String,
        retry_ms: Option<u64>,
        login: bool,
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
    /// A device restarts into the code deployed as `sha`: lines after this are the new
    /// code's.
    Divider {
        device_id: String,
        sha: Option<String>,
    },
    /// Factory projects (see the watch loop's factory module).
    Factory(FactoryEvent),
    /// `--test`: a test pass started after a deployed save of `changed`.
    TestsStarted {
        changed: Vec<String>,
    },
    /// A newer save cancelled the running test pass.
    TestsCancelled,
    /// A test pass ended: `passed` of `total` test methods, the failures (and files whose
    /// code failed) with their place; `error` when the tests could not run.
    TestsDone {
        passed: usize,
        total: usize,
        failures: Vec<TestFailure>,
        error: Option<String>,
        ms: u64,
        /// The test files in the order they ran; the first `affected` include a changed file.
        files: Vec<String>,
        affected: usize,
    },
    Quit,
}

/// A failed test (or a test file whose code failed) of a watch test pass.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFailure {
    pub file: String,
    pub line: Option<usize>,
    /// `Class::method()`, or `(compile)`/`(load)` for the file itself.
    pub name: String,
    pub message: String,
}

impl TestFailure {
    /// `file:line: message (name)`, as editors read compile errors.
    pub fn text(&self) -> String {
        let at = match self.line {
            Some(l) => format!("{}:{l}", self.file),
            None => self.file.clone(),
        };
        let first = self.message.lines().next().unwrap_or_default();
        format!("{at}: {first} ({})", self.name)
    }
}

/// What happens in a factory.
#[derive(Clone, Debug)]
pub enum FactoryEvent {
    /// The watched devices are BlinkUp fixtures.
    Roles { fixtures: Vec<String> },
    /// A fixture configured a device under test.
    Blinkup {
        device_id: String,
        fixture: Option<String>,
    },
    /// A device under test was blessed or failed; the totals so far.
    Blessing {
        device_id: String,
        blessed: bool,
        total_blessed: usize,
        total_failed: usize,
    },
}

/// The factory role of each device seen in [`FactoryEvent`]s.
#[derive(Default)]
struct Roles {
    of: BTreeMap<String, &'static str>,
    tally: Option<(usize, usize)>,
}

impl Roles {
    fn track(&mut self, ev: &Event) {
        match ev {
            Event::Factory(FactoryEvent::Roles { fixtures }) => {
                for f in fixtures {
                    self.of.insert(f.clone(), "fixture");
                }
                self.tally.get_or_insert((0, 0));
            }
            Event::Factory(FactoryEvent::Blinkup { device_id, .. }) => {
                self.of.insert(device_id.clone(), "dut");
            }
            Event::Factory(FactoryEvent::Blessing {
                total_blessed,
                total_failed,
                ..
            }) => self.tally = Some((*total_blessed, *total_failed)),
            _ => {}
        }
    }
    fn label(&self, id: &str) -> String {
        match self.of.get(id) {
            Some(r) => format!("{r} {id}"),
            None => id.to_string(),
        }
    }
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
    /// An error frame mapped to the user's file: `msg` names the file and line, this
    /// keeps the location as logged.
    pub mapped: Option<MappedAt>,
}

/// Where an error frame is in the user's files, and the line as the device logged it.
#[derive(Clone, Debug, PartialEq)]
pub struct MappedAt {
    pub file: String,
    pub line: usize,
    pub raw_msg: String,
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
                "file": d.file, "line": d.line, "column": d.column, "severity": d.severity(), "message": d.text,
                "type": d.kind, "text": d.text})).collect::<Vec<_>>()})
            }
            Event::Retry {
                what,
                attempt,
                delay_ms,
                reason,
            } => {
                json!({"event": "retry", "what": what, "attempt": attempt, "delay_ms": delay_ms, "reason": reason})
            }
            Event::Pending {
                reason,
                retry_ms,
                login,
            } => {
                json!({"event": "pending", "reason": reason, "retry_ms": retry_ms, "login": login})
            }
            Event::Error { message } => json!({"event": "error", "message": message}),
            Event::Log(l) => {
                let mut v = json!({"event": "log", "device_id": l.device_id, "ts": l.ts, "type": l.typ, "msg": l.msg});
                if l.replayed {
                    v["replayed"] = true.into();
                }
                if let Some(m) = &l.mapped {
                    v["file"] = m.file.clone().into();
                    v["line"] = m.line.into();
                    v["raw_msg"] = m.raw_msg.clone().into();
                }
                v
            }
            Event::Device { device_id, online } => {
                json!({"event": "device", "device_id": device_id,
                "state": if *online { "online" } else { "offline" }})
            }
            Event::Info { message } => json!({"event": "info", "message": message}),
            Event::Divider { device_id, sha } => {
                json!({"event": "divider", "device_id": device_id, "sha": sha})
            }
            Event::Factory(FactoryEvent::Roles { fixtures }) => {
                json!({"event": "factory", "fixtures": fixtures})
            }
            Event::Factory(FactoryEvent::Blinkup { device_id, fixture }) => {
                json!({"event": "blinkup", "device_id": device_id, "fixture": fixture})
            }
            Event::Factory(FactoryEvent::Blessing {
                device_id,
                blessed,
                total_blessed,
                total_failed,
            }) => json!({"event": "blessing", "device_id": device_id, "blessed": blessed,
                "tally": {"blessed": total_blessed, "failed": total_failed}}),
            Event::TestsStarted { changed } => {
                json!({"event": "tests_started", "changed": changed})
            }
            Event::TestsCancelled => json!({"event": "tests_cancelled"}),
            Event::TestsDone {
                passed,
                total,
                failures,
                error,
                ms,
                files,
                affected,
            } => json!({"event": "tests", "passed": passed, "total": total, "ms": ms,
                "files": files, "affected": affected,
                "ok": error.is_none() && failures.is_empty() && passed == total,
                "error": error,
                "failures": failures.iter().map(|f| json!({"file": f.file, "line": f.line,
                    "name": f.name, "message": f.message})).collect::<Vec<_>>()}),
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

/// How the watch loop's screen is drawn: one implementation per output mode.
pub trait WatchRenderer: Send {
    /// Prints an event (buffered; call [`flush`](Self::flush) when the queue is drained).
    fn emit(&mut self, ev: &Event);
    /// Writes everything out (and redraws the status line of a terminal).
    fn flush(&mut self);
    /// The `c` key.
    fn clear(&mut self) {}
    /// The keys the status line lists (default `r redeploy · c clear · q quit`).
    fn keys(&mut self, _hint: &str) {}
    /// Leaves the terminal clean.
    fn finish(&mut self) {
        self.flush();
    }
}

/// The renderer of an output mode, writing to stdout: JSON lines for [`Mode::Json`], text
/// otherwise.
pub fn renderer(mode: Mode) -> Box<dyn WatchRenderer> {
    let out = Box::new(std::io::BufWriter::with_capacity(
        64 * 1024,
        super::StdoutOrExit,
    ));
    if mode == Mode::Json {
        return Box::new(JsonRenderer {
            out,
            roles: Roles::default(),
        });
    }
    let term = Term::stdout();
    let tty = term.is_term();
    // IMPT_STATUS_LINE=1 draws the status line without a terminal (screen recordings,
    // tests), =0 never draws it (editors' task terminals).
    let status = match std::env::var("IMPT_STATUS_LINE").as_deref() {
        Ok("1") | Ok("always") => true,
        Ok("0") | Ok("never") => false,
        _ => tty,
    };
    let forced = std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0");
    let no_color = std::env::var_os("NO_COLOR").is_some();
    let mut r = TextRenderer::new(out, !no_color && (tty || forced), status);
    r.raw_locations = mode == Mode::Debug;
    Box::new(r)
}

/// The renderer of an output mode writing into `buffer`, without colors or status line
/// (for tests of what the loop shows).
#[cfg(test)]
pub fn buffer_renderer(mode: Mode, buffer: Arc<Mutex<Vec<u8>>>) -> Box<dyn WatchRenderer> {
    let out = Box::new(SharedBuffer(buffer));
    if mode == Mode::Json {
        Box::new(JsonRenderer {
            out,
            roles: Roles::default(),
        })
    } else {
        Box::new(TextRenderer::new(out, false, false))
    }
}

/// A `Write` into a shared byte buffer.
#[cfg(test)]
pub(crate) struct SharedBuffer(pub(crate) Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::sync::lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `-z json`: one JSON object per event and line.
struct JsonRenderer {
    out: Box<dyn Write + Send>,
    roles: Roles,
}

impl WatchRenderer for JsonRenderer {
    fn emit(&mut self, ev: &Event) {
        self.roles.track(ev);
        let mut v = ev.to_json();
        // Every event says when it happened (log lines: when the device logged them).
        if v.get("ts").is_none() {
            v["ts"] = chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
                .into();
        }
        if let Event::Log(l) = ev {
            if let Some(r) = self.roles.of.get(&l.device_id) {
                v["role"] = (*r).into();
            }
        }
        let _ = writeln!(self.out, "{v}");
    }
    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// Text: colored lines, and a status line at the bottom of a terminal.
struct TextRenderer {
    color: bool,
    status_line: bool,
    status_shown: bool,
    term: Term,
    out: Box<dyn Write + Send>,
    devices: BTreeMap<String, (String, bool)>,
    colors: BTreeMap<String, usize>,
    sha: Option<String>,
    last_deploy: Option<String>,
    busy: Option<&'static str>,
    /// An error state kept until the next good deploy (compile error, runtime error, …).
    problem: Option<&'static str>,
    /// `--test`: the last pass's `tests 41/42 ✗`, or `testing`.
    tests: Option<String>,
    /// `-z debug`: mapped error frames also show the line as logged.
    raw_locations: bool,
    roles: Roles,
    /// The keys listed last on the status line.
    keys: String,
}

impl TextRenderer {
    fn new(out: Box<dyn Write + Send>, color: bool, status_line: bool) -> TextRenderer {
        TextRenderer {
            color,
            status_line,
            status_shown: false,
            term: Term::stdout(),
            out,
            devices: BTreeMap::new(),
            colors: BTreeMap::new(),
            sha: None,
            last_deploy: None,
            busy: None,
            problem: None,
            tests: None,
            raw_locations: false,
            roles: Roles::default(),
            keys: "r redeploy · c clear · q quit".into(),
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

    /// How devices are named in the status line and dividers: by the id that their log
    /// lines start with (as `impt log stream` prints them), then the name.
    fn device_name(&self, id: &str) -> String {
        match self.devices.get(id) {
            Some((name, _)) if name != id && !name.is_empty() => format!("[{id}] {name}"),
            _ => format!("[{id}]"),
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn draw(&mut self, ev: &Event) {
        self.track(ev);
        self.hide_status();
        match ev {
            Event::Log(l) => {
                let dev = self.device_style(&l.device_id);
                let typ = self.type_style(&l.typ);
                let mut text = format!(
                    "{} {}{}{} {}",
                    dev.apply_to(format!("[{}]", self.roles.label(&l.device_id))),
                    self.style(Style::new().dim()).apply_to(&l.ts),
                    if l.ts.is_empty() { "" } else { " " },
                    typ.apply_to(format!("[{}]", l.typ)),
                    l.msg
                );
                if let (true, Some(m)) = (self.raw_locations, &l.mapped) {
                    text.push_str(&format!(" [logged as: {}]", m.raw_msg.trim()));
                }
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
                    "Watching Device Group \"{dg_name}\" ({}), {} device(s), {}.",
                    impt_wire::types::dg_type_name(dg_type),
                    devices.len(),
                    match sha {
                        Some(sha) => format!("running sha {}", short(sha)),
                        None => "no code deployed yet".to_string(),
                    }
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
                let t = self.note(&match retry_ms {
                    Some(ms) => {
                        format!("The log stream is lost ({reason}). Reconnecting in {ms} ms...")
                    }
                    None => format!("The log stream is lost: {reason}."),
                });
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
                // The diagnostics first, then the line that ends the iteration (editors'
                // background problem matchers end on it).
                let red = self.style(Style::new().red().bold());
                for d in errors {
                    let text = format!("{}", red.apply_to(d));
                    self.line(&text);
                }
                let t = self.note(&format!(
                    "{}",
                    red.apply_to("Compilation failed: not deployed; fix and save.")
                ));
                self.line(&t);
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
            Event::Pending {
                reason,
                retry_ms,
                login,
            } => {
                let t = self.note(&match (login, retry_ms) {
                    (true, _) => format!("Not deployed yet: {reason}"),
                    (false, Some(ms)) => {
                        format!("Not deployed yet ({reason}); the change stays pending, retry in {ms} ms.")
                    }
                    (false, None) => format!("Not deployed yet ({reason}); the change stays pending."),
                });
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
                let name = self.device_name(device_id);
                let t = self.note(&format!(
                    "Device {name} is {}.",
                    if *online { "online" } else { "offline" }
                ));
                self.line(&t);
            }
            Event::Info { message } => {
                let t = self.note(message);
                self.line(&t);
            }
            Event::Divider { device_id, sha } => {
                let t = format!(
                    "──── {} restarts into {} ────",
                    self.device_name(device_id),
                    sha.as_deref().map(short).unwrap_or("new code")
                );
                let t = format!("{}", self.style(Style::new().dim()).apply_to(t));
                self.line(&t);
            }
            Event::Factory(f) => {
                let text = match f {
                    FactoryEvent::Roles { fixtures } => {
                        format!(
                            "Factory: {} fixture(s); their devices under test join the output.",
                            fixtures.len()
                        )
                    }
                    FactoryEvent::Blinkup { device_id, fixture } => match fixture {
                        Some(f) => {
                            format!("BlinkUp: device under test {device_id} (by fixture {f})")
                        }
                        None => format!("BlinkUp: device under test {device_id}"),
                    },
                    FactoryEvent::Blessing {
                        device_id,
                        blessed,
                        total_blessed,
                        total_failed,
                    } => format!(
                        "{} {device_id} — {total_blessed} blessed, {total_failed} failed",
                        if *blessed {
                            "Blessed:"
                        } else {
                            "Blessing failed:"
                        }
                    ),
                };
                let t = self.note(&text);
                self.line(&t);
            }
            Event::TestsStarted { .. } | Event::TestsCancelled => {}
            Event::TestsDone {
                failures, error, ..
            } => {
                let red = self.style(Style::new().red());
                if let Some(e) = error {
                    let t = self.note(&format!("Tests did not run: {e}"));
                    self.line(&t);
                }
                for f in failures {
                    let t = format!("{}", red.apply_to(f.text()));
                    self.line(&t);
                }
                if let Some(t) = self.tests.clone() {
                    let t = self.note(&t);
                    self.line(&t);
                }
            }
            Event::Quit => {
                let t = self.note("Stopped watching.");
                self.line(&t);
            }
        }
    }

    /// Keeps the status line's data up to date.
    fn track(&mut self, ev: &Event) {
        self.roles.track(ev);
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
                self.problem = None;
            }
            Event::Pending { .. } => {
                self.busy = None;
                self.problem = Some("pending deploy");
            }
            Event::CompileError { .. } => {
                self.busy = None;
                self.problem = Some("compile error");
            }
            Event::Error { .. } => {
                self.busy = None;
                self.problem.get_or_insert("error");
            }
            // The old code's runtime errors do not hide that the new code does not compile
            // (or waits to be deployed).
            Event::Log(l)
                if l.typ.ends_with("error")
                    && !l.replayed
                    && !matches!(self.problem, Some("compile error" | "pending deploy")) =>
            {
                self.problem = Some("runtime error");
            }
            Event::Skipped { .. } => self.busy = None,
            Event::TestsStarted { .. } => self.tests = Some("testing…".into()),
            Event::TestsDone {
                passed,
                total,
                failures,
                error,
                ..
            } => {
                let ok = error.is_none() && failures.is_empty() && passed == total;
                self.tests = Some(format!(
                    "tests {passed}/{total} {}",
                    if ok { "✓" } else { "✗" }
                ));
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
            .iter()
            .map(|(id, (_, online))| {
                let name = self.device_name(id);
                if *online {
                    format!("{} {name}", self.style(Style::new().green()).apply_to("●"))
                } else {
                    format!("{} {name}", self.style(Style::new().red()).apply_to("○"))
                }
            })
            .collect();
        parts.push(match &self.sha {
            Some(sha) => format!("sha {}", short(sha)),
            None => "nothing deployed".to_string(),
        });
        if let Some(t) = &self.last_deploy {
            parts.push(format!("deployed {t}"));
        }
        if let Some(b) = self.busy {
            parts.push(b.to_string());
        }
        if let Some(p) = self.problem {
            parts.push(format!(
                "{}",
                self.style(Style::new().red().bold()).apply_to(p)
            ));
        }
        if let Some(t) = &self.tests {
            parts.push(t.clone());
        }
        if let Some((b, f)) = self.roles.tally {
            parts.push(format!("{b} blessed · {f} failed"));
        }
        parts.push(self.keys.clone());
        let text = parts.join(" │ ");
        if !self.term.is_term() {
            // Drawn without a terminal (IMPT_STATUS_LINE=1): no width to fit.
            return text;
        }
        let width = self.term.size().1 as usize;
        console::truncate_str(&text, width.saturating_sub(1).max(10), "…").into_owned()
    }

    fn redraw(&mut self) {
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
}

impl WatchRenderer for TextRenderer {
    fn emit(&mut self, ev: &Event) {
        self.draw(ev);
    }

    fn flush(&mut self) {
        self.redraw();
    }

    fn clear(&mut self) {
        let _ = self.out.flush();
        let _ = self.term.clear_screen();
        self.status_shown = false;
    }

    fn keys(&mut self, hint: &str) {
        self.keys = hint.to_string();
    }

    fn finish(&mut self) {
        self.hide_status();
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::lock;

    fn shown(mode: Mode, events: &[Event]) -> String {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let mut r = buffer_renderer(mode, buf.clone());
        for e in events {
            r.emit(e);
        }
        r.finish();
        let bytes = lock(&buf).clone();
        String::from_utf8(bytes).unwrap()
    }

    fn log() -> Event {
        Event::Log(LogLine {
            device_id: "d1".into(),
            ts: "2026-01-01T00:00:00Z".into(),
            typ: "server.log".into(),
            msg: "hello".into(),
            replayed: false,
            mapped: None,
        })
    }

    #[test]
    fn json_mode_prints_one_object_per_event() {
        let out = shown(Mode::Json, &[log(), Event::Quit]);
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "log");
        assert_eq!(lines[0]["msg"], "hello");
        assert_eq!(lines[1]["event"], "quit");
        assert!(
            lines[1]["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
            "every event has a timestamp: {}",
            lines[1]
        );
    }

    #[test]
    fn text_mode_prints_log_lines_and_notes() {
        let out = shown(
            Mode::Default,
            &[
                log(),
                Event::Restarted {
                    conditional: true,
                    devices: 2,
                },
            ],
        );
        assert_eq!(
            out,
            "[d1] 2026-01-01T00:00:00Z [server.log] hello\n» Conditional restart requested for 2 device(s).\n"
        );
    }

    #[test]
    fn test_passes_show_failures_as_editors_read_them_and_a_tally() {
        let done = Event::TestsDone {
            passed: 41,
            total: 42,
            failures: vec![TestFailure {
                file: "tests/z.test.nut".into(),
                line: Some(4),
                name: "Z::testAdd()".into(),
                message: "Expected value: 3, got: 4".into(),
            }],
            error: None,
            ms: 80,
            files: vec!["tests/z.test.nut".into()],
            affected: 1,
        };
        let text = shown(Mode::Default, std::slice::from_ref(&done));
        assert!(
            text.contains("tests/z.test.nut:4: Expected value: 3, got: 4 (Z::testAdd())\n"),
            "{text}"
        );
        assert!(text.contains("tests 41/42 ✗"), "{text}");
        let v = done.to_json();
        assert_eq!(v["event"], "tests");
        assert_eq!(v["ok"], false);
        assert_eq!(v["failures"][0]["file"], "tests/z.test.nut");
        assert_eq!(v["failures"][0]["line"], 4);
        let ok = Event::TestsDone {
            passed: 2,
            total: 2,
            failures: vec![],
            error: None,
            ms: 1,
            files: vec![],
            affected: 0,
        };
        assert!(shown(Mode::Default, &[ok]).contains("tests 2/2 ✓"));
    }

    #[test]
    fn diagnostics_read_as_editors_expect() {
        let d = Diagnostic {
            file: "lib/a.nut".into(),
            line: 3,
            column: 7,
            kind: String::new(),
            text: "expression expected".into(),
        };
        assert_eq!(d.to_string(), "lib/a.nut:3:7: error: expression expected");
        let v = Event::CompileError { errors: vec![d] }.to_json();
        let e = &v["errors"][0];
        assert_eq!(
            (
                &e["file"],
                &e["line"],
                &e["column"],
                &e["severity"],
                &e["message"]
            ),
            (
                &json!("lib/a.nut"),
                &json!(3),
                &json!(7),
                &json!("error"),
                &json!("expression expected")
            )
        );
    }

    #[test]
    fn the_status_line_keeps_an_error_until_the_next_good_deploy() {
        let mut r = TextRenderer::new(Box::new(std::io::sink()), false, false);
        r.emit(&Event::Started {
            dg_id: "g".into(),
            dg_name: "G".into(),
            dg_type: "development_devicegroup".into(),
            sha: Some("abcdef0123".into()),
            devices: vec![DeviceInfo {
                id: "d1".into(),
                name: "kitchen".into(),
                online: true,
            }],
        });
        r.emit(&Event::CompileError { errors: vec![] });
        r.emit(&log());
        // The old code's runtime error does not hide that the new code does not compile.
        r.emit(&Event::Log(LogLine {
            typ: "server.error".into(),
            ..match log() {
                Event::Log(l) => l,
                _ => unreachable!(),
            }
        }));
        assert!(
            r.status_text().contains("compile error"),
            "{}",
            r.status_text()
        );
        assert!(r.status_text().contains("sha abcdef01"));
        assert!(
            r.status_text().contains("● [d1] kitchen"),
            "{}",
            r.status_text()
        );
        r.emit(&Event::Deployed {
            id: "dep".into(),
            sha: "0123456789".into(),
            ms: 5,
        });
        assert!(!r.status_text().contains("error"), "{}", r.status_text());
        assert!(r.status_text().contains("sha 01234567"));
        r.emit(&Event::Log(LogLine {
            typ: "server.error".into(),
            ..match log() {
                Event::Log(l) => l,
                _ => unreachable!(),
            }
        }));
        assert!(r.status_text().contains("runtime error"));
        r.emit(&Event::Pending {
            reason: "HTTP/503".into(),
            retry_ms: Some(500),
            login: false,
        });
        assert!(r.status_text().contains("pending deploy"));
    }

    #[test]
    fn devices_are_named_alike_in_log_lines_and_dividers() {
        let out = shown(
            Mode::Default,
            &[
                Event::Started {
                    dg_id: "g".into(),
                    dg_name: "G".into(),
                    dg_type: "pre_factoryfixture_devicegroup".into(),
                    sha: None,
                    devices: vec![DeviceInfo {
                        id: "d1".into(),
                        name: "kitchen".into(),
                        online: true,
                    }],
                },
                Event::Divider {
                    device_id: "d1".into(),
                    sha: Some("0123456789".into()),
                },
                log(),
            ],
        );
        assert!(out.contains("(pre-factory)"), "{out}");
        assert!(
            out.contains("──── [d1] kitchen restarts into 01234567 ────"),
            "{out}"
        );
        assert!(
            out.contains("[d1] 2026-01-01T00:00:00Z [server.log] hello"),
            "{out}"
        );
    }

    #[test]
    fn debug_text_keeps_the_logged_location_of_mapped_frames() {
        let frame = Event::Log(LogLine {
            device_id: "d1".into(),
            ts: "t".into(),
            typ: "server.error".into(),
            msg: "ERROR:   at lib.nut:3 (boom)".into(),
            replayed: false,
            mapped: Some(MappedAt {
                file: "lib.nut".into(),
                line: 3,
                raw_msg: "ERROR:   at boom:7".into(),
            }),
        });
        let buf = Arc::new(Mutex::new(Vec::new()));
        let mut r = TextRenderer::new(Box::new(SharedBuffer(buf.clone())), false, false);
        r.emit(&frame);
        r.raw_locations = true;
        r.emit(&frame);
        r.finish();
        let out = String::from_utf8(lock(&buf).clone()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "[d1] t [server.error] ERROR:   at lib.nut:3 (boom)"
        );
        assert_eq!(
            lines[1],
            "[d1] t [server.error] ERROR:   at lib.nut:3 (boom) [logged as: ERROR:   at boom:7]"
        );
        assert_eq!(frame.to_json()["raw_msg"], "ERROR:   at boom:7");
        assert_eq!(frame.to_json()["file"], "lib.nut");
    }
}

//! Which device log lines are shown and how: by source (agent or device), by type
//! (`server.log`, `server.error`, `agent.log`, `agent.error`, `status`, …) and by a regular
//! expression on the message; with or without timestamps; optionally appended to a file.
//!
//! One filter per process: `log get`, `log stream` and `watch` build it from their options
//! and [`install`] it; the places that render log lines ([`crate::output::Ui::log_line`], the
//! `log get` pages, `impt watch`'s renderer through [`filtered`]) ask [`current`]. Without an
//! installed filter every line is shown as before.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::Value;

use super::watch::{Event, WatchRenderer};
use crate::error::{ImptError, Result};
use crate::sync::lock;

/// The sources `--source` accepts.
pub const SOURCES: [&str; 2] = ["agent", "device"];

/// The log types impCentral is known to send (the API notes, from the original tools), the
/// values `--type` accepts.
pub const TYPES: [&str; 10] = [
    "server.log",
    "server.error",
    "server.sleep",
    "agent.log",
    "agent.error",
    "status",
    "powerstate",
    "lastexitcode",
    "firmware",
    "IDE.log",
];

/// The error for a `--type` that no line can have, with the likely one.
fn unknown_type(t: &str) -> ImptError {
    let best = TYPES
        .iter()
        .map(|k| {
            (
                strsim::osa_distance(&t.to_lowercase(), &k.to_lowercase()),
                *k,
            )
        })
        .min()
        .filter(|(d, _)| *d <= 2)
        .map(|(_, k)| format!(" Did you mean {k}?"))
        .unwrap_or_default();
    ImptError::msg(format!(
        "Option \"--type\" has unknown value \"{t}\":{best} Log types: {}.",
        TYPES.join(", ")
    ))
}

/// The log options as given (shared by `log get`, `log stream` and `watch`).
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    pub sources: Vec<String>,
    pub types: Vec<String>,
    pub grep: Option<String>,
    pub no_timestamps: bool,
    pub log_file: Option<PathBuf>,
    /// `--json-lines`: json mode prints one compact object per line.
    pub json_lines: bool,
}

#[derive(Default)]
pub struct LogFilter {
    agent: bool,
    device: bool,
    types: Vec<String>,
    pattern: Option<Regex>,
    timestamps: bool,
    file: Option<Mutex<File>>,
    json_lines: bool,
}

impl LogFilter {
    /// Everything shown, timestamps included, no file.
    pub fn all() -> LogFilter {
        LogFilter {
            agent: true,
            device: true,
            timestamps: true,
            ..LogFilter::default()
        }
    }

    /// Checks the options: a source other than agent/device, an empty type, a bad regular
    /// expression or a log file that cannot be opened for appending is an error.
    pub fn new(o: &LogOptions) -> Result<LogFilter> {
        for s in &o.sources {
            if !SOURCES.contains(&s.as_str()) {
                return Err(ImptError::msg(format!(
                    "Option \"--source\" has incorrect value \"{s}\": use agent or device."
                )));
            }
        }
        if o.types.iter().any(|t| t.trim().is_empty()) {
            return Err(ImptError::msg("Option \"--type\" must not be empty."));
        }
        if let Some(t) = o.types.iter().find(|t| !TYPES.contains(&t.trim())) {
            return Err(unknown_type(t.trim()));
        }
        let pattern = match &o.grep {
            Some(p) => Some(Regex::new(p).map_err(|e| {
                ImptError::msg(format!(
                    "Option \"--grep\" is not a valid regular expression: {e}"
                ))
            })?),
            None => None,
        };
        let file = match &o.log_file {
            Some(path) => Some(Mutex::new(private_append().open(path).map_err(|e| {
                ImptError::msg(format!("Cannot open log file \"{}\": {e}", path.display()))
            })?)),
            None => None,
        };
        let any = o.sources.is_empty();
        Ok(LogFilter {
            agent: any || o.sources.iter().any(|s| s == "agent"),
            device: any || o.sources.iter().any(|s| s == "device"),
            types: o.types.iter().map(|t| t.trim().to_string()).collect(),
            pattern,
            timestamps: !o.no_timestamps,
            file,
            json_lines: o.json_lines,
        })
    }

    /// Whether a line of this type and message is shown. Agent lines have types `agent.*`;
    /// everything else (`server.*`, `status`, …) comes from the device side.
    pub fn keeps(&self, typ: &str, msg: &str) -> bool {
        let from_agent = typ.starts_with("agent.");
        if (from_agent && !self.agent) || (!from_agent && !self.device) {
            return false;
        }
        if !self.types.is_empty() && !self.types.iter().any(|t| t == typ) {
            return false;
        }
        self.pattern.as_ref().is_none_or(|p| p.is_match(msg))
    }

    /// Whether an API log entry (`{type, msg, …}`) is kept (nothing is written).
    pub fn keeps_entry(&self, raw: &Value) -> bool {
        let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default();
        self.keeps(s("type"), s("msg"))
    }

    /// Whether the filter hides any line (a source, a type or a pattern was given).
    pub fn narrows(&self) -> bool {
        let everything = self.agent && self.device && self.types.is_empty();
        !everything || self.pattern.is_some()
    }

    /// Log entries in json mode as one compact object per line (`--json-lines`).
    pub fn json_lines(&self) -> bool {
        self.json_lines
    }

    pub fn timestamps(&self) -> bool {
        self.timestamps
    }

    /// The text of an API log entry (`{ts, type, msg, …}`) as rendered, or `None` when the
    /// filter hides it; the shown text is also appended to the log file.
    pub fn shown(&self, text: &str, raw: &Value) -> Option<String> {
        let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default();
        if !self.keeps(s("type"), s("msg")) {
            return None;
        }
        let text = match s("ts") {
            ts if !self.timestamps && !ts.is_empty() => text.replacen(&format!("{ts} "), "", 1),
            _ => text.to_string(),
        };
        self.append(&text);
        Some(text)
    }

    /// Appends a line to the log file, when there is one.
    pub fn append(&self, line: &str) {
        if let Some(f) = &self.file {
            let mut f = lock(f);
            let _ = writeln!(f, "{line}");
        }
    }
}

static CURRENT: OnceLock<LogFilter> = OnceLock::new();

/// Makes `filter` the process's filter (the first call wins).
pub fn install(filter: LogFilter) {
    let _ = CURRENT.set(filter);
}

/// The installed filter, or one that shows everything.
pub fn current() -> &'static LogFilter {
    static ALL: OnceLock<LogFilter> = OnceLock::new();
    CURRENT
        .get()
        .unwrap_or_else(|| ALL.get_or_init(LogFilter::all))
}

/// `inner` behind the current filter (what `impt watch` renders through).
pub fn filtered(inner: Box<dyn WatchRenderer>) -> Box<dyn WatchRenderer> {
    Box::new(Filtered(inner))
}

/// A watch renderer that applies the current filter to log events before `inner` sees them.
pub struct Filtered(pub Box<dyn WatchRenderer>);

impl WatchRenderer for Filtered {
    fn emit(&mut self, ev: &Event) {
        if let Event::Log(l) = ev {
            let f = current();
            if !f.keeps(&l.typ, &l.msg) {
                return;
            }
            let ts = if f.timestamps() { l.ts.as_str() } else { "" };
            let mut shown = l.clone();
            shown.ts = ts.to_string();
            let line = [
                format!("[{}]", l.device_id),
                ts.to_string(),
                format!("[{}]", l.typ),
                l.msg.clone(),
            ];
            f.append(
                &line
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            return self.0.emit(&Event::Log(shown));
        }
        self.0.emit(ev)
    }
    fn flush(&mut self) {
        self.0.flush()
    }
    fn clear(&mut self) {
        self.0.clear()
    }
    fn keys(&mut self, hint: &str) {
        self.0.keys(hint)
    }
    fn finish(&mut self) {
        self.0.finish()
    }
}

/// Options that open a log file for appending, creating it readable by its owner only
/// (device logs may hold anything the code prints).
fn private_append() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(o: LogOptions) -> LogFilter {
        LogFilter::new(&o).unwrap()
    }

    #[test]
    fn sources_types_and_patterns_select_lines() {
        let all = LogFilter::all();
        assert!(
            all.keeps("agent.log", "x") && all.keeps("server.log", "x") && all.keeps("status", "x")
        );
        let agent = filter(LogOptions {
            sources: vec!["agent".into()],
            ..Default::default()
        });
        assert!(agent.keeps("agent.error", "x"));
        assert!(!agent.keeps("server.log", "x") && !agent.keeps("status", "x"));
        let device = filter(LogOptions {
            sources: vec!["device".into()],
            ..Default::default()
        });
        assert!(device.keeps("server.error", "x") && device.keeps("status", "x"));
        assert!(!device.keeps("agent.log", "x"));
        let types = filter(LogOptions {
            types: vec!["server.error".into(), "status".into()],
            ..Default::default()
        });
        assert!(types.keeps("server.error", "x") && types.keeps("status", "x"));
        assert!(!types.keeps("server.log", "x"));
        let grep = filter(LogOptions {
            grep: Some("^temp=\\d+$".into()),
            ..Default::default()
        });
        assert!(grep.keeps("server.log", "temp=21"));
        assert!(!grep.keeps("server.log", "temp=hot"));
    }

    #[test]
    fn bad_options_are_named() {
        let err = |o: LogOptions| LogFilter::new(&o).err().unwrap().to_string();
        assert!(err(LogOptions {
            sources: vec!["server".into()],
            ..Default::default()
        })
        .contains("--source"));
        assert!(err(LogOptions {
            grep: Some("(".into()),
            ..Default::default()
        })
        .contains("--grep"));
        assert!(err(LogOptions {
            types: vec![" ".into()],
            ..Default::default()
        })
        .contains("--type"));
        let dir = tempfile::tempdir().unwrap();
        let bad = LogOptions {
            log_file: Some(dir.path().join("no/such/dir/f.log")),
            ..Default::default()
        };
        assert!(err(bad).contains("Cannot open log file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_new_log_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.log");
        let _f = filter(LogOptions {
            log_file: Some(path.clone()),
            ..Default::default()
        });
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn shown_text_drops_the_timestamp_and_lands_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        std::fs::write(&path, "earlier\n").unwrap();
        let f = filter(LogOptions {
            no_timestamps: true,
            log_file: Some(path.clone()),
            ..Default::default()
        });
        let raw = json!({"ts": "2026-01-01T00:00:00.000Z", "type": "server.log", "msg": "hi"});
        let text = f
            .shown("[d1] 2026-01-01T00:00:00.000Z [server.log] hi", &raw)
            .unwrap();
        assert_eq!(text, "[d1] [server.log] hi");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "earlier\n[d1] [server.log] hi\n"
        );
    }
}

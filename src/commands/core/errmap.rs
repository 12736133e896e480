//! Runtime errors at the user's file and line. An imp logs a runtime error as
//! `ERROR: <message>` followed by `ERROR:   at <function>:<line>` and `ERROR:   from
//! <function>:<line>` frames, whose lines count in the deployed code, that is the
//! preprocessed code with every include inlined. The preprocessor's line map of the
//! deployment that produced the error turns a frame into the user's own `file:line`.

use serde_json::Value;

use crate::error::ImptError;
use impt_builder::SourcePos;

/// The line maps of one deployment: device code and agent code, one entry per line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineMaps {
    pub device: Vec<SourcePos>,
    pub agent: Vec<SourcePos>,
}

/// A stack frame line mapped to the user's file.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    /// The line as the user reads it: `ERROR:   at device.nut:5 (main)`.
    pub text: String,
    pub file: String,
    pub line: usize,
    pub function: String,
    /// The location as logged: `main:5`.
    pub raw: String,
}

/// `(word, function, line)` of `ERROR:   at <function>:<line>` (or `from`).
fn frame(msg: &str) -> Option<(&str, &str, usize)> {
    let rest = msg.strip_prefix("ERROR:")?.trim_start();
    let (word, rest) = rest.split_once(' ')?;
    if word != "at" && word != "from" {
        return None;
    }
    let (function, line) = rest.trim().rsplit_once(':')?;
    Some((word, function, line.trim().parse().ok()?))
}

impl LineMaps {
    /// The same maps naming files below `root` relative to it (as users type them).
    pub fn relative_to(mut self, root: &std::path::Path) -> LineMaps {
        for pos in self.device.iter_mut().chain(self.agent.iter_mut()) {
            if let Ok(rel) = std::path::Path::new(&pos.file).strip_prefix(root) {
                pos.file = rel.to_string_lossy().into_owned();
            }
        }
        self
    }

    /// The map of the side that logged a line of `log_type` (`agent.*`: the agent's).
    fn side(&self, log_type: &str) -> &[SourcePos] {
        if log_type.starts_with("agent") {
            &self.agent
        } else {
            &self.device
        }
    }

    /// A log entry (`{type, msg, …}`) with an error frame mapped: `msg` names the user's file
    /// and line, `file` and `line` say them, `raw_msg` keeps the logged line.
    pub fn map_entry(&self, mut v: Value) -> Value {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if let Some(m) = self.map(&s("type"), &s("msg")) {
            v["raw_msg"] = v["msg"].take();
            v["msg"] = Value::String(m.text);
            v["file"] = Value::String(m.file);
            v["line"] = m.line.into();
        }
        v
    }

    /// A frame line of an error log line, mapped; `None` for other lines or lines the map
    /// does not have.
    pub fn map(&self, log_type: &str, msg: &str) -> Option<Mapped> {
        if !log_type.ends_with("error") {
            return None;
        }
        let (word, function, line) = frame(msg)?;
        let pos = self.side(log_type).get(line.checked_sub(1)?)?;
        Some(Mapped {
            text: format!("ERROR:   {word} {}:{} ({function})", pos.file, pos.line),
            file: pos.file.clone(),
            line: pos.line,
            function: function.to_string(),
            raw: format!("{function}:{line}"),
        })
    }
}

/// Adds `<file>:<line>:<column>: <type>: <text>` notes to a compile error answer (the
/// service's or the local check's), naming the user's own files through the line maps.
pub fn map_compile_errors(err: ImptError, maps: &LineMaps) -> ImptError {
    let ImptError::Api(mut api) = err else {
        return err;
    };
    let mut notes = Vec::new();
    for item in &api.errors {
        let Some(entries) = item.meta.as_array() else {
            continue;
        };
        for m in entries {
            let side = match m.get("file").and_then(Value::as_str) {
                Some("device_code") => &maps.device,
                Some("agent_code") => &maps.agent,
                _ => continue,
            };
            let row = m.get("row").and_then(Value::as_u64).unwrap_or(0) as usize;
            let Some(pos) = row.checked_sub(1).and_then(|i| side.get(i)) else {
                continue;
            };
            let column = m.get("column").and_then(Value::as_u64).unwrap_or(0);
            let typ = m.get("type").and_then(Value::as_str).unwrap_or("error");
            let text = m.get("text").and_then(Value::as_str).unwrap_or("");
            notes.push(format!("{}:{}:{column}: {typ}: {text}", pos.file, pos.line));
        }
    }
    api.notes = notes;
    ImptError::Api(api)
}

/// Whether a log entry announces that the device loads code (`Downloading new code; …`):
/// lines after it may come from another deployment than the lines before it.
pub fn is_code_load(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("status")
        && v.get("msg")
            .and_then(Value::as_str)
            .is_some_and(|m| m.starts_with("Downloading new code"))
}

/// The code of one project source file as it is deployed (preprocessed when it has Builder
/// directives), and its line map; `None` when it cannot be read or built.
fn project_side(file: Option<&str>) -> Option<(String, Vec<SourcePos>)> {
    let Some(name) = file.filter(|f| !f.is_empty()) else {
        return Some((String::new(), Vec::new()));
    };
    let path = std::path::Path::new(name);
    let text = std::fs::read_to_string(path).ok()?;
    if !impt_builder::has_directives(&text) {
        let map = identity_map(&text, name);
        return Some((text, map));
    }
    let p = impt_builder::preprocess_file(path, &impt_builder::Options::default()).ok()?;
    Some((p.code, p.line_map))
}

/// The line maps of the Project's files when they are what the Device Group `dg` runs
/// (its current deployment has their code), for `log stream` and `log get` in a project.
pub async fn project_maps(ctx: &super::CommandCtx, dg: &serde_json::Value) -> Option<LineMaps> {
    let project = ctx.project().ok()??;
    if project.device_group_id() != Some(crate::api::id_of(dg)) {
        return None;
    }
    let (device, device_map) = project_side(project.device_file())?;
    let (agent, agent_map) = project_side(project.agent_file())?;
    let id = crate::api::rel_id(dg, "current_deployment")?;
    let dep = ctx.get(crate::error::Entity::Deployment, id).await.ok()??;
    let code = |k: &str| {
        crate::api::attr_str(&dep, k)
            .unwrap_or_default()
            .to_string()
    };
    if code("device_code") != device || code("agent_code") != agent {
        return None;
    }
    let maps = LineMaps {
        device: device_map,
        agent: agent_map,
    };
    Some(match std::env::current_dir() {
        Ok(dir) => maps.relative_to(&dir),
        Err(_) => maps,
    })
}

/// One entry per line of `code`, all naming `file` (code that was not preprocessed).
pub fn identity_map(code: &str, file: &str) -> Vec<SourcePos> {
    (1..=code.lines().count().max(1))
        .map(|line| SourcePos {
            file: file.to_string(),
            line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(file: &str, line: usize) -> SourcePos {
        SourcePos {
            file: file.into(),
            line,
        }
    }

    #[test]
    fn frames_name_the_users_file_and_line() {
        let maps = LineMaps {
            device: vec![
                pos("device.nut", 1),
                pos("lib/util.nut", 1),
                pos("lib/util.nut", 2),
            ],
            agent: identity_map("a\nb\n", "agent.nut"),
        };
        let m = maps.map("server.error", "ERROR:   at main:3").unwrap();
        assert_eq!(m.text, "ERROR:   at lib/util.nut:2 (main)");
        assert_eq!(
            (m.file.as_str(), m.line, m.raw.as_str()),
            ("lib/util.nut", 2, "main:3")
        );
        let m = maps.map("agent.error", "ERROR:   from unknown:2").unwrap();
        assert_eq!(m.text, "ERROR:   from agent.nut:2 (unknown)");
        // Not a frame, not an error, or a line the map does not have.
        assert!(maps
            .map("server.error", "ERROR: the index 'x' does not exist")
            .is_none());
        assert!(maps.map("server.log", "ERROR:   at main:1").is_none());
        assert!(maps.map("server.error", "ERROR:   at main:99").is_none());
        assert!(maps.map("server.error", "ERROR:   at main:0").is_none());
    }
}

//! Drives a real `impt watch -z json` against a real `impt sim`: a project with a development
//! Device Group and one assigned device, the watch process with its JSON events, and
//! bounded waits on those events.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::cli::Env;
use super::running::{self, Running};

/// The debounce `Project::watch` passes (ms).
pub const DEBOUNCE_MS: u64 = 150;

/// A watched project: its `Env` (sim, HOME, directory), Device Group and device.
pub struct Project {
    pub env: Env,
    pub dg: String,
    pub device: String,
}

/// A sim (extra args), logged in, with a product, a development group, one device assigned,
/// `device.nut`, `agent.nut` and `.impt.project`.
pub fn project(sim_args: &[&str]) -> Project {
    project_typed(sim_args, "development_devicegroup", None)
}

/// Like [`project`] with a group of `dg_type`; `targets` are the types of the production
/// and DUT target groups a fixture group needs.
pub fn project_typed(sim_args: &[&str], dg_type: &str, targets: Option<(&str, &str)>) -> Project {
    project_in(Env::start(sim_args), dg_type, targets)
}

/// [`project_typed`] in a given `Env` (e.g. one from `Env::start_env`).
pub fn project_in(env: Env, dg_type: &str, targets: Option<(&str, &str)>) -> Project {
    let (s, p) = env.http(
        "POST",
        "/products",
        Some(json!({"data": {"type": "product", "attributes": {"name": "watched"}}})),
    );
    assert_eq!(s, 201, "{p}");
    let product = p["data"]["id"].as_str().unwrap().to_string();
    let mut rels = json!({"product": {"type": "product", "id": product}});
    if let Some((pt, dt)) = targets {
        for (rel, t) in [("production_target", pt), ("dut_target", dt)] {
            let (s, g) = env.http(
                "POST",
                "/devicegroups",
                Some(json!({"data": {"type": t, "attributes": {"name": rel},
                    "relationships": {"product": {"type": "product", "id": product}}}})),
            );
            assert_eq!(s, 201, "{g}");
            rels[rel] = json!({"type": t, "id": g["data"]["id"]});
        }
    }
    let (s, g) = env.http(
        "POST",
        "/devicegroups",
        Some(json!({"data": {"type": dg_type, "attributes": {"name": "watched-dg"}, "relationships": rels}})),
    );
    assert_eq!(s, 201, "{g}");
    let dg = g["data"]["id"].as_str().unwrap().to_string();
    let device = env.device_ids()[0].clone();
    env.assign(&dg, &device);
    std::fs::write(env.path("device.nut"), "server.log(\"device v0\");\n").unwrap();
    std::fs::write(env.path("agent.nut"), "server.log(\"agent v0\");\n").unwrap();
    std::fs::write(
        env.path(".impt.project"),
        json!({"deviceGroupId": dg, "deviceFile": "device.nut", "agentFile": "agent.nut"})
            .to_string(),
    )
    .unwrap();
    Project { env, dg, device }
}

impl Project {
    /// Writes a file of the project.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.env.path(name), text).unwrap();
    }

    /// The sim's request counters (`/_sim/stats`).
    pub fn stats(&self) -> Value {
        self.env.http("GET", "/_sim/stats", None).1
    }

    pub fn reset_stats(&self) {
        self.env.http("POST", "/_sim/stats/reset", None);
    }

    /// Count of requests whose route contains all of `parts` (e.g. `["POST", "deployments"]`).
    pub fn count(&self, parts: &[&str]) -> u64 {
        let st = self.stats();
        st["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| parts.iter().all(|p| k.contains(p)))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Deployments of the group, newest first.
    pub fn deployments(&self) -> Vec<Value> {
        let (_, d) = self.env.http(
            "GET",
            &format!("/deployments?filter[devicegroup.id]={}", self.dg),
            None,
        );
        let mut v = d["data"].as_array().cloned().unwrap_or_default();
        v.sort_by(|a, b| {
            b["attributes"]["created_at"]
                .as_str()
                .cmp(&a["attributes"]["created_at"].as_str())
        });
        v
    }

    /// Starts `impt watch -z json --debounce 150` (plus `args`) in the project directory and
    /// waits until it streams.
    pub fn watch(&self, args: &[&str]) -> Watch {
        let mut w = self.watch_nowait(args);
        w.wait_for("the log stream", Duration::from_secs(60), |e| {
            e["event"] == "stream_opened"
        });
        w
    }

    /// Like [`Project::watch`], not waiting.
    pub fn watch_nowait(&self, args: &[&str]) -> Watch {
        self.watch_debounce(DEBOUNCE_MS, args)
    }

    /// `impt watch -z json --debounce <ms>` (plus `args`), not waiting.
    pub fn watch_debounce(&self, debounce_ms: u64, args: &[&str]) -> Watch {
        let ms = debounce_ms.to_string();
        let mut all = vec!["-z", "json", "--debounce", &ms];
        all.extend_from_slice(args);
        let mut all2 = vec!["watch"];
        all2.extend_from_slice(&all);
        Watch {
            run: running::spawn_env(
                self.env.dir.path(),
                self.env.home.path(),
                &self.env.envs,
                &all2,
            ),
            events: Vec::new(),
            cursor: 0,
        }
    }
}

/// `impt watch <args>` in `dir` with HOME=`home` and nothing else in its environment.
pub fn spawn_watch(dir: &Path, home: &Path, args: &[&str]) -> Watch {
    let mut all = vec!["watch"];
    all.extend_from_slice(args);
    Watch {
        run: running::spawn(dir, home, &all),
        events: Vec::new(),
        cursor: 0,
    }
}

/// A running `impt watch -z json`: its stdout lines as JSON events (a line that is not JSON
/// becomes `{"event": "raw", "text": …}`).
pub struct Watch {
    run: Running,
    /// Every event so far.
    pub events: Vec<Value>,
    /// Events before this index were consumed by `wait_for`.
    cursor: usize,
}

impl Watch {
    fn pump(&mut self, until: Instant) -> bool {
        if !self.run.pump(until) {
            return false;
        }
        let line = self.run.lines.last().unwrap();
        let v = serde_json::from_str::<Value>(line)
            .unwrap_or_else(|_| json!({"event": "raw", "text": line}));
        self.events.push(v);
        true
    }

    /// The first event after the last one waited for that satisfies `pred`, or `None` when
    /// none came within `timeout`.
    pub fn next_matching(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(i) = self.events[self.cursor..].iter().position(&pred) {
                self.cursor += i + 1;
                return Some(self.events[self.cursor - 1].clone());
            }
            if !self.pump(until) {
                return None;
            }
        }
    }

    /// Like [`Watch::next_matching`]; panics with every event seen after `timeout`.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        self.next_matching(timeout, pred)
            .unwrap_or_else(|| panic!("timed out waiting for {what}; events:\n{}", self.dump()))
    }

    /// The next event named `name` (60 s at most: a busy machine makes it slower, not fail).
    pub fn wait_event(&mut self, name: &str) -> Value {
        self.wait_for(name, Duration::from_secs(60), |e| e["event"] == name)
    }

    /// Collects events for `d` without consuming any.
    pub fn settle(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while self.pump(until) {}
    }

    /// Every event named `name` so far.
    pub fn all(&self, name: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect()
    }

    /// Log messages seen so far.
    pub fn log_msgs(&self) -> Vec<String> {
        self.all("log")
            .iter()
            .map(|e| e["msg"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Every event so far, one per line.
    pub fn dump(&self) -> String {
        self.events
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Types `k` and Enter (the keys of a watch without a terminal).
    pub fn key(&mut self, k: &str) {
        self.run.send_line(k);
    }

    /// Sends SIGINT (Ctrl-C), then the exit code.
    pub fn interrupt(mut self) -> i32 {
        self.run.ctrl_c();
        self.run.wait_exit()
    }

    /// `q`, then the exit code.
    pub fn quit(mut self) -> i32 {
        self.key("q");
        self.run.wait_exit()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if std::env::var_os("WATCH_DUMP").is_some() {
            eprintln!("--- impt watch events:\n{}", self.dump());
        }
    }
}

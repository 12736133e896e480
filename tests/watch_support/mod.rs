//! Drives a real `impt watch -z json` against a real `impt sim` (see `cli_support`):
//! a project with a development Device Group and one assigned device, the watch process
//! with its JSON events read on a thread, and bounded waits on those events.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use crate::cli_support::{impt_bin, Env};

pub const DEBOUNCE_MS: u64 = 150;

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
    let env = Env::start(sim_args);
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
    let (s, b) = env.http(
        "POST",
        &format!("/devicegroups/{dg}/relationships/devices"),
        Some(json!({"data": [{"type": "device", "id": device}]})),
    );
    assert!(s < 300, "{s} {b}");
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

    pub fn sim(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.env.http(method, path, body)
    }

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
        w.wait_for("the log stream", Duration::from_secs(20), |e| {
            e["event"] == "stream_opened"
        });
        w
    }

    pub fn watch_nowait(&self, args: &[&str]) -> Watch {
        self.watch_debounce(DEBOUNCE_MS, args)
    }

    /// `impt watch -z json --debounce <ms>` (plus `args`), not waiting.
    pub fn watch_debounce(&self, debounce_ms: u64, args: &[&str]) -> Watch {
        let mut all = vec![
            "-z".to_string(),
            "json".into(),
            "--debounce".into(),
            debounce_ms.to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        spawn_watch(self.env.dir.path(), self.env.home.path(), &all)
    }
}

/// `impt watch <args>` in `dir` with HOME=`home` and nothing else in its environment.
pub fn spawn_watch(dir: &Path, home: &Path, args: &[String]) -> Watch {
    let mut cmd = Command::new(impt_bin());
    cmd.arg("watch")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start impt watch");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let v = serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|_| json!({"event": "raw", "text": line}));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    Watch {
        child,
        stdin,
        rx,
        events: Vec::new(),
        cursor: 0,
    }
}

pub struct Watch {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Value>,
    /// Every event so far.
    pub events: Vec<Value>,
    /// Events before this index were consumed by `wait_for`.
    cursor: usize,
}

impl Watch {
    fn pump(&mut self, until: Instant) -> bool {
        let left = until.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => {
                self.events.push(v);
                true
            }
            Err(_) => false,
        }
    }

    /// The first event after the last one waited for that satisfies `pred`; panics with
    /// every event seen after `timeout`.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let until = Instant::now() + timeout;
        loop {
            if let Some(i) = self.events[self.cursor..].iter().position(&pred) {
                self.cursor += i + 1;
                return self.events[self.cursor - 1].clone();
            }
            if !self.pump(until) {
                panic!("timed out waiting for {what}; events:\n{}", self.dump());
            }
        }
    }

    /// The next event not consumed yet, waiting until `until`.
    pub fn next_event(&mut self, until: Instant) -> Option<Value> {
        if self.cursor >= self.events.len() && !self.pump(until) {
            return None;
        }
        self.cursor += 1;
        Some(self.events[self.cursor - 1].clone())
    }

    pub fn wait_event(&mut self, name: &str) -> Value {
        self.wait_for(name, Duration::from_secs(15), |e| e["event"] == name)
    }

    /// Collects events for `d` without consuming any.
    pub fn settle(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while self.pump(until) {}
    }

    /// Events named `name` after the last waited-for one (after `settle`).
    pub fn since(&self, name: &str) -> Vec<Value> {
        self.events[self.cursor..]
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect()
    }

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

    pub fn dump(&self) -> String {
        self.events
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn key(&mut self, k: &str) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = writeln!(s, "{k}");
            let _ = s.flush();
        }
    }

    /// Sends SIGINT (Ctrl-C), then the exit code.
    pub fn interrupt(mut self) -> i32 {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.wait_exit()
    }

    /// `q`, then the exit code (killed after 10 s).
    pub fn quit(mut self) -> i32 {
        self.key("q");
        self.wait_exit()
    }

    fn wait_exit(&mut self) -> i32 {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code().unwrap_or(-1);
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("impt watch did not quit; events:\n{}", self.dump());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if std::env::var_os("WATCH_DUMP").is_some() {
            eprintln!("--- impt watch events:\n{}", self.dump());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The real `impt` binary against a real `impt sim`: `Env` (a sim, a temporary HOME and a
//! temporary working directory per test), `Out` (what one command printed) and its checks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::http::Api;
use super::impt_bin;
use super::running::{self, Running};
use super::sim::Sim;

/// The sim's default account.
pub const USER: &str = "user";
pub const PASSWORD: &str = "password";

/// A sim, a HOME and a working directory of one test. The child processes get them through
/// their environment and `current_dir`; the test process's own are never touched.
pub struct Env {
    sim: Sim,
    /// The sim's API base URL, ending with `/v5`.
    pub url: String,
    pub home: tempfile::TempDir,
    pub dir: tempfile::TempDir,
    /// Variables added to the environment of every impt this `Env` runs (see `start_env`).
    pub envs: Vec<(String, String)>,
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Out {
    /// Exit status 0 and, if the command prints a status line, `IMPT COMMAND SUCCEEDS` last.
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "command failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stdout.trim_end().ends_with("IMPT COMMAND SUCCEEDS")
                || !self.stdout.contains("IMPT COMMAND"),
            "no SUCCEEDS line:\n{}",
            self.stdout
        );
        self
    }
    /// Exit status 1.
    pub fn failed(&self) -> &Self {
        assert_eq!(self.code, 1, "command did not fail:\n{}", self.stdout);
        self
    }
    /// stdout contains `text`.
    pub fn has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "expected {text:?} in:\n{}",
            self.stdout
        );
        self
    }
    /// stdout does not contain `text`.
    pub fn lacks(&self, text: &str) -> &Self {
        assert!(
            !self.stdout.contains(text),
            "unexpected {text:?} in:\n{}",
            self.stdout
        );
        self
    }
    /// stdout as JSON (`-z json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
    /// The first `id:` value after `label` (e.g. "Device Group: ").
    pub fn id_after(&self, label: &str) -> String {
        let rest = &self.stdout[self
            .stdout
            .find(label)
            .unwrap_or_else(|| panic!("{label} not in:\n{}", self.stdout))..];
        let line = rest
            .lines()
            .find(|l| l.trim_start().starts_with("id:"))
            .expect("id line");
        line.trim_start()
            .trim_start_matches("id:")
            .trim()
            .to_string()
    }
}

impl Env {
    /// Starts a sim (extra args appended) and logs in globally as the default user.
    pub fn start(sim_args: &[&str]) -> Env {
        let env = Env::start_no_login(sim_args);
        env.impt(&[
            "auth", "login", "-u", USER, "-w", PASSWORD, "-e", &env.url, "-q",
        ])
        .ok();
        env
    }

    /// Starts a sim; no auth file yet.
    pub fn start_no_login(sim_args: &[&str]) -> Env {
        let sim = Sim::start(sim_args);
        Env {
            url: sim.url().to_string(),
            sim,
            home: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
            envs: Vec::new(),
        }
    }

    /// [`Env::start`] where the sim and every impt run get `envs` and the sim shares the
    /// test's HOME (so its user cache is the test's).
    pub fn start_env(sim_args: &[&str], envs: &[(&str, &str)]) -> Env {
        let home = tempfile::tempdir().unwrap();
        let home_s = home.path().to_string_lossy().into_owned();
        let mut all = envs.to_vec();
        all.push(("HOME", &home_s));
        let sim = Sim::start_env(sim_args, &all);
        let env = Env {
            url: sim.url().to_string(),
            sim,
            home,
            dir: tempfile::tempdir().unwrap(),
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        env.impt(&[
            "auth", "login", "-u", USER, "-w", PASSWORD, "-e", &env.url, "-q",
        ])
        .ok();
        env
    }

    /// A path in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs impt in the test's directory.
    pub fn impt(&self, args: &[&str]) -> Out {
        self.impt_at(self.dir.path(), args, None, &[])
    }

    /// Runs impt with answers on stdin.
    pub fn impt_input(&self, args: &[&str], input: &str) -> Out {
        self.impt_at(self.dir.path(), args, Some(input), &[])
    }

    /// Runs impt in `dir` with `input` on stdin (then end of input) and `envs` added to its
    /// environment (which holds only HOME and PATH otherwise).
    pub fn impt_at(
        &self,
        dir: &Path,
        args: &[&str],
        input: Option<&str>,
        envs: &[(&str, &str)],
    ) -> Out {
        let mut cmd = Command::new(impt_bin());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run impt");
        {
            let mut stdin = child.stdin.take().unwrap();
            if let Some(i) = input {
                let _ = stdin.write_all(i.as_bytes());
            }
        }
        let out = child.wait_with_output().expect("impt output");
        Out {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Starts impt in the test's directory and returns at once (see [`Running`]).
    pub fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_at(self.dir.path(), args)
    }

    /// Starts impt in `dir` and returns at once.
    pub fn spawn_at(&self, dir: &Path, args: &[&str]) -> Running {
        running::spawn_env(dir, self.home.path(), &self.envs, args)
    }

    /// Starts impt in `dir` with these environment variables too.
    pub fn spawn_env(&self, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Running {
        let mut all = self.envs.clone();
        all.extend(envs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        running::spawn_env(dir, self.home.path(), &all, args)
    }

    /// A blocking HTTP call to the sim: paths starting with `/_sim` go to the control
    /// endpoints, others to the API, logged in as the default user (a fresh login each call).
    /// The status and the JSON body (`Null` if empty).
    pub fn http(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let api = if path.starts_with("/_sim") {
                Api::anonymous(&self.sim.root())
            } else {
                Api::login(&self.url, USER, PASSWORD).await
            };
            let r = api.send(method, path, body, &[]).await;
            (r.status, r.body)
        })
    }

    /// Waits (30 s at most) until a line of `device`'s log history contains `text`.
    pub fn wait_history(&self, device: &str, text: &str) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, doc) = self.http("GET", &format!("/devices/{device}/logs"), None);
            let found = doc["data"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|e| e["msg"].as_str().is_some_and(|m| m.contains(text)))
            });
            if found {
                return;
            }
            assert!(
                std::time::Instant::now() < end,
                "{text:?} never in the history of {device}: {doc}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Ids of the sim's devices.
    pub fn device_ids(&self) -> Vec<String> {
        let (_, doc) = self.http("GET", "/devices", None);
        doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Assigns `device` to the Device Group `dg` through the API.
    pub fn assign(&self, dg: &str, device: &str) {
        let body = serde_json::json!({"data": [{"type": "device", "id": device}]});
        let (status, b) = self.http(
            "POST",
            &format!("/devicegroups/{dg}/relationships/devices"),
            Some(body),
        );
        assert!(status < 300, "assign failed: {status} {b}");
    }

    /// `impt project create -p P -c -n DG -q` in the working directory and the sim's first
    /// device assigned to DG: a project ready for `build run`; the Device Group's id.
    pub fn project_with_device(&self) -> String {
        let out = self.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
        out.ok();
        let dg = out.id_after("Device Group: ");
        self.assign(&dg, &self.device_ids()[0]);
        dg
    }
}

/// Removes ANSI color codes.
pub fn plain(s: &str) -> String {
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.replace_all(s, "").into_owned()
}

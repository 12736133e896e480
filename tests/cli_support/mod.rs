//! Runs the real `impt` binary against a real `impt sim` on loopback, each test in its own
//! temporary HOME and working directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const USER: &str = "user";
pub const PASSWORD: &str = "password";

pub struct Env {
    sim: Child,
    pub url: String,
    pub home: tempfile::TempDir,
    pub dir: tempfile::TempDir,
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Out {
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
    pub fn failed(&self) -> &Self {
        assert_eq!(self.code, 1, "command did not fail:\n{}", self.stdout);
        self
    }
    pub fn has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "expected {text:?} in:\n{}",
            self.stdout
        );
        self
    }
    pub fn lacks(&self, text: &str) -> &Self {
        assert!(
            !self.stdout.contains(text),
            "unexpected {text:?} in:\n{}",
            self.stdout
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
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

pub fn impt_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_impt"))
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

    pub fn start_no_login(sim_args: &[&str]) -> Env {
        let mut sim = Command::new(impt_bin())
            .args(["sim", "--port", "0"])
            .args(sim_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start impt sim");
        let mut line = String::new();
        BufReader::new(sim.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("sim first line");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/v5"),
            "bad start line: {line:?}"
        );
        Env {
            sim,
            url,
            home: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

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

    /// A blocking HTTP call to the sim (control endpoints and checks of server state).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let base = self.url.trim_end_matches("/v5");
        let url = if path.starts_with("/_sim") {
            format!("{base}{path}")
        } else {
            format!("{}{path}", self.url)
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = reqwest::Client::new();
            let mut req = client
                .request(method.parse().unwrap(), &url)
                .header("Content-Type", "application/vnd.api+json");
            if !path.starts_with("/_sim") {
                let tok: serde_json::Value = client
                    .post(format!("{}/auth", self.url))
                    .json(&serde_json::json!({"id": USER, "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                req = req.bearer_auth(tok["access_token"].as_str().unwrap());
            }
            if let Some(b) = body {
                req = req.body(b.to_string());
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            )
        })
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
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.sim.kill();
        let _ = self.sim.wait();
    }
}

/// Removes ANSI color codes.
pub fn plain(s: &str) -> String {
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.replace_all(s, "").into_owned()
}

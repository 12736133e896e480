//! `impt sim --port 0 …` as a child process of a test.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::impt_bin;

/// A running simulator, killed on drop. Its stderr is kept and printed if the test fails.
pub struct Sim {
    child: Child,
    url: String,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Sim {
    /// Spawns `impt sim --port 0` plus `extra` and reads the port from its first line
    /// (`impCentral simulator listening on http://127.0.0.1:PORT/v5`).
    pub fn start(extra: &[&str]) -> Sim {
        Sim::start_env(extra, &[])
    }

    /// [`Sim::start`] with `envs` added to the sim's environment.
    pub fn start_env(extra: &[&str], envs: &[(&str, &str)]) -> Sim {
        let mut child = Command::new(impt_bin())
            .args(["sim", "--port", "0"])
            .args(extra)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn impt sim");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).expect("read first line");
        let url = line
            .trim_end()
            .strip_prefix("impCentral simulator listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line: {line:?}\n{}",
                    stderr.lock().unwrap()
                )
            })
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/v5"),
            "bad start line: {line:?}"
        );
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let port = url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/v5")
            .parse()
            .expect("port in URL");
        Sim {
            child,
            url,
            port,
            stderr,
        }
    }

    /// Base URL of the API, ending with `/v5`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The sim's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT` (for the `/_sim/` control endpoints).
    pub fn root(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `POST /_sim{path}` with a JSON body; the status.
    pub async fn control(&self, path: &str, body: &serde_json::Value) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/_sim{path}", self.root()))
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Sends SIGTERM; the exit status, or `None` if the sim is still running after `wait`.
    pub fn terminate(&mut self, wait: Duration) -> Option<ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let err = self.stderr.lock().unwrap();
            if !err.is_empty() {
                eprintln!("--- impt sim stderr:\n{err}");
            }
        }
    }
}

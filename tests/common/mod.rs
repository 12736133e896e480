//! Test helper: runs `impt sim --port 0 …` as a child process.
//!
//! `Sim::start(&["--devices", "6"])` spawns the binary, reads the first stdout line
//! (`impCentral simulator listening on http://127.0.0.1:PORT/v5`) and kills the child on
//! drop. `sim.url()` is the base URL ending in `/v5`; `sim.port()` its port.
#![allow(dead_code)]

pub mod api;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

pub struct Sim {
    child: Child,
    url: String,
    port: u16,
}

impl Sim {
    pub fn start(extra: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_impt"))
            .args(["sim", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn impt sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read first line");
        let prefix = "impCentral simulator listening on ";
        let url = line
            .trim_end()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
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
        Sim { child, url, port }
    }

    /// Base URL of the API, ending with `/v5`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (for the `/_sim/` control endpoints).
    pub fn root(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A running `impt` (log stream, `build run -l`, `test run`, `watch`): its stdout lines
//! arrive on a thread and are waited for with a bounded wait; Ctrl-C, keys on stdin and
//! the exit are driven from the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cli::Out;
use super::impt_bin;

/// How long `wait_for` and `wait_nth` wait for a line: generous, so that a busy machine
/// (2 cores shared by many jobs) only makes a test slower, never failing.
const WAIT: Duration = Duration::from_secs(60);
/// How long the exit waits (`interrupt`, `finish`, `wait_exit`) wait.
const EXIT_WAIT: Duration = Duration::from_secs(60);

/// A running impt process, killed on drop.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    /// Every stdout line received so far.
    pub lines: Vec<String>,
    /// Lines before this index were consumed by `wait_for`.
    cursor: usize,
}

/// Starts `impt <args>` in `dir` with HOME=`home`, PATH and nothing else in its environment,
/// stdin a pipe kept open (see [`Running::close_input`]).
pub fn spawn(dir: &Path, home: &Path, args: &[&str]) -> Running {
    spawn_env(dir, home, &[], args)
}

/// [`spawn`] with `envs` added to the environment.
pub fn spawn_env(dir: &Path, home: &Path, envs: &[(String, String)], args: &[&str]) -> Running {
    let mut child = Command::new(impt_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start impt");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running {
        stdin: child.stdin.take(),
        child,
        rx,
        stderr: Some(stderr),
        lines: Vec::new(),
        cursor: 0,
    }
}

impl Running {
    /// Receives one more line before `until`; false when none came (timeout or end).
    pub fn pump(&mut self, until: Instant) -> bool {
        let left = until.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(l) => {
                self.lines.push(l);
                true
            }
            Err(_) => false,
        }
    }

    /// The first line containing `text` after the last one waited for (60 s at most).
    pub fn wait_for(&mut self, text: &str) -> String {
        let until = Instant::now() + WAIT;
        loop {
            if let Some(i) = self.lines[self.cursor..]
                .iter()
                .position(|l| l.contains(text))
            {
                self.cursor += i + 1;
                return self.lines[self.cursor - 1].clone();
            }
            if !self.pump(until) {
                panic!("{text:?} not seen in:\n{}", self.lines.join("\n"));
            }
        }
    }

    /// The first line containing `text` after the last one waited for, if one comes within
    /// `timeout`.
    pub fn wait_within(&mut self, text: &str, timeout: Duration) -> Option<String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(i) = self.lines[self.cursor..]
                .iter()
                .position(|l| l.contains(text))
            {
                self.cursor += i + 1;
                return Some(self.lines[self.cursor - 1].clone());
            }
            if !self.pump(until) {
                return None;
            }
        }
    }

    /// The `n`-th (0-based) line containing `text` since the start (60 s at most).
    pub fn wait_nth(&mut self, text: &str, n: usize) -> String {
        let until = Instant::now() + WAIT;
        loop {
            if let Some(l) = self.lines.iter().filter(|l| l.contains(text)).nth(n) {
                return l.clone();
            }
            if !self.pump(until) {
                panic!("no {text:?} (#{n}) in:\n{}", self.lines.join("\n"));
            }
        }
    }

    /// Writes `line` to the process's stdin.
    pub fn send_line(&mut self, line: &str) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = writeln!(s, "{line}");
            let _ = s.flush();
        }
    }

    /// Closes stdin: the process sees the end of its input.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn ctrl_c(&mut self) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill -INT");
    }

    /// Ctrl-C with stdin still open (closing it would race the end-of-input path against the
    /// Ctrl-C one); the exit code and the lines after the last one waited for.
    pub fn interrupt(mut self) -> (i32, String) {
        self.ctrl_c();
        let code = self.wait_exit();
        self.rest_after_exit();
        (code, self.lines[self.cursor..].join("\n"))
    }

    /// Waits until the process ends by itself, stdin still open; everything it printed.
    pub fn finish(mut self) -> Out {
        let code = self.wait_exit();
        self.rest_after_exit();
        let mut stdout = self.lines.join("\n");
        stdout.push('\n');
        Out {
            stdout,
            stderr: self.stderr.take().unwrap().join().unwrap(),
            code,
        }
    }

    /// The exit code (minus the signal's number when a signal ended it); panics with the
    /// output if the process is still running after 60 s.
    pub fn wait_exit(&mut self) -> i32 {
        let until = Instant::now() + EXIT_WAIT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // killed by a signal: minus its number (-2 for SIGINT)
                return st.code().unwrap_or_else(|| {
                    -std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(1)
                });
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("impt did not end; output:\n{}", self.lines.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Receives the remaining lines of an ended process.
    fn rest_after_exit(&mut self) {
        self.lines.extend(self.rx.iter());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

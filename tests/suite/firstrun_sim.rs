//! The sim keeps its place (issue #17): `impt sim --state FILE` reuses the last run's port
//! when it is free and says so when it is not; every start prints how to log in.

use crate::support::*;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `impt sim <args>` and returns it with its first `lines` stdout lines (each waited
/// for at most 20 s).
fn start(dir: &std::path::Path, args: &[&str], lines: usize) -> (Child, Vec<String>) {
    let mut child = Command::new(impt_bin())
        .arg("sim")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in reader.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    for i in 0..lines {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) => out.push(l),
            Err(_) => {
                stop(child);
                panic!("impt sim printed {i} line(s), not {lines}: {out:?}");
            }
        }
    }
    std::thread::spawn(move || while rx.recv().is_ok() {});
    (child, out)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn url_of(first: &str) -> String {
    first
        .strip_prefix("impCentral simulator listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string()
}

#[test]
fn state_brings_the_port_back_and_the_login_line_works() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, lines) = start(dir.path(), &["--state", "sim.json"], 2);
    let url = url_of(&lines[0]);
    assert_eq!(
        lines[1],
        format!("To log in: impt auth login --endpoint {url} --user user --pwd password")
    );
    // the printed command logs in
    let home = tempfile::tempdir().unwrap();
    let login = Command::new(impt_bin())
        .args([
            "auth",
            "login",
            "--endpoint",
            &url,
            "--user",
            "user",
            "--pwd",
            "password",
        ])
        .current_dir(home.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stdout)
    );
    stop(sim);
    let (sim, lines) = start(dir.path(), &["--state", "sim.json"], 2);
    assert_eq!(url_of(&lines[0]), url, "the port changed");
    stop(sim);
    // an explicit --port wins over the saved one, and is not remembered
    let (sim, lines) = start(dir.path(), &["--state", "sim.json", "--port", "0"], 1);
    assert_ne!(url_of(&lines[0]), url);
    stop(sim);
    let (sim, lines) = start(dir.path(), &["--state", "sim.json"], 1);
    assert_eq!(url_of(&lines[0]), url);
    stop(sim);
    // without --state nothing is written
    let bare = tempfile::tempdir().unwrap();
    let (sim, _) = start(bare.path(), &[], 2);
    stop(sim);
    assert_eq!(std::fs::read_dir(bare.path()).unwrap().count(), 0);
}

#[test]
fn a_busy_saved_port_is_reported_with_the_new_login() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, lines) = start(dir.path(), &["--state", "s.json"], 2);
    let url = url_of(&lines[0]);
    stop(sim);
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/v5")
        .parse()
        .unwrap();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (sim, lines) = start(
        dir.path(),
        &["--state", "s.json", "--account", "me:s3cret"],
        3,
    );
    let new = url_of(&lines[0]);
    assert_ne!(new, url);
    assert_eq!(
        lines[1],
        format!("Port {port} of the last run is busy: logins saved for it no longer work.")
    );
    assert_eq!(
        lines[2],
        format!("To log in: impt auth login --endpoint {new} --user me --pwd <PASSWORD>")
    );
    stop(sim);
}

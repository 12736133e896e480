//! What a newcomer meets first (issue #26): completions that know every command and the
//! values of options, "did you mean" for options, unknown shells and log types said so, log
//! filters over the whole history, JSON lines, sim faults on the whole path, the editor kit,
//! and the watch loop's first line and event timestamps.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn completions_know_every_command_and_option_values() {
    let env = Env::start_no_login(&[]);
    let fish = env.impt(&["completions", "fish"]);
    assert_eq!(fish.code, 0);
    for cmd in ["watch", "sim", "help", "completions", "editor"] {
        assert!(
            fish.stdout
                .contains(&format!("__fish_impt_needs_command\" -f -a \"{cmd}\"")),
            "{cmd} missing"
        );
    }
    // `--source <TAB>` offers agent and device, not files.
    let at = fish
        .stdout
        .find("seen_subcommand_from stream\" -l source")
        .expect("log stream --source");
    let source: String = fish.stdout[at..].chars().take(120).collect();
    assert!(
        source.contains("agent") && source.contains("device"),
        "{source}"
    );
    let bash = env.impt(&["completions", "bash"]);
    assert!(bash.stdout.contains("impt,watch)"), "bash: watch");
    // An unknown shell is named as such.
    let tcsh = env.impt(&["completions", "tcsh"]);
    tcsh.failed().has("Unknown shell \"tcsh\"");
}

#[test]
fn mistyped_options_and_log_types_get_a_suggestion() {
    let env = Env::start(&[]);
    env.impt(&["build", "run", "--lgo"])
        .failed()
        .has("Did you mean `--log`?");
    env.impt(&["log", "stream", "--type", "sever.log"])
        .failed()
        .has("\"sever.log\"")
        .has("Did you mean server.log?");
}

#[test]
fn log_get_filters_pages_of_matching_lines_over_the_whole_history() {
    let env = Env::start(&[]);
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    let dg = out.id_after("Device Group: ");
    let dev = env.device_ids()[0].clone();
    env.assign(&dg, &dev);
    // One agent line, then 30 device lines after it: the agent line is on page 2 of the
    // server's pages of 20.
    for (count, typ, msg) in [
        (1, "agent.log", "from the agent"),
        (30, "server.log", "d{i}"),
    ] {
        let (s, _) = env.http(
            "POST",
            &format!("/_sim/devices/{dev}/logs"),
            Some(json!({"count": count, "type": typ, "message": msg})),
        );
        assert!(s < 300);
    }
    let wait = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let all = env.impt(&["log", "get", "-n", "1", "-s", "50", "-z", "json"]);
        if all.json().as_array().is_some_and(|a| a.len() >= 31) || std::time::Instant::now() > wait
        {
            break;
        }
    }
    let out = env.impt(&["log", "get", "--source", "agent", "-n", "1", "-z", "json"]);
    let v = out.ok().json();
    let msgs: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["msg"].as_str().unwrap())
        .collect();
    assert!(msgs.contains(&"from the agent"), "{msgs:?}");
    assert!(msgs.iter().all(|m| !m.starts_with('d')), "{msgs:?}");
    // JSON lines on request: one compact object per line.
    let out = env.impt(&[
        "log",
        "get",
        "--type",
        "agent.log",
        "-n",
        "1",
        "-z",
        "json",
        "--json-lines",
    ]);
    let first = out.stdout.lines().next().unwrap();
    let e: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(e["msg"], "from the agent", "{}", out.stdout);
}

#[test]
fn sim_faults_match_the_whole_path_too() {
    let env = Env::start(&[]);
    let (s, _) = env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"status": 503, "count": 100, "path": "^/v5/products"})),
    );
    assert_eq!(s, 201);
    env.impt(&["product", "list"])
        .failed()
        .has("Fault injected by the simulator");
    env.http("DELETE", "/_sim/faults", None);
    env.impt(&["product", "list"]).ok();
}

#[test]
fn the_editor_kit_writes_vscode_tasks_and_prints_the_others() {
    let env = Env::start_no_login(&[]);
    env.impt(&["editor", "vscode"]).ok();
    let tasks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path(".vscode/tasks.json")).unwrap())
            .unwrap();
    let m = &tasks["tasks"][0]["problemMatcher"];
    assert_eq!(m.as_array().unwrap().len(), 3);
    assert!(m[0]["background"]["beginsPattern"].is_string());
    assert_eq!(m[0]["fileLocation"][1], "${workspaceFolder}");
    assert!(env.path(".vscode/settings.json").is_file());
    // Not overwritten by surprise.
    env.impt(&["editor", "vscode"]).failed().has("--force");
    env.impt(&["editor", "neovim"]).ok().has("vim.json.decode");
    env.impt(&["editor", "jetbrains"])
        .ok()
        .has("$FILE_PATH$:$LINE$:$COLUMN$");
    env.impt(&["editor", "emacs"])
        .failed()
        .has("Unknown editor");
}

#[test]
fn watch_names_a_group_without_code_and_timestamps_every_event() {
    let p = project(&[]);
    let mut run = p.env.spawn(&["watch"]);
    let head = run.wait_for("Watching Device Group");
    assert!(head.contains("no code deployed yet"), "{head}");
    assert!(!head.contains("sha none"), "{head}");
    assert_eq!(run.interrupt().0, 0);
    let w = p.watch(&[]);
    assert!(!w.events.is_empty());
    for e in &w.events {
        assert!(
            e["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
            "no timestamp: {e}"
        );
    }
    assert_eq!(w.quit(), 0);
}

/// `rust-version` is true: no locked dependency (of this platform) needs a newer Rust. Reads
/// `cargo metadata` offline, so it needs no network and no other toolchain; clippy's
/// `incompatible_msrv` lint checks our own code against the same version.
#[test]
fn the_rust_version_covers_the_locked_dependencies() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let host = std::process::Command::new(&cargo)
        .args(["-vV"])
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&host.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("host triple");
    let out = std::process::Command::new(&cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--locked",
            "--filter-platform",
            &host,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let ours = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "impt")
        .and_then(|p| p["rust_version"].as_str())
        .expect("impt's rust-version")
        .to_string();
    let used: std::collections::HashSet<&str> = m["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let newer: Vec<String> = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| used.contains(id)))
        .filter_map(|p| {
            let rv = p["rust_version"].as_str()?;
            (version(rv) > version(&ours))
                .then(|| format!("{} {} needs {rv}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "rust-version {ours} is not true: {newer:?}"
    );
    // The README installs what the lock file says.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("cargo install --locked"),
        "README install without --locked"
    );
    assert!(
        readme.contains(&format!("Rust {ours} or newer")),
        "README names another Rust"
    );
}

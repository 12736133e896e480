//! The watch loop never goes stale (issue #26): a missing include is a compile error at its
//! place and its creation is seen, a restart from elsewhere keeps frames mapped, the status
//! line keeps a compile error, a half-written save is never deployed, paths read from the
//! working directory as editors resolve them, the account's one log stream is not fought
//! over, and `--sim` makes a project anywhere.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const T: Duration = Duration::from_secs(60);

fn is_log(e: &Value, pred: impl Fn(&str) -> bool) -> bool {
    e["event"] == "log" && e["msg"].as_str().is_some_and(pred)
}

#[test]
fn a_missing_include_is_a_compile_error_and_its_creation_deploys() {
    let p = project(&[]);
    p.write("lib.nut", "server.log(\"lib v1\");\n");
    let mut w = p.watch(&[]);
    p.write(
        "device.nut",
        "@include \"lib.nut\"\n@include \"util.nut\"\nserver.log(\"main\");\n",
    );
    let e = w.wait_for("the missing include's error", T, |e| {
        e["event"] == "compile_error" || e["event"] == "error"
    });
    assert_eq!(e["event"], "compile_error", "{e}");
    assert!(e["ts"].is_string(), "{e}");
    let d = &e["errors"][0];
    assert_eq!(d["file"], "device.nut", "relative, where it is: {e}");
    assert_eq!(d["line"], 2, "{e}");
    assert_eq!(d["column"], 1, "{e}");
    assert!(d["message"].as_str().unwrap().contains("util.nut"), "{e}");
    // While it does not build, a change of a file it reads (even one never built yet) is
    // tried again.
    w.wait_for("the project's directory watched", T, |e| {
        e["event"] == "watching" && e["files"].as_array().unwrap().contains(&"./".into())
    });
    p.write("lib.nut", "server.log(\"lib v2\");\n");
    w.wait_for("a new try after lib.nut changed", T, |e| {
        e["event"] == "compile_error"
    });
    p.write("util.nut", "server.log(\"util\");\n");
    w.wait_event("deployed");
    w.wait_for("the included code's line", T, |e| {
        is_log(e, |m| m == "util")
    });
    assert!(w.log_msgs().contains(&"lib v2".to_string()), "{}", w.dump());
    // Built again: the included files are watched as such.
    p.write("util.nut", "server.log(\"util v2\");\n");
    w.wait_for("util.nut's edit", T, |e| is_log(e, |m| m == "util v2"));
    assert_eq!(w.quit(), 0);
}

const LIB: &str = "function div(a) {\n  local t = {};\n  return t.nope;\n}\n";
const DEVICE: &str = "server.log(\"start\");\n@include \"lib.nut\"\ndiv(1);\n";

#[test]
fn frames_stay_mapped_after_a_restart_from_elsewhere() {
    let env = Env::start(&[]);
    let dg = env.project_with_device();
    std::fs::write(env.path("lib.nut"), LIB).unwrap();
    std::fs::write(env.path("device.nut"), DEVICE).unwrap();
    env.impt(&["build", "run"]).ok();
    let mut w = spawn_watch(
        env.dir.path(),
        env.home.path(),
        &["-z", "json", "--debounce", "100"],
    );
    w.wait_event("stream_opened");
    // Another terminal restarts the group: the devices load the code again.
    env.impt(&["dg", "restart", "-g", &dg]).ok();
    w.wait_for("the code load", T, |e| {
        is_log(e, |m| m.starts_with("Downloading new code"))
    });
    let at = w.wait_for("a frame after the code load", T, |e| {
        is_log(e, |m| m.starts_with("ERROR:   at "))
    });
    assert_eq!(at["msg"], "ERROR:   at lib.nut:3 (div)", "{at}");
    assert_eq!(at["file"], "lib.nut");
    assert_eq!(w.quit(), 0);
}

#[test]
fn the_status_line_keeps_the_compile_error_over_old_runtime_errors() {
    let p = project(&[]);
    p.write("lib.nut", LIB);
    p.write("device.nut", DEVICE);
    p.env.impt(&["build", "run"]).ok();
    let mut run = p.env.spawn_env(
        p.env.dir.path(),
        &["watch", "--debounce", "100"],
        &[("IMPT_STATUS_LINE", "1"), ("NO_COLOR", "1")],
    );
    run.wait_for("Log stream");
    run.wait_for("ERROR: the index 'nope'");
    p.write("device.nut", "local x = ;\n");
    run.wait_for("Compilation failed");
    // The old code fails again: the status line still says the new code does not compile.
    run.wait_for("ERROR: the index 'nope'");
    let status = run.wait_for("r redeploy");
    assert!(status.contains("compile error"), "{status}");
    assert!(!status.contains("runtime error"), "{status}");
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn a_half_written_save_is_never_deployed_even_without_debounce() {
    let p = project(&[]);
    let mut w = p.watch_debounce(0, &[]);
    w.wait_event("stream_opened");
    let full = "server.log(\"part one\");\nserver.log(\"part two\");\n";
    // A non-atomic save: truncate, (a pause), write, write, close.
    let mut f = std::fs::File::create(p.env.path("device.nut")).unwrap();
    let early = w.next_matching(Duration::from_millis(1500), |e| e["event"] == "deployed");
    f.write_all(&full.as_bytes()[..20]).unwrap();
    f.flush().unwrap();
    f.write_all(&full.as_bytes()[20..]).unwrap();
    drop(f);
    assert!(early.is_none(), "deployed a truncated file: {}", w.dump());
    w.wait_for("the whole file's line", T, |e| {
        is_log(e, |m| m == "part two")
    });
    for d in p.deployments() {
        assert_eq!(d["attributes"]["device_code"], full, "{d}");
    }
    assert_eq!(w.quit(), 0);
}

/// The VS Code problem matchers of the editor kit, as Rust regexes.
fn vscode_matchers() -> Vec<Value> {
    let tasks: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates/editor/vscode/tasks.json"),
        )
        .unwrap(),
    )
    .unwrap();
    tasks["tasks"][0]["problemMatcher"]
        .as_array()
        .unwrap()
        .clone()
}

fn re(v: &Value) -> regex::Regex {
    regex::Regex::new(v.as_str().unwrap()).unwrap()
}

#[test]
fn paths_read_from_the_working_directory_and_the_vscode_matchers_catch_them() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let hello = work.path().join("hello");
    std::fs::create_dir(&hello).unwrap();
    std::fs::write(hello.join("device.nut"), "@include \"lib.nut\"\nboom();\n").unwrap();
    let lib = "function boom() {\n  local t = {};\n  return t.nope;\n}\nlocal x = ;\n";
    std::fs::write(hello.join("lib.nut"), lib).unwrap();
    let envs = [("NO_COLOR", "1"), ("IMPT_STATUS_LINE", "0")].map(|(k, v)| (k.into(), v.into()));
    let mut run = crate::support::running::spawn_env(
        work.path(),
        home.path(),
        &envs,
        &["watch", "--sim", "hello", "--debounce", "100"],
    );
    let matchers = vscode_matchers();
    let compile = &matchers[0];
    let line = run.wait_for(": error: ");
    let c = re(&compile["pattern"]["regexp"])
        .captures(&line)
        .unwrap_or_else(|| panic!("{line}"));
    let file = &c[compile["pattern"]["file"].as_u64().unwrap() as usize];
    assert_eq!(file, "hello/lib.nut", "{line}");
    assert!(
        work.path().join(file).is_file(),
        "resolved from the working folder"
    );
    assert_eq!(&c[2], "5", "{line}");
    let end = run.wait_for("Compilation failed");
    assert!(
        re(&compile["background"]["endsPattern"]).is_match(&end),
        "{end}"
    );
    // Fixed: the iteration begins (problems clear), deploys, and the runtime error's frame
    // is a problem at the user's file.
    std::fs::write(hello.join("lib.nut"), lib.replace("local x = ;\n", "")).unwrap();
    let begin = run.wait_for("Changed: ");
    assert!(
        re(&compile["background"]["beginsPattern"]).is_match(&begin),
        "{begin}"
    );
    let end = run.wait_for("Deployed ");
    assert!(
        re(&compile["background"]["endsPattern"]).is_match(&end),
        "{end}"
    );
    let frame = run.wait_for("ERROR:   at ");
    let runtime = &matchers[1];
    let c = re(&runtime["pattern"]["regexp"])
        .captures(&frame)
        .unwrap_or_else(|| panic!("{frame}"));
    assert_eq!(
        &c[runtime["pattern"]["file"].as_u64().unwrap() as usize],
        "hello/lib.nut"
    );
    assert_eq!(
        &c[runtime["pattern"]["line"].as_u64().unwrap() as usize],
        "3"
    );
    let from = run.wait_for("ERROR:   from ");
    let callers = &matchers[2];
    let c = re(&callers["pattern"]["regexp"])
        .captures(&from)
        .unwrap_or_else(|| panic!("{from}"));
    assert_eq!(
        &c[callers["pattern"]["file"].as_u64().unwrap() as usize],
        "hello/device.nut"
    );
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn watch_and_log_stream_do_not_fight_over_the_accounts_one_stream() {
    let p = project(&[]);
    p.write(
        "device.nut",
        "imp.wakeup(0.2, function() { server.log(\"tick\"); });\n",
    );
    let mut w = p.watch(&[]);
    // Another client of the account takes the stream.
    let mut other = p.env.spawn(&["log", "stream", "-d", &p.device]);
    other.wait_for("Press <Ctrl-C> to exit.");
    let lost = w.wait_for("the stream taken", T, |e| e["event"] == "stream_lost");
    assert!(
        lost["reason"]
            .as_str()
            .unwrap()
            .contains("one log stream per account"),
        "{lost}"
    );
    assert!(
        lost["retry_ms"].is_null(),
        "not taken back by itself: {lost}"
    );
    // The other one keeps it.
    assert!(
        w.next_matching(Duration::from_secs(2), |e| e["event"] == "stream_opened")
            .is_none(),
        "{}",
        w.dump()
    );
    // Taken back on request: the other one says why it ends.
    w.key("l");
    w.wait_event("stream_opened");
    other.wait_for("The log stream is closed.");
    other.wait_for("one log stream per account");
    assert_eq!(w.quit(), 0);
}

#[test]
fn watch_sim_makes_a_project_from_the_template_anywhere() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    // Not in the source checkout, no project: it says how to make one.
    let mut run = crate::support::running::spawn(empty.path(), home.path(), &["watch", "--sim"]);
    run.close_input();
    let out = run.finish();
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    out.has("--init");
    // --init: a runnable project from the embedded template, with the sim's options.
    let mut w = spawn_watch(
        empty.path(),
        home.path(),
        &["-z", "json", "--sim", "--init", "--devices", "2"],
    );
    let started = w.wait_event("started");
    assert_eq!(started["devices"].as_array().unwrap().len(), 2, "{started}");
    w.wait_for("the template's device line", T, |e| {
        is_log(e, |m| m == "Hello from the device!")
    });
    assert!(empty.path().join("device.nut").is_file());
    assert!(empty.path().join("agent.nut").is_file());
    assert_eq!(w.quit(), 0);
    // Options after -- go to the simulator.
    let mut run = crate::support::running::spawn(
        empty.path(),
        home.path(),
        &["watch", "--sim", "--", "--time-scale", "0"],
    );
    run.close_input();
    let out = run.finish();
    assert_eq!(out.code, 1);
    out.has("--time-scale");
}

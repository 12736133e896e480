//! log get (paging, Enter, EOF, json) and log stream (lines, reconnect, Ctrl-C).

use crate::support::*;

use std::time::Duration;

fn project_with_device(env: &Env) -> (String, String) {
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    let dg = out.id_after("Device Group: ");
    let dev = env.device_ids()[0].clone();
    env.assign(&dg, &dev);
    (dg, dev)
}

fn emit(env: &Env, dev: &str, count: u32) {
    let (status, _) = env.http(
        "POST",
        &format!("/_sim/devices/{dev}/logs"),
        Some(serde_json::json!({"count": count, "type": "server.log", "message": "Line #{i}#"})),
    );
    assert!(status < 300);
}

#[test]
fn log_get() {
    let env = Env::start(&[]);
    env.impt(&["log", "get"])
        .failed()
        .has("Error: No Device Identifier is specified.");
    let (dg, dev) = project_with_device(&env);
    emit(&env, &dev, 5);
    env.wait_history(&dev, "Line #5#");
    // one page by number, newest first
    let out = env.impt(&["log", "get", "-s", "2", "-n", "1"]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].ends_with(" [server.log] Line #5#")
            && lines[1].ends_with(" [server.log] Line #4#"),
        "{}",
        out.stdout
    );
    assert_eq!(lines.len(), 3);
    let json = env
        .impt(&["log", "get", "-d", &dev, "-s", "2", "-n", "3", "-z", "json"])
        .ok()
        .json();
    assert_eq!(json[0]["msg"], "Line #1#");
    // paging with Enter: 6 entries (5 + the seeded one) in pages of 4
    let out = env.impt_input(&["log", "get", "-s", "4"], "\n\n\n");
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout
            .matches("Press <Enter> to see more logs or <Ctrl-C> to exit.")
            .count(),
        2
    );
    assert!(
        out.stdout
            .trim_end()
            .ends_with("No more logs are available.\nIMPT COMMAND SUCCEEDS"),
        "{}",
        out.stdout
    );
    // end of input after the first page: the command just ends
    let out = env.impt(&["log", "get", "-s", "2"]);
    assert_eq!(out.code, 0);
    assert!(out
        .stdout
        .trim_end()
        .ends_with("Press <Enter> to see more logs or <Ctrl-C> to exit."));
    // Ctrl-C while waiting for Enter
    let mut run = env.spawn(&["log", "get", "-s", "2"]);
    run.wait_for("Press <Enter> to see more logs or <Ctrl-C> to exit.");
    let (code, rest) = run.interrupt();
    assert_eq!(code, 0);
    assert_eq!(rest.trim(), "IMPT COMMAND SUCCEEDS");
    // two devices in the group
    let dev2 = env.device_ids()[1].clone();
    env.assign(&dg, &dev2);
    env.impt(&["log", "get", "-n", "1"])
        .failed()
        .has("Error: Multiple Devices are found:")
        .has("Impossible to execute the command.");
    env.impt(&["log", "get", "-n", "0"])
        .failed()
        .has("Option \"--page-number\" must have a positive integer value.");
}

#[test]
fn log_stream() {
    let env = Env::start(&[]);
    env.impt(&["log", "stream"])
        .failed()
        .has("Error: No Device Identifier is specified.");
    env.impt(&["log", "stream", "-d", ""])
        .failed()
        .has("Error: No Device Identifier is specified.");
    let (_, dev) = project_with_device(&env);
    let mut run = env.spawn(&["log", "stream", "-d", &dev, "-g", "DG"]);
    let opened = run.wait_for("is opened.");
    assert_eq!(opened, format!("Log stream for Device(s) {dev} is opened."));
    run.wait_for("IMPT COMMAND SUCCEEDS");
    run.wait_for("Press <Ctrl-C> to exit.");
    emit(&env, &dev, 2);
    let l = run.wait_for("Line #2#");
    assert!(
        l.starts_with(&format!("[{dev}] ")) && l.ends_with(" [server.log] Line #2#"),
        "{l}"
    );
    // a lost connection is re-established
    env.http(
        "POST",
        "/_sim/faults",
        Some(serde_json::json!({"drop_sse": true})),
    );
    run.wait_for("The log stream is lost. Trying to reconnect...");
    run.wait_for("The log stream is reconnected.");
    emit(&env, &dev, 1);
    run.wait_for("Line #1#");
    let (code, rest) = run.interrupt();
    assert_eq!(code, 0);
    assert!(rest.trim_end().ends_with("IMPT COMMAND SUCCEEDS"), "{rest}");
    // json: one object per line
    let mut run = env.spawn(&["log", "stream", "-z", "json"]);
    // Nothing says in json mode when the stream is open: a line is emitted until one shows.
    let end = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        emit(&env, &dev, 1);
        if run
            .wait_within("\"msg\": \"Line #1#\"", Duration::from_secs(2))
            .is_some()
        {
            break;
        }
        assert!(std::time::Instant::now() < end, "no line streamed");
    }
    // a second stream of the account closes the first one, which then ends by itself
    let mut other = env.spawn(&["log", "stream", "-g", "DG"]);
    other.wait_for("is opened.");
    let out = run.finish();
    assert_eq!(out.code, 0);
    assert!(!out.stdout.contains("IMPT COMMAND"), "{}", out.stdout);
    let (code, rest) = other.interrupt();
    assert_eq!(code, 0);
    assert!(rest.trim_end().ends_with("IMPT COMMAND SUCCEEDS"));
}

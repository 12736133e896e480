//! Logs you can work with (issue #17): log get, log stream and watch filter by source, type
//! and a regular expression, hide timestamps and append to a log file; log get on a group
//! with several devices names --device.

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

fn emit(env: &Env, dev: &str, typ: &str, message: &str) {
    let (status, body) = env.http(
        "POST",
        &format!("/_sim/devices/{dev}/logs"),
        Some(serde_json::json!({"count": 1, "type": typ, "message": message})),
    );
    assert!(status < 300, "{body}");
}

#[test]
fn log_get_filters_hides_timestamps_and_appends_to_a_file() {
    let env = Env::start(&[]);
    let (dg, dev) = project_with_device(&env);
    emit(&env, &dev, "server.log", "Temp=21");
    emit(&env, &dev, "server.error", "boom");
    emit(&env, &dev, "agent.log", "agent says hi");
    emit(&env, &dev, "server.log", "Temp=hot");
    env.wait_history(&dev, "Temp=hot");
    let page = |extra: &[&str]| {
        let mut args = vec!["log", "get", "-s", "50", "-n", "1"];
        args.extend_from_slice(extra);
        let out = env.impt(&args);
        out.ok();
        out.stdout
            .lines()
            .filter(|l| l.contains('['))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let all = page(&[]);
    assert!(all.len() >= 4, "{all:?}");
    let errors = page(&["--type", "server.error"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].ends_with("[server.error] boom"));
    let agent = page(&["--source", "agent"]);
    assert!(
        !agent.is_empty() && agent.iter().all(|l| l.contains("[agent.")),
        "{agent:?}"
    );
    let device = page(&["--source", "device"]);
    assert!(device.iter().all(|l| !l.contains("[agent.")), "{device:?}");
    assert!(device.iter().any(|l| l.ends_with("boom")), "{device:?}");
    let temps = page(&["--grep", r"^Temp=\d+$"]);
    assert_eq!(temps.len(), 1, "{temps:?}");
    assert!(temps[0].ends_with("Temp=21"));
    // without timestamps a line starts with its type
    let bare = page(&["--type", "server.error", "--no-timestamps"]);
    assert_eq!(bare, vec!["[server.error] boom".to_string()]);
    // appended to a file, earlier content kept
    let file = env.path("device.log");
    std::fs::write(&file, "earlier\n").unwrap();
    page(&["--grep", "Temp", "--log-file", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("earlier\n"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains("Temp=")).count(),
        2,
        "{text}"
    );
    assert!(!text.contains("boom"), "{text}");
    // json keeps the raw entries, filtered
    let json = env
        .impt(&[
            "log",
            "get",
            "-s",
            "50",
            "-n",
            "1",
            "--type",
            "agent.log",
            "-z",
            "json",
        ])
        .ok()
        .json();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{json}");
    assert_eq!(entries[0]["msg"], "agent says hi");
    // bad options are named
    env.impt(&["log", "get", "--source", "server"])
        .failed()
        .has("Argument: source, Given: \"server\", Choices: \"agent\", \"device\"");
    env.impt(&["log", "get", "--grep", "("])
        .failed()
        .has("Option \"--grep\" is not a valid regular expression");
    // several devices: the error says how to pick one
    let dev2 = env.device_ids()[1].clone();
    env.assign(&dg, &dev2);
    env.impt(&["log", "get", "-n", "1"])
        .failed()
        .has("Error: Multiple Devices are found:")
        .has("Pick one of them with --device <DEVICE_IDENTIFIER>");
}

#[test]
fn log_stream_shows_only_the_chosen_lines() {
    let env = Env::start(&[]);
    let (_, dev) = project_with_device(&env);
    let file = env.path("stream.log");
    let mut run = env.spawn(&[
        "log",
        "stream",
        "-d",
        &dev,
        "--source",
        "agent",
        "--no-timestamps",
        "--log-file",
        file.to_str().unwrap(),
    ]);
    run.wait_for("Press <Ctrl-C> to exit.");
    emit(&env, &dev, "server.log", "from the device");
    emit(&env, &dev, "agent.log", "from the agent");
    let line = run.wait_for("from the agent");
    assert_eq!(line, format!("[{dev}] [agent.log] from the agent"));
    assert!(
        !run.lines.iter().any(|l| l.contains("from the device")),
        "{:?}",
        run.lines
    );
    let (code, rest) = run.interrupt();
    assert_eq!(code, 0);
    assert!(!rest.contains("from the device"), "{rest}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("[{dev}] [agent.log] from the agent\n")
    );
}

#[test]
fn watch_filters_log_lines_with_a_pattern() {
    let p = project(&[]);
    let mut w = p.watch(&["--grep", "^Mark"]);
    emit(&p.env, &p.device, "server.log", "Other line");
    emit(&p.env, &p.device, "server.log", "Mark line");
    w.wait_for("the marked line", Duration::from_secs(15), |e| {
        e["event"] == "log" && e["msg"] == "Mark line"
    });
    w.settle(Duration::from_millis(300));
    let msgs = w.log_msgs();
    assert!(msgs.iter().all(|m| m.starts_with("Mark")), "{msgs:?}");
}

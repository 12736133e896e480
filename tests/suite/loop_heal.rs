//! The loop loses nothing (issue #12): `-l` commands subscribe before they restart, so the
//! first lines of the new code are shown; `log stream` heals dropped connections with every
//! line once and a gap marker where history no longer reaches; short-lived tokens are not
//! refreshed before every request.

use crate::support::*;

use serde_json::json;
use std::time::{Duration, Instant};

/// A Project whose Device Group has one device; the device's id.
fn project_with_device(env: &Env) -> String {
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    let dg = out.id_after("Device Group: ");
    let dev = env.device_ids()[0].clone();
    env.assign(&dg, &dev);
    dev
}

const BOOT_LOGGER: &str = r#"server.log("at boot");
imp.wakeup(0.3, function() { server.log("at 0.3 s"); });
imp.wakeup(1.0, function() { server.log("at 1 s"); });
"#;

#[test]
fn log_commands_show_the_first_lines_of_the_restarted_code() {
    let env = Env::start(&[]);
    let dev = project_with_device(&env);
    std::fs::write(env.path("device.nut"), BOOT_LOGGER).unwrap();
    let mut run = env.spawn(&["build", "run", "-l"]);
    run.wait_for("is run successfully.");
    run.wait_for("Log stream for Device(s)");
    for line in ["at boot", "at 0.3 s", "at 1 s"] {
        run.wait_for(line);
    }
    assert_eq!(run.interrupt().0, 0);
    for args in [
        vec!["dg", "restart", "-l"],
        vec!["device", "restart", "-d", dev.as_str(), "-l"],
    ] {
        let mut run = env.spawn(&args);
        run.wait_for("Log stream for Device(s)");
        for line in ["at boot", "at 0.3 s", "at 1 s"] {
            run.wait_for(line);
        }
        assert_eq!(run.interrupt().0, 0, "{args:?}");
    }
}

/// How many lines of the output contain `Line #i#` exactly (not `Line #1#` in `Line #10#`).
fn count_line(lines: &[String], i: usize) -> usize {
    let text = format!("Line #{i}#");
    lines.iter().filter(|l| l.ends_with(&text)).count()
}

#[test]
fn log_stream_loses_no_line_over_four_drops() {
    let env = Env::start(&[]);
    let dev = project_with_device(&env);
    let mut run = env.spawn(&["log", "stream", "-d", &dev]);
    run.wait_for("Press <Ctrl-C> to exit.");
    let total = 60;
    let (status, _) = env.http(
        "POST",
        &format!("/_sim/devices/{dev}/logs"),
        Some(json!({"count": total, "interval_ms": 100, "message": "Line #{i}#"})),
    );
    assert!(status < 300);
    for n in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        env.http("POST", "/_sim/faults", Some(json!({"drop_sse": true})));
        run.wait_nth("The log stream is reconnected.", n);
    }
    run.wait_for(&format!("Line #{total}#"));
    // Recovered lines that the new stream delivers too must not show twice.
    let until = Instant::now() + Duration::from_millis(500);
    while run.pump(until) {}
    let lost: Vec<usize> = (1..=total)
        .filter(|i| count_line(&run.lines, *i) == 0)
        .collect();
    let doubled: Vec<usize> = (1..=total)
        .filter(|i| count_line(&run.lines, *i) > 1)
        .collect();
    assert!(
        lost.is_empty() && doubled.is_empty(),
        "lost {lost:?}, doubled {doubled:?}:\n{}",
        run.lines.join("\n")
    );
    assert_eq!(
        run.lines
            .iter()
            .filter(|l| l.contains("The log stream is lost."))
            .count(),
        4
    );
    assert!(!run.lines.iter().any(|l| l.contains("--- gap")));
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn log_stream_marks_lines_history_no_longer_has() {
    let env = Env::start(&[]);
    let dev = project_with_device(&env);
    let mut run = env.spawn(&["log", "stream", "-d", &dev]);
    run.wait_for("Press <Ctrl-C> to exit.");
    let emit = |count: usize, message: &str| {
        env.http(
            "POST",
            &format!("/_sim/devices/{dev}/logs"),
            Some(json!({"count": count, "message": message})),
        );
    };
    emit(1, "Seen #{i}#");
    run.wait_for("Seen #1#");
    // More lines than the device's history keeps, while the stream is down.
    env.http("POST", "/_sim/faults", Some(json!({"drop_sse": true})));
    emit(500, "Line #{i}#");
    run.wait_for("The log stream is reconnected.");
    let gap = run.wait_for("--- gap: log lines between ");
    assert!(
        gap.starts_with(&format!("[{dev}] ")) && gap.ends_with("could not be recovered ---"),
        "{gap}"
    );
    run.wait_for("Line #500#");
    let until = Instant::now() + Duration::from_millis(300);
    while run.pump(until) {}
    assert_eq!(count_line(&run.lines, 500), 1);
    assert_eq!(
        count_line(&run.lines, 1),
        0,
        "line 1 is no longer in history"
    );
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn short_lived_tokens_are_refreshed_once_not_per_request() {
    let env = Env::start(&["--token-ttl", "20"]);
    project_with_device(&env);
    let (_, before) = env.http("GET", "/_sim/stats", None);
    // One command of several requests: the token lives 20 s, less than the usual 3-minute
    // margin, so at most the first request refreshes it.
    env.impt(&["dg", "info", "-u"]).ok();
    env.impt(&["device", "list"]).ok();
    let (_, after) = env.http("GET", "/_sim/stats", None);
    let refreshes = |s: &serde_json::Value| {
        s["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.contains("/auth/token"))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .unwrap_or(0)
    };
    let n = refreshes(&after) - refreshes(&before);
    assert!(n <= 2, "{n} refreshes: {before}\n{after}");
}

//! The loop names your code and shows the truth (issue #12): compile errors caught locally
//! before any request (`--no-local-check` sends them), editor-ready error texts, the watch
//! header and the divider where a device restarts into new code, deploy times without the
//! debounce, and the sim's short boot.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

const T: Duration = Duration::from_secs(60);

#[test]
fn watch_catches_compile_errors_without_a_request() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.reset_stats();
    p.write("device.nut", "server.log(\"a\");\nlocal x = ;\n");
    let e = w.wait_event("compile_error");
    let d = &e["errors"][0];
    assert_eq!(d["file"], "device.nut", "{e}");
    assert_eq!(d["line"], 2, "{e}");
    assert_eq!(d["severity"], "error", "{e}");
    assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    w.settle(Duration::from_millis(300));
    assert_eq!(p.stats()["total"], 0, "{}", p.stats());
    assert_eq!(w.quit(), 0);

    // --no-local-check: the service compiles it (and answers the same error).
    let mut w = p.watch(&["--no-local-check"]);
    p.reset_stats();
    p.write("device.nut", "server.log(\"b\");\nlocal y = ;\n");
    let e = w.wait_event("compile_error");
    assert_eq!(e["errors"][0]["line"], 2, "{e}");
    assert_eq!(p.count(&["POST", "/deployments"]), 1);
}

#[test]
fn build_deploy_checks_locally_and_prints_editor_ready_errors() {
    let env = Env::start(&[]);
    env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"])
        .ok();
    std::fs::write(env.path("device.nut"), "server.log(1);\n").unwrap();
    std::fs::write(env.path("agent.nut"), "local a = 1;\nfunction f( {\n").unwrap();
    env.http("POST", "/_sim/stats/reset", None);
    let out = env.impt(&["build", "deploy"]);
    out.failed()
        .has("Error: Compilation Error: Agent code compile failed")
        .has("agent.nut:2:");
    let line = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .find(|l| l.starts_with("agent.nut:2:"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains(": error: "), "{line}");
    let (_, stats) = env.http("GET", "/_sim/stats", None);
    let posts = stats["routes"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("POST") && k.contains("deployments"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(posts, 0, "{stats}");
    // The service's own check, when asked: same error, one request.
    env.impt(&["build", "deploy", "--no-local-check"])
        .failed()
        .has("agent.nut:2:");
    let (_, stats) = env.http("GET", "/_sim/stats", None);
    assert!(stats.to_string().contains("deployments"), "{stats}");
}

#[test]
fn watch_shows_the_group_type_a_divider_per_restart_and_deploy_time_without_debounce() {
    let p = project(&[]);
    let mut w = p.watch_debounce(1500, &[]);
    w.wait_event("stream_opened");
    p.write("device.nut", "server.log(\"new code\");\n");
    let dep = w.wait_event("deployed");
    assert!(
        dep["ms"].as_u64().unwrap() < 1500,
        "the debounce is not deploy time: {dep}"
    );
    let div = w.wait_event("divider");
    assert_eq!(div["device_id"], json!(p.device));
    assert_eq!(div["sha"], dep["sha"]);
    w.wait_for("the new code's line", T, |e| {
        e["event"] == "log" && e["msg"] == "new code"
    });
    // Every line of the new code comes after the divider.
    let at = |pred: &dyn Fn(&serde_json::Value) -> bool| w.events.iter().position(pred);
    let divider = at(&|e| e["event"] == "divider").unwrap();
    let line = at(&|e| e["event"] == "log" && e["msg"] == "new code").unwrap();
    assert!(divider < line, "{}", w.dump());
    assert_eq!(w.quit(), 0);

    // Text: the type as users know it, and the divider line.
    let mut run = p.env.spawn(&["watch", "--debounce", "100"]);
    let head = run.wait_for("Watching Device Group");
    assert!(
        head.contains("(development)") && head.contains("running sha"),
        "{head}"
    );
    run.wait_for("Log stream");
    p.write("device.nut", "server.log(\"text code\");\n");
    run.wait_for(" restarts into ");
    run.wait_for("text code");
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn sim_boot_delay_is_an_option() {
    // A slow boot: the status lines come 300 ms apart, so the new code's first line comes
    // after at least 600 ms; the default boot is quick.
    for (args, slow) in [(vec!["--boot-step-ms", "300"], true), (vec![], false)] {
        let p = project(&args);
        let mut w = p.watch(&[]);
        p.write("device.nut", "server.log(\"booted\");\n");
        w.wait_event("restarted");
        let t0 = std::time::Instant::now();
        w.wait_for("the new code's line", T, |e| {
            e["event"] == "log" && e["msg"] == "booted"
        });
        let took = t0.elapsed();
        if slow {
            assert!(took >= Duration::from_millis(600), "{took:?}");
        }
        assert_eq!(w.quit(), 0);
    }
}

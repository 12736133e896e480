//! No save is ever dropped (issue #12): a deployment that fails for a passing reason stays
//! pending and is retried until it lands; a refresh refused for good waits for a new login
//! (here `impt auth login` run beside the watch) and deploys then.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::watch::Project;
use crate::support::*;

const T: Duration = Duration::from_secs(30);

fn fault(p: &Project, f: Value) {
    let (s, _) = p.env.http("POST", "/_sim/faults", Some(f));
    assert_eq!(s, 201);
}

fn deployed_code(p: &Project) -> String {
    p.deployments()[0]["attributes"]["device_code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_save_that_fails_on_5xx_stays_pending_until_it_lands() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    // More 503s than one iteration's retries.
    fault(
        &p,
        json!({"path": "^/deployments$", "method": "POST", "status": 503, "count": 7}),
    );
    p.write("device.nut", "server.log(\"kept v1\");\n");
    let pending = w.wait_event("pending");
    assert_eq!(pending["login"], false, "{pending}");
    assert!(pending["retry_ms"].as_u64().is_some(), "{pending}");
    w.wait_event("deployed");
    w.wait_for("the new code's line", T, |e| {
        e["event"] == "log" && e["msg"] == "kept v1"
    });
    assert!(deployed_code(&p).contains("kept v1"));
    assert_eq!(w.quit(), 0);
}

#[test]
fn a_newer_save_replaces_a_pending_one() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    fault(
        &p,
        json!({"path": "^/deployments$", "method": "POST", "status": 502, "count": 5}),
    );
    p.write("device.nut", "server.log(\"old v1\");\n");
    w.wait_event("pending");
    p.write("device.nut", "server.log(\"new v2\");\n");
    w.wait_event("deployed");
    w.settle(Duration::from_millis(2 * DEBOUNCE_MS + 1500));
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    assert_eq!(p.deployments().len(), 1);
    assert!(deployed_code(&p).contains("new v2"));
}

#[test]
fn a_refused_refresh_waits_for_a_login_then_deploys() {
    let p = project(&["--token-ttl", "4"]);
    let mut w = p.watch(&[]);
    // Every refresh is refused from now on, and the token runs out.
    fault(&p, json!({"path": "^/auth/token$", "status": 401}));
    std::thread::sleep(Duration::from_millis(4200));
    p.write("device.nut", "server.log(\"after login\");\n");
    let pending = w.wait_for("pending for a login", T, |e| {
        e["event"] == "pending" && e["login"] == true
    });
    assert!(
        pending["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("login"),
        "{pending}"
    );
    // The service works again, but the refresh token is still refused: nothing deploys
    // until the user logs in again.
    p.env.http("DELETE", "/_sim/faults", None);
    w.settle(Duration::from_millis(1500));
    assert!(w.all("deployed").is_empty(), "{}", w.dump());
    p.env
        .impt(&[
            "auth", "login", "-u", USER, "-w", PASSWORD, "-e", &p.env.url, "-q",
        ])
        .ok();
    w.wait_event("deployed");
    assert!(deployed_code(&p).contains("after login"));
}

#[test]
fn a_refresh_answered_429_or_503_keeps_the_save_pending() {
    let p = project(&["--token-ttl", "4"]);
    let mut w = p.watch(&[]);
    std::thread::sleep(Duration::from_millis(4200));
    fault(
        &p,
        json!({"path": "^/auth/token$", "status": 429, "count": 3}),
    );
    fault(
        &p,
        json!({"path": "^/auth/token$", "status": 503, "count": 6}),
    );
    p.write("device.nut", "server.log(\"refreshed v1\");\n");
    w.wait_event("deployed");
    w.wait_for("the new code's line", T, |e| {
        e["event"] == "log" && e["msg"] == "refreshed v1"
    });
    assert!(deployed_code(&p).contains("refreshed v1"));
    assert!(w.all("error").is_empty(), "{}", w.dump());
}

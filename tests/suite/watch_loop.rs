//! `impt watch` end to end: the real binary against a real `impt sim --port 0`, synchronised
//! on its `-z json` events, every wait bounded.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{project, project_typed, spawn_watch, DEBOUNCE_MS};

const T: Duration = Duration::from_secs(60);

fn code_of(dep: &Value) -> String {
    dep["attributes"]["device_code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_save_deploys_once_with_two_requests() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.reset_stats();
    p.write("device.nut", "server.log(\"device v1\");\n");
    let dep = w.wait_event("deployed");
    w.wait_event("restarted");
    w.wait_for("the new code's log line", T, |e| {
        e["event"] == "log" && e["msg"] == "device v1"
    });
    w.settle(Duration::from_millis(2 * DEBOUNCE_MS + 300));
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    assert_eq!(p.count(&["POST", "/deployments"]), 1);
    assert_eq!(p.count(&["POST", "/restart"]), 1);
    assert_eq!(p.stats()["total"], 2, "{}", p.stats());
    let deps = p.deployments();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0]["attributes"]["sha"], dep["sha"]);
    assert_eq!(deps[0]["attributes"]["origin"], "impt watch");
    assert!(code_of(&deps[0]).contains("device v1"));
    assert_eq!(w.quit(), 0);
}

#[test]
fn three_quick_saves_deploy_once() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.reset_stats();
    for i in 1..=3 {
        p.write("device.nut", &format!("server.log(\"quick {i}\");\n"));
        std::thread::sleep(Duration::from_millis(40));
    }
    w.wait_event("deployed");
    w.settle(Duration::from_millis(3 * DEBOUNCE_MS + 500));
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    assert_eq!(w.all("deploy_started").len(), 1);
    assert_eq!(p.count(&["POST", "/deployments"]), 1);
    assert!(code_of(&p.deployments()[0]).contains("quick 3"));
}

#[test]
fn an_unchanged_save_deploys_nothing() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.write("device.nut", "server.log(\"same\");\n");
    w.wait_event("restarted");
    w.settle(Duration::from_millis(DEBOUNCE_MS + 200));
    p.reset_stats();
    p.write("device.nut", "server.log(\"same\");\n");
    w.wait_event("skipped");
    w.settle(Duration::from_millis(DEBOUNCE_MS + 300));
    assert_eq!(p.stats()["total"], 0, "{}", p.stats());
    assert_eq!(w.all("deployed").len(), 1);
    // A new process compares with the group's current deployment.
    drop(w);
    let mut w = p.watch(&[]);
    p.reset_stats();
    p.write("agent.nut", "server.log(\"agent v0\");\n");
    w.wait_event("skipped");
    assert_eq!(p.count(&["deployments"]), 0);
}

#[test]
fn an_edit_to_an_included_file_deploys() {
    let p = project(&[]);
    std::fs::create_dir_all(p.env.path("lib")).unwrap();
    p.write("lib/util.nut", "server.log(\"util v1\");\n");
    p.write(
        "device.nut",
        "@include \"lib/util.nut\"\nserver.log(\"main\");\n",
    );
    let mut w = p.watch(&[]);
    // The included file is watched from the first preprocessing on.
    assert!(w.events.iter().any(|e| e["event"] == "watching"
        && e["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "lib/util.nut")));
    w.key("r");
    w.wait_event("deployed");
    p.write("lib/util.nut", "server.log(\"util v2\");\n");
    w.wait_event("deployed");
    assert!(code_of(&p.deployments()[0]).contains("util v2"));
}

#[test]
fn compile_errors_point_at_the_file_and_line_and_the_next_good_save_deploys() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.write(
        "device.nut",
        "server.log(\"a\");\nlocal x = 1;\n//#sim-compile-error boom here\n",
    );
    let e = w.wait_event("compile_error");
    assert_eq!(e["errors"][0]["file"], "device.nut", "{e}");
    assert_eq!(e["errors"][0]["line"], 3, "{e}");
    assert_eq!(e["errors"][0]["column"], 1, "{e}");
    assert_eq!(e["errors"][0]["text"], "boom here", "{e}");
    p.write("agent.nut", "function f() {\n  server.log(\"x\");\n");
    let e = w.wait_event("compile_error");
    let agent = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == "agent.nut")
        .cloned();
    let agent = agent.unwrap_or_else(|| panic!("{e}"));
    // The Squirrel compiler reports an unclosed block at the end of the file.
    assert_eq!(agent["line"], 3, "{e}");
    assert!(agent["column"].as_u64().unwrap() >= 1, "{e}");
    assert!(p.deployments().is_empty());
    p.write("device.nut", "server.log(\"fixed\");\n");
    p.write("agent.nut", "server.log(\"agent fixed\");\n");
    w.wait_event("deployed");
    w.wait_for("the fixed code's log", T, |e| {
        e["event"] == "log" && e["msg"] == "fixed"
    });
    assert_eq!(p.deployments().len(), 1);
}

#[test]
fn a_change_during_an_iteration_is_deployed_after_it() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    // The first create request takes 1.5 s.
    let (s, _) = p.env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"path": "^/deployments$", "method": "POST", "delay_ms": 1500, "count": 1})),
    );
    assert_eq!(s, 201);
    p.write("device.nut", "server.log(\"slow v1\");\n");
    w.wait_event("deploy_started");
    p.write("device.nut", "server.log(\"next v2\");\n");
    w.wait_event("deployed");
    w.wait_event("deployed");
    w.settle(Duration::from_millis(DEBOUNCE_MS + 300));
    // Never two iterations at once: each deploy_started is followed by its deployed.
    let order: Vec<String> = w
        .events
        .iter()
        .filter(|e| e["event"] == "deploy_started" || e["event"] == "deployed")
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        ["deploy_started", "deployed", "deploy_started", "deployed"],
        "{}",
        w.dump()
    );
    let deps = p.deployments();
    assert_eq!(deps.len(), 2);
    assert!(
        code_of(&deps[0]).contains("next v2"),
        "{}",
        code_of(&deps[0])
    );
}

#[test]
fn survives_a_dropped_stream_a_500_and_an_expired_token() {
    let p = project(&["--token-ttl", "2"]);
    let mut w = p.watch(&[]);
    // Drop the stream and log while it is down: every line arrives once.
    p.env
        .http("POST", "/_sim/faults", Some(json!({"drop_sse": true})));
    p.env.http(
        "POST",
        &format!("/_sim/devices/{}/logs", p.device),
        Some(json!({"count": 20, "message": "gap {i}"})),
    );
    w.wait_for("the reconnection", T, |e| {
        e["event"] == "stream_opened" && e["reconnect"] == true
    });
    w.wait_for("the last gap line", T, |e| {
        e["event"] == "log" && e["msg"] == "gap 20"
    });
    // A 500 (twice) on create, and a 401 once on restart.
    p.env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"path": "^/deployments$", "method": "POST", "status": 500, "count": 2})),
    );
    p.env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"path": "/restart$", "status": 401, "count": 1})),
    );
    p.write("device.nut", "server.log(\"after 500\");\n");
    w.wait_event("deployed");
    w.wait_event("restarted");
    w.wait_for("the new code's line", T, |e| {
        e["event"] == "log" && e["msg"] == "after 500"
    });
    assert!(w.all("retry").len() >= 2, "{}", w.dump());
    // The access token expires (ttl 2 s) mid-session.
    std::thread::sleep(Duration::from_millis(2500));
    p.write("device.nut", "server.log(\"after expiry\");\n");
    w.wait_event("deployed");
    w.wait_for("the line after expiry", T, |e| {
        e["event"] == "log" && e["msg"] == "after expiry"
    });
    p.env.http(
        "POST",
        &format!("/_sim/devices/{}/logs", p.device),
        Some(json!({"count": 5, "message": "late {i}"})),
    );
    w.wait_for("the last late line", T, |e| {
        e["event"] == "log" && e["msg"] == "late 5"
    });
    w.settle(Duration::from_millis(300));
    let msgs = w.log_msgs();
    for i in 1..=20 {
        let n = msgs.iter().filter(|m| **m == format!("gap {i}")).count();
        assert_eq!(n, 1, "gap {i} seen {n} times:\n{}", w.dump());
    }
    assert!(p.count(&["POST", "/auth/token"]) > 0, "{}", p.stats());
    let deps = p.deployments();
    assert_eq!(deps.len(), 2);
    assert!(code_of(&deps[0]).contains("after expiry"));
    assert_eq!(w.quit(), 0);
}

#[test]
fn devices_going_offline_and_online_are_reported() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.env
        .http("POST", &format!("/_sim/devices/{}/offline", p.device), None);
    let e = w.wait_event("device");
    assert_eq!(e["state"], "offline");
    assert_eq!(e["device_id"], p.device.as_str());
    p.env
        .http("POST", &format!("/_sim/devices/{}/online", p.device), None);
    let e = w.wait_event("device");
    assert_eq!(e["state"], "online");
}

#[test]
fn a_pre_factory_fixture_project_iterates_the_same() {
    let p = project_typed(
        &[],
        "pre_factoryfixture_devicegroup",
        Some(("pre_production_devicegroup", "pre_dut_devicegroup")),
    );
    let mut w = p.watch(&[]);
    let started = w
        .events
        .iter()
        .find(|e| e["event"] == "started")
        .cloned()
        .unwrap();
    assert_eq!(started["dg"]["type"], "pre_factoryfixture_devicegroup");
    p.write("device.nut", "server.log(\"fixture v1\");\n");
    w.wait_event("deployed");
    w.wait_event("restarted");
    w.wait_for("the fixture's log", T, |e| {
        e["event"] == "log" && e["msg"] == "fixture v1"
    });
    let deps = p.deployments();
    assert_eq!(
        deps[0]["relationships"]["devicegroup"]["type"],
        "pre_factoryfixture_devicegroup"
    );
}

#[test]
fn settings_come_from_impt_toml_and_flags_override_them() {
    let p = project(&[]);
    p.write(
        "impt.toml",
        "[watch]\ntags = [\"fromtoml\"]\nrestart = \"none\"\ndebounce = 100\n",
    );
    let mut w = p.watch(&["--tag", "fromflag"]);
    p.reset_stats();
    p.write("device.nut", "server.log(\"toml\");\n");
    w.wait_event("deployed");
    w.settle(Duration::from_millis(400));
    assert!(w.all("restarted").is_empty());
    assert_eq!(p.count(&["restart"]), 0);
    let tags = p.deployments()[0]["attributes"]["tags"].clone();
    assert_eq!(tags, json!(["fromtoml", "fromflag"]));
    drop(w);
    let mut w = p.watch(&["--conditional"]);
    p.reset_stats();
    p.write("device.nut", "server.log(\"toml 2\");\n");
    let e = w.wait_event("restarted");
    assert_eq!(e["conditional"], true);
    assert_eq!(p.count(&["conditional_restart"]), 1);
}

#[test]
fn the_r_key_redeploys_and_q_quits() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    w.key("r");
    w.wait_event("deployed");
    w.key("r");
    w.wait_event("deployed");
    assert_eq!(p.deployments().len(), 2);
    // The keys that drive virtual devices say where they work.
    w.key("d");
    w.wait_for("the --sim keys' note", T, |e| {
        e["event"] == "info"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("drive virtual devices: impt watch --sim"))
    });
    assert_eq!(w.quit(), 0);
}

#[test]
fn answers_429_are_waited_out() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    // The stream's reconnection is refused once with 429, the create request twice.
    p.env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"path": "^/logstream/[^/]+$", "method": "GET", "status": 429, "count": 1})),
    );
    p.env
        .http("POST", "/_sim/faults", Some(json!({"drop_sse": true})));
    w.wait_for("the refused reconnection", T, |e| {
        e["event"] == "stream_lost" && e["retry_ms"].as_u64() >= Some(1000)
    });
    w.wait_for("the reconnection", T, |e| {
        e["event"] == "stream_opened" && e["reconnect"] == true
    });
    p.env.http(
        "POST",
        "/_sim/faults",
        Some(json!({"path": "^/deployments$", "method": "POST", "status": 429, "count": 2})),
    );
    p.write("device.nut", "server.log(\"limited\");\n");
    w.wait_event("deployed");
    w.wait_for("the new code's line", T, |e| {
        e["event"] == "log" && e["msg"] == "limited"
    });
    assert!(w.all("error").is_empty(), "{}", w.dump());
    assert_eq!(p.count(&["POST", "/deployments"]), 3);
}

#[test]
fn editor_saves_count_once_and_temp_files_are_ignored() {
    let p = project(&[]);
    std::fs::create_dir_all(p.env.path("lib")).unwrap();
    let mut w = p.watch(&["--path", "lib", "--ignore", "*.log"]);
    p.reset_stats();
    // vim: probe file, swap file, backup by rename, new file, backup removed.
    p.write("4913", "");
    std::fs::remove_file(p.env.path("4913")).unwrap();
    p.write(".device.nut.swp", "swap");
    std::fs::rename(p.env.path("device.nut"), p.env.path("device.nut~")).unwrap();
    p.write("device.nut", "server.log(\"vim save\");\n");
    std::fs::remove_file(p.env.path("device.nut~")).unwrap();
    // An atomic save of the agent: temp file renamed over it.
    p.write("agent.nut.tmp.123", "server.log(\"atomic\");\n");
    std::fs::rename(p.env.path("agent.nut.tmp.123"), p.env.path("agent.nut")).unwrap();
    w.wait_event("deployed");
    w.settle(Duration::from_millis(3 * DEBOUNCE_MS + 300));
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    let dep = &p.deployments()[0];
    assert!(code_of(dep).contains("vim save"));
    assert!(dep["attributes"]["agent_code"]
        .as_str()
        .unwrap()
        .contains("atomic"));
    // Extra paths trigger; ignored names do not.
    p.write("lib/debug.log", "x");
    p.write("lib/.notes.swp", "x");
    w.settle(Duration::from_millis(2 * DEBOUNCE_MS + 300));
    assert_eq!(w.all("changed").len(), 1, "{}", w.dump());
    p.write("lib/extra.nut", "x");
    let e = w.wait_event("changed");
    assert_eq!(e["paths"], json!(["lib/extra.nut"]));
    w.wait_event("skipped");
    assert_eq!(p.count(&["POST", "/deployments"]), 1);
}

#[test]
fn text_output_prints_log_lines_as_log_stream_does() {
    let p = project(&[]);
    let mut w = spawn_watch(p.env.dir.path(), p.env.home.path(), &["--debounce", "100"]);
    w.wait_for("the stream", T, |e| {
        e["text"].as_str().is_some_and(|t| t.contains("is opened"))
    });
    p.write("device.nut", "server.log(\"plain v1\");\n");
    w.wait_for("the deploy note", T, |e| {
        e["text"].as_str().is_some_and(|t| t.contains("Deployed"))
    });
    let line = format!("[{}] ", p.device);
    let e = w.wait_for("a log line", T, |e| {
        e["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(&line) && t.ends_with("[server.log] plain v1"))
    });
    assert!(
        !e["text"].as_str().unwrap().contains('\u{1b}'),
        "no colors without a terminal"
    );
}

#[test]
fn a_changed_project_file_switches_files_and_device_group() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.write("agent2.nut", "server.log(\"agent two\");\n");
    let project = |dg: &str| {
        json!({"deviceGroupId": dg, "deviceFile": "device.nut", "agentFile": "agent2.nut"})
            .to_string()
    };
    p.write(".impt.project", &project(&p.dg));
    w.wait_event("deployed");
    assert!(p.deployments()[0]["attributes"]["agent_code"]
        .as_str()
        .unwrap()
        .contains("agent two"));
    // Another Device Group of the product.
    let (_, g) = p.env.http("GET", &format!("/devicegroups/{}", p.dg), None);
    let product = g["data"]["relationships"]["product"]["id"].clone();
    let (s, g2) = p.env.http(
        "POST",
        "/devicegroups",
        Some(
            json!({"data": {"type": "development_devicegroup", "attributes": {"name": "second"},
            "relationships": {"product": {"type": "product", "id": product}}}}),
        ),
    );
    assert_eq!(s, 201);
    let dg2 = g2["data"]["id"].as_str().unwrap().to_string();
    p.write(".impt.project", &project(&dg2));
    let e = w.wait_event("started");
    assert_eq!(e["dg"]["id"], dg2.as_str());
    let d = w.wait_event("deployed");
    let (_, dep) = p.env.http(
        "GET",
        &format!("/deployments/{}", d["deployment"].as_str().unwrap()),
        None,
    );
    assert_eq!(
        dep["data"]["relationships"]["devicegroup"]["id"],
        dg2.as_str()
    );
}

#[test]
fn ctrl_c_closes_the_stream_and_exits_0() {
    let p = project(&[]);
    let w = p.watch(&[]);
    assert_eq!(w.interrupt(), 0);
}

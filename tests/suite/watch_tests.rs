//! `impt watch --test`: after each deployed save the project's impUnit tests run on the test
//! configuration's device (not the watched one), the tests whose files or includes touch the
//! changed file first; a newer save cancels a running pass; results as `tests` events with
//! each failure's file and line.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::project;
use crate::support::watch::Project;

const T: Duration = Duration::from_secs(30);

/// A watched project (device.nut includes helper.nut) with a test configuration on a
/// second Device Group and device: `z.test.nut` includes helper.nut, `a.test.nut` not.
fn setup() -> (Project, String) {
    let p = project(&["--devices", "2"]);
    let (_, g) = p.env.http("GET", &format!("/devicegroups/{}", p.dg), None);
    let product = g["data"]["relationships"]["product"]["id"].clone();
    let (s, t) = p.env.http(
        "POST",
        "/devicegroups",
        Some(
            json!({"data": {"type": "development_devicegroup", "attributes": {"name": "tests"},
            "relationships": {"product": {"type": "product", "id": product}}}}),
        ),
    );
    assert_eq!(s, 201, "{t}");
    let test_dg = t["data"]["id"].as_str().unwrap().to_string();
    let test_device = p
        .env
        .device_ids()
        .into_iter()
        .find(|d| *d != p.device)
        .unwrap();
    p.env.assign(&test_dg, &test_device);
    p.write("helper.nut", "function add(a, b) {\n  return a + b;\n}\n");
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"sum \" + add(1, 2));\n",
    );
    p.write(
        "a.test.nut",
        "class A extends ImpTestCase {\n  function testAlone() { this.assertTrue(true); }\n}\n",
    );
    p.write(
        "z.test.nut",
        "@include \"helper.nut\"\nclass Z extends ImpTestCase {\n  function testAdd() {\n    this.assertEqual(3, add(1, 2));\n  }\n}\n",
    );
    p.env.impt(&["test", "create", "-g", &test_dg, "-q"]).ok();
    (p, test_device)
}

fn files(ev: &Value) -> Vec<String> {
    ev["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_save_reruns_the_tests_touching_it_first() {
    let (p, test_device) = setup();
    let mut w = p.watch(&["--test"]);
    // The helper breaks: the test including it runs first and fails at its assert.
    p.write(
        "helper.nut",
        "function add(a, b) {\n  return a + b + 1;\n}\n",
    );
    let started = w.wait_event("tests_started");
    assert_eq!(started["changed"], json!(["helper.nut"]));
    let done = w.wait_for("the test pass", T, |e| e["event"] == "tests");
    assert_eq!(files(&done), ["z.test.nut", "a.test.nut"], "{done}");
    assert_eq!(done["affected"], 1);
    assert_eq!(
        (done["passed"].clone(), done["total"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(done["ok"], false);
    assert_eq!(
        done["failures"],
        json!([{"file": "z.test.nut", "line": 4, "name": "Z::testAdd()",
            "message": "Expected value: 3, got: 4"}])
    );
    // The watched device kept its own code and logs: the tests ran on the other device.
    assert!(w.log_msgs().iter().any(|m| m == "sum 4"), "{}", w.dump());
    assert!(
        w.all("log")
            .iter()
            .all(|l| l["device_id"] != test_device.as_str()),
        "{}",
        w.dump()
    );
    // A save of a file no test includes: the files in their own order, all passing.
    p.write("helper.nut", "function add(a, b) {\n  return a + b;\n}\n");
    let done = w.wait_for("the second pass", T, |e| e["event"] == "tests");
    assert_eq!(done["ok"], true, "{done}");
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"sum is \" + add(1, 2));\n",
    );
    let started = w.wait_event("tests_started");
    assert_eq!(started["changed"], json!(["device.nut"]));
    let done = w.wait_for("the third pass", T, |e| e["event"] == "tests");
    assert_eq!(files(&done), ["a.test.nut", "z.test.nut"], "{done}");
    assert_eq!(done["affected"], 0);
    assert_eq!(
        (done["passed"].clone(), done["total"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(w.quit(), 0);
}

#[test]
fn a_newer_save_cancels_the_running_pass() {
    let (p, _) = setup();
    // a test that takes a while, so that the next save comes during the pass
    p.write(
        "a.test.nut",
        "class A extends ImpTestCase {\n  function testSlow() {\n    return Promise(function(ok, err) { imp.wakeup(2, ok); });\n  }\n}\n",
    );
    let mut w = p.watch(&["--test"]);
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"one\");\n",
    );
    w.wait_event("tests_started");
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"two\");\n",
    );
    w.wait_event("tests_cancelled");
    w.wait_event("tests_started");
    let done = w.wait_for("the newest pass", T, |e| e["event"] == "tests");
    assert_eq!(done["ok"], true, "{done}");
    w.settle(Duration::from_millis(500));
    assert_eq!(
        w.all("tests").len(),
        1,
        "only the newest pass ends: {}",
        w.dump()
    );
    assert_eq!(w.quit(), 0);
}

#[test]
fn impt_toml_turns_the_tests_on() {
    let (p, _) = setup();
    p.write("impt.toml", "[watch]\ntest = true\n");
    let mut w = p.watch(&[]);
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"three\");\n",
    );
    let done = w.wait_for("a test pass", T, |e| e["event"] == "tests");
    assert_eq!(done["total"], 2, "{done}");
    assert_eq!(w.quit(), 0);
}

/// A test that waits an hour of `imp.wakeup`, logging what `time()` says it waited.
const HOUR: &str = "class H extends ImpTestCase {\n  function testHour() {\n    \
    local start = time();\n    \
    return Promise(function(ok, err) { imp.wakeup(3600, ok); }).then(function(x) {\n      \
        this.info(\"waited \" + (time() - start));\n    \
    }.bindenv(this));\n  }\n}\n";

#[test]
fn the_passes_run_on_virtual_time_with_the_flag_or_impt_toml() {
    let (p, _) = setup();
    p.write("a.test.nut", HOUR);
    p.env.impt(&["test", "update", "-t", "7200"]).ok();
    let virtual_now = || p.env.http("GET", "/_sim/time", None).1["virtual"].clone();
    let mut w = p.watch(&["--test", "--virtual-time"]);
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"one\");\n",
    );
    // An hour of waiting in a pass bounded well under it: only virtual time ends it.
    let done = w.wait_for("the pass", T, |e| e["event"] == "tests");
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["total"], 2, "{done}");
    // The clock jumped the hour, and is back on real time after the pass.
    let (_, clock) = p.env.http("GET", "/_sim/time", None);
    assert!(clock["skipped"].as_f64().unwrap() > 3500.0, "{clock}");
    assert_eq!(virtual_now(), false, "{clock}");
    assert_eq!(w.quit(), 0);

    // The same from impt.toml; quitting during a pass (its agent test waits on a request
    // to a server that never answers: virtual time cannot skip that) switches back too.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    p.write(
        "b.agent.test.nut",
        &format!(
            "class B extends ImpTestCase {{\n  function testWaits() {{\n    \
             return Promise(function(ok, err) {{\n      \
             http.get(\"http://127.0.0.1:{port}/\").sendasync(function(r) {{ ok(); }}, null, 600);\n    \
             }});\n  }}\n}}\n"
        ),
    );
    p.write("impt.toml", "[watch]\ntest = true\nvirtual-time = true\n");
    let mut w = p.watch(&[]);
    p.write(
        "device.nut",
        "@include \"helper.nut\"\nserver.log(\"two\");\n",
    );
    w.wait_event("tests_started");
    let deadline = std::time::Instant::now() + T;
    while virtual_now() != true {
        assert!(std::time::Instant::now() < deadline, "{}", w.dump());
        w.settle(Duration::from_millis(50));
    }
    assert!(
        w.all("tests").is_empty(),
        "the pass is still running: {}",
        w.dump()
    );
    assert_eq!(w.quit(), 0);
    assert_eq!(
        virtual_now(),
        false,
        "quitting left the simulator on virtual time"
    );
}

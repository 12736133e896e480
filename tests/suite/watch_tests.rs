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

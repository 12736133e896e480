//! `impt test run` names the user's files (issue #12): compile errors and runtime errors of
//! the combined test code (framework, sources, test file) are mapped through the
//! preprocessor's line map to the test file's own lines, as `build deploy` maps them.

use crate::support::*;

/// Product P, Device Group DG with one device, `.impt.test` with a 5 s timeout.
fn setup() -> Env {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "DG", "-p", "P"]).ok();
    let device = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &device, "-g", "DG", "-q"])
        .ok();
    env.impt(&["test", "create", "-g", "DG", "-t", "5"]).ok();
    env
}

#[test]
fn compile_errors_name_the_test_file_and_line() {
    let env = setup();
    std::fs::write(
        env.path("bad.device.test.nut"),
        "class MyCase extends ImpTestCase {\n//#sim-compile-error boom\n  function testOne() {}\n}\n",
    )
    .unwrap();
    let out = env.impt(&["test", "run"]);
    out.failed().has("bad.device.test.nut:2:1: error: boom");
}

#[test]
fn runtime_errors_name_the_test_file_and_line() {
    let env = setup();
    std::fs::write(
        env.path("boom.device.test.nut"),
        "class MyCase extends ImpTestCase {\n  function testOne() { this.assertTrue(true); }\n}\n\
         imp.wakeup(0, function() { local t = {}; server.log(t.nope); });\n",
    )
    .unwrap();
    // The device fails and restarts again and again: the first mapped frame is enough.
    let mut run = env.spawn(&["test", "run"]);
    let line = run.wait_for("Device Runtime Error: ERROR:   at ");
    assert!(
        line.ends_with("Device Runtime Error: ERROR:   at boom.device.test.nut:4 (unknown)"),
        "{line}"
    );
}

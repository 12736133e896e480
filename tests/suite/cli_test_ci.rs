//! `impt test run` reports a CI can trust, with real impUnit sessions on `impt sim`: a file
//! that fails to compile or to load is an error case with its place, a run that tests
//! nothing fails with a report, an assertion failure names its test file and line (and the
//! frames through the code under test), a load error is shown once, and `--jobs` (parallel
//! virtual devices) gives the same results as one device.

use crate::support::*;

use serde_json::Value;

/// Product P, Device Group G with one device, `.impt.test` (5 s timeout) plus `extra`.
fn setup(extra: &[&str]) -> Env {
    let env = Env::start(&["--devices", "1", "--no-outbound"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "G", "-p", "P"]).ok();
    let device = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &device, "-g", "G", "-q"])
        .ok();
    let mut args = vec!["test", "create", "-g", "G", "-t", "5", "-q"];
    args.extend_from_slice(extra);
    env.impt(&args).ok();
    env
}

fn write(env: &Env, name: &str, text: &str) {
    std::fs::write(env.path(name), text).unwrap();
}

fn read_json(env: &Env, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.path(name)).unwrap()).unwrap()
}

fn result<'a>(j: &'a Value, name: &str) -> &'a Value {
    j["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {j:#}"))
}

#[test]
fn a_file_that_does_not_compile_is_an_error_case_with_its_place() {
    let env = setup(&[]);
    write(
        &env,
        "bad.test.nut",
        "class Bad extends ImpTestCase {\n  function testOne() {}\n//#sim-compile-error boom\n}\n",
    );
    let out = env.impt(&[
        "test", "run", "--report", "junit", "r.xml", "--report", "json", "r.json",
    ]);
    out.failed().has("bad.test.nut:3:1: error: boom");
    let x = std::fs::read_to_string(env.path("r.xml")).unwrap();
    assert!(
        x.contains("errors=\"1\""),
        "the suite counts the error: {x}"
    );
    assert!(
        x.contains("name=\"(compile)\" file=\"bad.test.nut\" line=\"3\""),
        "{x}"
    );
    assert!(
        x.contains("<error message=\"bad.test.nut:3:1: error: boom\">"),
        "{x}"
    );
    assert!(
        x.contains("<skipped message=\"session did not start"),
        "{x}"
    );
    let j = read_json(&env, "r.json");
    assert_eq!(j["errors"], 1, "{j:#}");
    let c = result(&j, "(compile)");
    assert_eq!(c["status"], "error");
    assert_eq!(c["kind"], "file");
    assert_eq!(c["location"], "bad.test.nut:3");
    assert_eq!(result(&j, "Bad::testOne()")["status"], "not run");
}

#[test]
fn a_load_error_is_one_error_case_shown_once() {
    let env = setup(&[]);
    write(
        &env,
        "b.test.nut",
        "class Broken extends ImpTestCase {\n    function testNever() {}\n}\nthrow \"cannot load\";\n",
    );
    let out = env.impt(&["test", "run", "--report", "json", "r.json"]);
    out.failed()
        .has("error] Session startup timeout: the code failed to load")
        .has("warning] Device Runtime Error: ERROR:   at b.test.nut:4 (__module_tests)");
    // The device restarts and fails again: its error is shown once, in the summary once.
    let text = plain(&out.stdout);
    let shown = text
        .lines()
        .filter(|l| l.contains("Device Runtime Error: ERROR: cannot load"))
        .count();
    assert_eq!(shown, 1, "{text}");
    assert_eq!(
        text.matches("ERROR: cannot load").count(),
        3,
        "warning, error line and summary: {text}"
    );
    let j = read_json(&env, "r.json");
    let load = result(&j, "(load)");
    assert_eq!(load["status"], "error", "{j:#}");
    assert_eq!(load["location"], "b.test.nut:4", "{j:#}");
    assert_eq!(
        load["message"]
            .as_str()
            .unwrap()
            .matches("cannot load")
            .count(),
        1
    );
    assert_eq!(result(&j, "Broken::testNever()")["status"], "not run");
}

#[test]
fn a_run_that_tests_nothing_fails_with_a_report() {
    let env = setup(&[]);
    write(
        &env,
        "a.test.nut",
        "class A extends ImpTestCase {\n  function testOne() { this.assertTrue(true); }\n}\n",
    );
    // The original: a selection that matches no test case is skipped, and the run succeeds.
    let out = env.impt(&["test", "run", "--tests", "a.test.nut:Nothing"]);
    out.ok()
        .has("Skip \"a.test.nut\" testing")
        .has("No test matches --tests \"a.test.nut:Nothing\": nothing was tested.");
    // With a report (CI), nothing tested is an error.
    let out = env.impt(&[
        "test",
        "run",
        "--tests",
        "a.test.nut:Nothing",
        "--report",
        "junit",
        "r.xml",
    ]);
    out.failed().has(
        "No test matches --tests \"a.test.nut:Nothing\": nothing was tested (a run with --report must test something).",
    );
    // A file without test methods tests nothing either.
    write(&env, "a.test.nut", "class A extends ImpTestCase {\n}\n");
    env.impt(&["test", "run", "--report", "json", "r.json"])
        .failed()
        .has("The test files have no test methods: nothing was tested");
}

#[test]
fn an_assertion_failure_names_its_file_line_and_frames() {
    let env = setup(&[]);
    write(
        &env,
        "lib.nut",
        "// the code under test\nfunction twice(f, x) {\n  local y = f(f(x));\n  return y;\n}\n",
    );
    env.impt(&["test", "update", "-x", "lib.nut"]).ok();
    write(
        &env,
        "t.test.nut",
        "class T extends ImpTestCase {\n  function testTwice() {\n    twice(function(v) {\n      this.assertEqual(1, v, \"not one\");\n      return v + 1;\n    }.bindenv(this), 1);\n  }\n  function testFine() { this.assertTrue(true); }\n}\n",
    );
    let out = env.impt(&["test", "run", "--report", "json", "r.json"]);
    out.failed()
        .has("test] Failure: not one\n")
        .has("test]   at t.test.nut:4 (unknown)\n")
        .has("test]   from lib.nut:3 (twice)\n")
        .has("test]   from t.test.nut:3 (testTwice)\n")
        .has("info] at t.test.nut:4\n");
    let j = read_json(&env, "r.json");
    let f = result(&j, "T::testTwice()");
    assert_eq!(f["status"], "failed");
    assert_eq!(f["location"], "t.test.nut:4");
    assert_eq!(f["line"], 4);
    assert_eq!(
        f["frames"],
        serde_json::json!([
            "t.test.nut:4 (unknown)",
            "lib.nut:3 (twice)",
            "t.test.nut:3 (testTwice)"
        ])
    );
    assert_eq!(result(&j, "T::testFine()")["status"], "passed");
}

/// The report without times: what must not depend on the number of jobs.
fn outcomes(j: &Value) -> Vec<Value> {
    j["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("time");
            r
        })
        .collect()
}

#[test]
fn jobs_give_the_same_results_as_one_device_and_clean_up() {
    let env = setup(&[]);
    for (name, body) in [
        ("a.test.nut", "function testA1() { this.assertEqual(1, 1); }\n  function testA2() { this.assertEqual(2, 3, \"two\"); }"),
        ("b.test.nut", "function testB() { return Promise(function(ok, err) { imp.wakeup(0.05, ok); }); }"),
        ("c.test.nut", "function testC() { this.assertTrue(false); }"),
    ] {
        let class = name[..1].to_uppercase();
        write(
            &env,
            name,
            &format!("class {class} extends ImpTestCase {{\n  {body}\n}}\n"),
        );
    }
    write(&env, "d.test.nut", "throw \"d does not load\";\n");
    let devices_before = env.device_ids().len();
    let one = env.impt(&["test", "run", "--jobs", "1", "--report", "json", "one.json"]);
    one.failed();
    let many = env.impt(&[
        "test",
        "run",
        "--jobs",
        "3",
        "-z",
        "debug",
        "--report",
        "json",
        "many.json",
    ]);
    many.failed()
        .has("[debug:TestHelper] 3 parallel job(s) on the simulator");
    let (a, b) = (read_json(&env, "one.json"), read_json(&env, "many.json"));
    assert_eq!(outcomes(&a), outcomes(&b), "{a:#}\n{b:#}");
    assert_eq!(a["tests"], 4);
    assert_eq!(a["passed"], 2);
    assert_eq!(a["errors"], 1);
    // Every file's lines together, in the files' order, the summary the same.
    let text = plain(&many.stdout);
    let pos = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    assert!(
        pos("Using device test file \"a.test.nut\"") < pos("Using device test file \"b.test.nut\"")
    );
    assert!(pos("A::testA2()") < pos("Using device test file \"b.test.nut\""));
    assert!(
        pos("Using device test file \"c.test.nut\"") < pos("Using device test file \"d.test.nut\"")
    );
    for out in [&one, &many] {
        out.has("info] Tests: 4, Assertions: 3, Failures: 3\n");
    }
    // The temporary devices and Device Groups are gone.
    assert_eq!(env.device_ids().len(), devices_before);
    let groups = env.impt(&["dg", "list", "-z", "json"]).json();
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups:#}");
}

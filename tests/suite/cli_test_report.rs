//! `impt test run --report json|junit FILE` on `impt sim` with real impUnit sessions: a
//! passing test, a failing one, a failing setUp(), and a file whose code fails to load
//! (reported with its error instead of a bare startup timeout, listed and counted).

use crate::support::*;

#[test]
fn reports_every_test_and_sessions_that_never_start() {
    let env = Env::start(&["--devices", "1", "--no-outbound"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "G", "-p", "P"]).ok();
    let devices = env.impt(&["device", "list", "-z", "json"]).json();
    let device = devices[0]["Device"]["id"].as_str().unwrap().to_string();
    env.impt(&["device", "assign", "-d", &device, "-g", "G", "-q"])
        .ok();
    std::fs::write(
        env.path("a.test.nut"),
        r#"
class Good extends ImpTestCase {
    function testPasses() { assertEqual(1, 1); }
    function testFails() { assertEqual(1, 2, "one is not two"); }
    function testAsync() {
        return Promise(function(ok, err) { imp.wakeup(0.1, ok); }).finally(function(v) {});
    }
}
class BadSetUp extends ImpTestCase {
    function setUp() { throw "no fixture"; }
    function testAfterSetUp() {}
}
"#,
    )
    .unwrap();
    std::fs::write(
        env.path("b.test.nut"),
        "class Broken extends ImpTestCase {\n    function testNever() {}\n}\nthrow \"cannot load\";\n",
    )
    .unwrap();
    env.impt(&["test", "create", "--dg", "G", "-q"]).ok();
    let out = env.impt(&[
        "test", "run", "--report", "json", "r.json", "--report", "junit", "r.xml",
    ]);
    out.failed();
    out.has("Session startup timeout: the code failed to load")
        .has("cannot load")
        .has("(session did not start)");
    // the original's "Session startup timeout" stays the start of the line, with the reason
    assert!(
        !plain(&out.stdout)
            .lines()
            .any(|l| l.trim_end().ends_with("Session startup timeout")),
        "{}",
        out.stdout
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("r.json")).unwrap()).unwrap();
    assert_eq!(j["tests"], 5, "{j:#}");
    assert_eq!(j["passed"], 3, "{j:#}");
    assert_eq!(j["failed"], 1, "{j:#}");
    assert_eq!(j["not_run"], 1, "{j:#}");
    let results = j["results"].as_array().unwrap();
    let find = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {j:#}"))
    };
    assert_eq!(find("Good::testFails()")["message"], "one is not two");
    assert_eq!(find("Good::testFails()")["file"], "a.test.nut");
    assert_eq!(find("BadSetUp::setUp()")["status"], "failed");
    assert_eq!(find("BadSetUp::setUp()")["kind"], "fixture");
    let never = find("Broken::testNever()");
    assert_eq!(never["status"], "not run");
    assert!(
        never["message"].as_str().unwrap().contains("cannot load"),
        "{never}"
    );
    let x = std::fs::read_to_string(env.path("r.xml")).unwrap();
    assert!(x.starts_with("<?xml"), "{x}");
    assert!(
        x.contains("<testcase classname=\"Good\" name=\"testFails\" file=\"a.test.nut\""),
        "{x}"
    );
    assert!(x.contains("<failure message=\"one is not two\">"), "{x}");
    // An unknown format is refused before anything runs.
    let bad = env.impt(&["test", "run", "--report", "xml", "r.txt"]);
    bad.failed();
    bad.has("Unknown report format");
}

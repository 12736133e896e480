//! `impt watch --sim DIR`: the whole loop against an in-process simulator, with no account
//! and no auth file.

use std::time::Duration;

use crate::support::spawn_watch;

#[test]
fn sim_mode_deploys_streams_and_redeploys_without_an_account() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    for f in ["device.nut", "agent.nut", "impt.toml"] {
        std::fs::copy(src.join(f), proj.path().join(f)).unwrap();
    }
    let dir = proj.path().to_string_lossy().into_owned();
    let args = ["-z", "json", "--debounce", "100", "--sim", &dir];
    let mut w = spawn_watch(home.path(), home.path(), &args);
    let t = Duration::from_secs(20);
    w.wait_for("the sample's first line", t, |e| {
        e["event"] == "log" && e["msg"] == "Hello from the device!"
    });
    w.wait_for("the agent's line", t, |e| {
        e["event"] == "log" && e["msg"] == "Hello from the agent!"
    });
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    let text = std::fs::read_to_string(proj.path().join("device.nut")).unwrap();
    std::fs::write(
        proj.path().join("device.nut"),
        text.replace("Hello from the device!", "Edited!"),
    )
    .unwrap();
    w.wait_for("the edited line", t, |e| {
        e["event"] == "log" && e["msg"] == "Edited!"
    });
    assert_eq!(w.all("deployed").len(), 2);
    assert_eq!(w.quit(), 0);
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(left.is_empty(), "files left in HOME: {left:?}");
    assert!(!proj.path().join(".impt.auth").exists());
}

/// `--sim` keys `d`, `b`, `p` drive the virtual device; `--parts` attaches a part file as
/// `impt sim --parts` does.
#[test]
fn sim_keys_cut_the_link_toggle_the_button_and_power_cycle_with_the_parts_attached() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    let device = r#"
hardware.pinA.configure(DIGITAL_IN, function() { server.log("pinA " + hardware.pinA.read()); });
server.log("booted " + (hardware.wakereason() == WAKEREASON_POWER_ON ? "power-on" : "other"));
hardware.i2cAB.configure(CLOCK_SPEED_400_KHZ);
local id = hardware.i2cAB.read(0xBE, "\x0F", 1);
server.log("whoami " + (id == null ? "nobody" : id[0]));
"#;
    let agent = r#"
lost <- false;
device.ondisconnect(function() { lost = true; server.log("agent: gone"); });
device.onconnect(function() { if (lost) server.log("agent: back"); });
"#;
    std::fs::write(proj.path().join("device.nut"), device).unwrap();
    std::fs::write(proj.path().join("agent.nut"), agent).unwrap();
    let parts = proj.path().join("parts.toml");
    std::fs::write(
        &parts,
        "[[part]]\nbus = \"i2cAB\"\naddress = 0xBE\nregisters = { \"0x0F\" = 0xBC }\n",
    )
    .unwrap();
    let dir = proj.path().to_string_lossy().into_owned();
    let parts = parts.to_string_lossy().into_owned();
    let args = [
        "-z", "json", "--sim", &dir, "--button", "pinA", "--parts", &parts,
    ];
    let mut w = spawn_watch(home.path(), home.path(), &args);
    let t = Duration::from_secs(30);
    let log = |m: &'static str| move |e: &serde_json::Value| e["event"] == "log" && e["msg"] == m;
    w.wait_for("the part's answer", t, log("whoami 188"));
    w.key("d");
    w.wait_for("the agent seeing it", t, log("agent: gone"));
    w.key("d");
    w.wait_for("the agent seeing it back", t, log("agent: back"));
    // Each key's answer is queued before the next key's request is sent.
    let infos: Vec<String> = w
        .all("info")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        infos.iter().any(|m| m.starts_with("Connection cut")),
        "{infos:?}"
    );
    w.key("b");
    w.wait_for("the button down", t, log("pinA 1"));
    w.key("b");
    w.wait_for("the button up", t, log("pinA 0"));
    w.key("p");
    w.wait_for("a power-on boot", t, log("booted power-on"));
    assert!(
        w.all("info")
            .iter()
            .any(|e| e["message"] == "Connection restored."),
        "{}",
        w.dump()
    );
    assert!(w.all("error").is_empty(), "{}", w.dump());
    assert_eq!(w.quit(), 0);
}

/// `--sim --test` in a project without a test configuration: the default test file patterns
/// run on a virtual device of their own with the project's code under test, again on each
/// save.
#[test]
fn sim_tests_run_without_a_test_configuration() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    let p = proj.path();
    std::fs::write(
        p.join("device.nut"),
        "function add(a, b) { return a + b; }\n",
    )
    .unwrap();
    std::fs::write(p.join("agent.nut"), "server.log(\"agent up\");\n").unwrap();
    std::fs::create_dir(p.join("tests")).unwrap();
    std::fs::write(
        p.join("tests/math.device.test.nut"),
        "class MathTest extends ImpTestCase {\n  function testAdd() {\n    this.assertEqual(3, add(1, 2));\n  }\n}\n",
    )
    .unwrap();
    let mut w = spawn_watch(
        p,
        home.path(),
        &["-z", "json", "--debounce", "50", "--sim", "--test"],
    );
    let t = Duration::from_secs(60);
    let info = w.wait_for("the tests' device", t, |e| {
        e["event"] == "info"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Tests run on virtual device"))
    });
    let first = w.wait_for("the first pass", t, |e| e["event"] == "tests");
    assert_eq!(first["ok"], true, "{first}\n{}", w.dump());
    assert_eq!(
        (first["passed"].as_u64(), first["total"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        first["files"],
        serde_json::json!(["tests/math.device.test.nut"])
    );
    std::fs::write(
        p.join("device.nut"),
        "function add(a, b) { return a - b; }\n",
    )
    .unwrap();
    let second = w.wait_for("the pass after the save", t, |e| e["event"] == "tests");
    assert_eq!(second["ok"], false, "{second}");
    assert_eq!(
        second["failures"][0]["file"], "tests/math.device.test.nut",
        "{second}"
    );
    assert!(!p.join(".impt.test").exists(), "no configuration written");
    let watched = w.all("started")[0]["devices"][0]["id"].clone();
    assert!(
        !info["message"]
            .as_str()
            .unwrap()
            .contains(watched.as_str().unwrap()),
        "the tests have a device of their own: {info}"
    );
    assert_eq!(w.quit(), 0);
}

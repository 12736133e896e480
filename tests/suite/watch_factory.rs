//! `impt watch` on a pre-factory fixture group: the fixture's factory firmware configures a
//! device under test, whose lines join the stream labelled as a DUT's; BlinkUps and blessing
//! results are events with a running tally; a save redeploys the factory firmware and
//! restarts the fixture, whose next DUT fails its tests; `--sim examples/factory` runs the
//! factory sample to two blessed devices running the application.

use crate::support::*;

use serde_json::Value;
use std::time::Duration;

fn firmware(passed: bool) -> String {
    format!(
        r#"local p = imp.configparams;
if (("factory_imp_device_id" in p) && p.factory_imp_device_id == hardware.getdeviceid()) {{
    server.log("fixture up");
    server.factoryblinkup("ssid", "pw", hardware.pinA, 0);
}} else {{
    server.log("dut testing");
    server.bless({passed}, function(ok) {{ server.log("dut blessed " + ok); }});
}}
"#
    )
}

#[test]
fn a_factory_project_streams_fixture_and_duts_with_a_tally() {
    let p = project_typed(
        &["--blinkup-time", "0.2"],
        "pre_factoryfixture_devicegroup",
        Some(("pre_production_devicegroup", "pre_dut_devicegroup")),
    );
    p.write("device.nut", &firmware(true));
    let mut w = p.watch(&[]);
    // the factory event comes when the group's targets are read: before or after the stream
    if w.all("factory").is_empty() {
        w.wait_event("factory");
    }
    let f = w.all("factory");
    assert_eq!(f.len(), 1, "{}", w.dump());
    assert_eq!(f[0]["fixtures"], serde_json::json!([p.device]));
    w.key("r");
    let b = w.wait_for("a BlinkUp", Duration::from_secs(20), |e| {
        e["event"] == "blinkup"
    });
    let dut = b["device_id"].as_str().unwrap().to_string();
    assert_ne!(dut, p.device);
    assert_eq!(b["fixture"], p.device.as_str());
    let r = w.wait_for("a blessing", Duration::from_secs(20), |e| {
        e["event"] == "blessing"
    });
    assert_eq!(r["device_id"], dut.as_str());
    assert_eq!(r["blessed"], true);
    assert_eq!(r["tally"], serde_json::json!({"blessed": 1, "failed": 0}));
    w.wait_for("the DUT's callback", Duration::from_secs(20), |e| {
        e["event"] == "log" && e["msg"] == "dut blessed true"
    });
    let role_of = |logs: &[Value], msg: &str| -> Vec<(Value, Value)> {
        logs.iter()
            .filter(|e| e["msg"] == msg)
            .map(|e| (e["device_id"].clone(), e["role"].clone()))
            .collect()
    };
    assert!(
        role_of(&w.all("log"), "fixture up")
            .contains(&(p.device.as_str().into(), "fixture".into())),
        "{}",
        w.dump()
    );
    assert_eq!(
        role_of(&w.all("log"), "dut testing"),
        vec![(dut.as_str().into(), "dut".into())],
        "each DUT line once, labelled"
    );

    // a save: the fixture restarts with the new firmware; its next DUT fails
    p.write("device.nut", &firmware(false));
    w.wait_event("deployed");
    let b2 = w.wait_for("a second BlinkUp", Duration::from_secs(20), |e| {
        e["event"] == "blinkup" && e["device_id"] != dut.as_str()
    });
    let r2 = w.wait_for("a failed blessing", Duration::from_secs(20), |e| {
        e["event"] == "blessing" && e["device_id"] == b2["device_id"]
    });
    assert_eq!(r2["blessed"], false);
    assert_eq!(r2["tally"], serde_json::json!({"blessed": 1, "failed": 1}));
    assert_eq!(w.quit(), 0);
}

#[test]
fn text_mode_labels_roles_and_prints_the_tally() {
    let p = project_typed(
        &["--blinkup-time", "0.2"],
        "pre_factoryfixture_devicegroup",
        Some(("pre_production_devicegroup", "pre_dut_devicegroup")),
    );
    p.write("device.nut", &firmware(true));
    p.env.impt(&["build", "run"]).ok();
    let mut run = p.env.spawn(&["watch"]);
    let first = run.wait_for("dut testing");
    assert!(first.starts_with("[dut "), "{first}");
    let line = run.wait_for("Blessed: ");
    assert!(line.contains("1 blessed, 0 failed"), "{line}");
    run.interrupt();
}

#[test]
fn sim_mode_runs_the_factory_example_to_two_blessed_devices() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/factory");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), proj.path().join(f.file_name())).unwrap();
    }
    let dir = proj.path().to_string_lossy().into_owned();
    // The example #requires FactoryTools: from the library cache of the watch's HOME.
    seed_factorytools(home.path());
    let mut w = spawn_watch(home.path(), home.path(), &["-z", "json", "--sim", &dir]);
    let t = Duration::from_secs(30);
    let started = w.wait_event("started");
    assert_eq!(started["dg"]["type"], "pre_factoryfixture_devicegroup");
    w.wait_for("two blessed devices", t, |e| {
        e["event"] == "blessing" && e["tally"] == serde_json::json!({"blessed": 2, "failed": 0})
    });
    assert_eq!(w.all("blinkup").len(), 2, "{}", w.dump());
    w.wait_for("the application on a blessed device", t, |e| {
        e["event"] == "log"
            && e["role"] == "dut"
            && e["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("Application started on "))
    });
    assert_eq!(w.quit(), 0);
}

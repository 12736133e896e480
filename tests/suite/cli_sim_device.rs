//! `impt sim device list|disconnect|reconnect|power-cycle|pin`: a running simulator driven
//! from another process, found by `--port` or by the current login's endpoint.

use crate::support::*;

/// Logs what the device lives through; the agent logs its connection changes.
const DEVICE: &str = r#"
hardware.pinA.configure(DIGITAL_IN, function() { server.log("pinA " + hardware.pinA.read()); });
server.log("booted " + (hardware.wakereason() == WAKEREASON_POWER_ON ? "power-on" : "other"));
"#;
const AGENT: &str = r#"
lost <- false;
device.ondisconnect(function() { lost = true; server.log("agent: gone"); });
device.onconnect(function() { if (lost) server.log("agent: back"); });
"#;

#[test]
fn a_running_simulator_is_driven_from_another_shell() {
    let env = Env::start(&["--devices", "1"]);
    env.project_with_device();
    let device = env.device_ids()[0].clone();
    std::fs::write(env.path("device.nut"), DEVICE).unwrap();
    std::fs::write(env.path("agent.nut"), AGENT).unwrap();
    env.impt(&["build", "run"]).ok();
    env.wait_history(&device, "booted other");

    // Found through the login's endpoint; the only device is the default.
    env.impt(&["sim", "device", "list"])
        .ok()
        .has(&device)
        .has("imp003");
    let listed = env.impt(&["sim", "device", "list", "-z", "json"]).json();
    assert_eq!(listed[0]["Device"]["id"], device.as_str(), "{listed}");
    assert_eq!(listed[0]["Device"]["online"], true);

    env.impt(&["sim", "device", "disconnect"])
        .ok()
        .has("is cut until impt sim device reconnect");
    env.wait_history(&device, "agent: gone");
    let listed = env.impt(&["sim", "device", "list", "-z", "json"]).json();
    assert_eq!(listed[0]["Device"]["online"], false, "{listed}");
    env.impt(&["sim", "device", "reconnect", "--device", &device])
        .ok();
    env.wait_history(&device, "agent: back");

    let port = env
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/v5")
        .to_string();
    env.impt(&[
        "sim", "device", "pin", "-p", &port, "--pin", "pinA", "--value", "1",
    ])
    .ok();
    env.wait_history(&device, "pinA 1");
    env.impt(&["sim", "device", "power-cycle", "--port", &port])
        .ok();
    env.wait_history(&device, "booted power-on");

    // Bad input: clear messages, non-zero exits.
    env.impt(&["sim", "device", "pin", "--pin", "pinA", "--value", "7"])
        .failed()
        .has("is not 0, 1 or a level from 0.0 to 1.0");
    env.impt(&["sim", "device", "pin", "--pin", "pin9", "--value", "1"])
        .failed()
        .has("imp003 has no pin");
    env.impt(&["sim", "device", "disconnect", "--reason", "NOPE"])
        .failed()
        .has("reason");
    env.impt(&["sim", "device", "reconnect", "-d", "nosuch"])
        .failed()
        .has("could not be found");
}

#[test]
fn without_a_simulator_the_error_says_how_to_name_one() {
    let env = Env::start_no_login(&[]);
    env.impt(&["sim", "device", "list"])
        .failed()
        .has("Give its port with --port");
    env.impt(&["sim", "device", "power-cycle", "--port", "1"])
        .failed()
        .has("No simulator answers at http://127.0.0.1:1");
    env.impt(&["sim", "device", "pwer-cycle"])
        .failed()
        .has("Did you mean `power-cycle`?");
    let two = Env::start(&["--devices", "2"]);
    two.impt(&["sim", "device", "reconnect"])
        .failed()
        .has("has 2 devices: name one with --device");
}

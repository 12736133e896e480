//! Devices' imp types and hardware on `impt sim`: `--imp-type`, the `imp_type` of
//! `/_sim/devices`, and device code that sets up buses with nothing attached runs on.

use crate::support::{sim_running, Api, Sim, Sse};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

/// The log messages up to the first that contains `needle` (included).
async fn collect_until(sse: &mut Sse, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (event, data) = sse
            .next(left)
            .await
            .unwrap_or_else(|| panic!("no log containing {needle:?}:\n{}", sse.raw));
        if event != "message" {
            continue;
        }
        let v: Value = serde_json::from_str(&data).unwrap();
        let msg = v["msg"].as_str().unwrap_or("").to_string();
        let done = msg.contains(needle);
        out.push(msg);
        if done {
            return out;
        }
    }
}

/// Waits for a log message containing `needle`; returns it.
async fn wait_log(sse: &mut Sse, needle: &str) -> String {
    let line = sse.messages_until(needle, Duration::from_secs(15)).await;
    let last = line.last().map(String::as_str).unwrap_or_default();
    last.split_once(": ")
        .map_or(last, |(_, msg)| msg)
        .to_string()
}

async fn control(sim: &Sim, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}/_sim/{path}", sim.root()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn imp_type_option_and_control_field_choose_the_hardware() {
    let sim = Sim::start(&["--devices", "1", "--imp-type", "imp001"]);
    let (status, list) = control(&sim, reqwest::Method::GET, "devices", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["imp_type"], "imp001", "{list}");
    let (status, added) = control(
        &sim,
        reqwest::Method::POST,
        "devices",
        json!({"imp_type": "impc001", "name": "cell"}),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["imp_type"], "impC001");
    let (status, bad) = control(
        &sim,
        reqwest::Method::POST,
        "devices",
        json!({"imp_type": "imp999"}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.to_string().contains("imp006"), "{bad}");

    let api = Api::login(sim.url(), "user", "password").await;
    // the device API reports the same type
    let r = api
        .get(&format!("/devices/{}", added["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.body["data"]["attributes"]["imp_type"], "impC001");

    let devices = api.device_ids().await;
    let imp001 = list[0]["id"].as_str().unwrap();
    let cell = added["id"].as_str().unwrap();
    assert!(devices.iter().any(|d| d == cell));
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let mut sse = api.stream_of(imp001).await;
    let device = r#"
local i2c = ("i2c89" in hardware) ? hardware.i2c89 : hardware.i2cKL;
i2c.configure(CLOCK_SPEED_400_KHZ);
local id = i2c.read(0xBE, "\x0F", 1);
server.log("type " + imp.info().type + " id " + id + " err " + i2c.readerror());
local uart = ("uart57" in hardware) ? hardware.uart57 : hardware.uartNU;
uart.configure(9600, 8, PARITY_NONE, 1, NO_CTSRTS, function() {});
server.log("uart " + uart.read());
try { hardware.uart1.configure(9600, 8, PARITY_NONE, 1, NO_CTSRTS); } catch (e) { server.log("caught " + e); }
"#;
    let r = api.deploy(&group, DEV, device, "").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[imp001, cell]).await.status, 204);
    assert_eq!(
        wait_log(&mut sse, "type ").await,
        "type imp001 id null err -2"
    );
    assert_eq!(wait_log(&mut sse, "uart ").await, "uart -1");
    assert_eq!(
        wait_log(&mut sse, "caught").await,
        "caught the index 'uart1' does not exist"
    );
}

#[test]
fn an_unknown_imp_type_is_refused_at_start() {
    let out = Command::new(crate::support::impt_bin())
        .args(["sim", "--port", "0", "--imp-type", "imp010"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--imp-type") && err.contains("unknown imp type \"imp010\""),
        "{err}"
    );
}

async fn post_text(sim: &Sim, path: &str, text: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/{path}", sim.root()))
        .body(text.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

const PARTS: &str = r#"
trace = true

[[part]]
name = "sensor"
bus = "i2c89"
address = 0x30
auto_increment = 0x80
read_only = ["0x0F"]
registers = { "0x0F" = 0x33, "0x20" = 0x07, "0x28" = 0x11, "0x29" = 0x22 }

[[part]]
name = "modem"
bus = "uart57"
loopback = true
lines = [{ at = 0.1, text = "READY\n" }]
replies = [{ match = "AT\\+PING", text = "PONG\n" }]

[[pin]]
pin = "pin1"
at = 0.3
value = 1
"#;

#[tokio::test]
async fn parts_answer_on_buses_pins_are_driven_and_the_bus_is_traced() {
    let sim = Sim::start(&["--devices", "1", "--imp-type", "imp001"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let dev = devices[0].as_str();
    // a part on a bus the type lacks, or bad TOML, is refused
    let (status, body) = post_text(
        &sim,
        &format!("devices/{dev}/parts"),
        "[[part]]\nbus = \"i2cAB\"\naddress = 1\n",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("imp001 has no bus"), "{body}");
    let (status, body) = post_text(&sim, &format!("devices/{dev}/parts"), "trace = [").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_text(&sim, &format!("devices/{dev}/parts"), PARTS).await;
    assert_eq!(status, 204, "{body}");

    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let mut sse = api.stream_of(dev).await;
    let device = r#"
local i2c = hardware.i2c89;
i2c.configure(CLOCK_SPEED_400_KHZ);
local id = i2c.read(0x30, "\x0F", 1);
local pair = i2c.read(0x30, "\xA8", 2);
server.log(format("id %02X pair %02X%02X", id[0], pair[0], pair[1]));
i2c.write(0x30, "\x0F\x99");
i2c.write(0x30, "\x20\x55");
local back = i2c.read(0x30, "\x0F", 1)[0] + " " + i2c.read(0x30, "\x20", 1)[0];
server.log("after writes " + back);
server.log("absent " + i2c.read(0x32, "\x00", 1) + " " + i2c.readerror());
local uart = hardware.uart57;
local got = "";
uart.configure(115200, 8, PARITY_NONE, 1, NO_CTSRTS, function() {
    got += uart.readstring();
    if (got.find("READY\n") != null && got.find("PONG\n") == null && got.find("AT+PING") == null) uart.write("AT+PING\r\n");
    if (got.find("PONG\n") != null) { server.log("uart got " + got.len()); got = ""; }
});
hardware.pin1.configure(DIGITAL_IN, function() { server.log("pin1 now " + hardware.pin1.read()); });
"#;
    let agent = r#"device.on("x", function(_) {});"#;
    let r = api.deploy(&group, DEV, device, agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[dev]).await.status, 204);
    let log = collect_until(&mut sse, "pin1 now 1").await;
    let has = |line: &str| {
        assert!(log.iter().any(|l| l == line), "no {line:?} in {log:#?}");
    };
    has("id 33 pair 1122");
    has("[bus] i2c89 0x30 write 0xA8; read 2 → 0x11 0x22");
    // WHO_AM_I is read-only; a control register keeps what was written
    has("after writes 51 85");
    has("absent null -2");
    has("[bus] i2c89 0x32 write 0x00; no acknowledge");
    // the script's line arrives, the device's command comes back (loopback) with the reply
    has("[bus] uart57 rx \"READY\\n\"");
    has("[bus] uart57 tx \"AT+PING\\r\\n\"");
    has("uart got 20");
    // the part file's timeline (pin1 went high), then /_sim/ drives the pins
    let (status, _) = control(
        &sim,
        reqwest::Method::POST,
        &format!("devices/{dev}/pins"),
        json!({"pin": "pin1", "value": 0}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(wait_log(&mut sse, "pin1 now").await, "pin1 now 0");
    let (status, bad) = control(
        &sim,
        reqwest::Method::POST,
        &format!("devices/{dev}/pins"),
        json!({"pin": "pinA", "value": 1}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
}

/// The examples' libraries: clones in $IMPT_LIBS (default /work/peers/libs).
fn libs_with(files: &[&str]) -> Option<String> {
    let libs = std::env::var("IMPT_LIBS").unwrap_or_else(|_| "/work/peers/libs".into());
    files
        .iter()
        .all(|f| std::path::Path::new(&libs).join(f).is_file())
        .then_some(libs)
}

fn example(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[tokio::test]
async fn the_sensor_example_reads_a_virtual_hts221() {
    let Some(libs) = libs_with(&["HTS221/HTS221.device.lib.nut"]) else {
        eprintln!("skipped: no HTS221 clone in $IMPT_LIBS");
        return;
    };
    let parts = format!(
        "{}/examples/sensor/hts221.parts.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_sim, _api, _dev, mut sse) = sim_running(
        "imp001",
        &["--parts", &parts, "--libraries", &libs],
        &example("examples/sensor/sensor.device.nut"),
        &example("examples/sensor/sensor.agent.nut"),
    )
    .await;
    assert_eq!(
        wait_log(&mut sse, "HTS221 found").await,
        "HTS221 found: WHO_AM_I 0xBC"
    );
    assert_eq!(
        wait_log(&mut sse, "[bus] i2c89 0xBE write 0xA8").await,
        "[bus] i2c89 0xBE write 0xA8; read 2 → 0xC4 0x09"
    );
    assert_eq!(
        wait_log(&mut sse, "Temperature").await,
        "Temperature 25.5 C, humidity 45.0 %"
    );
    assert_eq!(
        wait_log(&mut sse, "Agent got").await,
        "Agent got 25.5 C, 45.0 %"
    );
}

#[tokio::test]
async fn the_gps_example_parses_nmea_replayed_on_a_uart() {
    let Some(libs) = libs_with(&[
        "GPS/GPSParser.device.lib.nut",
        "GPS/GPSUARTDriver.device.lib.nut",
    ]) else {
        eprintln!("skipped: no GPS clone in $IMPT_LIBS");
        return;
    };
    // the GPS repository holds both libraries; #require names them by file
    let dir = tempfile::tempdir().unwrap();
    for name in ["GPSParser", "GPSUARTDriver"] {
        let file = format!("{name}.device.lib.nut");
        std::fs::create_dir(dir.path().join(name)).unwrap();
        let from = std::path::Path::new(&libs).join("GPS").join(&file);
        std::fs::copy(from, dir.path().join(name).join(&file)).unwrap();
    }
    let libs = dir.path().to_str().unwrap().to_string();
    let parts = format!(
        "{}/examples/gps/nmea.parts.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_sim, _api, _dev, mut sse) = sim_running(
        "imp001",
        &["--parts", &parts, "--libraries", &libs],
        &example("examples/gps/gps.device.nut"),
        &example("examples/gps/gps.agent.nut"),
    )
    .await;
    let fix = wait_log(&mut sse, "Fix:").await;
    assert!(fix.contains("4807.038") || fix.contains("48.1"), "{fix}");
    assert!(wait_log(&mut sse, "Agent got a fix").await.contains(", "));
}

//! Devices' imp types and hardware on `impt sim`: `--imp-type`, the `imp_type` of
//! `/_sim/devices`, and device code that sets up buses with nothing attached runs on.

use crate::support::{Api, Sim, Sse};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

/// Waits for a log message containing `needle`; returns it.
async fn wait_log(sse: &mut Sse, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
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
        if msg.contains(needle) {
            return msg;
        }
    }
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

//! How `impt sim` runs the devices' code: a few shared worker threads instead of a thread per
//! device, code stopped at once by new code or unassignment (even inside long natives), and
//! virtual time that skips the waits when all code is idle.

use crate::support::{Api, Sim, Sse};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";
const T: Duration = Duration::from_secs(10);

/// `/_sim/<path>` as JSON.
async fn control(sim: &Sim, method: &str, path: &str, body: Option<Value>) -> Value {
    let c = reqwest::Client::new();
    let url = format!("{}/_sim/{path}", sim.root());
    let req = match method {
        "POST" => c.post(&url).json(&body.unwrap_or(json!({}))),
        _ => c.get(&url),
    };
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{method} {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

/// A logged-in API, a development group and a JSON log stream of device `index`.
async fn setup(sim: &Sim, index: usize) -> (Api, String, String, Sse) {
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let device = devices[index].clone();
    let sse = api.stream_of(&device).await;
    (api, group, device, sse)
}

/// Waits for a log line of the stream containing `needle`; its message.
async fn log(sse: &mut Sse, needle: &str) -> String {
    let (_, data) = sse
        .until(needle, T)
        .await
        .unwrap_or_else(|| panic!("no log containing {needle:?}:\n{}", sse.raw));
    let v: Value = serde_json::from_str(&data).unwrap();
    v["msg"].as_str().unwrap_or("").to_string()
}

/// Code that spends its time in natives (few instructions, so the instruction budget never
/// ends it); with `--cpu-limit-ms 0` only the simulator's interrupt can stop it.
const NATIVE_LOOP: &str = "local a = array(200000, 1);\nserver.log(\"VERSION running\");\nwhile (true) { a.sort(); a.reverse(); }";

#[tokio::test]
async fn new_code_and_unassignment_stop_code_busy_in_natives() {
    // The array is bigger than an imp's memory: the test gives the device more.
    let sim = Sim::start(&[
        "--devices",
        "1",
        "--cpu-limit-ms",
        "0",
        "--device-memory",
        "8000000",
    ]);
    let (api, group, device, mut sse) = setup(&sim, 0).await;
    let r = api
        .deploy(&group, DEV, &NATIVE_LOOP.replace("VERSION", "v1"), "")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[&device]).await.status, 204);
    log(&mut sse, "v1 running").await;
    // The device is busy in its loop; new code and a restart replace it.
    let r = api
        .deploy(&group, DEV, &NATIVE_LOOP.replace("VERSION", "v2"), "")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api
        .send("POST", &format!("/devicegroups/{group}/restart"), None, &[])
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    log(&mut sse, "v2 running").await;
    // Unassigned, the device runs nothing: the pool's workers come free.
    let r = api
        .send(
            "DELETE",
            &format!("/devicegroups/{group}/relationships/devices"),
            Some(json!({"data": [{"type": "device", "id": device}]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let deadline = Instant::now() + T;
    loop {
        let t = control(&sim, "GET", "time", None).await;
        if t["idle"] == true {
            assert_eq!(
                (t["running"].as_u64(), t["ready"].as_u64()),
                (Some(0), Some(0))
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running after unassign: {t}"
        );
        tokio::task::yield_now().await;
    }
    let history = api
        .get(&format!("/devices/{device}/logs?page[size]=100"))
        .await;
    let errors: Vec<&Value> = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "server.error")
        .collect();
    assert!(
        errors.is_empty(),
        "an interrupted run logs no error: {errors:?}"
    );
}

#[tokio::test]
async fn virtual_time_skips_an_hour_when_all_code_is_idle() {
    let sim = Sim::start(&["--devices", "1", "--virtual-time"]);
    let (api, group, device, mut sse) = setup(&sim, 0).await;
    let t = control(&sim, "GET", "time", None).await;
    assert_eq!(t["virtual"], true, "{t}");
    let code = "local t0 = time(); local m0 = hardware.millis();\n\
        imp.wakeup(3600, function() {\n\
          server.log(\"woke after \" + (time() - t0) + \" s, \" + (hardware.millis() - m0) / 1000 + \" s of millis\");\n\
          imp.wakeup(30, function() { server.log(\"then until \" + (time() - t0)); });\n\
        });";
    let agent = "imp.wakeup(86400, function() { server.log(\"agent: a day later\"); });";
    let r = api.deploy(&group, DEV, code, agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[&device]).await.status, 204);
    let msg = log(&mut sse, "woke after").await;
    let secs: i64 = msg
        .trim_start_matches("woke after ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3600..3610).contains(&secs), "{msg}");
    assert!(
        msg.contains(" s, 3600 s of millis") || msg.contains(" s, 3601 s of millis"),
        "{msg}"
    );
    let msg = log(&mut sse, "then until").await;
    let after: i64 = msg.trim_start_matches("then until ").parse().unwrap();
    assert!((3630..3640).contains(&after), "{msg}");
    log(&mut sse, "agent: a day later").await;
    let t = control(&sim, "GET", "time", None).await;
    assert!(t["skipped"].as_f64().unwrap() >= 86_000.0, "{t}");
    assert!(t["jumps"].as_u64().unwrap() >= 2, "{t}");
}

#[tokio::test]
async fn virtual_time_is_switched_and_advanced_through_the_control_endpoint() {
    let sim = Sim::start(&["--devices", "1"]);
    let (api, group, device, mut sse) = setup(&sim, 0).await;
    assert_eq!(control(&sim, "GET", "time", None).await["virtual"], false);
    let code = "imp.wakeup(600, function() { server.log(\"ten minutes later\"); });\n\
        server.log(\"waiting\");";
    let r = api.deploy(&group, DEV, code, "").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[&device]).await.status, 204);
    log(&mut sse, "waiting").await;
    // Real time: the timer waits. Switched on, the idle sim jumps to it.
    let t = control(&sim, "POST", "time", Some(json!({"virtual": true}))).await;
    assert_eq!(t["virtual"], true, "{t}");
    log(&mut sse, "ten minutes later").await;
    // `advance` jumps ahead by itself.
    let before = control(&sim, "GET", "time", None).await["now"]
        .as_f64()
        .unwrap();
    let t = control(
        &sim,
        "POST",
        "time",
        Some(json!({"virtual": false, "advance": 7200})),
    )
    .await;
    assert_eq!(t["virtual"], false, "{t}");
    assert!(t["now"].as_f64().unwrap() - before >= 7200.0, "{t}");
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{}/_sim/time", sim.root()))
        .json(&json!({"advance": -5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// Forty devices running code share the pool's workers (two, and a few extra ones while
/// many wait at once): the sim's thread count does not grow with them (a thread per device
/// made it 40 more).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn many_devices_share_a_few_worker_threads() {
    let sim = Sim::start(&["--devices", "40", "--workers", "2"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices: Vec<String> = control(&sim, "GET", "devices", None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(devices.len(), 40);
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let code = "function tick() { server.log(\"tick\"); imp.wakeup(0.5, tick); }\ntick();";
    let r = api.deploy(&group, DEV, code, "").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ids: Vec<&str> = devices.iter().map(String::as_str).collect();
    assert_eq!(api.assign(&group, &ids).await.status, 204);
    let deadline = Instant::now() + Duration::from_secs(20);
    for d in &devices {
        loop {
            let h = api.get(&format!("/devices/{d}/logs?page[size]=20")).await;
            let ticked = h.body["data"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["msg"] == "tick"));
            if ticked {
                break;
            }
            assert!(Instant::now() < deadline, "device {d} never ticked");
            tokio::task::yield_now().await;
        }
    }
    let t = control(&sim, "GET", "time", None).await;
    // Two workers, plus at most six extra ones while devices boot at once.
    let workers = t["workers"].as_u64().unwrap();
    assert!((2..=8).contains(&workers), "{t}");
    assert_eq!(t["jobs"].as_u64(), Some(40), "{t}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", sim.pid())).unwrap();
    let threads: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(threads < 30, "{threads} threads for 40 running devices");
}

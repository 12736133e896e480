//! The virtual imp's life on `impt sim`: its connection (policies, send results, the
//! unexpected-disconnect handler, the agent's view, `device_online`, cuts from outside
//! through `/_sim/…/disconnect`), deep sleep and wake reasons, restarts and power cycles.

use crate::support::{sim_running, Api, Sim, Sse};
use serde_json::{json, Value};
use std::time::Duration;

/// A control call; returns the status.
async fn ctl(sim: &Sim, path: &str, body: Value) -> u16 {
    sim.control(path, &body).await
}

/// The log messages (`type: msg`) up to and including the first one containing `needle`.
async fn until(sse: &mut Sse, needle: &str) -> Vec<String> {
    sse.messages_until(needle, Duration::from_secs(20)).await
}

/// A sim with one device running `device` and `agent`, a log stream on it.
async fn running(args: &[&str], device: &str, agent: &str) -> (Sim, Api, String, Sse) {
    running_on("imp005", args, device, agent).await
}

/// The same on a device of imp type `imp`.
async fn running_on(
    imp: &str,
    args: &[&str],
    device: &str,
    agent: &str,
) -> (Sim, Api, String, Sse) {
    let mut all = vec!["--no-outbound"];
    all.extend_from_slice(args);
    sim_running(imp, &all, device, agent).await
}

async fn online(api: &Api, id: &str) -> bool {
    let r = api.get(&format!("/devices/{id}")).await;
    r.body["data"]["attributes"]["device_online"]
        .as_bool()
        .unwrap()
}

const AGENT_WATCH: &str = r#"
device.onconnect(function() { server.log("agent: device connected " + device.isconnected()); });
device.ondisconnect(function() { server.log("agent: device gone " + device.isconnected()); });
device.on("m", function(v) { server.log("agent got " + v); });
"#;

#[tokio::test]
async fn return_on_error_loses_sends_reports_the_loss_after_a_minute_and_reconnects_on_request() {
    // 100× time: the imp's 60 s retry window takes 0.6 s.
    let device = r#"
server.setsendtimeoutpolicy(RETURN_ON_ERROR, WAIT_TIL_SENT, 10);
results <- [];
function retry() {
    server.connect(function(r) {
        if (r == SERVER_CONNECTED) {
            local text = "";
            foreach (r in results) text += r + ", ";
            server.log("back: " + text + server.isconnected());
        } else {
            imp.wakeup(10, retry);
        }
    }, 5);
}
server.onunexpecteddisconnect(function(reason) {
    results.push("lost " + reason + " " + server.isconnected());
    results.push("send " + agent.send("m", "offline"));
    results.push("log " + server.log("lost line"));
    server.connect(function(r) {
        results.push("first try " + r);
        imp.wakeup(10, retry);
    }, 5);
});
server.log("ready");
"#;
    let (sim, api, id, mut sse) = running(&["--time-scale", "100"], device, AGENT_WATCH).await;
    until(&mut sse, "ready").await;
    assert!(online(&api, &id).await);
    let bad = ctl(
        &sim,
        &format!("/devices/{id}/disconnect"),
        json!({"reason": "NOPE"}),
    )
    .await;
    assert_eq!(bad, 400);
    // Cut for 100 virtual seconds: lost at 0, reported at 60, the first try fails at 65,
    // retries at 75, 90 fail, the one at 105 gets through.
    let cut = ctl(
        &sim,
        &format!("/devices/{id}/disconnect"),
        json!({"reason": "NO_SERVER", "secs": 100}),
    )
    .await;
    assert_eq!(cut, 204);
    let seen = until(&mut sse, "agent: device gone false").await;
    assert!(
        seen.iter().any(|l| l == "status: Device disconnected"),
        "{seen:?}"
    );
    assert!(
        !online(&api, &id).await,
        "device_online follows the connection"
    );
    let seen = until(&mut sse, "back:").await;
    let back = seen.last().unwrap();
    assert_eq!(
        back, "server.log: back: lost 4 false, send 1, log 1, first try 4, true",
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("offline") || l.contains("lost line")),
        "lost while offline: {seen:?}"
    );
    let i = seen
        .iter()
        .position(|l| l == "status: Device connected")
        .unwrap();
    assert!(
        i < seen.len() - 1,
        "connected before the code logs: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l == "agent.log: agent: device connected true"),
        "{seen:?}"
    );
    assert!(online(&api, &id).await);
}

#[tokio::test]
async fn suspend_on_error_stops_the_code_until_the_network_is_back_and_loses_nothing() {
    // The default policy. 20× time: the 10 s cut takes 0.5 s.
    let device = r#"
n <- 0;
function tick() {
    n++;
    local r = agent.send("m", n);
    server.log("sent " + n + " " + r);
    if (n < 30) imp.wakeup(1, tick);
}
tick();
"#;
    let (sim, _api, id, mut sse) = running(&["--time-scale", "20"], device, AGENT_WATCH).await;
    let mut seen = until(&mut sse, "sent 5 0").await;
    let cut = ctl(
        &sim,
        &format!("/devices/{id}/disconnect"),
        json!({"secs": 10}),
    )
    .await;
    assert_eq!(cut, 204);
    seen.extend(until(&mut sse, "agent got 30").await);
    let down = seen
        .iter()
        .position(|l| l == "status: Device disconnected")
        .unwrap_or_else(|| panic!("{seen:?}"));
    let up = down
        + seen[down..]
            .iter()
            .position(|l| l == "status: Device connected")
            .unwrap_or_else(|| panic!("{seen:?}"));
    assert!(down < up, "{seen:?}");
    assert!(
        !seen[down..up].iter().any(|l| l.starts_with("server.log")),
        "the code stops while it waits for the connection: {seen:?}"
    );
    assert!(seen
        .iter()
        .any(|l| l == "agent.log: agent: device gone false"));
    for i in 1..=30 {
        assert!(
            seen.iter()
                .any(|l| l == &format!("agent.log: agent got {i}")),
            "message {i} delivered: {seen:?}"
        );
        assert!(
            seen.iter().any(|l| l == &format!("server.log: sent {i} 0")),
            "line {i} logged: {seen:?}"
        );
    }
    // Cut until restored.
    assert_eq!(
        ctl(&sim, &format!("/devices/{id}/disconnect"), json!({})).await,
        204
    );
    until(&mut sse, "agent: device gone false").await;
    assert_eq!(
        ctl(&sim, &format!("/devices/{id}/reconnect"), json!({})).await,
        204
    );
    until(&mut sse, "agent: device connected true").await;
}

/// Electric Imp's ReplayMessenger (with its ConnectionManager, SPIFlashLogger and
/// Serializer), read from the clones in `$IMPT_LIBS` (skipped without them): a message sent
/// while disconnected is persisted to flash and resent once the connection is back.
#[tokio::test]
async fn replay_messenger_resends_what_was_sent_offline() {
    let libs = std::env::var("IMPT_LIBS").unwrap_or_else(|_| "/work/peers/libs".into());
    let files = [
        "Serializer/Serializer.class.nut",
        "SpiFlashLogger/SPIFlashLogger.device.lib.nut",
        "ConnectionManager/ConnectionManager.lib.nut",
        "Messenger_ReplayMessenger/Messenger.lib.nut",
        "Messenger_ReplayMessenger/ReplayMessenger.device.lib.nut",
    ];
    let mut device = String::new();
    for f in files {
        match std::fs::read_to_string(std::path::Path::new(&libs).join(f)) {
            Ok(text) => device.push_str(&text),
            Err(_) => {
                eprintln!("skipped: no {f} in {libs} (set IMPT_LIBS)");
                return;
            }
        }
        device.push('\n');
    }
    device.push_str(
        r#"
logger <- SPIFlashLogger(0, 8192);
logger.erase();
cm <- ConnectionManager();
cm.connect();
rm <- ReplayMessenger(logger, cm, {"ackTimeout": 10});
rm.confirmResend(function(msg) {
    server.log("resending " + msg.payload.data + " connected " + cm.isConnected());
    return true;
});
rm.onAck(function(msg, data) { server.log("acked " + msg.payload.data); });
rm.onFail(function(msg, reason) { server.log("failed " + reason); });
agent.on("go", function(d) {
    cm.disconnect();
    rm.send("reading", "r1", RM_IMPORTANCE_HIGH, 10);
    imp.wakeup(8, cm.connect.bindenv(cm));
});
"#,
    );
    let messenger = std::fs::read_to_string(
        std::path::Path::new(&libs).join("Messenger_ReplayMessenger/Messenger.lib.nut"),
    )
    .unwrap();
    let agent = format!(
        r#"{messenger}
rm <- Messenger({{"ackTimeout": 10}});
rm.on("reading", function(msg, customAck) {{ server.log("agent got " + msg.data); }});
device.onconnect(function() {{ server.log("agent: connected"); }});
imp.wakeup(0.5, function() {{ device.send("go", 1); }});
"#
    );
    let (_sim, _api, _id, mut sse) = running(&["--time-scale", "10"], &device, &agent).await;
    let seen = until(&mut sse, "acked r1").await;
    let down = seen
        .iter()
        .position(|l| l == "status: Device disconnected")
        .unwrap_or_else(|| panic!("{seen:?}"));
    let resend = seen
        .iter()
        .position(|l| l == "server.log: resending r1 connected true")
        .unwrap_or_else(|| panic!("resent after reconnecting: {seen:?}"));
    let got = seen
        .iter()
        .position(|l| l == "agent.log: agent got r1")
        .unwrap_or_else(|| panic!("{seen:?}"));
    assert!(down < resend && resend < got, "{seen:?}");
    assert_eq!(
        seen.iter().filter(|l| l.contains("agent got")).count(),
        1,
        "nothing went while offline: {seen:?}"
    );
}

/// Deep sleep: the device goes offline and boots afresh at wake (`WAKEREASON_TIMER`, offline
/// until it talks to the server), `nv` survives it but not a power cycle, the agent stays
/// up; restarts say why (`SW_RESET` from the API, `SW_RESTART` from `server.restart()`,
/// `SQUIRREL_ERROR` after a runtime error).
#[tokio::test]
async fn deep_sleep_wakes_fresh_with_nv_and_restarts_say_why() {
    let device = r#"
if (!("count" in nv)) nv.count <- 0;
nv.count++;
local r = hardware.wakereason();
local was = server.isconnected();
server.log("wake " + r + " count " + nv.count + " was connected " + was);
if (nv.count == 1 && r == WAKEREASON_NEW_SQUIRREL) {
    imp.onidle(function() { imp.deepsleepfor(30); server.log("not reached"); });
} else if (nv.count == 2 && r == WAKEREASON_TIMER) {
    imp.onidle(function() { server.sleepfor(30); });
} else {
    server.log("awake");
}
agent.on("restart", function(d) { server.restart(); });
agent.on("fail", function(d) { throw "boom"; });
"#;
    let agent = r#"
gone <- 0;
device.ondisconnect(function() { gone++; server.log("agent: gone " + gone + " " + device.isconnected()); });
http.onrequest(function(req, res) { device.send(req.path.slice(1), 0); res.send(200, "ok"); });
"#;
    let (sim, api, id, mut sse) =
        running_on("imp004m", &["--time-scale", "100"], device, agent).await;
    let seen = until(&mut sse, "awake").await;
    let wakes: Vec<&String> = seen.iter().filter(|l| l.contains("wake ")).collect();
    assert_eq!(
        wakes,
        [
            "server.log: wake 4 count 1 was connected true",
            "server.log: wake 1 count 2 was connected false",
            "server.log: wake 1 count 3 was connected false",
        ],
        "{seen:?}"
    );
    assert!(!seen.iter().any(|l| l.contains("not reached")), "{seen:?}");
    assert!(
        seen.iter().any(|l| l == "agent.log: agent: gone 2 false"),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|l| *l == "status: Device disconnected")
            .count(),
        2,
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("Device booting")),
        "a wake is no reboot: {seen:?}"
    );
    assert!(online(&api, &id).await, "connected again by its log");
    let agent_id = {
        let r = api.get(&format!("/devices/{id}")).await;
        r.body["data"]["attributes"]["agent_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let poke = |what: &'static str| {
        let url = format!("{}/agents/{agent_id}/{what}", sim.root());
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    assert_eq!(poke("restart").await, 200);
    until(&mut sse, "wake 10 count 4").await;
    assert_eq!(poke("fail").await, 200);
    until(&mut sse, "wake 5 count 5").await;
    let r = api.post(&format!("/devices/{id}/restart"), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    until(&mut sse, "wake 2 count 6").await;
    assert_eq!(
        ctl(&sim, &format!("/devices/{id}/power-cycle"), json!({})).await,
        204
    );
    until(&mut sse, "wake 0 count 1 was connected true").await;
}

#[tokio::test]
async fn the_imp005_cannot_deep_sleep() {
    let device = r#"
try { imp.deepsleepfor(10); } catch (e) { server.log("caught: " + e); }
server.log("wake " + hardware.wakereason());
"#;
    let (_sim, _api, _id, mut sse) = running(&[], device, "").await;
    let seen = until(&mut sse, "wake 4").await;
    assert!(
        seen.iter().any(|l| l
            == "server.log: caught: imp.deepsleepfor does not exist on the imp005 (it cannot deep sleep)"),
        "{seen:?}"
    );
}

/// The device's group (from the device's relationships).
async fn group_of(api: &Api, id: &str) -> String {
    let r = api.get(&format!("/devices/{id}")).await;
    r.body["data"]["relationships"]["devicegroup"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no group: {}", r.body))
        .to_string()
}

const DEV: &str = "development_devicegroup";

/// `server.onshutdown`: a conditional restart tells a device with a handler that new code is
/// there (`SHUTDOWN_NEWSQUIRREL`, 1) instead of restarting it; its agent takes the new code at
/// once, the device runs the new code when it calls `server.restart()` (woken for new
/// Squirrel).
#[tokio::test]
async fn a_conditional_restart_calls_the_shutdown_handler_and_server_restart_brings_the_new_code() {
    let device = r#"
server.onshutdown(function(reason) {
    server.log("shutdown asked " + reason);
    server.restart();
});
server.log("A running " + hardware.wakereason());
"#;
    let (_sim, api, id, mut sse) = running(&[], device, "server.log(\"agent A\");").await;
    until(&mut sse, "A running 4").await;
    let group = group_of(&api, &id).await;
    let r = api
        .deploy(
            &group,
            DEV,
            "server.log(\"B running \" + hardware.wakereason());",
            "server.log(\"agent B\");",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api
        .post(
            &format!("/devicegroups/{group}/conditional_restart"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let seen = until(&mut sse, "B running").await;
    let at = |needle: &str| {
        seen.iter()
            .position(|l| l == needle)
            .unwrap_or_else(|| panic!("no {needle:?} in {seen:?}"))
    };
    assert!(
        at("agent.log: agent B") < at("server.log: shutdown asked 1"),
        "{seen:?}"
    );
    assert!(
        at("server.log: shutdown asked 1") < at("server.log: B running 4"),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|l| l.contains("A running")), "{seen:?}");
}

/// The handler may put the restart off: the old code keeps running. A forced restart (the
/// API's `restart`) bypasses the handler, and so does a conditional restart of a device that
/// runs a deployment older than the group's `min_supported_deployment`; a device without a
/// handler simply restarts.
#[tokio::test]
async fn the_shutdown_handler_can_wait_and_forced_or_unsupported_restarts_bypass_it() {
    let device = r#"
server.onshutdown(function(reason) { server.log("later " + reason); });
function tick() { server.log("A tick"); imp.wakeup(0.05, tick); }
server.log("A running");
tick();
"#;
    let (_sim, api, id, mut sse) = running(&[], device, "").await;
    until(&mut sse, "A running").await;
    let group = group_of(&api, &id).await;
    let b = r#"
server.onshutdown(function(reason) { server.log("B later " + reason); });
server.log("B running " + hardware.wakereason());
"#;
    assert_eq!(api.deploy(&group, DEV, b, "").await.status, 201);
    let conditional = format!("/devicegroups/{group}/conditional_restart");
    assert_eq!(api.post(&conditional, json!({})).await.status, 204);
    until(&mut sse, "later 1").await;
    // Still the old code.
    let seen = until(&mut sse, "A tick").await;
    assert!(!seen.iter().any(|l| l.contains("B running")), "{seen:?}");
    let r = api
        .post(&format!("/devicegroups/{group}/restart"), json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let seen = until(&mut sse, "B running").await;
    assert!(!seen.iter().any(|l| l.contains("later")), "{seen:?}");

    // C becomes the minimum supported deployment: the device runs B, older, so it restarts
    // at once although B has a handler.
    let r = api
        .deploy(&group, DEV, "server.log(\"C running\");", "")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.body["data"]["id"].as_str().unwrap().to_string();
    let r = api
        .send(
            "PUT",
            &format!("/devicegroups/{group}/relationships/min_supported_deployment"),
            Some(json!({"data": {"type": "deployment", "id": c}})),
            &[],
        )
        .await;
    assert!(r.status < 300, "{} {}", r.status, r.body);
    assert_eq!(api.post(&conditional, json!({})).await.status, 204);
    let seen = until(&mut sse, "C running").await;
    assert!(!seen.iter().any(|l| l.contains("later")), "{seen:?}");

    // C has no handler: a conditional restart restarts it.
    assert_eq!(api.post(&conditional, json!({})).await.status, 204);
    until(&mut sse, "C running").await;
}

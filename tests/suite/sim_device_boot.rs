//! Device timing on `impt sim`: with `--device-boot-delay` the device starts after its agent
//! (counted as connected meanwhile, messages for it wait), and `imp.sleep` blocks the device
//! while the agent's timers that fall due run before the messages sent during the sleep.

use crate::support::{Api, Sim, Sse};
use serde_json::Value;
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

/// Log messages until one contains `needle` (all of them, in order).
async fn logs_until(sse: &mut Sse, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (event, data) = sse
            .next(left)
            .await
            .unwrap_or_else(|| panic!("no log containing {needle:?}: {seen:?}"));
        if event != "message" {
            continue;
        }
        let v: Value = serde_json::from_str(&data).unwrap();
        let msg = v["msg"].as_str().unwrap_or("").to_string();
        let done = msg.contains(needle);
        seen.push(msg);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn device_boots_after_its_agent_and_sleep_lets_timers_go_first() {
    let sim = Sim::start(&["--devices", "1", "--device-boot-delay", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let mut sse = api.stream_of(&devices[0]).await;
    let agent = r#"
server.log("agent up, device connected: " + device.isconnected());
device.send("early", 1);
device.onconnect(function() { server.log("onconnect"); });
device.on("slept", function(x) { server.log("reply after sleep"); });
device.on("ready", function(x) {
    imp.wakeup(0.3, function() { server.log("agent timer"); });
    device.send("sleep", 1);
});
"#;
    let device = r#"
agent.on("early", function(x) { server.log("device got early message"); });
agent.on("sleep", function(x) { imp.sleep(1); agent.send("slept", 1); });
server.log("device up");
agent.send("ready", 1);
"#;
    let r = api.deploy(&group, DEV, device, agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[devices[0].as_str()]).await.status, 204);
    let seen = logs_until(&mut sse, "reply after sleep").await;
    let pos = |needle: &str| {
        seen.iter()
            .position(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in {seen:?}"))
    };
    assert!(seen[pos("agent up")].ends_with("true"), "{seen:?}");
    assert!(pos("agent up") < pos("device up"), "{seen:?}");
    assert!(
        pos("device up") < pos("device got early message"),
        "{seen:?}"
    );
    assert!(pos("device up") < pos("onconnect"), "{seen:?}");
    assert!(pos("agent timer") < pos("reply after sleep"), "{seen:?}");
}

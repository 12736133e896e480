//! Who may use the simulator's `/_sim/` control endpoints: the machine's own programs, not
//! the agent code or webhooks the simulator runs (with or without `--no-outbound`), nor a
//! web page.

use crate::support::{Api, Sim};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

#[tokio::test]
async fn agent_code_cannot_use_the_control_endpoints() {
    let sim = Sim::start(&["--devices", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let mut sse = api.stream_of(&devices[0]).await;
    // The agent finds the sim's root from its own URL, then tries to read every account's
    // devices and to make every API request fail.
    let agent = r#"
local u = http.agenturl();
local root = u.slice(0, u.find("/agents/"));
http.get(root + "/_sim/devices").sendasync(function(res) {
    server.log("read: " + res.statuscode);
});
http.post(root + "/_sim/faults", {"Content-Type": "application/json"}, "{\"status\": 500}")
    .sendasync(function(res) { server.log("fault: " + res.statuscode); });
"#;
    assert_eq!(api.deploy(&group, DEV, "", agent).await.status, 201);
    assert_eq!(api.assign(&group, &[devices[0].as_str()]).await.status, 204);
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !(seen.iter().any(|m| m.starts_with("read: "))
        && seen.iter().any(|m| m.starts_with("fault: ")))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let (event, data) = sse
            .next(left)
            .await
            .unwrap_or_else(|| panic!("no read/fault lines: {seen:?}\n{}", sse.raw));
        if event == "message" {
            let v: Value = serde_json::from_str(&data).unwrap();
            seen.push(v["msg"].as_str().unwrap_or("").to_string());
        }
    }
    assert!(seen.contains(&"read: 403".to_string()), "{seen:?}");
    assert!(seen.contains(&"fault: 403".to_string()), "{seen:?}");
    // No fault was injected: the API still answers.
    assert_eq!(api.get("/products").await.status, 200);
    // The machine's own programs keep their access.
    let r = api.get(&format!("{}/_sim/devices", sim.root())).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn webhooks_and_web_pages_cannot_use_the_control_endpoints() {
    let sim = Sim::start(&["--devices", "0", "--no-outbound"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let hook = json!({"data": {"type": "webhook",
        "attributes": {"url": format!("{}/_sim/faults", sim.root()), "event": "deployment",
                       "content_type": "application/json"},
        "relationships": {"devicegroup": {"type": DEV, "id": group}}}});
    assert_eq!(api.post("/webhooks", hook).await.status, 201);
    assert_eq!(api.deploy(&group, DEV, "", "").await.status, 201);
    let deadline = Instant::now() + Duration::from_secs(15);
    let call = loop {
        let r = api.get(&format!("{}/_sim/webhooks", sim.root())).await;
        let first = r.body.as_array().and_then(|a| a.first()).cloned();
        if let Some(c) = first.filter(|c| c["attempts"].as_u64().unwrap_or(0) >= 1) {
            break c;
        }
        assert!(Instant::now() < deadline, "no webhook call: {}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(call["status"], 403, "{call}");
    // A browser's cross-site request carries an Origin header.
    let r = api
        .send(
            "POST",
            &format!("{}/_sim/faults", sim.root()),
            Some(json!({"status": 500})),
            &[("origin", "http://example.com")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.get("/products").await.status, 200);
}

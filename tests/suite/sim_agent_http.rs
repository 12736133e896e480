//! Agents' outgoing HTTP on `impt sim`: a request to the agent's own URL is served by its
//! own `http.onrequest` handler (also when the handler answers later), and under
//! `--no-outbound` a request anywhere else fails with a runtime error saying why.

use crate::support::{Api, Sim, Sse};
use serde_json::Value;
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

/// Waits for a log message containing `needle`; returns it.
async fn wait_log(sse: &mut Sse, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
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

#[tokio::test]
async fn agent_requests_its_own_url_and_outbound_is_refused() {
    let sim = Sim::start(&["--devices", "1", "--no-outbound"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let mut sse = api.stream_of(&devices[0]).await;
    let agent = r#"
http.onrequest(function(req, res) {
    if (req.path == "/later") {
        imp.wakeup(0.2, function() { res.send(202, "later " + req.query.n); });
    } else {
        res.header("X-Echo", req.method);
        res.send(200, req.method + " " + req.path + " " + req.body);
    }
});
http.post(http.agenturl() + "/echo", {"Content-Type": "text/plain"}, "hello").sendasync(function(res) {
    server.log("own: " + res.statuscode + " " + res.body + " " + res.headers["x-echo"]);
});
http.get(http.agenturl() + "/later?n=7").sendasync(function(res) {
    server.log("deferred: " + res.statuscode + " " + res.body);
});
try {
    http.get("http://127.0.0.1:9/elsewhere").sendasync(function(res) {});
} catch (e) {
    server.log("refused: " + e);
}
"#;
    let r = api.deploy(&group, DEV, "", agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[devices[0].as_str()]).await.status, 204);
    let refused = wait_log(&mut sse, "refused:").await;
    assert!(
        refused.contains("--no-outbound") && refused.contains("http://127.0.0.1:9/elsewhere"),
        "{refused}"
    );
    assert_eq!(
        wait_log(&mut sse, "own:").await,
        "own: 200 POST /echo hello POST"
    );
    assert_eq!(
        wait_log(&mut sse, "deferred:").await,
        "deferred: 202 later 7"
    );
}

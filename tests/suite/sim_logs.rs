//! `impt sim`: historical device logs, log streams (SSE) and virtual device behaviour.

use crate::support::{Api, Sim, Sse};
use serde_json::{json, Value};
use std::time::Duration;

const DEV: &str = "development_devicegroup";
/// Bounded, generous: a busy machine makes a test slower, not failing.
const T: Duration = Duration::from_secs(30);

/// A control call; returns the status.
async fn ctl(sim: &Sim, path: &str, body: Value) -> u16 {
    sim.control(path, &body).await
}

async fn stream(api: &Api, format: &str) -> (String, Sse) {
    let r = api.send("POST", "/logstream", None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.id();
    let url = r.body["data"]["attributes"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(url, format!("{}/logstream/{id}", api.base));
    // The SSE GET needs no Authorization header.
    let sse = Sse::open(&format!("{url}?format={format}")).await;
    (id, sse)
}

#[tokio::test]
async fn historical_logs_newest_first() {
    let sim = Sim::start(&["--devices", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let id = api.device_ids().await.remove(0);
    let r = api.get(&format!("/devices/{id}/logs?page[size]=1")).await;
    assert_eq!(
        r.body["data"].as_array().unwrap().len(),
        1,
        "seeded history"
    );
    let entry = r.body["data"][0].as_object().unwrap();
    let mut keys: Vec<&String> = entry.keys().collect();
    keys.sort();
    assert_eq!(keys, ["msg", "ts", "type"]);
    assert_eq!(
        ctl(&sim, &format!("/devices/{id}/logs"), json!({"count": 20})).await,
        202
    );
    let mut n = 0;
    for _ in 0..50 {
        n = api
            .get(&format!("/devices/{id}/logs?page[size]=100"))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len();
        if n == 21 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(n, 21);
    let r = api
        .get(&format!(
            "/devices/{id}/logs?page%5Bnumber%5D=3&page%5Bsize%5D=5"
        ))
        .await;
    let msgs: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["msg"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "Message #10#",
            "Message #9#",
            "Message #8#",
            "Message #7#",
            "Message #6#"
        ]
    );
    assert_eq!(r.body["data"][0]["type"], "server.log");
    assert!(r.body["links"]["next"].is_string());
}

#[tokio::test]
async fn text_stream_framing_and_boot_logs() {
    let sim = Sim::start(&["--devices", "2"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let ids = api.device_ids().await;
    let (sid, mut sse) = stream(&api, "text").await;
    assert_eq!(
        sse.next(T).await.unwrap(),
        ("state_change".into(), "opened".into())
    );
    let mac = api.get(&format!("/devices/{}", ids[0])).await.body["data"]["attributes"]
        ["mac_address"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .send("PUT", &format!("/logstream/{sid}/{mac}"), None, &[])
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        sse.next(T).await.unwrap(),
        ("state_change".into(), format!("{} subscribed", ids[0]))
    );
    assert_eq!(
        api.send("PUT", &format!("/logstream/{sid}/nope"), None, &[])
            .await
            .status,
        404
    );
    // Assigning into a group with code loads it; a restart reloads it.
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    let r = api
        .deploy(
            &g,
            DEV,
            "server.log(\"Hello World, from your Device!\");",
            "server.log(\"Hi from \\\"agent\\\"\");",
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(api.assign(&g, &[&ids[0]]).await.status, 204);
    let f = sse
        .until("Agent restarted: reload.", T)
        .await
        .expect("agent restart");
    assert_eq!(f.0, "message");
    let parts: Vec<&str> = f.1.splitn(5, ' ').collect();
    assert_eq!(parts[0], ids[0]);
    assert!(parts[1].ends_with('Z'));
    assert_eq!(parts[2], "development");
    assert_eq!(parts[3], "status");
    let f = sse.until("Downloading new code;", T).await.unwrap();
    assert!(f.1.contains("% program storage used"));
    sse.until("Device connected", T).await.unwrap();
    let f = sse
        .until("Hello World, from your Device!", T)
        .await
        .unwrap();
    assert!(f
        .1
        .contains(" development server.log Hello World, from your Device!"));
    let f = sse.until("Hi from", T).await.unwrap();
    assert!(
        f.1.ends_with(" development agent.log Hi from \"agent\""),
        "{}",
        f.1
    );
    // Restart: the same lines again, also in the history.
    assert_eq!(
        api.post(&format!("/devices/{}/restart", ids[0]), Value::Null)
            .await
            .status,
        204
    );
    sse.until("Hello World, from your Device!", T)
        .await
        .unwrap();
    // A group restart and a conditional restart do it too.
    let r = api
        .post(&format!("/devicegroups/{g}/restart"), Value::Null)
        .await;
    assert_eq!(r.status, 204);
    sse.until("Agent restarted: reload.", T).await.unwrap();
    sse.until("Hello World, from your Device!", T)
        .await
        .unwrap();
    let r = api
        .post(
            &format!("/devicegroups/{g}/conditional_restart"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 204);
    sse.until("Hello World, from your Device!", T)
        .await
        .unwrap();
    let r = api.get(&format!("/devices/{}/logs", ids[0])).await;
    let hist: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["msg"].as_str().unwrap())
        .collect();
    assert!(
        hist.iter()
            .filter(|m| m.contains("Hello World, from your Device!"))
            .count()
            >= 2
    );
    // Offline/online via the control API, multi-line messages.
    assert_eq!(
        ctl(&sim, &format!("/devices/{}/offline", ids[0]), json!({})).await,
        204
    );
    sse.until("Device disconnected", T).await.unwrap();
    assert_eq!(
        api.get(&format!("/devices/{}", ids[0])).await.body["data"]["attributes"]["device_online"],
        false
    );
    ctl(
        &sim,
        &format!("/devices/{}/logs", ids[0]),
        json!({"message": "one\ntwo"}),
    )
    .await;
    let f = sse.until("one", T).await.unwrap();
    assert!(f.1.ends_with("one\ntwo"));
    assert!(
        sse.raw.contains("server.log one\ndata: two\n\n"),
        "multi-line data"
    );
    assert!(sse.raw.starts_with("event: state_change\ndata: opened\n\n"));
    assert!(!sse.raw.contains('\r'));
    // Remove the device.
    let r = api
        .send("DELETE", &format!("/logstream/{sid}/{}", ids[0]), None, &[])
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        sse.until("unsubscribed", T).await.unwrap().1,
        format!("{} unsubscribed", ids[0])
    );
}

#[tokio::test]
async fn json_stream_keepalive_and_unassigned_devices() {
    let sim = Sim::start(&["--devices", "1", "--keepalive-ms", "200"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let id = api.device_ids().await.remove(0);
    let (sid, mut sse) = stream(&api, "json").await;
    let (ev, data) = sse.next(T).await.unwrap();
    assert_eq!(ev, "state_change");
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!({"state": "opened"})
    );
    assert_eq!(
        api.send(
            "PUT",
            &format!("/logstream/{sid}/{id}"),
            Some(json!({})),
            &[]
        )
        .await
        .status,
        204
    );
    let (_, data) = sse.next(T).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!({"state": "subscribed", "device_id": id})
    );
    // Keep-alive comments while idle.
    let (ev, data) = sse.next(Duration::from_secs(2)).await.unwrap();
    assert_eq!((ev.as_str(), data.as_str()), (":", "keep-alive"));
    assert!(sse.raw.contains("\n: keep-alive\n\n"));
    ctl(
        &sim,
        &format!("/devices/{id}/logs"),
        json!({"count": 1, "type": "server.error", "message": "boom"}),
    )
    .await;
    let (ev, data) = sse.until("boom", T).await.unwrap();
    assert_eq!(ev, "message");
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["device_id"], id.as_str());
    assert_eq!(v["log_type"], "development");
    assert_eq!(v["type"], "server.error");
    assert_eq!(v["msg"], "boom");
    assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    // Bad format.
    let r = reqwest::get(format!("{}/logstream/{sid}?format=xml", sim.url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn one_stream_per_account_and_device_eviction() {
    let sim = Sim::start(&["--devices", "6"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let ids = api.device_ids().await;
    let (old, mut first) = stream(&api, "text").await;
    first.next(T).await.unwrap();
    let (sid, mut sse) = stream(&api, "text").await;
    assert_eq!(
        first.until("closed", T).await.unwrap(),
        ("state_change".into(), "closed".into())
    );
    assert!(
        first.next(Duration::from_secs(1)).await.is_none(),
        "closed stream ends"
    );
    let r = reqwest::get(format!("{}/logstream/{old}", sim.url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        api.send("PUT", &format!("/logstream/{old}/{}", ids[0]), None, &[])
            .await
            .status,
        404
    );
    sse.next(T).await.unwrap();
    for d in &ids {
        assert_eq!(
            api.send("PUT", &format!("/logstream/{sid}/{d}"), None, &[])
                .await
                .status,
            204
        );
    }
    for d in &ids[..5] {
        assert_eq!(sse.next(T).await.unwrap().1, format!("{d} subscribed"));
    }
    assert_eq!(
        sse.next(T).await.unwrap().1,
        format!("{} subscribed", ids[5])
    );
    assert_eq!(
        sse.next(T).await.unwrap().1,
        format!("{} unsubscribed", ids[0])
    );
    // The evicted device no longer reaches this stream; the others do.
    ctl(
        &sim,
        &format!("/devices/{}/logs", ids[0]),
        json!({"message": "evicted"}),
    )
    .await;
    ctl(
        &sim,
        &format!("/devices/{}/logs", ids[1]),
        json!({"message": "kept"}),
    )
    .await;
    let f = sse.until("kept", T).await.unwrap();
    assert!(f.1.starts_with(&ids[1]), "{}", f.1);
    assert!(!sse.raw.contains("evicted"));
}

#[tokio::test]
async fn configurable_stream_limits() {
    let sim = Sim::start(&[
        "--devices",
        "3",
        "--streams-per-account",
        "2",
        "--devices-per-stream",
        "2",
    ]);
    let api = Api::login(sim.url(), "user", "password").await;
    let ids = api.device_ids().await;
    let (_a, mut sa) = stream(&api, "text").await;
    let (b, mut sb) = stream(&api, "text").await;
    sa.next(T).await.unwrap();
    sb.next(T).await.unwrap();
    for d in &ids {
        api.send("PUT", &format!("/logstream/{b}/{d}"), None, &[])
            .await;
    }
    sb.until(&format!("{} unsubscribed", ids[0]), T)
        .await
        .expect("eviction at 2");
    assert!(
        sa.next(Duration::from_millis(300)).await.is_none(),
        "first stream stays open"
    );
}

#[tokio::test]
async fn idle_streams_expire_connected_ones_stay() {
    let sim = Sim::start(&[
        "--devices",
        "1",
        "--stream-idle-secs",
        "1",
        "--streams-per-account",
        "2",
    ]);
    let api = Api::login(sim.url(), "user", "password").await;
    let id = api.device_ids().await.remove(0);
    let idle = api.send("POST", "/logstream", None, &[]).await.id();
    let (live, mut sse) = stream(&api, "text").await;
    sse.next(T).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let put = |sid: String| {
        let api = &api;
        let id = &id;
        async move {
            api.send("PUT", &format!("/logstream/{sid}/{id}"), None, &[])
                .await
                .status
        }
    };
    assert_eq!(put(idle).await, 404, "never-connected stream expired");
    assert_eq!(put(live.clone()).await, 204, "connected stream kept");
    assert!(sse.until("subscribed", T).await.is_some());
    drop(sse);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(put(live).await, 404, "expired after its client left");
}

//! `impt sim`: bad requests, content types, rate limits, control endpoints, persistence.

use crate::support::{Api, Sim};
use serde_json::{json, Value};
use std::time::Duration;

async fn raw(
    method: &str,
    url: &str,
    token: Option<&str>,
    ct: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .header("content-type", ct)
        .body(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn assert_error_doc(v: &Value, status: u16) {
    let e = &v["errors"][0];
    assert_eq!(e["status"], status.to_string(), "{v}");
    assert!(
        e["code"].is_string() && e["title"].is_string() && e["detail"].is_string(),
        "{v}"
    );
}

#[tokio::test]
async fn bad_bodies_paths_and_methods() {
    let sim = Sim::start(&[]);
    let api = Api::login(sim.url(), "user", "password").await;
    let t = api.token.clone();
    let t = t.as_deref();
    let u = |p: &str| format!("{}{p}", sim.url());
    let ct = "application/vnd.api+json";
    let (s, v) = raw("POST", &u("/products"), t, ct, b"{not json".to_vec()).await;
    assert_eq!(s, 400);
    assert_error_doc(&v, 400);
    let (s, v) = raw(
        "POST",
        &u("/products"),
        t,
        ct,
        br#"{"data":{"type":"product","attributes":{"name":5}}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert_error_doc(&v, 400);
    let (s, _) = raw(
        "POST",
        &u("/products"),
        t,
        ct,
        br#"{"data":{"type":"product","attributes":{"name":"a","colour":"red"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = raw("POST", &u("/products"), t, ct, br#"{"data":[]}"#.to_vec()).await;
    assert_eq!(s, 400);
    let (s, _) = raw("POST", &u("/products"), t, ct, Vec::new()).await;
    assert_eq!(s, 400);
    let (s, _) = raw(
        "POST",
        &u("/products"),
        t,
        ct,
        br#"{"data":{"type":"webhook","attributes":{"name":"a"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 409);
    // Plain JSON content type is accepted too.
    let (s, v) = raw(
        "POST",
        &u("/products"),
        t,
        "application/json",
        br#"{"data":{"type":"product","attributes":{"name":"ok"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let big = vec![b' '; 4 * 1024 * 1024 + 10];
    let (s, v) = raw("POST", &u("/products"), t, ct, big).await;
    assert_eq!(s, 413);
    assert_error_doc(&v, 413);
    let (s, v) = raw("GET", &u("/no/such/path"), t, ct, Vec::new()).await;
    assert_eq!(s, 404);
    assert_error_doc(&v, 404);
    let (s, v) = raw(
        "GET",
        &format!("{}/elsewhere", sim.root()),
        t,
        ct,
        Vec::new(),
    )
    .await;
    assert_eq!(s, 404);
    assert_error_doc(&v, 404);
    let (s, v) = raw("PUT", &u("/products"), t, ct, Vec::new()).await;
    assert_eq!(s, 405);
    assert_error_doc(&v, 405);
    let (s, _) = raw("DELETE", &u("/deployments"), t, ct, Vec::new()).await;
    assert_eq!(s, 405);
    // Malformed ids are 404, never 400.
    for p in [
        "/products/%20",
        "/devices/zz:zz",
        "/devicegroups/..",
        "/deployments/%E2%9C%93",
        "/webhooks/x",
    ] {
        assert_eq!(api.get(p).await.status, 404, "{p}");
    }
    // Garbage at every write endpoint: never a 5xx.
    let bodies: [&[u8]; 6] = [
        b"",
        b"null",
        b"[]",
        b"{\"data\":null}",
        b"{\"data\":{\"type\":1,\"id\":[]}}",
        b"\xff\xfe",
    ];
    for path in [
        "/auth",
        "/auth/token",
        "/products",
        "/devicegroups",
        "/deployments",
        "/webhooks",
        "/logstream",
        "/accounts/me/login_keys",
    ] {
        for b in bodies {
            for m in ["POST", "PATCH"] {
                let (s, _) = raw(m, &u(path), t, ct, b.to_vec()).await;
                assert!(
                    s < 500,
                    "{m} {path} {:?} -> {s}",
                    String::from_utf8_lossy(b)
                );
            }
        }
    }
    // Empty bodies where the API allows them.
    let p = api.product("P").await;
    let g = api.group(&p, "development_devicegroup", "G").await;
    let (s, _) = raw(
        "POST",
        &u(&format!("/devicegroups/{g}/restart")),
        t,
        ct,
        Vec::new(),
    )
    .await;
    assert_eq!(s, 204);
    let (s, v) = raw("POST", &u("/logstream"), t, "application/json", Vec::new()).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["type"], "logstream");
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let sim = Sim::start(&[]);
    let api = Api::login(sim.url(), "user", "password").await;
    let r = api.get("/products").await;
    assert_eq!(r.headers["x-ratelimit-limit"], "40");
    assert!(r.headers.contains_key("x-ratelimit-remaining"));
    assert_eq!(r.headers["x-ratelimit-reset"], "1");
    for _ in 0..60 {
        assert_eq!(
            api.get("/products").await.status,
            200,
            "no limit by default"
        );
    }
    drop(sim);
    let sim = Sim::start(&["--rate-limit", "5"]);
    let api = Api::login(sim.url(), "user", "password").await;
    // Align to the start of a second so all requests share a window.
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - ms) + 5)).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..6 {
        let r = api.get("/products").await;
        statuses.push(r.status);
        last = Some(r);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    let last = last.unwrap();
    assert_eq!(last.headers["retry-after"], "1");
    assert_eq!(last.headers["x-ratelimit-remaining"], "0");
    assert_error_doc(&last.body, 429);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(api.get("/products").await.status, 200);
}

#[tokio::test]
async fn control_stats_faults_and_devices() {
    let sim = Sim::start(&["--account", "a:pa", "--account", "b:pb", "--devices", "1"]);
    let api = Api::login(sim.url(), "a", "pa").await;
    let c = reqwest::Client::new();
    let ctl = |m: &str, p: &str| c.request(m.parse().unwrap(), format!("{}/_sim{p}", sim.root()));
    assert_eq!(
        ctl("POST", "/stats/reset")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    api.product("one").await;
    api.product("two").await;
    let p = api.get("/products").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.get(&format!("/products/{p}")).await;
    let st: Value = ctl("GET", "/stats")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["routes"]["POST /v5/products"], 2);
    assert_eq!(st["routes"]["GET /v5/products"], 1);
    assert_eq!(st["routes"]["GET /v5/products/{id}"], 1);
    assert_eq!(st["total"], 4);
    // Faults: two 503s on product paths, then normal service.
    let r = ctl("POST", "/faults")
        .json(&json!({"status": 503, "count": 2, "path": "^/products"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let r = api.get("/products").await;
    assert_eq!(r.status, 503);
    assert_error_doc(&r.body, 503);
    assert_eq!(api.get("/devices").await.status, 200, "path filter");
    assert_eq!(api.get("/products").await.status, 503);
    assert_eq!(api.get("/products").await.status, 200);
    ctl("POST", "/faults")
        .json(&json!({"delay_ms": 2000, "method": "GET"}))
        .send()
        .await
        .unwrap();
    let t0 = std::time::Instant::now();
    api.get("/products").await;
    assert!(t0.elapsed() >= Duration::from_millis(2000));
    assert_eq!(
        ctl("DELETE", "/faults")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    let t0 = std::time::Instant::now();
    api.get("/products").await;
    // Well under the delay even on a busy machine.
    assert!(t0.elapsed() < Duration::from_millis(2000));
    // Devices can be added to a given account.
    let r = ctl("POST", "/devices")
        .json(&json!({"account": "b", "name": "extra"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let added: Value = r.json().await.unwrap();
    let b = Api::login(sim.url(), "b", "pb").await;
    let ids = b.device_ids().await;
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&added["id"].as_str().unwrap().to_string()));
    let d = b
        .get(&format!("/devices/{}", added["id"].as_str().unwrap()))
        .await;
    assert_eq!(d.body["data"]["attributes"]["name"], "extra");
    assert_eq!(api.device_ids().await.len(), 1);
    // drop_sse ends open log stream connections.
    let r = api.send("POST", "/logstream", None, &[]).await;
    let mut sse =
        crate::support::Sse::open(r.body["data"]["attributes"]["url"].as_str().unwrap()).await;
    sse.next(Duration::from_secs(2)).await.unwrap();
    ctl("POST", "/faults")
        .json(&json!({"drop_sse": true}))
        .send()
        .await
        .unwrap();
    assert!(sse.next(Duration::from_secs(2)).await.is_none());
    assert!(!sse.raw.contains("closed"));
}

#[tokio::test]
async fn state_file_persists_entities() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sim-state.json");
    let f = file.to_str().unwrap();
    let (product, device, token) = {
        let sim = Sim::start(&["--state", f]);
        let api = Api::login(sim.url(), "user", "password").await;
        let p = api.product("persisted").await;
        let g = api.group(&p, "development_devicegroup", "G").await;
        let d = api.device_ids().await.remove(0);
        assert_eq!(api.assign(&g, &[&d]).await.status, 204);
        tokio::time::sleep(Duration::from_millis(600)).await;
        (p, d, api.token.clone())
    };
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    let mut leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    // the entities and, apart, the devices' log history; no temporary file
    assert_eq!(
        leftovers,
        ["sim-state.json", "sim-state.json.logs"],
        "no temporary files left behind"
    );
    let sim = Sim::start(&["--state", f]);
    let mut api = Api::anonymous(sim.url());
    api.token = token;
    let r = api.get(&format!("/products/{product}")).await;
    assert_eq!(r.status, 200, "token and product survive a restart");
    assert_eq!(r.body["data"]["attributes"]["name"], "persisted");
    assert_eq!(api.device_ids().await.len(), 3, "no duplicate seeding");
    let d = api.get(&format!("/devices/{device}")).await;
    assert!(d.body["data"]["relationships"]["devicegroup"].is_object());
}

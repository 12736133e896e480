//! `impt sim` under hostile input (the real binary on loopback): deeply nested code, log
//! floods to unread streams, log stream ids used by strangers, rate-limit evasion and
//! password guessing, invented methods, half-sent requests, pending MFA logins and
//! oversized `/_sim/` inputs.

use crate::support::{Api, Sim, Sse};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";

/// An API client whose connections come from `from` (another loopback address).
fn api_from(base: &str, from: &str, token: Option<String>) -> Api {
    let ip: IpAddr = from.parse().unwrap();
    Api {
        base: base.to_string(),
        token,
        client: reqwest::Client::builder()
            .local_address(ip)
            .build()
            .unwrap(),
    }
}

async fn ctl(sim: &Sim, method: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("{}/_sim{path}", sim.root()),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn alive(api: &Api) {
    let r = api.get("/products").await;
    assert_eq!(r.status, 200, "the simulator does not answer: {}", r.body);
}

#[tokio::test]
async fn deeply_nested_code_is_a_compile_error_and_the_sim_lives() {
    let sim = Sim::start(&["--devices", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    for (deep, what) in [
        (format!("{}1", "(".repeat(3000)), "3,000 ("),
        (format!("{}1", "-".repeat(50_000)), "50,000 -"),
        (
            format!("x = {}1", "x = ".repeat(50_000)),
            "50,000 assignments",
        ),
    ] {
        let device = format!("local x = 1;\nserver.log(\"ok\");\nlocal y = {deep};\n");
        let r = api.deploy(&g, DEV, &device, "").await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        let e = &r.body["errors"][0];
        assert_eq!(e["code"], "CX005", "{what}: {}", r.body);
        let meta = &e["meta"][0];
        assert_eq!(meta["file"], "device_code", "{what}: {}", r.body);
        assert_eq!(meta["row"], 3, "{what}: {}", r.body);
        alive(&api).await;
    }
    // At run time: code compiled by the program itself, deep inside native calls.
    let d = api.device_ids().await[0].clone();
    let agent = r#"
local s = ""; for (local i = 0; i < 20000; i++) s += "(";
function f(n) {
    if (n == 0) return compilestring("return " + s + "1;")();
    return [1].map(@(x) f(n - 1))[0];
}
try { f(40); } catch (e) { server.log("runtime: " + e); }
"#;
    let r = api.deploy(&g, DEV, "", agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&g, &[&d]).await.status, 204);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = api.get(&format!("/devices/{d}/logs")).await;
        assert_eq!(r.status, 200);
        let found = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["msg"] == "runtime: nesting too deep");
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no runtime compile error: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alive(&api).await;
}

/// Waits until the newest history line of `device` contains `needle`.
async fn wait_log(api: &Api, device: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = api
            .get(&format!("/devices/{device}/logs?page[size]=1"))
            .await;
        if r.body["data"][0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains(needle))
        {
            return;
        }
        assert!(Instant::now() < deadline, "no {needle:?}: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn log_queue_of_an_unread_stream_is_bounded_and_says_so() {
    let sim = Sim::start(&["--devices", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let d = api.device_ids().await[0].clone();
    let r = api.send("POST", "/logstream", None, &[]).await;
    let sid = r.id();
    let r = api
        .send("PUT", &format!("/logstream/{sid}/{d}"), None, &[])
        .await;
    assert_eq!(r.status, 204);
    // 15,000 lines of 1 KiB while nobody reads the stream.
    const FLOOD: usize = 15_000;
    let text = format!("line {{i}} {}", "x".repeat(1024));
    let (s, _) = ctl(
        &sim,
        "POST",
        &format!("/devices/{d}/logs"),
        json!({"count": FLOOD, "message": text}),
    )
    .await;
    assert_eq!(s, 202);
    wait_log(&api, &d, &format!("line {FLOOD} ")).await;
    // Now read: what was kept, then (after one more line) the notice.
    let url = format!("{}/logstream/{sid}?format=json", sim.url());
    let mut sse = Sse::open(&url).await;
    let mut lines = 0;
    while let Some((event, data)) = sse.next(Duration::from_secs(2)).await {
        if event == "message" && data.contains("line ") {
            lines += 1;
        }
    }
    assert!(
        lines <= 10_000,
        "{lines} of {FLOOD} lines were kept for an unread stream"
    );
    ctl(
        &sim,
        "POST",
        &format!("/devices/{d}/logs"),
        json!({"message": "after the flood"}),
    )
    .await;
    let (_, notice) = sse
        .until("log stream messages dropped", Duration::from_secs(5))
        .await
        .expect("no notice of dropped lines");
    let v: Value = serde_json::from_str(&notice).unwrap();
    let msg = v["msg"].as_str().unwrap();
    let dropped: usize = msg
        .trim_start_matches("WARNING: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(lines + dropped, FLOOD, "{msg}");
    assert_eq!(v["type"], "status");
    sse.until("after the flood", Duration::from_secs(5))
        .await
        .expect("the next line after the notice");
}

#[tokio::test]
async fn log_stream_get_answers_strangers_like_impcentral() {
    let sim = Sim::start(&["--account", "a:pa", "--account", "b:pb", "--devices", "1"]);
    let a = Api::login(sim.url(), "a", "pa").await;
    let b = Api::login(sim.url(), "b", "pb").await;
    let d = a.device_ids().await[0].clone();
    let sid = a.send("POST", "/logstream", None, &[]).await.id();
    let url = format!("{}/logstream/{sid}?format=json", sim.url());
    // Another account's token: not found (as any other account's resource).
    let r = b.get(&url).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // A token that is not valid: unauthorized.
    let r = api_from(sim.url(), "127.0.0.1", Some("forged".into()))
        .get(&url)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    // No token (the official client sends none): the id opens an unconnected stream.
    let mut owner = Sse::open(&url).await;
    owner.until("opened", Duration::from_secs(5)).await.unwrap();
    // ...but cannot take over a connected one.
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The owner's connection still gets the lines.
    assert_eq!(
        a.send("PUT", &format!("/logstream/{sid}/{d}"), None, &[])
            .await
            .status,
        204
    );
    ctl(
        &sim,
        "POST",
        &format!("/devices/{d}/logs"),
        json!({"message": "for a"}),
    )
    .await;
    owner
        .until("for a", Duration::from_secs(5))
        .await
        .expect("the owner lost the stream");
    // The owner, with a token, may reconnect (taking over).
    let r = a
        .client
        .get(&url)
        .bearer_auth(a.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn rate_limits_are_per_account_and_address_and_guessing_is_slowed() {
    let sim = Sim::start(&[
        "--rate-limit",
        "5",
        "--account",
        "user:password",
        "--account",
        "other:pw",
    ]);
    let base = sim.url();
    // Random bearer strings do not make fresh buckets: one address, one bucket.
    let mut limited = 0;
    for i in 0..20 {
        let r = api_from(base, "127.0.0.2", Some(format!("random-{i}")))
            .get("/products")
            .await;
        assert!(r.status == 401 || r.status == 429, "{}", r.status);
        if r.status == 429 {
            limited += 1;
            assert!(r.headers.contains_key("retry-after"));
        }
    }
    assert!(
        limited >= 10,
        "only {limited} of 20 random tokens were limited"
    );
    // Another address is not affected, and neither is an account's own bucket.
    let good = api_from(base, "127.0.0.3", None);
    let r = good
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "user", "password": "password"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let r = api_from(base, "127.0.0.2", Some(token))
        .get("/products")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn failed_logins_get_429_for_that_address_and_id_only() {
    let sim = Sim::start(&["--account", "user:password", "--account", "other:pw"]);
    let base = sim.url();
    let guesser = api_from(base, "127.0.0.2", None);
    let login = |api: &Api, id: &str, pw: &str| {
        let api = api.clone();
        let body = json!({"id": id, "password": pw});
        async move { api.send("POST", "/auth", Some(body), &[]).await }
    };
    let mut statuses = Vec::new();
    for i in 0..15 {
        statuses.push(login(&guesser, "user", &format!("guess{i}")).await.status);
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right password waits, from that address, for that id.
    let r = login(&guesser, "user", "password").await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Others are not locked out: another id from that address, the same id elsewhere.
    assert_eq!(login(&guesser, "other", "pw").await.status, 200);
    let elsewhere = api_from(base, "127.0.0.3", None);
    assert_eq!(login(&elsewhere, "user", "password").await.status, 200);
}

#[tokio::test]
async fn stats_keys_are_bounded() {
    let sim = Sim::start(&[]);
    let client = reqwest::Client::new();
    for i in 0..300 {
        let m = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let r = client
            .request(m, format!("{}/products", sim.url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500);
    }
    let (_, st) = ctl(&sim, "GET", "/stats", Value::Null).await;
    let routes = st["routes"].as_object().unwrap();
    assert!(routes.len() <= 2, "{routes:?}");
    assert_eq!(st["routes"]["OTHER /v5/products"], 300);
}

#[test]
fn half_sent_requests_time_out() {
    let sim = Sim::start(&["--read-timeout", "1"]);
    let addr = format!("127.0.0.1:{}", sim.port());
    // Headers never finished: the connection is closed.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /v5/products HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf);
    assert!(r.is_ok(), "not closed: {r:?}");
    assert!(t.elapsed() < Duration::from_secs(9), "{:?}", t.elapsed());
    // A body never finished: 408.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"POST /v5/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\"",
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 408");
}

#[tokio::test]
async fn pending_mfa_logins_are_bounded() {
    let sim = Sim::start(&["--mfa-account", "m:pw:m@example.com:123456"]);
    let anon = Api::anonymous(sim.url());
    let mut tokens = Vec::new();
    for _ in 0..8 {
        let r = anon
            .send(
                "POST",
                "/auth",
                Some(json!({"id": "m", "password": "pw"})),
                &[],
            )
            .await;
        assert_eq!(r.status, 403);
        tokens.push(
            r.body["errors"][0]["meta"]["login_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let second_step = |t: String| {
        let anon = anon.clone();
        async move {
            anon.send(
                "POST",
                "/auth",
                Some(json!({"login_token": t})),
                &[("x-electricimp-otp-token", "123456")],
            )
            .await
            .status
        }
    };
    // The oldest were dropped; the newest works.
    assert_eq!(second_step(tokens[0].clone()).await, 401);
    assert_eq!(second_step(tokens[7].clone()).await, 200);
}

#[tokio::test]
async fn sim_control_inputs_are_bounded() {
    let sim = Sim::start(&["--devices", "1"]);
    let api = Api::login(sim.url(), "user", "password").await;
    let d = api.device_ids().await[0].clone();
    let logs = format!("/devices/{d}/logs");
    let (s, _) = ctl(
        &sim,
        "POST",
        &logs,
        json!({"interval_ms": 1_000_000_000_000u64}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = ctl(&sim, "POST", &logs, json!({"message": "x".repeat(100_000)})).await;
    assert_eq!(s, 400);
    // Emitters at a time.
    let mut codes = Vec::new();
    for _ in 0..20 {
        let (s, _) = ctl(
            &sim,
            "POST",
            &logs,
            json!({"count": 3, "interval_ms": 60_000}),
        )
        .await;
        codes.push(s);
    }
    assert_eq!(codes.iter().filter(|c| **c == 202).count(), 16, "{codes:?}");
    assert!(codes[16..].iter().all(|c| *c == 429), "{codes:?}");
    // Faults.
    let mut codes = Vec::new();
    for _ in 0..105 {
        let (s, _) = ctl(
            &sim,
            "POST",
            "/faults",
            json!({"status": 500, "path": "^/nothing$"}),
        )
        .await;
        codes.push(s);
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 100);
    let (s, _) = ctl(&sim, "POST", "/faults", json!({"delay_ms": 10_000_000})).await;
    assert_eq!(s, 400);
    let (s, _) = ctl(
        &sim,
        "POST",
        "/faults",
        json!({"status": 500, "path": "a".repeat(5000)}),
    )
    .await;
    assert_eq!(s, 400);
    ctl(&sim, "DELETE", "/faults", Value::Null).await;
    // Devices.
    let mut last = 0;
    for _ in 0..1000 {
        let (s, _) = ctl(&sim, "POST", "/devices", json!({})).await;
        last = s;
        if s != 201 {
            break;
        }
    }
    assert_eq!(last, 400);
    let (_, all) = ctl(&sim, "GET", "/devices", Value::Null).await;
    assert_eq!(all.as_array().unwrap().len(), 1000);
    alive(&api).await;
}

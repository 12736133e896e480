//! `impt sim` runs deployed Squirrel code: agent/device messages, timers on virtual time,
//! HTTP requests to the agent URL, runtime errors with their stack, compile errors and
//! runaway code that must not stall the simulator.

use crate::support::{Api, Sim, Sse};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEV: &str = "development_devicegroup";
/// How long a log line is waited for: generous, so that a busy machine only makes a test slower.
const T: Duration = Duration::from_secs(30);

struct Setup {
    sim: Sim,
    api: Api,
    sse: Sse,
    group: String,
    devices: Vec<String>,
}

/// A sim with `n` devices, a development group holding them, and a JSON log stream on them.
async fn setup(n: usize, extra: &[&str]) -> Setup {
    let count = n.to_string();
    let mut args = vec!["--devices", count.as_str()];
    args.extend_from_slice(extra);
    let sim = Sim::start(&args);
    let api = Api::login(sim.url(), "user", "password").await;
    let devices = api.device_ids().await;
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let r = api.send("POST", "/logstream", None, &[]).await;
    let sid = r.id();
    let url = r.body["data"]["attributes"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let sse = Sse::open(&format!("{url}?format=json")).await;
    for d in &devices {
        let r = api
            .send("PUT", &format!("/logstream/{sid}/{d}"), None, &[])
            .await;
        assert_eq!(r.status, 204);
    }
    Setup {
        sim,
        api,
        sse,
        group,
        devices,
    }
}

impl Setup {
    async fn deploy(&self, device: &str, agent: &str) {
        let r = self.api.deploy(&self.group, DEV, device, agent).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    async fn assign_all(&self) {
        let ids: Vec<&str> = self.devices.iter().map(String::as_str).collect();
        assert_eq!(self.api.assign(&self.group, &ids).await.status, 204);
    }

    /// The next log entry (`device_id`, `type`, `msg`) whose message contains `needle`.
    async fn log(&mut self, needle: &str, timeout: Duration) -> (String, String, String) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (event, data) = self
                .sse
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no log containing {needle:?}:\n{}", self.sse.raw));
            if event != "message" {
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            let msg = v["msg"].as_str().unwrap_or("").to_string();
            if msg.contains(needle) {
                return (
                    v["device_id"].as_str().unwrap().to_string(),
                    v["type"].as_str().unwrap().to_string(),
                    msg,
                );
            }
        }
    }

    /// The first log entry containing each of `needles`, in any order of arrival.
    async fn logs_all(
        &mut self,
        needles: &[&str],
        timeout: Duration,
    ) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + timeout;
        let mut found: Vec<Option<(String, String, String)>> = vec![None; needles.len()];
        while found.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            let missing: Vec<&str> = needles
                .iter()
                .zip(&found)
                .filter(|(_, f)| f.is_none())
                .map(|(n, _)| *n)
                .collect();
            let (event, data) = self
                .sse
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no log containing {missing:?}:\n{}", self.sse.raw));
            if event != "message" {
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            let msg = v["msg"].as_str().unwrap_or("");
            for (n, f) in needles.iter().zip(found.iter_mut()) {
                if f.is_none() && msg.contains(n) {
                    *f = Some((
                        v["device_id"].as_str().unwrap().to_string(),
                        v["type"].as_str().unwrap().to_string(),
                        msg.to_string(),
                    ));
                }
            }
        }
        found.into_iter().flatten().collect()
    }

    async fn history(&self, device: &str) -> Vec<(String, String)> {
        let r = self
            .api
            .get(&format!("/devices/{device}/logs?page[size]=100"))
            .await;
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["msg"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn agent_and_device_exchange_messages_and_timers_fire_on_virtual_time() {
    let mut s = setup(1, &["--time-scale", "10"]).await;
    let device = r#"
agent.on("pong", function(n) {
    server.log("device got " + n);
    nv.pongs <- ("pongs" in nv ? nv.pongs : 0) + 1;
});
local started = time();
imp.wakeup(20, function() {
    server.log("timer fired after " + (time() - started) + " virtual s, mac " + imp.getmacaddress());
});
hardware.pinA.configure(DIGITAL_OUT);
hardware.pinA.write(1);
agent.send("ping", 41);
server.log("nv pongs " + ("pongs" in nv ? nv.pongs : 0));
"#;
    let agent = r#"
device.on("ping", function(n) {
    server.log("agent got " + n);
    device.send("pong", n + 1);
});
local d = server.load();
server.log("agent boot " + ("boots" in d ? d.boots : 0));
d.boots <- ("boots" in d ? d.boots : 0) + 1;
server.save(d);
"#;
    s.deploy(device, agent).await;
    let t0 = Instant::now();
    s.assign_all().await;
    let id = s.devices[0].clone();
    let (dev, typ, _) = s.log("nv pongs 0", T).await;
    assert_eq!((dev.as_str(), typ.as_str()), (id.as_str(), "server.log"));
    let (_, typ, _) = s.log("agent boot 0", T).await;
    assert_eq!(typ, "agent.log");
    let (_, typ, _) = s.log("agent got 41", T).await;
    assert_eq!(typ, "agent.log");
    let (_, typ, _) = s.log("device got 42", T).await;
    assert_eq!(typ, "server.log");
    // 20 virtual seconds at --time-scale 10: about 2 real seconds.
    let (_, typ, msg) = s.log("timer fired after", T).await;
    assert_eq!(typ, "server.log");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    let n: i64 = msg.split(' ').nth(3).unwrap().parse().unwrap();
    assert!((19..=22).contains(&n), "{msg}");
    let mac = s.api.get(&format!("/devices/{id}")).await.body["data"]["attributes"]["mac_address"]
        .as_str()
        .unwrap()
        .replace(':', "");
    assert!(msg.ends_with(&format!("mac {mac}")), "{msg}");
    // The same lines are in the history.
    let h = s.history(&id).await;
    assert!(
        h.contains(&("agent.log".into(), "agent got 41".into())),
        "{h:?}"
    );
    assert!(h.contains(&("server.log".into(), "device got 42".into())));
    // A restart reruns both sides; nv and server.save data survive it.
    let r = s
        .api
        .post(&format!("/devices/{id}/restart"), Value::Null)
        .await;
    assert_eq!(r.status, 204);
    s.log("Agent restarted: reload.", T).await;
    s.log("nv pongs 1", T).await;
    s.log("agent boot 1", T).await;
    // Re-assigning to the same group reloads the code too.
    s.assign_all().await;
    s.log("Agent restarted: reload.", T).await;
    s.log("agent boot 2", T).await;
}

#[tokio::test]
async fn http_requests_to_the_agent_url_reach_http_onrequest() {
    let mut s = setup(1, &[]).await;
    let agent = r#"
http.onrequest(function(req, res) {
    if (req.path == "/later") {
        device.send("q", req.body);
        device.on("a", function(x) { res.send(202, "device says " + x); });
        return;
    }
    res.header("X-Agent", "yes");
    res.send(200, req.method + " " + req.path + " q=" + ("q" in req.query ? req.query.q : "") + " body=" + req.body);
});
server.log("agent ready");
"#;
    let device = r#"agent.on("q", function(x) { agent.send("a", x.toupper()); });"#;
    s.deploy(device, agent).await;
    s.assign_all().await;
    s.log("agent ready", T).await;
    let id = s.devices[0].clone();
    let attrs = s.api.get(&format!("/devices/{id}")).await.body["data"]["attributes"].clone();
    let url = attrs["agent_url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!(
            "{}/agents/{}",
            s.sim.root(),
            attrs["agent_id"].as_str().unwrap()
        )
    );
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}/led?q=1"))
        .body("on")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-agent"], "yes");
    assert_eq!(r.text().await.unwrap(), "POST /led q=1 body=on");
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "GET / q= body=");
    // Answered later, after a round trip through the device.
    let r = http
        .put(format!("{url}/later"))
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(r.text().await.unwrap(), "device says HI");
    let r = http
        .get(format!("{}/agents/nope", s.sim.root()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn runtime_errors_are_logged_with_their_stack_and_the_device_restarts() {
    let mut s = setup(1, &[]).await;
    let device =
        "server.log(\"device up\");\nfunction boom(t) {\n    return t.missing;\n}\nboom({});\n";
    let agent = "device.on(\"x\", function(d) {\n  throw \"agent failed on \" + d;\n});\n";
    s.deploy(device, agent).await;
    s.assign_all().await;
    s.log("device up", T).await;
    let (_, typ, msg) = s.log("ERROR:", T).await;
    assert_eq!(typ, "server.error");
    assert!(msg.contains("missing"), "{msg}");
    let (_, typ, msg) = s.log("ERROR:   at", T).await;
    assert_eq!(typ, "server.error");
    assert_eq!(msg, "ERROR:   at boom:3");
    let (_, _, msg) = s.log("ERROR:   from", T).await;
    assert_eq!(msg, "ERROR:   from main:5");
    // The device restarts by itself after a short delay, and fails again.
    let (_, typ, msg) = s.log("Device booting;", T).await;
    assert_eq!(typ, "status");
    assert!(msg.ends_with("% program storage used"), "{msg}");
    s.log("device up", T).await;
    s.log("ERROR:   at boom:3", T).await;
    // Agent handler errors: logged as agent.error with the stack.
    s.deploy("agent.send(\"x\", 7);", agent).await;
    let id = s.devices[0].clone();
    let r = s
        .api
        .post(&format!("/devices/{id}/restart"), Value::Null)
        .await;
    assert_eq!(r.status, 204);
    let (_, typ, msg) = s.log("agent failed on 7", T).await;
    assert_eq!(typ, "agent.error");
    assert_eq!(msg, "ERROR: agent failed on 7");
    let (_, typ, msg) = s.log("ERROR:   at", T).await;
    assert_eq!(typ, "agent.error");
    assert!(msg.ends_with(":2"), "{msg}");
    let h = s.history(&id).await;
    assert!(h.contains(&("agent.error".into(), "ERROR: agent failed on 7".into())));
}

#[tokio::test]
async fn compile_errors_are_reported_with_their_line_and_nothing_is_deployed() {
    let s = setup(1, &[]).await;
    let r = s
        .api
        .deploy(&s.group, DEV, "server.log(1);\nlocal x = ;\n", "ok <- 1;")
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let e = &r.body["errors"][0];
    assert_eq!(e["code"], "CX005");
    assert_eq!(e["title"], "Compilation Error");
    let meta = e["meta"].as_array().unwrap();
    assert_eq!(meta.len(), 1, "{meta:?}");
    assert_eq!(meta[0]["file"], "device_code");
    assert_eq!(meta[0]["type"], "error");
    assert_eq!(meta[0]["row"], 2);
    assert!(meta[0]["column"].as_u64().unwrap() >= 1);
    assert!(!meta[0]["text"].as_str().unwrap().is_empty());
    // Both sides' errors in one array.
    let r = s
        .api
        .deploy(&s.group, DEV, "function (", "\n\nwhile (")
        .await;
    assert_eq!(r.status, 400);
    let meta = r.body["errors"][0]["meta"].as_array().unwrap().clone();
    let files: Vec<&str> = meta.iter().map(|m| m["file"].as_str().unwrap()).collect();
    assert!(
        files.contains(&"device_code") && files.contains(&"agent_code"),
        "{meta:?}"
    );
    let agent = meta.iter().find(|m| m["file"] == "agent_code").unwrap();
    assert_eq!(agent["row"], 3);
    // The test hook still works.
    let r = s
        .api
        .deploy(
            &s.group,
            DEV,
            "server.log(1);\n//#sim-compile-error boom",
            "",
        )
        .await;
    assert_eq!(r.body["errors"][0]["meta"][0]["text"], "boom");
    assert_eq!(r.body["errors"][0]["meta"][0]["row"], 2);
    let r = s
        .api
        .get(&format!("/deployments?filter[devicegroup.id]={}", s.group))
        .await;
    assert_eq!(r.body["data"], json!([]));
    let r = s.api.get(&format!("/devicegroups/{}", s.group)).await;
    assert!(
        r.body["data"]["relationships"]["current_deployment"]["id"].is_null()
            || r.body["data"]["relationships"]["current_deployment"].is_null()
    );
}

#[tokio::test]
async fn runaway_code_is_stopped_and_the_sim_stays_responsive() {
    let mut s = setup(2, &[]).await;
    let p = s.api.product("Q").await;
    let healthy = s.api.group(&p, DEV, "H").await;
    let r = s
        .api
        .deploy(
            &healthy,
            DEV,
            "local n = 0;\nfunction tick() { n++; server.log(\"healthy tick \" + n); imp.wakeup(0.2, tick); }\ntick();",
            "",
        )
        .await;
    assert_eq!(r.status, 201);
    s.deploy(
        "while (true) {}",
        "local a = [];\nwhile (true) a.push(\"xxxxxxxxxxxxxxxx\" + a.len());",
    )
    .await;
    let (bad, good) = (s.devices[0].clone(), s.devices[1].clone());
    assert_eq!(s.api.assign(&s.group, &[&bad]).await.status, 204);
    assert_eq!(s.api.assign(&healthy, &[&good]).await.status, 204);
    // While the runaway device burns its budget, the API answers promptly.
    for _ in 0..5 {
        let t = Instant::now();
        let r = s.api.get("/devices").await;
        assert_eq!(r.status, 200);
        // Bounded generously: on a busy machine an answer may take seconds, but not the
        // whole budget of the runaway code.
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The three come in any order: the healthy device keeps ticking meanwhile.
    let seen = s
        .logs_all(
            &["instruction limit", "out of memory", "healthy tick 5"],
            Duration::from_secs(60),
        )
        .await;
    let (dev, typ, msg) = &seen[0];
    assert_eq!(
        (dev.as_str(), typ.as_str()),
        (bad.as_str(), "server.error"),
        "{msg}"
    );
    assert!(msg.starts_with("ERROR: "), "{msg}");
    let (dev, typ, msg) = &seen[1];
    assert_eq!(
        (dev.as_str(), typ.as_str()),
        (bad.as_str(), "agent.error"),
        "{msg}"
    );
    assert_eq!(seen[2].0, good);
    // A device that keeps failing backs off (1 s, 2 s, 4 s... between restarts).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let h = s.history(&bad).await;
    let stops = h
        .iter()
        .filter(|(t, m)| t == "server.error" && m.contains("instruction limit"))
        .count();
    assert!((1..=3).contains(&stops), "{h:?}");
}

#[tokio::test]
async fn offline_devices_run_nothing_until_online() {
    let mut s = setup(1, &[]).await;
    let id = s.devices[0].clone();
    let root = s.sim.root();
    let ctl = |path: String| {
        let url = format!("{root}/_sim/devices/{id}/{path}");
        async move {
            reqwest::Client::new()
                .post(url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ctl("offline".into()).await, 204);
    s.deploy("server.log(\"device ran\");", "server.log(\"agent ran\");")
        .await;
    s.assign_all().await;
    s.log("Agent restarted: reload.", T).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let h = s.history(&id).await;
    assert!(!h.iter().any(|(_, m)| m.contains("ran")), "{h:?}");
    // Its agent does not answer either.
    let url = s.api.get(&format!("/devices/{id}")).await.body["data"]["attributes"]["agent_url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(ctl("online".into()).await, 204);
    s.log("Device connected", T).await;
    s.log("device ran", T).await;
    s.log("agent ran", T).await;
}

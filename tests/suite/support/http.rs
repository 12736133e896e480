//! The one HTTP helper: a small async JSON:API client for the simulator, and an SSE reader.
//! `Env::http` (in `cli.rs`) is its blocking form for tests that run the CLI.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::time::Duration;

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    /// `"title: detail"` of the first error.
    pub fn error(&self) -> String {
        let e = &self.body["errors"][0];
        format!(
            "{}: {}",
            e["title"].as_str().unwrap_or(""),
            e["detail"].as_str().unwrap_or("")
        )
    }

    pub fn id(&self) -> String {
        self.body["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub client: reqwest::Client,
}

impl Api {
    pub fn anonymous(base: &str) -> Api {
        Api {
            base: base.to_string(),
            token: None,
            client: reqwest::Client::new(),
        }
    }

    /// Log in with `POST /auth` and keep the access token.
    pub async fn login(base: &str, id: &str, password: &str) -> Api {
        let mut api = Api::anonymous(base);
        let r = api
            .send(
                "POST",
                "/auth",
                Some(json!({"id": id, "password": password})),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "login failed: {}", r.body);
        api.token = Some(r.body["access_token"].as_str().unwrap().to_string());
        api
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut rb = self
            .client
            .request(method.parse().unwrap(), url)
            .header("content-type", "application/vnd.api+json");
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.body(b.to_string());
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send("POST", path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send("PATCH", path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None, &[]).await
    }

    pub async fn product(&self, name: &str) -> String {
        let r = self
            .post(
                "/products",
                json!({"data": {"type": "product", "attributes": {"name": name}}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub async fn group(&self, product: &str, typ: &str, name: &str) -> String {
        let r = self
            .post(
                "/devicegroups",
                json!({"data": {"type": typ, "attributes": {"name": name},
                    "relationships": {"product": {"type": "product", "id": product}}}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub async fn deploy(&self, group: &str, typ: &str, device: &str, agent: &str) -> Resp {
        self.post(
            "/deployments",
            json!({"data": {"type": "deployment",
                "attributes": {"device_code": device, "agent_code": agent},
                "relationships": {"devicegroup": {"type": typ, "id": group}}}}),
        )
        .await
    }

    pub async fn device_ids(&self) -> Vec<String> {
        let r = self.get("/devices").await;
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// A new log stream, opened in JSON format, with `device` subscribed.
    pub async fn stream_of(&self, device: &str) -> Sse {
        let r = self.send("POST", "/logstream", None, &[]).await;
        let sid = r.id();
        let url = r.body["data"]["attributes"]["url"]
            .as_str()
            .unwrap()
            .to_string();
        let sse = Sse::open(&format!("{url}?format=json")).await;
        let r = self
            .send("PUT", &format!("/logstream/{sid}/{device}"), None, &[])
            .await;
        assert_eq!(r.status, 204, "subscribe {device}");
        sse
    }

    pub async fn assign(&self, group: &str, devices: &[&str]) -> Resp {
        let data: Vec<Value> = devices
            .iter()
            .map(|d| json!({"type": "device", "id": d}))
            .collect();
        self.post(
            &format!("/devicegroups/{group}/relationships/devices"),
            json!({ "data": data }),
        )
        .await
    }
}

/// A Server-Sent Events connection, read frame by frame.
pub struct Sse {
    resp: reqwest::Response,
    buf: String,
    /// Everything received so far, verbatim.
    pub raw: String,
}

impl Sse {
    pub async fn open(url: &str) -> Sse {
        let resp = reqwest::Client::new()
            .get(url)
            .send()
            .await
            .expect("sse get");
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Sse {
            resp,
            buf: String::new(),
            raw: String::new(),
        }
    }

    /// The next frame (`event`, `data`) or comment (`":"`, text); `None` at end or timeout.
    pub async fn next(&mut self, timeout: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let frame: String = self.buf[..i].to_string();
                self.buf.drain(..i + 2);
                let mut event = String::from("message");
                let mut data: Vec<String> = Vec::new();
                for line in frame.lines() {
                    if let Some(c) = line.strip_prefix(": ") {
                        return Some((":".into(), c.to_string()));
                    } else if let Some(e) = line.strip_prefix("event: ") {
                        event = e.to_string();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push(d.to_string());
                    }
                }
                return Some((event, data.join("\n")));
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(b))) => {
                    let s = String::from_utf8_lossy(&b).to_string();
                    self.raw.push_str(&s);
                    self.buf.push_str(&s);
                }
                _ => return None,
            }
        }
    }

    /// The log messages (`type: msg`) of a JSON stream up to and including the first one
    /// containing `needle`; panics with what was seen when none comes within `timeout`.
    pub async fn messages_until(&mut self, needle: &str, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some((event, data)) = self.next(left).await else {
                panic!("no log containing {needle:?}; seen:\n{}", seen.join("\n"));
            };
            if event != "message" {
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            let line = format!(
                "{}: {}",
                v["type"].as_str().unwrap_or(""),
                v["msg"].as_str().unwrap_or("")
            );
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }

    /// Read until a frame whose data contains `needle` (skipping comments).
    pub async fn until(&mut self, needle: &str, timeout: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f = self.next(left).await?;
            if f.0 != ":" && f.1.contains(needle) {
                return Some(f);
            }
        }
    }
}

/// A sim (`impt sim --devices 2 --imp-type IMP` plus `args`) whose first device runs `device`
/// and `agent` in a development group, with a JSON log stream subscribed before the code is
/// deployed: the sim, a logged-in API, the device's id and the stream.
pub async fn sim_running(
    imp: &str,
    args: &[&str],
    device: &str,
    agent: &str,
) -> (super::Sim, Api, String, Sse) {
    const DEV: &str = "development_devicegroup";
    let mut all = vec!["--devices", "2", "--imp-type", imp];
    all.extend_from_slice(args);
    let sim = super::Sim::start(&all);
    let api = Api::login(sim.url(), "user", "password").await;
    let id = api.device_ids().await.swap_remove(0);
    let r = api.get(&format!("/devices/{id}")).await;
    assert_eq!(r.body["data"]["attributes"]["imp_type"], imp, "{}", r.body);
    let p = api.product("P").await;
    let group = api.group(&p, DEV, "G").await;
    let sse = api.stream_of(&id).await;
    let r = api.deploy(&group, DEV, device, agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api.assign(&group, &[id.as_str()]).await.status, 204);
    (sim, api, id, sse)
}

//! Fuzz the simulator's request handling in-process: any method, path, headers and body sent
//! to the axum router (via `tower::ServiceExt::oneshot`), with or without a valid token, must
//! get an answer that is not a 5xx (apart from an agent that cannot answer), never a panic.
//!
//! Input layout: byte 0 picks options (bit 0: send a valid bearer token); the rest is split
//! at the first three NUL bytes into method, path (with query), header lines
//! (`name: value`, one per line) and body.
#![no_main]

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use impt_sim::{AccountSpec, SimConfig};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

struct Sim {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
}

fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut mfa = AccountSpec::new("m", "pw");
        mfa.otp = Some("123456".into());
        let cfg = SimConfig {
            devices: 2,
            accounts: vec![
                AccountSpec::new("user", "password"),
                AccountSpec::new("b", "pb"),
                mfa,
            ],
            rate_limit: Some(1000),
            max_body: 64 * 1024,
            ..SimConfig::default()
        };
        let (router, token) = rt.block_on(async {
            let (_app, router) = impt_sim::build(cfg, "http://127.0.0.1:9/v5".into()).unwrap();
            let req = Request::post("/v5/auth")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"id":"user","password":"password"}"#))
                .unwrap();
            let r = router.clone().oneshot(req).await.unwrap();
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            (router, v["access_token"].as_str().unwrap().to_string())
        });
        Sim { rt, router, token }
    })
}

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&opts, rest)) = data.split_first() else {
        return;
    };
    let (method, rest) = split(rest);
    let (path, rest) = split(rest);
    let (headers, body) = split(rest);
    let Ok(method) = Method::from_bytes(if method.is_empty() { b"GET" } else { method }) else {
        return;
    };
    let path = String::from_utf8_lossy(path);
    let uri = if path.starts_with('/') {
        path.into_owned()
    } else {
        format!("/v5/{path}")
    };
    let mut req = Request::builder().method(method).uri(uri.as_str());
    for line in headers.split(|b| *b == b'\n') {
        let Some(i) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(&line[..i]),
            HeaderValue::from_bytes(line[i + 1..].trim_ascii()),
        ) {
            req = req.header(n, v);
        }
    }
    let s = sim();
    if opts & 1 == 1 {
        req = req.header("authorization", format!("Bearer {}", s.token));
    }
    let Ok(req) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    let agent = uri.starts_with("/agents/");
    s.rt.block_on(async {
        let r = s.router.clone().oneshot(req).await.unwrap();
        let status = r.status().as_u16();
        let sse = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        // Injected faults are the one intended source of 5xx: remove them after each run.
        let clear = Request::delete("/_sim/faults").body(Body::empty()).unwrap();
        let _ = s.router.clone().oneshot(clear).await;
        if !sse {
            let _ = axum::body::to_bytes(r.into_body(), 8 << 20).await;
        }
        assert!(
            status < 500 || (agent && (status == 503 || status == 504)),
            "{status} for {uri}"
        );
    });
});

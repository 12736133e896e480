//! Throughput and latency of `impt sim` under a read-heavy mix (not a test).
//!
//! `cargo bench --bench sim_bench` builds the release binary, starts `impt sim --port 0`,
//! seeds a few entities, then runs `WORKERS` concurrent keep-alive clients over loopback
//! for at most `DURATION` or `MAX_REQUESTS` requests and prints requests/second and
//! latency percentiles. Environment overrides: `SIM_BENCH_WORKERS`, `SIM_BENCH_SECS`,
//! `SIM_BENCH_MAX`.

#![forbid(unsafe_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn call(c: &reqwest::Client, m: &str, url: &str, token: &str, body: Option<Value>) -> Value {
    let mut rb = c.request(m.parse().unwrap(), url).bearer_auth(token);
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/vnd.api+json")
            .body(b.to_string());
    }
    rb.send().await.unwrap().json().await.unwrap_or(Value::Null)
}

fn main() {
    let workers = env_num("SIM_BENCH_WORKERS", 16);
    let secs = env_num("SIM_BENCH_SECS", 5);
    let max = env_num("SIM_BENCH_MAX", 200_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_impt"))
        .args(["sim", "--port", "0", "--devices", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start impt sim");
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    reader.read_line(&mut line).expect("first line");
    let child = Child(child);
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("listening line")
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let c = reqwest::Client::new();
        let auth: Value = c
            .post(format!("{base}/auth"))
            .json(&json!({"id": "user", "password": "password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = auth["access_token"].as_str().unwrap().to_string();
        // Seed: 10 products with a group each, 5 deployments per group, devices assigned.
        let devices = call(&c, "GET", &format!("{base}/devices?page[size]=100"), &token, None).await;
        let devices: Vec<String> = devices["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
        let mut groups = Vec::new();
        for i in 0..10 {
            let p = call(&c, "POST", &format!("{base}/products"), &token,
                Some(json!({"data": {"type": "product", "attributes": {"name": format!("bench-{i}")}}}))).await;
            let pid = p["data"]["id"].as_str().unwrap().to_string();
            let g = call(&c, "POST", &format!("{base}/devicegroups"), &token,
                Some(json!({"data": {"type": "development_devicegroup", "attributes": {"name": "g"},
                    "relationships": {"product": {"type": "product", "id": pid}}}}))).await;
            let gid = g["data"]["id"].as_str().unwrap().to_string();
            for j in 0..5 {
                call(&c, "POST", &format!("{base}/deployments"), &token,
                    Some(json!({"data": {"type": "deployment",
                        "attributes": {"device_code": format!("// {j}\nserver.log(\"d\");"), "agent_code": ""},
                        "relationships": {"devicegroup": {"type": "development_devicegroup", "id": gid}}}}))).await;
            }
            groups.push(gid);
        }
        for (i, d) in devices.iter().enumerate().take(10) {
            call(&c, "POST", &format!("{base}/devicegroups/{}/relationships/devices", groups[i]), &token,
                Some(json!({"data": [{"type": "device", "id": d}]}))).await;
        }
        let paths: Arc<Vec<String>> = Arc::new({
            let mut v = Vec::new();
            for i in 0..20 {
                let g = &groups[i % groups.len()];
                let d = &devices[i % devices.len()];
                v.push(match i % 10 {
                    0..=2 => format!("{base}/devices?page[size]=100"),
                    3 | 4 => format!("{base}/products"),
                    5 => format!("{base}/devicegroups/{g}"),
                    6 => format!("{base}/deployments?filter%5Bdevicegroup.id%5D={g}"),
                    7 => format!("{base}/devices/{d}"),
                    8 => format!("{base}/devices/{d}/logs?page[size]=20"),
                    _ => format!("{base}/accounts/me"),
                });
            }
            v
        });
        let count = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (c, token, paths, count) = (c.clone(), token.clone(), paths.clone(), count.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = w as usize;
                while Instant::now() < deadline && count.fetch_add(1, Ordering::Relaxed) < max {
                    let url = &paths[i % paths.len()];
                    i += 7;
                    let t0 = Instant::now();
                    let r = c.get(url).bearer_auth(&token).send().await.unwrap();
                    assert!(r.status().is_success(), "{url}: {}", r.status());
                    let _ = r.bytes().await.unwrap();
                    lat.push(t0.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let elapsed = start.elapsed();
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!("impt sim read-heavy mix: {} requests, {workers} workers, {:.2} s", all.len(), elapsed.as_secs_f64());
        println!("  throughput: {:.0} requests/s", all.len() as f64 / elapsed.as_secs_f64());
        println!(
            "  latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.90).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            all.last().unwrap().as_secs_f64() * 1e3
        );
    });
    drop(child);
}

//! Figures of the watch loop (not a test): `cargo bench --bench watch`.
//!
//! Runs the real `impt watch -z json` against a real `impt sim --port 0` and prints
//! - the time from a file write to the deployment request (`deploy_started`), and to the
//!   first log line of the new code (debounce included),
//! - API requests per iteration (from `/_sim/stats`; goal: 2, create and restart) and per
//!   unchanged save (goal: 0),
//! - log lines per second through the stream to the rendered JSON lines, and how many were
//!   lost (goal: 0).
//!
//! `WATCH_BENCH_ITER` (default 20), `WATCH_BENCH_LINES` (default 20000),
//! `WATCH_BENCH_DEBOUNCE` (ms, default 50; the tool's default is 300) and
//! `WATCH_BENCH_BOOT_STEP_MS` (the sim's `--boot-step-ms`, default 5; 80 was the old fixed
//! boot) tune it.

#![forbid(unsafe_code)]

// The test suite's support module; this bench uses only its watch driver.
#[path = "../tests/suite/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run either way.
    let iters = env_num("WATCH_BENCH_ITER", 20);
    let lines = env_num("WATCH_BENCH_LINES", 20_000);
    let debounce = env_num("WATCH_BENCH_DEBOUNCE", 50) as u64;
    let boot_step = std::env::var("WATCH_BENCH_BOOT_STEP_MS").unwrap_or_else(|_| "5".into());
    let p = support::project(&["--keepalive-ms", "60000", "--boot-step-ms", &boot_step]);
    let mut w = p.watch_debounce(debounce, &[]);
    w.wait_event("stream_opened");

    // 1. Latency and requests per iteration.
    p.reset_stats();
    let mut lat = Vec::new();
    let mut total_deploy_ms = Vec::new();
    let mut first_line = Vec::new();
    for i in 0..iters {
        let t0 = Instant::now();
        p.write("device.nut", &format!("server.log(\"bench {i}\");\n"));
        w.wait_event("deploy_started");
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        w.wait_event("restarted");
        total_deploy_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        // Let the boot lines of the restart pass before the next save.
        w.wait_for("boot line", Duration::from_secs(10), |e| {
            e["event"] == "log" && e["msg"] == format!("bench {i}")
        });
        first_line.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let stats = p.stats();
    let changed_reqs = stats["total"].as_u64().unwrap_or(0) as f64 / iters as f64;
    p.reset_stats();
    let same = format!("server.log(\"bench {}\");\n", iters - 1);
    for _ in 0..5 {
        p.write("device.nut", &same);
        w.wait_event("skipped");
    }
    let unchanged_reqs = p.stats()["total"].as_u64().unwrap_or(0) as f64 / 5.0;
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    total_deploy_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    first_line.sort_by(|a, b| a.partial_cmp(b).unwrap());

    // 2. Log throughput.
    let t0 = Instant::now();
    p.env.http(
        "POST",
        &format!("/_sim/devices/{}/logs", p.device),
        Some(json!({"count": lines, "message": "line {i}"})),
    );
    let mut seen = HashSet::new();
    let mut last = t0;
    let until = t0 + Duration::from_secs(120);
    while seen.len() < lines {
        let left = until.saturating_duration_since(Instant::now());
        let Some(e) = w.next_matching(left, |_| true) else {
            break;
        };
        if e["event"] == "log" {
            if let Some(m) = e["msg"].as_str().and_then(|m| m.strip_prefix("line ")) {
                seen.insert(m.to_string());
                last = Instant::now();
            }
        }
    }
    let secs = last.duration_since(t0).as_secs_f64();
    let _ = w.quit();

    println!(
        "impt watch benchmark (debug={}, debounce {debounce} ms, {iters} iterations, sim boot step {boot_step} ms)",
        cfg!(debug_assertions)
    );
    println!(
        "  write -> deployment request: median {:.0} ms, p90 {:.0} ms, min {:.0} ms (debounce {debounce} ms included)",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        lat[0]
    );
    println!(
        "  write -> restart answered:   median {:.0} ms, p90 {:.0} ms",
        pct(&total_deploy_ms, 0.5),
        pct(&total_deploy_ms, 0.9)
    );
    println!(
        "  write -> first new log line: median {:.0} ms, p90 {:.0} ms (goal: debounce + 100 ms)",
        pct(&first_line, 0.5),
        pct(&first_line, 0.9)
    );
    println!("  API requests per changed iteration: {changed_reqs:.2} (goal 2: create + restart)");
    println!("  API requests per unchanged save:    {unchanged_reqs:.2} (goal 0)");
    println!(
        "  log lines: {} of {lines} rendered in {secs:.2} s = {:.0} lines/s, {} lost",
        seen.len(),
        seen.len() as f64 / secs.max(1e-9),
        lines - seen.len()
    );
}

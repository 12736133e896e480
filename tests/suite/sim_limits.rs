//! The platform's limits on `impt sim`, each with the platform's error: device memory by
//! imp type (honest `imp.getmemoryfree()`, out-of-memory restarts), message size and
//! queues in bytes, agents' HTTP (rate credits, requests in flight, response body size),
//! log rate.

use crate::support::{sim_running, Sim, Sse};
use std::io::{Read, Write};
use std::time::Duration;

/// The log messages (`type: msg`) up to and including the first one containing `needle`.
async fn until(sse: &mut Sse, needle: &str) -> Vec<String> {
    sse.messages_until(needle, Duration::from_secs(20)).await
}

/// A sim running `device` and `agent` on its device of imp type `imp`, a log stream on it.
async fn running(imp: &str, args: &[&str], device: &str, agent: &str) -> (Sim, Sse) {
    let (sim, _api, _id, sse) = sim_running(imp, args, device, agent).await;
    (sim, sse)
}

fn number_after(line: &str, word: &str) -> i64 {
    line.split(word)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {word:?} in {line:?}"))
}

#[tokio::test]
async fn device_memory_follows_the_imp_type_and_running_out_restarts_the_device() {
    let device = r#"
server.log("wake " + hardware.wakereason() + " free " + imp.getmemoryfree());
if (hardware.wakereason() != WAKEREASON_SW_RESET) {
    local keep = [];
    while (true) keep.push(blob(1024));
}
"#;
    let (_sim, mut sse) = running("imp004m", &["--no-outbound"], device, "").await;
    let seen = until(&mut sse, "wake 4 free").await;
    let free = number_after(seen.last().unwrap(), "free");
    assert!(
        (100 * 1024..128 * 1024).contains(&free),
        "an imp004m has 128 KiB, the code took some: {free}"
    );
    let seen = until(&mut sse, "wake 2 free").await;
    assert!(
        seen.iter()
            .any(|l| l.starts_with("server.error: ERROR: out of memory")),
        "{seen:?}"
    );
    // The same code on an imp005, then with --device-memory.
    let (_sim, mut sse) = running(
        "imp005",
        &["--no-outbound"],
        "server.log(\"free \" + imp.getmemoryfree());",
        "",
    )
    .await;
    let seen = until(&mut sse, "free").await;
    assert!(
        number_after(seen.last().unwrap(), "free") > 900 * 1024,
        "{seen:?}"
    );
    let (_sim, mut sse) = running(
        "imp005",
        &["--no-outbound", "--device-memory", "50000"],
        "server.log(\"free \" + imp.getmemoryfree());",
        "",
    )
    .await;
    let seen = until(&mut sse, "free").await;
    let free = number_after(seen.last().unwrap(), "free");
    assert!((40_000..50_000).contains(&free), "{seen:?}");
}

/// The deployed program's compiled code is program storage, as on the imp (its "code space"
/// is reported apart from the free memory): a program whose bytecode alone is bigger than
/// the device's memory figure runs, `imp.getmemoryfree()` is the figure less the data,
/// and data over the figure still runs out of memory.
#[tokio::test]
async fn compiled_code_is_program_storage_not_device_memory() {
    let mut device = String::new();
    for i in 0..60 {
        device.push_str(&format!("function f{i}(a, b) {{\n    local t = a + {i};\n"));
        for j in 0..25 {
            device.push_str(&format!(
                "    t = (t * {j} + b) % 1000 - \"s{i}_{j}\".len();\n"
            ));
        }
        device.push_str("    return t;\n}\n");
    }
    device.push_str(
        r#"
server.log("wake " + hardware.wakereason() + " free " + imp.getmemoryfree() + " f59 " + f59(1, 2));
if (hardware.wakereason() != WAKEREASON_SW_RESET) {
    local keep = [];
    while (true) keep.push(blob(1024));
}
"#,
    );
    let (_sim, mut sse) = running(
        "imp005",
        &["--no-outbound", "--device-memory", "40000"],
        &device,
        "",
    )
    .await;
    let seen = until(&mut sse, "wake 4 free").await;
    assert!(
        !seen.iter().any(|l| l.contains("out of memory")),
        "the code fits in program storage: {seen:?}"
    );
    let line = seen.last().unwrap();
    let free = number_after(line, "free");
    assert!((30_000..40_000).contains(&free), "{line}");
    assert!(line.contains(" f59 "), "the code runs: {line}");
    let seen = until(&mut sse, "wake 2 free").await;
    assert!(
        seen.iter()
            .any(|l| l.starts_with("server.error: ERROR: out of memory")),
        "data still counts: {seen:?}"
    );
}

/// Reference cycles (only Squirrel's collector frees them) that are garbage do not run a
/// device out of memory: a loop making far more of them than the memory figure holds runs
/// to its end, and `imp.getmemoryfree()` then does not count them. The same cycles kept
/// alive still run out of memory (after the `imp.reset()`).
#[tokio::test]
async fn garbage_cycles_are_collected_before_memory_runs_out() {
    let device = r#"
local keep = [];
local live = hardware.wakereason() == WAKEREASON_SW_RESET;
for (local i = 0; i < 20000; i++) {
    local t = { n = i, pad = [i, i, i, i] };
    t.me <- t;
    local a = [t];
    a.push(a);
    if (live) keep.push(t);
    if (i % 2000 == 0) local b = blob(8 * 1024);
}
server.log("wake " + hardware.wakereason() + " cycles done free " + imp.getmemoryfree() + " live " + live);
if (!live) imp.reset();
"#;
    let (_sim, mut sse) = running("imp003", &["--no-outbound"], device, "").await;
    let seen = until(&mut sse, "cycles done").await;
    assert!(
        !seen.iter().any(|l| l.contains("out of memory")),
        "garbage only: {seen:?}"
    );
    let free = number_after(seen.last().unwrap(), "free");
    assert!(
        (60 * 1024..120 * 1024).contains(&free),
        "the garbage is collected: {seen:?}"
    );
    let seen = until(&mut sse, "server.error: ERROR: out of memory").await;
    assert!(
        !seen.iter().any(|l| l.contains("live true")),
        "live cycles run out of memory: {seen:?}"
    );
}

#[tokio::test]
async fn messages_are_bounded_in_bytes_both_ways() {
    let device = r#"
try { agent.send("big", blob(300 * 1024)); } catch (e) { server.log("device: " + e); }
local ok = 0, blocked = 0;
for (local i = 0; i < 40; i++) {
    local r = agent.send("chunk", blob(200 * 1024));
    if (r == 0) ok++; else if (r == SEND_ERROR_WOULDBLOCK) blocked++;
}
server.log("queued " + ok + " blocked " + blocked);
"#;
    let agent = r#"
n <- 0;
device.on("chunk", function(b) { n++; if (n == 5) server.log("agent got " + n + " of " + b.len()); });
try { device.send("big", blob(257 * 1024)); } catch (e) { server.log("agent: " + e); }
"#;
    let (_sim, mut sse) = running("imp005", &["--no-outbound"], device, agent).await;
    let mut seen = until(&mut sse, "queued").await;
    let last = seen.last().unwrap().clone();
    seen.extend(until(&mut sse, "agent got 5 of 204800").await);
    assert!(
        seen.iter()
            .any(|l| l.contains("agent: device.send: the message is")
                && l.contains("at most 262144")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains("device: agent.send: the message is 307")),
        "{seen:?}"
    );
    let (ok, blocked) = (
        number_after(&last, "queued"),
        number_after(&last, "blocked"),
    );
    assert_eq!(ok + blocked, 40, "{last}");
    // 1 MiB waits at most: five messages of 200 KiB.
    assert_eq!(ok, 5, "{last}");
}

/// A loopback server that accepts connections and never answers (`endless`: answers with
/// a body that never ends).
fn server(endless: bool) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            if endless {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = c.read(&mut buf);
                    let _ = c.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n",
                    );
                    let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
                    while c.write_all(chunk.as_bytes()).is_ok() {}
                });
            } else {
                held.push(c);
            }
        }
    });
    port
}

#[tokio::test]
async fn agent_http_is_rate_limited_bounded_in_flight_and_in_body_size() {
    let silent = server(false);
    let endless = server(true);
    let agent = format!(
        r#"
http.onrequest(function(req, res) {{ res.send(200, "own"); }});
codes <- {{}};
done <- 0;
function count(tag, code) {{
    local k = tag + " " + code;
    codes[k] <- (k in codes ? codes[k] : 0) + 1;
    done++;
    if (done == 50) {{
        local keys = [];
        foreach (k, v in codes) keys.push(k + "=" + v);
        keys.sort();
        local text = "";
        foreach (k in keys) text += k + " ";
        server.log("codes " + text);
    }}
}}
// 45 to the own URL: 40 credits, then refusals (the own URL counts like any other).
for (local i = 0; i < 45; i++) {{
    http.get(http.agenturl() + "/x").sendasync(function(r) {{ count("own", r.statuscode); }});
}}
// Credits regenerate at 2 a second: in 3 s, 5 to the silent host; 3 may be under way.
imp.wakeup(3, function() {{
    for (local i = 0; i < 5; i++) {{
        http.get("http://127.0.0.1:{silent}/").sendasync(function(r) {{ count("silent", r.statuscode); }}, null, 2);
    }}
}});
imp.wakeup(6, function() {{
    http.get("http://127.0.0.1:{endless}/").sendasync(function(r) {{
        server.log("endless " + r.statuscode + " " + r.body);
    }});
}});
"#
    );
    let (_sim, mut sse) = running(
        "imp005",
        &["--http-in-flight", "3", "--http-max-body", "100000"],
        "",
        &agent,
    )
    .await;
    let seen = until(&mut sse, "codes").await;
    assert_eq!(
        seen.last().unwrap(),
        "agent.log: codes own 200=40 own 429=5 silent 28=3 silent 429=2 ",
        "{seen:?}"
    );
    let seen = until(&mut sse, "endless").await;
    let last = seen.last().unwrap();
    assert!(
        last.starts_with("agent.log: endless 63 the response body exceeds 100000 bytes"),
        "{last}"
    );
}

#[tokio::test]
async fn log_lines_beyond_the_rate_are_dropped_and_counted() {
    let device = r#"
for (local i = 1; i <= 200; i++) server.log("line " + i);
imp.wakeup(1.5, function() { server.log("later"); });
"#;
    let (_sim, mut sse) =
        running("imp005", &["--no-outbound", "--log-rate", "50"], device, "").await;
    let seen = until(&mut sse, "later").await;
    let lines = seen.iter().filter(|l| l.contains(": line ")).count();
    assert!(lines <= 50, "{lines} lines: {seen:?}");
    assert!(
        seen.iter()
            .any(|l| l.contains("log lines dropped (log rate limit)")),
        "{seen:?}"
    );
}

/// A restart drops the agent's requests under way: their connections close at once (not
/// at their 600 s timeout) and the restarted agent has its whole allowance again.
#[tokio::test]
async fn a_restart_drops_the_agents_requests_under_way() {
    use std::sync::mpsc;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel::<&'static str>();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send("open");
                let mut buf = [0u8; 4096];
                // Never answers; reports when the simulator closes the connection.
                while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
                let _ = tx.send("closed");
            });
        }
    });
    let agent = format!(
        r#"
for (local i = 0; i < 5; i++) {{
    http.get("http://127.0.0.1:{port}/").sendasync(function(r) {{ server.log("answer " + r.statuscode); }}, null, 600);
}}
server.log("asked");
"#
    );
    let (_sim, api, id, mut sse) = sim_running("imp005", &[], "", &agent).await;
    until(&mut sse, "asked").await;
    let wait = |want: &'static str, n: usize| {
        let mut seen = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while seen < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(e) if e == want => seen += 1,
                Ok(_) => {}
                Err(_) => panic!("{seen} of {n} connections {want}"),
            }
        }
    };
    wait("open", 5);
    let r = api
        .post(&format!("/devices/{id}/restart"), serde_json::json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // The old requests' connections close; the restarted agent opens its five again
    // (interleaved: count both).
    let mut closed = 0;
    let mut opened = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while closed < 5 || opened < 5 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok("closed") => closed += 1,
            Ok(_) => opened += 1,
            Err(_) => panic!("after the restart: {closed} closed, {opened} opened"),
        }
    }
    let seen = until(&mut sse, "asked").await;
    assert!(
        !seen.iter().any(|l| l.contains("answer")),
        "the dropped requests answer nobody: {seen:?}"
    );
}

/// An agent's bursts of requests to its own URL, each logged as "TAG OK ok REFUSED
/// refused": 45 at once, 6 more two seconds later, then (with `long`) 45 more after 30 s.
fn bursts(long: bool) -> String {
    let third = if long {
        r#"imp.wakeup(30, function() { burst(45, "third", function() {}); });"#
    } else {
        ""
    };
    format!(
        r#"
http.onrequest(function(req, res) {{ res.send(200, "own"); }});
function burst(n, tag, then) {{
    local ok = 0, no = 0, left = n;
    for (local i = 0; i < n; i++) {{
        http.get(http.agenturl() + "/x").sendasync(function(r) {{
            if (r.statuscode == 200) ok++; else if (r.statuscode == 429) no++;
            if (--left == 0) {{
                server.log(tag + " " + ok + " ok " + no + " refused");
                then();
            }}
        }});
    }}
}}
burst(45, "first", function() {{
    imp.wakeup(2, function() {{
        burst(6, "second", function() {{ {third} }});
    }});
}});
"#
    )
}

/// The rate credits refill on the simulator's clock: under virtual time, where the waits
/// take no real time, an agent's requests get the answers they get in real time (40 at
/// once, two more a second), and a new agent (a restart) has its 40 again.
#[tokio::test]
async fn agent_http_credits_refill_on_the_simulators_clock() {
    // Real time: the first two bursts (2 s).
    let (_sim, api, id, mut sse) = sim_running("imp005", &[], "", &bursts(false)).await;
    let real = until(&mut sse, "agent.log: second").await;
    let real: Vec<&String> = real.iter().filter(|l| l.contains(" refused")).collect();
    assert_eq!(
        real,
        [
            "agent.log: first 40 ok 5 refused",
            "agent.log: second 4 ok 2 refused"
        ],
        "real time"
    );
    // A restart right after: the new agent has its whole allowance.
    let r = api
        .post(&format!("/devices/{id}/restart"), serde_json::json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let again = until(&mut sse, "agent.log: first").await;
    assert_eq!(again.last().unwrap(), "agent.log: first 40 ok 5 refused");

    // Virtual time: the same answers, and 30 s (skipped) refill all 40.
    let (_sim, _api, _id, mut sse) =
        sim_running("imp005", &["--virtual-time"], "", &bursts(true)).await;
    let seen = until(&mut sse, "agent.log: third").await;
    let seen: Vec<&String> = seen.iter().filter(|l| l.contains(" refused")).collect();
    assert_eq!(
        seen,
        [
            "agent.log: first 40 ok 5 refused",
            "agent.log: second 4 ok 2 refused",
            "agent.log: third 40 ok 5 refused"
        ],
        "virtual time"
    );
}

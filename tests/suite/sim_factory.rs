//! The virtual factory of `impt sim`: the factory sample of `examples/factory` (Electric
//! Imp's FactoryTools by `#require`) run through the CLI (fixture, factory BlinkUp, devices
//! under test, blessing, its webhook, production code), `factoryfirmware`/`factory_imp`, device
//! ids carrying MACs,
//! `imp.configparams`, the refusals (a device outside a factory, failed tests, an empty DUT
//! pool, a DUT target), `load_code_after_blessing` off (production code after an end user's
//! BlinkUp), and webhook calls to a local receiver (bodies, content types,
//! retries, `/_sim/webhooks`).

use crate::support::*;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Polls `f` every 100 ms for up to `secs` seconds.
fn wait_until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The messages of a device's historical logs, oldest first.
fn logs(env: &Env, device: &str) -> Vec<String> {
    let (_, b) = env.http("GET", &format!("/devices/{device}/logs"), None);
    let mut v: Vec<String> = b["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    l["message"]
                        .as_str()
                        .or(l["msg"].as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    v.reverse();
    v
}

/// The devices of the account with their group ids.
fn devices(env: &Env) -> Vec<(String, Option<String>)> {
    let (_, b) = env.http("GET", "/devices", None);
    b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let id = d["id"].as_str().unwrap().to_string();
            let g = d["relationships"]["devicegroup"]["id"]
                .as_str()
                .map(str::to_string);
            (id, g)
        })
        .collect()
}

fn copy_example(to: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/factory");
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

#[test]
fn the_factory_example_blesses_two_devices_that_then_run_the_application() {
    // The example #requires FactoryTools: from the test's library cache, never the network.
    let env = Env::start_env(
        &["--blinkup-time", "0.2", "--devices", "2"],
        &[("IMPT_GITHUB_API", NO_GITHUB)],
    );
    seed_factorytools(env.home.path());
    let dir = env.path("factory");
    copy_example(&dir);
    let at = |args: &[&str]| env.impt_at(&dir, args, None, &[]);
    at(&["product", "create", "-n", "MyProduct"]).ok();
    let out = at(&[
        "project",
        "create",
        "-f",
        "-p",
        "MyProduct",
        "-n",
        "MyPreFactoryDG",
        "-t",
        "MyPreProductionDG",
        "-j",
        "-x",
        "factory.device.nut",
        "-y",
        "factory.agent.nut",
    ]);
    out.ok();
    let fac = out.id_after("Device Group: ");
    let prod = out.id_after("Production Target: ");
    at(&[
        "build",
        "deploy",
        "-g",
        "MyPreProductionDG",
        "-x",
        "application.device.nut",
        "-y",
        "application.agent.nut",
        "-t",
        "App1",
    ])
    .ok();
    // the production target's blessing webhook
    let (hook, got) = receiver(vec![]);
    at(&[
        "webhook",
        "create",
        "-g",
        "MyPreProductionDG",
        "-u",
        &hook,
        "-e",
        "blessing",
        "-m",
        "json",
    ])
    .ok();
    let fixture = env.device_ids()[0].clone();
    at(&["device", "assign", "-d", &fixture]).ok();
    at(&["build", "run"]).ok();

    // two DUTs appear, get blessed and land in the production target
    let blessed = wait_until(120, "two blessed devices", || {
        let in_prod: Vec<String> = devices(&env)
            .into_iter()
            .filter(|(_, g)| g.as_deref() == Some(prod.as_str()))
            .map(|(id, _)| id)
            .collect();
        (in_prod.len() == 2).then_some(in_prod)
    });
    assert_eq!(env.device_ids().len(), 4, "two seeded devices and two DUTs");
    for dut in &blessed {
        assert_ne!(dut, &fixture);
        // The device's and the agent's first lines come in either order: wait for both.
        let l = wait_until(60, "the application on a blessed device", || {
            let l = logs(&env, dut);
            (l.iter()
                .any(|m| m == &format!("Application started on {dut}"))
                && l.iter().any(|m| m == "Application agent started"))
            .then_some(l)
        });
        let pos = |needle: &str| {
            l.iter()
                .position(|m| m.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} not in {l:?}"))
        };
        let tested = pos(&format!("DUT {dut}: pin test passed"));
        let blessing =
            pos("Device blessed: now in pre-production Device Group \"MyPreProductionDG\"");
        let callback = pos(&format!("DUT {dut}: blessed"));
        let app = pos(&format!("Application started on {dut}"));
        assert!(
            tested < blessing && blessing < callback && callback < app,
            "{l:?}"
        );
        assert!(l.iter().any(|m| m == "Application agent started"), "{l:?}");
    }
    // the blessing webhook was called for each, with the documented body
    let bodies = wait_until(20, "two blessing webhook calls", || {
        let g = got.lock().unwrap().clone();
        (g.len() == 2).then_some(g)
    });
    for dut in &blessed {
        assert!(
            bodies
                .iter()
                .any(|(ct, b)| ct.starts_with("application/json")
                    && serde_json::from_str::<Value>(b).unwrap()["device_id"] == dut.as_str()),
            "{bodies:?}"
        );
    }
    let fl = logs(&env, &fixture);
    assert!(
        fl.iter().any(|m| m == &format!("Fixture {fixture} ready")),
        "{fl:?}"
    );
    for dut in &blessed {
        assert!(
            fl.iter()
                .any(|m| m.starts_with(&format!("Factory BlinkUp: device under test {dut} (mac "))),
            "{fl:?}"
        );
    }
    // the fixture stays in the factory group; dg info and device list see the DUTs
    let (_, f) = env.http("GET", &format!("/devices/{fixture}"), None);
    assert_eq!(
        f["data"]["relationships"]["devicegroup"]["id"],
        fac.as_str()
    );
    let list = at(&["device", "list", "-g", "MyPreProductionDG", "-z", "json"])
        .ok()
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let info = at(&["dg", "info", "-g", "MyPreProductionDG", "-z", "json"])
        .ok()
        .json();
    assert_eq!(info["Device Group"]["type"], "pre-production", "{info}");
    // a blessed device is a pre-production device: it can not be put back by hand
    at(&[
        "device",
        "assign",
        "-d",
        &blessed[0],
        "-g",
        "MyPreFactoryDG",
    ])
    .failed();
    let out = at(&["log", "get", "-d", &blessed[0], "-n", "1", "-s", "50"]);
    out.ok()
        .has("pin test passed")
        .has("Application started on");
}

/// A pre-factory group with a DUT target and production target, with `device`/`agent`
/// factory firmware deployed and a fixture assigned. (env, fixture, dut target id, production id)
fn factory_with_dut_target(
    sim_args: &[&str],
    device: &str,
    agent: &str,
) -> (Env, String, String, String) {
    let env = Env::start(sim_args);
    env.impt(&["product", "create", "-n", "P"]).ok();
    let prod = env
        .impt(&[
            "dg",
            "create",
            "-n",
            "PP",
            "-y",
            "pre-production",
            "-p",
            "P",
        ])
        .ok()
        .id_after("Device Group: ");
    let dut = env
        .impt(&["dg", "create", "-n", "PD", "-y", "pre-dut", "-p", "P"])
        .ok()
        .id_after("Device Group: ");
    env.impt(&[
        "dg",
        "create",
        "-n",
        "F",
        "-y",
        "pre-factory",
        "-p",
        "P",
        "-t",
        "PP",
        "-u",
        "PD",
    ])
    .ok();
    std::fs::write(env.path("f.device.nut"), device).unwrap();
    std::fs::write(env.path("f.agent.nut"), agent).unwrap();
    env.impt(&[
        "build",
        "deploy",
        "-g",
        "F",
        "-x",
        "f.device.nut",
        "-y",
        "f.agent.nut",
    ])
    .ok();
    let fixture = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &fixture, "-g", "F"])
        .ok();
    (env, fixture, dut, prod)
}

const PARAMS_FIRMWARE: &str = r#"
local p = imp.configparams;
local fixture = ("factory_imp_device_id" in p) && p.factory_imp_device_id == hardware.getdeviceid();
server.log("role " + (fixture ? "fixture" : "dut") + " of " + p.factory_imp_device_id);
server.log("ff " + p.factoryfirmware + " imp " + p.factory_imp + " mac " + imp.getmacaddress() + " id " + hardware.getdeviceid());
if (fixture) {
    server.factoryblinkup("ssid", "pw", hardware.pinA, 0);
    imp.wakeup(0.5, function() { server.factoryblinkup("ssid", "pw", hardware.pinA, 0); });
} else {
    server.bless(false, function(ok) { server.log("bless callback " + ok); });
}
"#;

const PARAMS_AGENT: &str = r#"
local p = imp.configparams;
server.log("agent params " + ("factory_fixture_url" in p ? "url " : "nourl ") + p.deviceid);
server.log("agent ff " + p.factoryfirmware + " imp " + p.factory_imp);
"#;

#[test]
fn duts_land_in_the_dut_target_a_failed_test_stays_and_the_pool_runs_out() {
    let (env, fixture, dut_dg, _prod) = factory_with_dut_target(
        &["--blinkup-time", "0.1", "--dut-pool", "1", "--devices", "1"],
        PARAMS_FIRMWARE,
        PARAMS_AGENT,
    );
    let dut = wait_until(20, "a DUT", || {
        devices(&env).into_iter().find(|(id, _)| *id != fixture)
    });
    assert_eq!(
        dut.1.as_deref(),
        Some(dut_dg.as_str()),
        "a DUT is in the DUT target"
    );
    let dut = dut.0;
    let l = wait_until(20, "the failed blessing", || {
        let l = logs(&env, &dut);
        l.iter().any(|m| m == "bless callback false").then_some(l)
    });
    assert!(
        l.iter().any(|m| m == &format!("role dut of {fixture}")),
        "{l:?}"
    );
    assert!(
        l.iter().any(|m| m == &format!("agent params url {dut}")),
        "a DUT's agent knows its fixture's URL: {l:?}"
    );
    assert!(
        l.iter()
            .any(|m| m == "Blessing failed: the factory firmware reported failed tests"),
        "{l:?}"
    );
    let fl = wait_until(20, "the empty pool", || {
        let l = logs(&env, &fixture);
        l.iter()
            .any(|m| m.contains("pool of 1 is used up"))
            .then_some(l)
    });
    assert!(
        fl.iter()
            .any(|m| m == &format!("role fixture of {fixture}")),
        "{fl:?}"
    );
    assert!(
        fl.iter()
            .any(|m| m == &format!("agent params nourl {fixture}")),
        "{fl:?}"
    );
    // factoryfirmware and factory_imp (the fixture's MAC) on both sides of both devices, as
    // FactoryTools reads them; device ids carry the MAC as on imps of these types
    let mac = |id: &str| {
        let (_, d) = env.http("GET", &format!("/devices/{id}"), None);
        let a = &d["data"]["attributes"];
        assert_ne!(a["imp_type"], "imp001");
        a["mac_address"].as_str().unwrap().replace(':', "")
    };
    let (fmac, dmac) = (mac(&fixture), mac(&dut));
    assert_eq!(&fixture[4..], fmac);
    assert_eq!(&dut[4..], dmac);
    assert!(fmac.starts_with("0c2a69") && dmac.starts_with("0c2a69"));
    let dl = logs(&env, &dut);
    for (l, want) in [
        (&fl, format!("ff true imp {fmac} mac {fmac} id {fixture}")),
        (&fl, format!("agent ff true imp {fmac}")),
        (&dl, format!("ff true imp {fmac} mac {dmac} id {dut}")),
        (&dl, format!("agent ff true imp {fmac}")),
    ] {
        assert!(l.contains(&want), "{want} not in {l:?}");
    }
    // the DUT stays where it was; only two devices exist
    std::thread::sleep(Duration::from_millis(300));
    let all = devices(&env);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all.contains(&(dut.clone(), Some(dut_dg.clone()))),
        "{all:?}"
    );
}

#[test]
fn factory_calls_outside_a_factory_fail_as_on_an_imp() {
    let env = Env::start(&["--devices", "1"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "D", "-p", "P"]).ok();
    std::fs::write(
        env.path("d.nut"),
        r#"server.log("params " + imp.configparams.len());
server.factoryblinkup("ssid", "pw", hardware.pinA, 0);
server.log("after blinkup");
server.bless(true, function(ok) { server.log("never"); });
server.log("not reached");
"#,
    )
    .unwrap();
    env.impt(&["build", "deploy", "-g", "D", "-x", "d.nut"])
        .ok();
    let d = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &d, "-g", "D"]).ok();
    let l = wait_until(20, "the bless error", || {
        let l = logs(&env, &d);
        l.iter()
            .any(|m| m.contains("server.bless is only available in factory firmware"))
            .then_some(l)
    });
    let pos = |n: &str| {
        l.iter()
            .position(|m| m.contains(n))
            .unwrap_or_else(|| panic!("{n} in {l:?}"))
    };
    assert!(pos("params 0") < pos("Factory BlinkUp request failed. This is not a factory imp."));
    assert!(pos("This is not a factory imp.") < pos("after blinkup"));
    assert!(
        !l.iter().any(|m| m == "not reached" || m == "never"),
        "{l:?}"
    );
}

/// What a receiver got: (content type, body) per request.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A local webhook receiver: answers the statuses of `script` in turn (then 200) and
/// records each request's content type and body.
fn receiver(script: Vec<u16>) -> (String, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { return };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let (mut ct, mut len) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-type:") {
                    ct = v.trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push((ct, String::from_utf8_lossy(&body).into_owned()));
            let status = script.next().unwrap_or(200);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}

fn deliveries(env: &Env) -> Vec<Value> {
    env.http("GET", "/_sim/webhooks", None)
        .1
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn webhooks_are_posted_retried_and_shown() {
    let (url, got) = receiver(vec![500]);
    let env = Env::start(&["--devices", "1", "--blinkup-time", "0.1"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&[
        "dg",
        "create",
        "-n",
        "PP",
        "-y",
        "pre-production",
        "-p",
        "P",
    ])
    .ok();
    env.impt(&["dg", "create", "-n", "PD", "-y", "pre-dut", "-p", "P"])
        .ok();
    env.impt(&[
        "dg",
        "create",
        "-n",
        "F",
        "-y",
        "pre-factory",
        "-p",
        "P",
        "-t",
        "PP",
        "-u",
        "PD",
    ])
    .ok();
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "F",
        "-u",
        &url,
        "-e",
        "deployment",
        "-m",
        "json",
    ])
    .ok();
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "PP",
        "-u",
        &url,
        "-e",
        "blessing",
        "-m",
        "urlencoded",
    ])
    .ok();
    std::fs::write(
        env.path("f.nut"),
        r#"local p = imp.configparams;
if (p.factory_imp_device_id == hardware.getdeviceid()) server.factoryblinkup("s", "p", hardware.pinA, 0);
else server.bless(true, function(ok) { server.log("blessed " + ok); });
"#,
    )
    .unwrap();
    let dep = env
        .impt(&["build", "deploy", "-g", "F", "-x", "f.nut", "-z", "json"])
        .ok()
        .json();
    let dep_id = dep["Deployment"]["id"].as_str().unwrap().to_string();
    // the first try gets 500, the retry 200
    let first = wait_until(20, "the deployment call delivered", || {
        deliveries(&env)
            .into_iter()
            .find(|d| d["event"] == "deployment" && d["outcome"] == "delivered")
    });
    assert_eq!(first["attempts"], 2, "{first}");
    assert_eq!(first["status"], 200, "{first}");
    let body: Value = {
        let g = got.lock().unwrap();
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0], g[1], "a retry sends the same call");
        assert_eq!(g[0].0, "application/json");
        serde_json::from_str(&g[0].1).unwrap()
    };
    assert_eq!(body["deployment_id"], dep_id.as_str(), "{body}");

    let fixture = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &fixture, "-g", "F"])
        .ok();
    let b = wait_until(20, "the blessing call delivered", || {
        deliveries(&env)
            .into_iter()
            .find(|d| d["event"] == "blessing" && d["outcome"] == "delivered")
    });
    assert_eq!(b["attempts"], 1, "{b}");
    let (ct, form) = got.lock().unwrap().last().cloned().unwrap();
    assert_eq!(ct, "application/x-www-form-urlencoded");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let dut = pairs
        .iter()
        .find(|(k, _)| k == "device_id")
        .map(|(_, v)| v.clone());
    let dut = dut.unwrap_or_else(|| panic!("device_id in {form}"));
    assert_ne!(dut, fixture);
    assert!(pairs.iter().any(|(k, _)| k == "imp_id"), "{form}");
    assert_eq!(json!(env.device_ids().contains(&dut)), json!(true));
    assert_eq!(pairs.len(), 2, "the documented keys only: {form}");

    // an end user's BlinkUp of the blessed device calls the blinkup webhooks
    env.impt(&[
        "webhook", "create", "-g", "PP", "-u", &url, "-e", "blinkup", "-m", "json",
    ])
    .ok();
    let (s, _) = env.http("POST", &format!("/_sim/devices/{dut}/blinkup"), None);
    assert_eq!(s, 204);
    wait_until(20, "the blinkup call delivered", || {
        deliveries(&env)
            .into_iter()
            .find(|d| d["event"] == "blinkup" && d["outcome"] == "delivered")
    });
    let (ct, body) = got.lock().unwrap().last().cloned().unwrap();
    assert_eq!(ct, "application/json");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["device_id"], dut.as_str());
    assert!(
        body["plan_id"].is_string() && body["token"].is_string(),
        "{body}"
    );
}

#[test]
fn a_webhook_that_never_answers_well_is_reported_failed() {
    let (url, got) = receiver(vec![503, 503, 503]);
    let env = Env::start(&["--devices", "0"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "D", "-p", "P"]).ok();
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "D",
        "-u",
        &url,
        "-e",
        "deployment",
        "-m",
        "json",
    ])
    .ok();
    // the API answers at once although the receiver keeps failing
    env.impt(&["build", "deploy", "-g", "D"]).ok();
    let d = wait_until(30, "the call given up", || {
        deliveries(&env)
            .into_iter()
            .find(|d| d["outcome"] == "failed")
    });
    assert_eq!(d["attempts"], 3, "{d}");
    assert_eq!(d["status"], 503, "{d}");
    assert_eq!(got.lock().unwrap().len(), 3);
}

#[test]
fn without_load_code_after_blessing_the_production_code_waits_for_an_end_user_blinkup() {
    let env = Env::start(&["--blinkup-time", "0.1", "--devices", "1"]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    let prod = env
        .impt(&[
            "dg",
            "create",
            "-n",
            "PP",
            "-y",
            "pre-production",
            "-p",
            "P",
        ])
        .ok()
        .id_after("Device Group: ");
    env.impt(&["dg", "update", "-g", "PP", "-l", "false"]).ok();
    std::fs::write(env.path("app.nut"), "server.log(\"production code\");\n").unwrap();
    env.impt(&["build", "deploy", "-g", "PP", "-x", "app.nut"])
        .ok();
    env.impt(&["dg", "create", "-n", "PD", "-y", "pre-dut", "-p", "P"])
        .ok();
    env.impt(&[
        "dg",
        "create",
        "-n",
        "F",
        "-y",
        "pre-factory",
        "-p",
        "P",
        "-t",
        "PP",
        "-u",
        "PD",
    ])
    .ok();
    std::fs::write(
        env.path("f.nut"),
        r#"local p = imp.configparams;
if (p.factory_imp_device_id == hardware.getdeviceid()) server.factoryblinkup("s", "p", hardware.pinA, 0);
else server.bless(true, function(ok) {
    server.log("blessed " + ok);
    server.bless(true, function(again) { server.log("again " + again); });
});
"#,
    )
    .unwrap();
    env.impt(&["build", "deploy", "-g", "F", "-x", "f.nut"])
        .ok();
    let fixture = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &fixture, "-g", "F"])
        .ok();
    let dut = wait_until(20, "a blessed device", || {
        devices(&env)
            .into_iter()
            .find(|(id, g)| *id != fixture && g.as_deref() == Some(prod.as_str()))
            .map(|(id, _)| id)
    });
    let l = wait_until(20, "the second blessing's callback", || {
        let l = logs(&env, &dut);
        l.iter().any(|m| m == "again false").then_some(l)
    });
    assert!(l.iter().any(|m| m == "blessed true"), "{l:?}");
    assert!(
        l.iter()
            .any(|m| m == "Blessing failed: the device is already blessed"),
        "{l:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !logs(&env, &dut).iter().any(|m| m == "production code"),
        "no production code before the end user's BlinkUp"
    );
    let (s, _) = env.http("POST", &format!("/_sim/devices/{dut}/blinkup"), None);
    assert_eq!(s, 204);
    wait_until(20, "the production code", || {
        logs(&env, &dut)
            .iter()
            .any(|m| m == "production code")
            .then_some(())
    });
}

#[test]
fn code_calling_in_a_loop_gets_one_blinkup_and_one_blessing_at_a_time() {
    let (env, fixture, _dut_dg, prod) = factory_with_dut_target(
        &["--blinkup-time", "0.3", "--devices", "1"],
        r#"local p = imp.configparams;
if (p.factory_imp_device_id == hardware.getdeviceid()) {
    for (local i = 0; i < 5000; i++) server.factoryblinkup("s", "p", hardware.pinA, 0);
    server.log("asked 5000 times");
} else {
    for (local i = 0; i < 5000; i++) server.bless(true, function(ok) { server.log("blessed " + ok); });
}
"#,
        "",
    );
    let dut = wait_until(20, "a blessed device", || {
        devices(&env)
            .into_iter()
            .find(|(id, g)| *id != fixture && g.as_deref() == Some(prod.as_str()))
            .map(|(id, _)| id)
    });
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(env.device_ids().len(), 2, "one DUT for the 5000 calls");
    let l = logs(&env, &dut);
    assert_eq!(
        l.iter().filter(|m| m.starts_with("blessed ")).count(),
        1,
        "{l:?}"
    );
    assert!(logs(&env, &fixture).iter().any(|m| m == "asked 5000 times"));
}

#[test]
fn bad_factory_options_of_impt_sim_are_refused() {
    let out = std::process::Command::new(impt_bin())
        .args(["sim", "--port", "0", "--blinkup-time", "700"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--blinkup-time"), "{err}");
}

/// Under virtual time a BlinkUp takes its time as in real time: the fixture's 10 s timer
/// does not jump ahead of the device under test the BlinkUp makes (1 s).
#[test]
fn virtual_time_waits_for_a_blinkup() {
    let firmware = r#"
local p = imp.configparams;
if (("factory_imp_device_id" in p) && p.factory_imp_device_id == hardware.getdeviceid()) {
    server.factoryblinkup("ssid", "pw", hardware.pinA, 0);
    imp.wakeup(10, function() { server.log("ten seconds on"); });
}
"#;
    let (env, fixture, _, _) =
        factory_with_dut_target(&["--virtual-time", "--blinkup-time", "1"], firmware, "");
    let seen = wait_until(30, "the fixture's timer", || {
        let l = logs(&env, &fixture);
        l.iter().any(|m| m.contains("ten seconds on")).then_some(l)
    });
    let blinkup = seen.iter().position(|m| m.contains("configured"));
    let timer = seen.iter().position(|m| m.contains("ten seconds on"));
    assert!(
        blinkup.is_some_and(|b| Some(b) < timer),
        "the BlinkUp's device came after the 10 s timer: {seen:?}"
    );
}

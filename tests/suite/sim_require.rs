//! `#require "NAME:VERSION"` as the impCloud resolves it, against a loopback stand-in for the
//! GitHub API: libraries run ahead of device and agent code; a wrong version, a wrong name,
//! an agent-only library on the device and an unreachable source are compile errors at the
//! `#require` line (from the local check and from the sim); each version is fetched once
//! (the user cache, shared by the CLI and the sim); offline use from the cache and from
//! `impt sim --libraries`; `impt watch` fetches once however often the code is saved;
//! `impt build libraries` fills the cache. Electric Imp's own Promise, JSONEncoder,
//! MessageManager and FactoryTools run from the clones in `$IMPT_LIBS` (default /work/peers/libs), read at
//! test time (that test is skipped without them).

use crate::support::*;

use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A loopback stand-in for the GitHub contents API: `(repo, file, tag)` → text; counts the
/// requests per path.
pub struct Github {
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Github {
    pub fn serve(files: Vec<(&str, &str, &str, String)>) -> Github {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let map: HashMap<String, String> = files
            .into_iter()
            .map(|(repo, file, tag, text)| {
                (
                    format!("/repos/electricimp/{repo}/contents/{file}?ref={tag}"),
                    text,
                )
            })
            .collect();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).is_err() || l == "\r\n" || l.is_empty() {
                        break;
                    }
                }
                let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                *h.lock().unwrap().entry(target.clone()).or_insert(0) += 1;
                let (status, body) = match map.get(&target) {
                    Some(t) => {
                        let b64 = base64::engine::general_purpose::STANDARD.encode(t);
                        (
                            "200 OK",
                            json!({"type": "file", "sha": "0", "content": b64}).to_string(),
                        )
                    }
                    None => ("404 Not Found", "{\"message\":\"Not Found\"}".to_string()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Github { base, hits }
    }

    /// Requests for `file` of `repo`, any ref.
    pub fn hits(&self, repo: &str, file: &str) -> usize {
        let p = format!("/repos/electricimp/{repo}/contents/{file}?");
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(&p))
            .map(|(_, n)| n)
            .sum()
    }
}

const PROMISE: &str = "// synthetic stand-in\nclass Promise {\n    static VERSION = \"4.0.0\";\n    static function hello() { return \"synthetic promise\"; }\n}\n";
const ROCKY: &str = "class Rocky {\n    static VERSION = \"3.0.0\";\n    static function hello() { return \"synthetic rocky\"; }\n}\n";

fn synthetic() -> Github {
    Github::serve(vec![
        ("Promise", "Promise.lib.nut", "v4.0.0", PROMISE.into()),
        ("Rocky", "Rocky.agent.lib.nut", "v3.0.0", ROCKY.into()),
    ])
}

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

fn logs(env: &Env, device: &str) -> Vec<String> {
    let (_, b) = env.http("GET", &format!("/devices/{device}/logs"), None);
    b["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| l["msg"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn wait_log(env: &Env, device: &str, text: &str) {
    wait_until(20, text, || {
        logs(env, device)
            .iter()
            .any(|m| m.contains(text))
            .then_some(())
    });
}

/// A product, a development group "DG" as the project's, and the first device in it.
fn setup(env: &Env) -> String {
    env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"])
        .ok();
    let dev = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &dev, "-g", "DG", "-q"])
        .ok();
    dev
}

fn write(env: &Env, name: &str, text: &str) {
    std::fs::write(env.path(name), text).unwrap();
}

#[test]
fn libraries_run_on_device_and_agent_and_each_version_is_fetched_once() {
    let gh = synthetic();
    let env = Env::start_env(&[], &[("IMPT_GITHUB_API", &gh.base)]);
    let dev = setup(&env);
    // The name matches whatever its case and suffix; the code's own lines keep their numbers.
    write(
        &env,
        "device.nut",
        "// app\n#require \"promise.class.nut:4.0.0\"\nserver.log(\"dev \" + Promise.hello());\n",
    );
    write(
        &env,
        "agent.nut",
        "#require \"Promise.lib.nut:4.0.0\"\n#require \"Rocky.agent.lib.nut:3.0.0\"\nserver.log(\"agent \" + Promise.hello() + \" \" + Rocky.hello());\n",
    );
    env.impt(&["build", "run"]).ok();
    wait_log(&env, &dev, "dev synthetic promise");
    wait_log(&env, &dev, "agent synthetic promise synthetic rocky");
    // Required on both sides, checked by the CLI and compiled by the sim: fetched once.
    assert_eq!(gh.hits("Promise", "Promise.lib.nut"), 1);
    assert_eq!(gh.hits("Rocky", "Rocky.agent.lib.nut"), 1);
    let cached = env
        .home
        .path()
        .join(".cache/impt/libraries/Promise/4.0.0/Promise.lib.nut");
    assert_eq!(std::fs::read_to_string(cached).unwrap(), PROMISE);
    // The deployment keeps the code as written.
    let (_, deps) = env.http("GET", "/deployments", None);
    let code = deps["data"][0]["attributes"]["device_code"]
        .as_str()
        .unwrap();
    assert!(
        code.starts_with("// app\n#require \"promise.class.nut:4.0.0\""),
        "{code}"
    );
    // A runtime error in the code names its own line.
    write(
        &env,
        "device.nut",
        "#require \"Promise.lib.nut:4.0.0\"\n\nlocal p = Promise.nope();\n",
    );
    env.impt(&["build", "run"]).ok();
    wait_log(&env, &dev, "at main:3");
    assert_eq!(gh.hits("Promise", "Promise.lib.nut"), 1);
}

#[test]
fn wrong_version_name_or_side_is_a_compile_error_at_the_require_line() {
    let gh = synthetic();
    let env = Env::start_env(&[], &[("IMPT_GITHUB_API", &gh.base)]);
    setup(&env);
    write(&env, "agent.nut", "server.log(1);\n");
    let cases = [
        (
            "#require \"Promise.lib.nut:9.9.9\"",
            "Library \"Promise.lib.nut\" version \"9.9.9\" not found",
        ),
        (
            "#require \"Promises.lib.nut:4.0.0\"",
            "Library \"Promises.lib.nut\" not found",
        ),
        (
            "#require \"Rocky.agent.lib.nut:3.0.0\"",
            "Library \"Rocky.agent.lib.nut\" can only be used in agent code",
        ),
        (
            "#require \"Promise.lib.nut\"",
            "#require \"Promise.lib.nut\": a library must be required with its version number",
        ),
    ];
    for (line, text) in cases {
        write(
            &env,
            "device.nut",
            &format!("// one\n// two\n{line}\nserver.log(2);\n"),
        );
        // Found by the local check, and by the sim when the local check is skipped.
        for extra in [None, Some("--no-local-check")] {
            let mut args = vec!["build", "deploy"];
            args.extend(extra);
            env.impt(&args)
                .failed()
                .has("Error: Compilation Error: Device code compile failed")
                .has(&format!("device_code error (line 3, column 1): {text}"));
        }
    }
    // In a file included with Builder, the error names that file and line.
    write(
        &env,
        "lib.nut",
        "// lib\n#require \"JSONEncoder.class.nut:2.0.0\"\n",
    );
    write(&env, "device.nut", "server.log(0);\n@include \"lib.nut\"\n");
    env.impt(&["build", "deploy"])
        .failed()
        .has("lib.nut:2:")
        .has("Library \"JSONEncoder.class.nut\" version \"2.0.0\" not found");
    let (_, deps) = env.http("GET", "/deployments", None);
    assert_eq!(
        deps["data"].as_array().unwrap().len(),
        0,
        "nothing deployed"
    );
}

#[test]
fn offline_from_the_cache_and_from_a_libraries_folder() {
    // A source that does not answer: the library cannot be had.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let env = Env::start_env(&[], &[("IMPT_GITHUB_API", &dead)]);
    let dev = setup(&env);
    write(&env, "agent.nut", "server.log(1);\n");
    write(
        &env,
        "device.nut",
        "#require \"Promise.lib.nut:4.0.0\"\nserver.log(\"cached \" + Promise.hello());\n",
    );
    env.impt(&["build", "deploy"])
        .failed()
        .has("device_code error (line 1, column 1): Library \"Promise.lib.nut:4.0.0\" could not be loaded:");
    // Filled ahead of time (while online), then used offline.
    let gh = synthetic();
    env.impt_at(
        env.dir.path(),
        &[
            "build",
            "libraries",
            "-r",
            "Promise.lib.nut:4.0.0",
            "-r",
            "Rocky.agent.lib.nut:3.0.0",
        ],
        None,
        &[("IMPT_GITHUB_API", &gh.base)],
    )
    .ok()
    .has("Library Promise.lib.nut:4.0.0 is available (Promise.lib.nut).")
    .has("Library Rocky.agent.lib.nut:3.0.0 is available (Rocky.agent.lib.nut).");
    assert_eq!(gh.hits("Promise", "Promise.lib.nut"), 1);
    env.impt_at(
        env.dir.path(),
        &["build", "libraries", "-r", "Promise.lib.nut:9.0.0"],
        None,
        &[("IMPT_GITHUB_API", &gh.base)],
    )
    .failed()
    .has("Library \"Promise.lib.nut\" version \"9.0.0\" not found");
    env.impt(&["build", "run"]).ok();
    wait_log(&env, &dev, "cached synthetic promise");

    // A sim offline with a folder of libraries (clone layout: the file declares its version).
    let libs = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(libs.path().join("promise")).unwrap();
    std::fs::write(
        libs.path().join("promise/Promise.lib.nut"),
        PROMISE.replace("synthetic promise", "folder promise"),
    )
    .unwrap();
    let folder = libs.path().to_string_lossy().into_owned();
    let env = Env::start_env(&["--libraries", &folder], &[("IMPT_GITHUB_API", &dead)]);
    let dev = setup(&env);
    write(&env, "agent.nut", "server.log(1);\n");
    write(
        &env,
        "device.nut",
        "#require \"Promise.lib.nut:4.0.0\"\nserver.log(\"offline \" + Promise.hello());\n",
    );
    // The CLI's local check uses the same folder through $IMPT_LIBRARIES.
    env.impt_at(
        env.dir.path(),
        &["build", "run"],
        None,
        &[("IMPT_LIBRARIES", &folder)],
    )
    .ok();
    wait_log(&env, &dev, "offline folder promise");
    // A version the folder does not hold is still unknown.
    write(&env, "device.nut", "#require \"Promise.lib.nut:4.0.1\"\n");
    env.impt(&["build", "deploy", "--no-local-check"])
        .failed()
        .has("could not be loaded");
    let out = env.impt(&["sim", "--libraries", "/no/such/folder"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("--libraries"), "{out:?}");
}

#[test]
fn watch_fetches_a_library_once_however_often_the_code_is_saved() {
    let gh = synthetic();
    let env = Env::start_env(&[], &[("IMPT_GITHUB_API", &gh.base)]);
    let p = project_in(env, "development_devicegroup", None);
    let dev_file = p.env.path("device.nut");
    let mut w = p.watch(&[]);
    std::fs::write(
        &dev_file,
        "#require \"Promise.lib.nut:4.0.0\"\nserver.log(\"save 0 \" + Promise.hello());\n",
    )
    .unwrap();
    for i in 0..=3 {
        let want = format!("save {i} synthetic promise");
        w.wait_for(&want.clone(), Duration::from_secs(30), move |e| {
            e["event"] == "log" && e["msg"].as_str().is_some_and(|m| m.contains(&want))
        });
        if i < 3 {
            std::fs::write(
                &dev_file,
                format!("#require \"Promise.lib.nut:4.0.0\"\nserver.log(\"save {} \" + Promise.hello());\n", i + 1),
            )
            .unwrap();
        }
    }
    assert_eq!(gh.hits("Promise", "Promise.lib.nut"), 1);
    w.quit();
}

/// Electric Imp's libraries, as their clones hold them today: (repo, file, version, text).
fn peer_libs(names: &[&str]) -> Option<Vec<(String, String, String, String)>> {
    let root = std::env::var("IMPT_LIBS").unwrap_or_else(|_| "/work/peers/libs".into());
    let mut out = Vec::new();
    for n in names {
        let dir = Path::new(&root).join(n);
        let file = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|f| f.ends_with(".lib.nut") || f.ends_with(".class.nut"))?;
        let text = std::fs::read_to_string(dir.join(&file)).ok()?;
        let version = text
            .lines()
            .find_map(|l| {
                let l = l.trim();
                l.strip_prefix("static VERSION = \"")
                    .and_then(|r| r.split('"').next())
            })?
            .to_string();
        out.push((n.to_string(), file, version, text));
    }
    Some(out)
}

/// Serves the clones at their version tags.
pub fn serve_peers(libs: &[(String, String, String, String)]) -> Github {
    Github::serve(
        libs.iter()
            .map(|(r, f, v, t)| {
                (
                    r.as_str(),
                    f.as_str(),
                    Box::leak(format!("v{v}").into_boxed_str()) as &str,
                    t.clone(),
                )
            })
            .collect(),
    )
}

#[test]
fn electric_imps_promise_jsonencoder_messagemanager_and_factorytools_by_require() {
    let Some(libs) = peer_libs(&["Promise", "JSONEncoder", "MessageManager", "FactoryTools"])
    else {
        eprintln!("skipped: no library clones (set IMPT_LIBS)");
        return;
    };
    let v = |n: &str| libs.iter().find(|l| l.0 == n).unwrap().2.clone();
    let gh = serve_peers(&libs);
    let env = Env::start_env(&[], &[("IMPT_GITHUB_API", &gh.base)]);
    let dev = setup(&env);
    write(
        &env,
        "device.nut",
        &format!(
            "#require \"Promise.lib.nut:{}\"\n#require \"MessageManager.lib.nut:{}\"\n\
             #require \"FactoryTools.lib.nut:{}\"\n\
             FactoryTools.isFactoryFirmware(function(f) {{ server.log(\"device factory \" + f); }});\n\
             local mm = MessageManager();\n\
             Promise(function(ok, no) {{ ok(21); }}).then(function(x) {{\n\
                 mm.send(\"double\", x, {{ onReply = function(msg, r) {{ server.log(\"reply \" + r); }} }});\n\
             }});\n",
            v("Promise"),
            v("MessageManager"),
            v("FactoryTools")
        ),
    );
    write(
        &env,
        "agent.nut",
        &format!(
            "#require \"JSONEncoder.class.nut:{}\"\n#require \"MessageManager.lib.nut:{}\"\n\
             #require \"factorytools.class.nut:{}\"\n\
             server.log(\"agent factory \" + FactoryTools.isFactoryFirmware() + \" \" + FactoryTools.getFactoryFixtureURL());\n\
             local mm = MessageManager();\n\
             mm.on(\"double\", function(msg, reply) {{\n\
                 server.log(\"json \" + JSONEncoder.encode({{ got = msg.data }}));\n\
                 reply(msg.data * 2);\n\
             }});\n",
            v("JSONEncoder"),
            v("MessageManager"),
            v("FactoryTools")
        ),
    );
    env.impt(&["build", "run"]).ok();
    wait_log(&env, &dev, "json {\"got\":21}");
    wait_log(&env, &dev, "reply 42");
    // Outside a factory FactoryTools says so on both sides.
    wait_log(&env, &dev, "device factory false");
    wait_log(&env, &dev, "agent factory false null");
    for (repo, file, _, _) in &libs {
        assert_eq!(gh.hits(repo, file), 1, "{repo}");
    }
}

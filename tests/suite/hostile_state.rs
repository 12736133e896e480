//! `impt sim --state`: a write that got its 2xx survives kill -9 (and an acknowledged delete
//! does not come back), SIGTERM saves the rest, no temp file stays behind, and a state file
//! is checked when loaded. Runs the real binary.

use crate::support::Api;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Sim {
    child: Child,
    url: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(state: &Path) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_impt"))
        .args(["sim", "--port", "0", "--devices", "1", "--state"])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://"), "{line:?}");
    Sim { child, url }
}

/// Runs `impt sim --state` expecting it to refuse to start: its stderr.
/// Sends SIGTERM to our own child.
fn sigterm(child: &Child) {
    use rustix::process::{kill_process, Pid, Signal};
    kill_process(Pid::from_child(child), Signal::TERM).unwrap();
}

fn refused(state: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_impt"))
        .args(["sim", "--port", "0", "--state"])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn others(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "state.json" && n != "state.json.logs")
        .collect()
}

fn product(name: &str) -> Value {
    json!({"data": {"type": "product", "attributes": {"name": name}}})
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let created: Arc<Mutex<Vec<String>>> = Default::default();
    let deleted: Arc<Mutex<Vec<String>>> = Default::default();
    // Deletes sent: one without an answer may or may not have happened.
    let tried: Arc<Mutex<Vec<String>>> = Default::default();
    for round in 0..4 {
        let mut sim = start(&state);
        let api = Api::login(&sim.url, "user", "password").await;
        let mut tasks = Vec::new();
        for t in 0..6 {
            let (api, created, deleted) = (api.clone(), created.clone(), deleted.clone());
            let tried = tried.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("r{round}-t{t}-{i}");
                    let Ok(r) = api
                        .client
                        .post(format!("{}/products", api.base))
                        .bearer_auth(api.token.as_ref().unwrap())
                        .header("content-type", "application/vnd.api+json")
                        .body(product(&name).to_string())
                        .send()
                        .await
                    else {
                        return;
                    };
                    if r.status().as_u16() != 201 {
                        return;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        return;
                    };
                    let id = v["data"]["id"].as_str().unwrap().to_string();
                    created.lock().unwrap().push(id.clone());
                    if i % 3 == 0 {
                        tried.lock().unwrap().push(id.clone());
                        let Ok(r) = api
                            .client
                            .delete(format!("{}/products/{id}", api.base))
                            .bearer_auth(api.token.as_ref().unwrap())
                            .send()
                            .await
                        else {
                            return;
                        };
                        if r.status().as_u16() == 204 {
                            deleted.lock().unwrap().push(id);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(700 + 150 * round)).await;
        sim.child.kill().unwrap(); // SIGKILL
        sim.child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
    }
    let sim = start(&state);
    let api = Api::login(&sim.url, "user", "password").await;
    let created = created.lock().unwrap().clone();
    let deleted = deleted.lock().unwrap().clone();
    let tried = tried.lock().unwrap().clone();
    assert!(
        created.len() > 20,
        "too few writes to tell: {}",
        created.len()
    );
    let mut lost = 0;
    let mut back = 0;
    for id in &created {
        let status = api.get(&format!("/products/{id}")).await.status;
        match (deleted.contains(id), status) {
            (false, 404) if !tried.contains(id) => lost += 1,
            (true, 200) => back += 1,
            _ => {}
        }
    }
    assert_eq!(
        (lost, back),
        (0, 0),
        "of {} acknowledged creates {lost} were lost; of {} acknowledged deletes {back} came back",
        created.len(),
        deleted.len()
    );
    assert!(others(dir.path()).is_empty(), "{:?}", others(dir.path()));
}

#[tokio::test]
async fn sigterm_saves_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut sim = start(&state);
    let api = Api::login(&sim.url, "user", "password").await;
    let d = api.device_ids().await[0].clone();
    let root = sim.url.trim_end_matches("/v5").to_string();
    let r = reqwest::Client::new()
        .post(format!("{root}/_sim/devices/{d}/logs"))
        .json(&json!({"message": "before the signal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    loop {
        let r = api.get(&format!("/devices/{d}/logs?page[size]=1")).await;
        if r.body["data"][0]["msg"] == "before the signal" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigterm(&sim.child);
    let status = sim.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("state.json.logs")).unwrap();
    assert!(text.contains("before the signal"));
    assert!(others(dir.path()).is_empty(), "{:?}", others(dir.path()));
}

#[tokio::test]
async fn state_files_are_checked_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    {
        let mut sim = start(&state);
        let api = Api::login(&sim.url, "user", "password").await;
        api.post("/products", product("P")).await;
        sigterm(&sim.child);
        sim.child.wait().unwrap();
    }
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    // Over the log limit, and an interrupted write's temp file: loaded, cut, removed.
    let mut db = good.clone();
    let entry = json!({"ts": "2024-01-01T00:00:00.000Z", "type": "server.log", "msg": "old"});
    db["devices"][0]["logs"] = Value::Array(vec![entry; 5000]);
    std::fs::write(&state, db.to_string()).unwrap();
    std::fs::write(dir.path().join("state.json.tmp"), "{\"half").unwrap();
    {
        let mut sim = start(&state);
        assert!(others(dir.path()).is_empty(), "{:?}", others(dir.path()));
        sigterm(&sim.child);
        sim.child.wait().unwrap();
        let mut err = String::new();
        sim.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
    }
    // The history moved to its own file, cut to the newest entries.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(saved["devices"][0].get("logs").is_none());
    let logs = dir.path().join("state.json.logs");
    let logs: Value = serde_json::from_str(&std::fs::read_to_string(logs).unwrap()).unwrap();
    let id = saved["devices"][0]["id"].as_str().unwrap();
    assert_eq!(logs["devices"][id].as_array().unwrap().len(), 200);
    // Broken rules: refused with a clear message.
    let mut db = good.clone();
    let p = db["products"][0].clone();
    db["products"].as_array_mut().unwrap().push(p);
    std::fs::write(&state, db.to_string()).unwrap();
    assert!(refused(&state).contains("duplicate product id"));
    let mut db = good.clone();
    db["products"][0]["owner"] = "nobody".into();
    std::fs::write(&state, db.to_string()).unwrap();
    assert!(refused(&state).contains("unknown account"));
    std::fs::remove_file(&state).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&state).status();
    assert!(made.unwrap().success(), "mkfifo");
    assert!(refused(&state).contains("not a regular file"));
}

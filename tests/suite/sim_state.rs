//! What `impt sim --state` keeps on disk: files only their owner can read (even under umask
//! 000), no password, token or one-time password as given to clients, device log history
//! apart from the entities and bounded, and an older state file (plaintext secrets, logs
//! inside) migrated on load.

use crate::support::Api;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const PASSWORD: &str = "Pw-9f2c1e-secret";

struct Sim {
    child: Child,
    url: String,
    root: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    /// `impt sim --state STATE` under umask 000.
    fn start(state: &Path) -> Sim {
        let account = format!("owner:{PASSWORD}");
        // Under umask 000, set by a shell that then becomes the sim (no unsafe code here).
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "umask 000 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_impt"),
        ])
        .args([
            "sim",
            "--port",
            "0",
            "--devices",
            "1",
            "--account",
            &account,
        ])
        .arg("--mfa-account")
        .arg("mfa:mfa-pw-7d1:mfa@example.com:424242")
        .arg("--state")
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://"), "{line:?}");
        let root = url.trim_end_matches("/v5").to_string();
        Sim { child, url, root }
    }

    /// SIGTERM (the sim saves everything) and wait.
    fn stop(mut self) {
        use rustix::process::{kill_process, Pid, Signal};
        let _ = kill_process(Pid::from_child(&self.child), Signal::TERM);
        let _ = self.child.wait();
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn state_files_are_private_and_hold_no_usable_secret() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let logs = dir.path().join("state.json.logs");
    let sim = Sim::start(&state);
    let api = Api::login(&sim.url, "owner", PASSWORD).await;
    let anon = Api::anonymous(&sim.url);
    let r = anon
        .post("/auth", json!({"id": "owner", "password": PASSWORD}))
        .await;
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let access = api.token.clone().unwrap();
    let mfa = anon
        .post("/auth", json!({"id": "mfa", "password": "mfa-pw-7d1"}))
        .await;
    assert_eq!(mfa.status, 403, "{}", mfa.body);
    let login_token = mfa.body["errors"][0]["meta"]["login_token"]
        .as_str()
        .or_else(|| mfa.body["meta"]["login_token"].as_str())
        .unwrap_or_else(|| panic!("{}", mfa.body))
        .to_string();
    assert_eq!(
        api.post(
            "/products",
            json!({"data": {"type": "product", "attributes": {"name": "P"}}})
        )
        .await
        .status,
        201
    );
    let device = api.device_ids().await[0].clone();
    let r = api
        .post(
            &format!("{}/_sim/devices/{device}/logs", sim.root),
            json!({"count": 3, "message": "history line {i}"}),
        )
        .await;
    assert_eq!(r.status, 202);
    // The lines are emitted after the 202: stop only once the last one is in the history.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let doc = api.get(&format!("/devices/{device}/logs")).await.body;
        let found = doc["data"].as_array().is_some_and(|a| {
            a.iter()
                .any(|e| e["msg"].as_str() == Some("history line 3"))
        });
        if found {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "history line 3 never logged: {doc}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sim.stop();
    // Both files are the owner's only, though the sim ran under umask 000.
    assert_eq!(mode(&state), 0o600);
    assert_eq!(mode(&logs), 0o600);
    let text = std::fs::read_to_string(&state).unwrap();
    for secret in [PASSWORD, &access, &refresh, &login_token, "424242"] {
        assert!(!text.contains(secret), "{secret:?} is in the state file");
    }
    assert!(text.contains("$argon2id$"), "{text}");
    // The log history is in its own file, not in the entities'.
    assert!(!text.contains("history line"), "{text}");
    assert!(std::fs::read_to_string(&logs)
        .unwrap()
        .contains("history line 3"));
    // Everything still works after a restart: password, refresh token, access token, OTP,
    // log history.
    let sim = Sim::start(&state);
    let again = Api::login(&sim.url, "owner", PASSWORD).await;
    let r = Api::anonymous(&sim.url)
        .post("/auth/token", json!({"token": refresh}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let old = Api {
        token: Some(access),
        ..Api::anonymous(&sim.url)
    };
    assert_eq!(old.get("/products").await.status, 200);
    let r = Api::anonymous(&sim.url)
        .send(
            "POST",
            "/auth",
            Some(json!({"login_token": login_token})),
            &[("x-electricimp-otp-token", "424242")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = again.get(&format!("/devices/{device}/logs")).await;
    assert_eq!(r.body["data"][0]["msg"], "history line 3", "{}", r.body);
    let wrong = Api::anonymous(&sim.url)
        .post("/auth", json!({"id": "owner", "password": "nope"}))
        .await;
    assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn an_older_state_file_is_migrated_and_its_history_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let sim = Sim::start(&state);
    let api = Api::login(&sim.url, "owner", PASSWORD).await;
    let device = api.device_ids().await[0].clone();
    sim.stop();
    // The older format: an account with a plaintext password (one no option names, so
    // the file's password counts), a plaintext token, the log history inside the device.
    let mut db: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let mut legacy = db["accounts"][0].clone();
    legacy.as_object_mut().unwrap().remove("password_hash");
    legacy["id"] = "0a0b0c0d-0000-4000-8000-000000000001".into();
    legacy["username"] = "legacy".into();
    legacy["email"] = "legacy@example.com".into();
    legacy["otp"] = Value::Null;
    legacy["password"] = "old-plain-pw".into();
    db["accounts"].as_array_mut().unwrap().push(legacy);
    db.as_object_mut().unwrap().remove("format");
    db["access_tokens"] = json!([{"token": "old-plain-token",
                                   "account": "0a0b0c0d-0000-4000-8000-000000000001",
                                   "expires_ms": 99_999_999_999_999i64}]);
    let big = "x".repeat(60_000);
    let d = db["devices"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["id"] == device.as_str())
        .unwrap();
    d["logs"] = (0..300)
        .map(|i| json!({"ts": "2024-01-01T00:00:00.000Z", "type": "server.log", "msg": format!("{i} {big}")}))
        .collect();
    std::fs::write(&state, db.to_string()).unwrap();
    std::fs::remove_file(dir.path().join("state.json.logs")).ok();
    let sim = Sim::start(&state);
    let legacy = Api::login(&sim.url, "legacy", "old-plain-pw").await;
    assert_eq!(legacy.get("/products").await.status, 200);
    let old = Api {
        token: Some("old-plain-token".into()),
        ..Api::anonymous(&sim.url)
    };
    let me = old.get("/accounts/me").await;
    assert_eq!(
        me.body["data"]["attributes"]["username"], "legacy",
        "{}",
        me.body
    );
    let api = Api::login(&sim.url, "owner", PASSWORD).await;
    // The newest entries are kept, within the per-device bound.
    let r = api
        .get(&format!("/devices/{device}/logs?page%5Bsize%5D=100"))
        .await;
    let got = r.body["data"].as_array().unwrap().clone();
    assert!(!got.is_empty() && got.len() < 10, "{} entries", got.len());
    assert!(got[0]["msg"].as_str().unwrap().starts_with("299 "));
    // The next acknowledged change rewrites the file in the new form.
    assert_eq!(
        api.post(
            "/products",
            json!({"data": {"type": "product", "attributes": {"name": "Q"}}})
        )
        .await
        .status,
        201
    );
    // (Written before the 201 was sent.)
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("\"Q\""));
    assert!(!text.contains("old-plain-pw") && !text.contains("old-plain-token"));
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
    sim.stop();
}

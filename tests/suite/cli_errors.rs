//! Server errors, dropped connections, rate limits, expired tokens and broken files: every
//! one gives a clear message and exit status 1, never a panic, and leaves files intact.

use crate::support::*;
use serde_json::json;

fn fault(env: &Env, body: serde_json::Value) {
    let (status, _) = env.http("POST", "/_sim/faults", Some(body));
    assert!(status < 300, "fault not accepted: {status}");
}

#[test]
fn server_errors_are_reported_with_their_texts() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    fault(
        &env,
        json!({"status": 500, "count": 1, "path": "^/products$", "method": "GET"}),
    );
    let out = env.impt(&["product", "list"]);
    out.failed()
        .has("Error: Internal Server Error: Fault injected by the simulator.")
        .lacks("panicked");
    // The fault is used up: the same command works again.
    env.impt(&["product", "list"])
        .ok()
        .has("Product list (1 items):");
    fault(
        &env,
        json!({"status": 503, "count": 1, "path": "^/products", "method": "POST"}),
    );
    env.impt(&["product", "create", "-n", "Q", "-z", "json"])
        .failed()
        .has("\"Error\":");
}

#[test]
fn rate_limited_requests_are_retried() {
    let env = Env::start(&[]);
    fault(
        &env,
        json!({"status": 429, "count": 2, "path": "^/products$"}),
    );
    env.impt(&["product", "list"])
        .ok()
        .has("No Products are found.");
    let (_, stats) = env.http("GET", "/_sim/stats", None);
    assert!(
        stats["routes"]["GET /v5/products"].as_u64().unwrap() >= 3,
        "{stats}"
    );
}

#[test]
fn unreachable_endpoint_is_a_network_error() {
    let env = Env::start_no_login(&[]);
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/v5");
    let out = env.impt(&["auth", "login", "-u", USER, "-w", PASSWORD, "-e", &url]);
    out.failed().has(
        "Error: Access to impCentral failed or timed out. Please check your network connection.",
    );
    assert!(!env.home.path().join(".impt.auth").exists());
}

#[test]
fn expired_token_without_refresh_information() {
    let env = Env::start_no_login(&["--token-ttl", "1"]);
    env.impt(&[
        "auth", "login", "-t", "-u", USER, "-w", PASSWORD, "-e", &env.url,
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(1300));
    env.impt(&["product", "list"])
        .failed()
        .has("Error: Access token is expired for the Global Auth File. Information required to refresh access token is not saved.")
        .has("Please relogin using \"impt auth login\" command and then try again.");
    // auth info still succeeds and says so.
    env.impt(&["auth", "info"])
        .ok()
        .has("Access token:              expired");
}

#[test]
fn broken_and_outdated_project_files() {
    let env = Env::start(&[]);
    std::fs::write(env.path(".impt.project"), "[1, 2").unwrap();
    env.impt(&["project", "info"])
        .failed()
        .has("Error: Project File is corrupted.");
    env.impt(&["build", "deploy"])
        .failed()
        .has("Error: Project File is corrupted.");
    assert_eq!(
        std::fs::read_to_string(env.path(".impt.project")).unwrap(),
        "[1, 2",
        "left as it was"
    );
    std::fs::remove_file(env.path(".impt.project")).unwrap();
    env.impt(&["project", "info"])
        .failed()
        .has("Error: Project File is not found in the current directory.");
    env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"])
        .ok();
    let saved = std::fs::read_to_string(env.path(".impt.project")).unwrap();
    let id = serde_json::from_str::<serde_json::Value>(&saved).unwrap()["deviceGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    env.impt(&["dg", "delete", "-g", &id, "-q"]).ok();
    let out = env.impt(&["project", "info"]);
    out.failed()
        .has(&format!(
            "Error: Device Group \"{id}\", saved in Project File, does not exist anymore."
        ))
        .has("Use \"impt project delete\" command to delete the outdated Project.");
    assert_eq!(
        std::fs::read_to_string(env.path(".impt.project")).unwrap(),
        saved
    );
}

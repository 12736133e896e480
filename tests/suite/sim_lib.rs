//! `impt sim` as a library (`impt_sim::start`) and as a process stopped by SIGTERM.

use crate::support::{Api, Sim};
use impt_sim::{start, SimConfig};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn in_process_start_and_shutdown() {
    let h = start(SimConfig::default()).await.unwrap();
    let base = h.base_url();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v5"));
    let api = Api::login(&base, "user", "password").await;
    assert_eq!(api.device_ids().await.len(), 3);
    // A large (3 MiB) deployment is under the 4 MiB body limit.
    let p = api.product("P").await;
    let g = api.group(&p, "development_devicegroup", "G").await;
    let code = format!("// {}\nserver.log(\"x\");", "a".repeat(3 * 1024 * 1024));
    assert_eq!(
        api.deploy(&g, "development_devicegroup", &code, "")
            .await
            .status,
        201
    );
    h.shutdown().await;
    assert!(
        reqwest::get(format!("{base}/products")).await.is_err(),
        "stopped"
    );
}

#[test]
fn sigterm_stops_and_saves_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let mut sim = Sim::start(&["--state", file.to_str().unwrap()]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api = Api::login(sim.url(), "user", "password").await;
        api.post(
            "/products",
            json!({"data": {"type": "product", "attributes": {"name": "saved-on-exit"}}}),
        )
        .await;
    });
    let status = sim
        .terminate(Duration::from_secs(5))
        .expect("did not stop on SIGTERM");
    assert!(status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("saved-on-exit"));
}

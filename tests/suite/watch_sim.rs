//! `impt watch --sim DIR`: the whole loop against an in-process simulator, with no account
//! and no auth file.

use std::time::Duration;

use crate::support::spawn_watch;

#[test]
fn sim_mode_deploys_streams_and_redeploys_without_an_account() {
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    for f in ["device.nut", "agent.nut", "impt.toml"] {
        std::fs::copy(src.join(f), proj.path().join(f)).unwrap();
    }
    let dir = proj.path().to_string_lossy().into_owned();
    let args = ["-z", "json", "--debounce", "100", "--sim", &dir];
    let mut w = spawn_watch(home.path(), home.path(), &args);
    let t = Duration::from_secs(20);
    w.wait_for("the sample's first line", t, |e| {
        e["event"] == "log" && e["msg"] == "Hello from the device!"
    });
    w.wait_for("the agent's line", t, |e| {
        e["event"] == "log" && e["msg"] == "Hello from the agent!"
    });
    assert_eq!(w.all("deployed").len(), 1, "{}", w.dump());
    let text = std::fs::read_to_string(proj.path().join("device.nut")).unwrap();
    std::fs::write(
        proj.path().join("device.nut"),
        text.replace("Hello from the device!", "Edited!"),
    )
    .unwrap();
    w.wait_for("the edited line", t, |e| {
        e["event"] == "log" && e["msg"] == "Edited!"
    });
    assert_eq!(w.all("deployed").len(), 2);
    assert_eq!(w.quit(), 0);
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(left.is_empty(), "files left in HOME: {left:?}");
    assert!(!proj.path().join(".impt.auth").exists());
}

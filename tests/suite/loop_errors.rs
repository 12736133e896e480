//! Runtime errors at the user's file and line (issue #12): the stack frames an imp logs
//! count lines of the deployed, preprocessed code; `build run -l` and `impt watch` map them
//! through the line map of the deployment to the user's own files, includes included, and
//! keep the logged location (JSON `raw_msg`).

use std::time::Duration;

use crate::support::*;

const LIB: &str = "function boom() {\n  local t = {};\n  return t.nope;\n}\n";
const DEVICE: &str = "server.log(\"start\");\n@include \"lib.nut\"\nboom();\n";

#[test]
fn build_run_log_maps_stack_frames_to_the_users_files() {
    let env = Env::start(&[]);
    env.project_with_device();
    std::fs::write(env.path("lib.nut"), LIB).unwrap();
    std::fs::write(env.path("device.nut"), DEVICE).unwrap();
    let mut run = env.spawn(&["build", "run", "-l"]);
    let at = run.wait_for("ERROR:   at ");
    assert!(at.ends_with("ERROR:   at lib.nut:3 (boom)"), "{at}");
    let from = run.wait_for("ERROR:   from ");
    assert!(
        from.ends_with("ERROR:   from device.nut:3 (main)"),
        "{from}"
    );
    assert_eq!(run.interrupt().0, 0);

    // JSON: the mapped line, its file and line, and the line as logged.
    let mut run = env.spawn(&["build", "run", "-l", "-z", "json"]);
    run.wait_for("\"msg\": \"ERROR:   at lib.nut:3 (boom)\"");
    run.wait_for("\"raw_msg\": \"ERROR:   at boom:");
    assert_eq!(run.interrupt().0, 0);
}

#[test]
fn watch_maps_runtime_errors_of_the_code_that_logged_them() {
    let p = project(&[]);
    let mut w = p.watch(&[]);
    p.write("lib.nut", LIB);
    p.write("device.nut", DEVICE);
    w.wait_event("deployed");
    let e = w.wait_for("the mapped frame", Duration::from_secs(20), |e| {
        e["event"] == "log"
            && e["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("ERROR:   at "))
    });
    assert_eq!(e["msg"], "ERROR:   at lib.nut:3 (boom)", "{e}");
    assert_eq!(e["file"], "lib.nut");
    assert_eq!(e["line"], 3);
    assert!(
        e["raw_msg"]
            .as_str()
            .unwrap()
            .starts_with("ERROR:   at boom:"),
        "{e}"
    );
    assert_eq!(w.quit(), 0);
}

#[test]
fn log_get_and_log_stream_in_the_project_map_frames_of_its_code() {
    let env = Env::start(&[]);
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    let dg = out.id_after("Device Group: ");
    let device = env.device_ids()[0].clone();
    env.assign(&dg, &device);
    std::fs::write(env.path("lib.nut"), LIB).unwrap();
    std::fs::write(env.path("device.nut"), DEVICE).unwrap();
    env.impt(&["build", "run"]).ok();
    // The frames are mapped when the stream opens on the code the group runs (the device
    // fails, and restarts, again and again).
    let mut stream = env.spawn(&["log", "stream"]);
    stream.wait_for("Press <Ctrl-C> to exit.");
    let at = stream.wait_for("ERROR:   at ");
    assert!(at.ends_with("ERROR:   at lib.nut:3 (boom)"), "{at}");
    // Other code deployed meanwhile: its frames are not mapped through the project's map.
    std::fs::write(
        env.path("other.nut"),
        "local t = {};\nserver.log(t.nope);\n",
    )
    .unwrap();
    env.impt(&["build", "run", "-x", "other.nut"]).ok();
    let at = stream.wait_for("ERROR:   at main:2");
    assert!(at.ends_with("ERROR:   at main:2"), "{at}");
    assert_eq!(stream.interrupt().0, 0);
    // Back to the project's code for log get.
    env.impt(&["build", "run"]).ok();
    // The device runs it once its frames come after the code load (bounded wait).
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = env.impt(&["log", "get", "-n", "1", "-s", "50"]);
        if out.stdout.contains("ERROR:   from device.nut:3 (main)") {
            out.ok();
            break;
        }
        assert!(std::time::Instant::now() < end, "{}", out.stdout);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Changed local code is not what the device runs: frames stay as logged.
    std::fs::write(env.path("device.nut"), format!("// moved\n{DEVICE}")).unwrap();
    let out = env.impt(&["log", "get", "-n", "1", "-s", "50"]);
    out.ok()
        .lacks("ERROR:   from device.nut:")
        .has("ERROR:   from main:");
}

//! test run against the sim: the test drives the device side by injecting the framework's
//! `__IMPUNIT__` log lines a real device would print, and checks output and exit status.

use crate::support::*;

use std::time::{Duration, Instant};

/// Starts `impt test run <args>` with an empty stdin.
fn start(env: &Env, args: &[&str]) -> Running {
    let mut all = vec!["test", "run"];
    all.extend_from_slice(args);
    let mut run = env.spawn(&all);
    run.close_input();
    run
}

/// Waits for the `n`-th re-assignment that loads the code, then plays the device's
/// restart (the sim does not restart a device re-assigned to its own group), and waits
/// until the session is ready.
fn loaded(run: &mut Running, env: &Env, device: &str, n: usize) {
    run.wait_nth("is assigned successfully to Device Group", n);
    let (status, _) = env.http("POST", &format!("/_sim/devices/{device}/restart"), None);
    assert_eq!(status, 204);
    run.wait_nth("Device code space usage:", n);
}

/// The session id of the `n`-th session (from `Starting test session "<id>[-i]"`).
fn session(run: &mut Running, n: usize, multi: bool) -> String {
    let line = run.wait_nth("Starting test session", n);
    let name = line.split('"').nth(1).unwrap().to_string();
    if multi {
        name.rsplit_once('-').unwrap().0.to_string()
    } else {
        name
    }
}

/// Product P, Device Group DG with `n` devices, `.impt.test` created with `extra` options.
fn setup(n: usize, extra: &[&str]) -> (Env, Vec<String>) {
    setup_on(&[], n, extra)
}

/// [`setup`] on a simulator started with `sim_args`.
fn setup_on(sim_args: &[&str], n: usize, extra: &[&str]) -> (Env, Vec<String>) {
    let env = Env::start(sim_args);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["dg", "create", "-n", "DG", "-p", "P"]).ok();
    let devices: Vec<String> = env.device_ids().into_iter().take(n).collect();
    for d in &devices {
        env.impt(&["device", "assign", "-d", d, "-g", "DG", "-q"])
            .ok();
    }
    let mut args = vec!["test", "create", "-g", "DG"];
    args.extend_from_slice(extra);
    env.impt(&args).ok();
    (env, devices)
}

/// How many lines of `device`'s log history (the newest 100) contain `text`. Logs in once
/// per sim and thread (a login hashes a password: not for every poll).
fn history_count(env: &Env, device: &str, text: &str) -> usize {
    thread_local! {
        static TOKEN: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cached = TOKEN.with(|t| {
            t.borrow()
                .as_ref()
                .filter(|(url, _)| *url == env.url)
                .map(|(_, token)| token.clone())
        });
        let token = match cached {
            Some(t) => t,
            None => {
                let api = Api::login(&env.url, USER, PASSWORD).await;
                let token = api.token.clone().unwrap();
                TOKEN.with(|t| *t.borrow_mut() = Some((env.url.clone(), token.clone())));
                token
            }
        };
        let api = Api {
            token: Some(token),
            ..Api::anonymous(&env.url)
        };
        let r = api.get(&format!("/devices/{device}/logs")).await;
        r.body["data"].as_array().map_or(0, |a| {
            a.iter()
                .filter(|e| e["msg"].as_str().is_some_and(|m| m.contains(text)))
                .count()
        })
    })
}

/// Waits (30 s at most) until `device`'s history has more than `before` lines containing
/// `text`.
fn wait_logged(env: &Env, device: &str, text: &str, before: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while history_count(env, device, text) <= before {
        assert!(Instant::now() < deadline, "{text:?} was never logged");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn emit(env: &Env, device: &str, typ: &str, message: &str) {
    let before = history_count(env, device, message);
    let (status, _) = env.http(
        "POST",
        &format!("/_sim/devices/{device}/logs"),
        Some(serde_json::json!({"type": typ, "message": message})),
    );
    assert_eq!(status, 202);
    // The sim emits each injected line from a task of its own: the next line is sent only
    // once this one is logged, so they stay in order however busy the machine is.
    wait_logged(env, device, message, before);
}

/// Logs one framework message as the tested side of a session would (each line unique, by
/// a serial number the runner ignores, so its arrival can be told).
fn unit(env: &Env, device: &str, side: &str, session: &str, typ: &str, msg: serde_json::Value) {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let line = serde_json::json!({"__IMPUNIT__": 1, "type": typ, "session": session, "message": msg, "serial": n});
    emit(env, device, side, &line.to_string());
}

/// How many device assignments the sim has served.
fn assign_requests(env: &Env) -> u64 {
    let (_, stats) = env.http("GET", "/_sim/stats", None);
    stats["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("POST ") && k.ends_with("/relationships/devices"))
        .map(|(_, v)| v.as_u64().unwrap_or(0))
        .sum()
}

fn write(env: &Env, name: &str, text: &str) {
    let p = env.path(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The sim runs the deployed framework for real; these tests script the framework's
/// messages instead, so their test files first silence it (timers never fire, so the
/// bootstrap never starts), on the first line to keep line numbers.
const PASSING: &str = "::imp.wakeup = function(t, f) { return 0; }; \
    class MyCase extends ImpTestCase {\n  function testOne() { this.assertTrue(true); }\n}\n";

/// Run by the sim's VM for real.
const REAL: &str = "class MyCase extends ImpTestCase {\n  \
    function testOne() { this.assertTrue(true); server.log(\"one ran\"); }\n  \
    function testTwo() { this.assertEqual(2, 1 + 1); }\n}\n";

#[test]
fn the_framework_really_runs_in_the_sim() {
    let (env, _devices) = setup(1, &["-t", "5"]);
    write(&env, "real.device.test.nut", REAL);
    let out = env.impt(&["test", "run"]);
    out.ok()
        .has("MyCase::testOne()")
        .has("MyCase::testTwo()")
        .has("Tests: 2, Assertions: 2, Failures: 0");
}

/// Failing assertions of every kind, run by the sim's VM: their messages are the original
/// framework's texts, which users' scripts and the original's suite match.
const FAILING: &str = "class Asserts extends ImpTestCase {\n  \
    function testClose() { this.assertClose(9, 10, 0.5); }\n  \
    function testBetween() { this.assertBetween(10, 11, 12); }\n  \
    function testDeep() { this.assertDeepEqual({a = 1, b = {c = 3}}, {a = 1, b = {}}); }\n  \
    function testExtra() { this.assertDeepEqual({b = {c = 3}}, {b = {c = 3, d = 4}}); }\n  \
    function testEqual() { this.assertEqual(true, false); }\n  \
    function testGreater() { this.assertGreater(2, 2); }\n  \
    function testThrows() { this.assertThrowsError(function () {}, this); }\n}\n";

#[test]
fn assertion_messages_are_the_original_framework_texts() {
    let (env, _devices) = setup(1, &["-t", "5"]);
    write(&env, "asserts.device.test.nut", FAILING);
    let out = env.impt(&["test", "run"]);
    out.failed()
        .has("Expected value: 9±0.5, got: 10")
        .has("Expected value the range of 11..12, got 10")
        .has("Comparison failed on 'b.c': expected 3, got none")
        .has("Comparison failed on 'b.d': expected none, got 4")
        .has("Expected value: true, got: false")
        .has("Failed to assert that 2 > 2")
        .has("Function was expected to throw an error")
        .has("Tests: 7, Assertions: 7, Failures: 7")
        .has("Testing failed");
}

#[test]
fn passing_device_test() {
    let (env, devices) = setup(1, &["-t", "7"]);
    write(&env, "tests/pass.device.test.nut", PASSING);
    write(&env, "tests/pass.agent.nut", "// partner agent code\n");
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    let d = &devices[0];
    loaded(&mut run, &env, d, 0);
    let s = "server.log";
    unit(&env, d, s, &id, "SESSION_START", "".into());
    unit(
        &env,
        d,
        "agent.log",
        &id,
        "TEST_START",
        "ignored (other side)".into(),
    );
    unit(
        &env,
        d,
        s,
        "other-session",
        "TEST_START",
        "ignored (other session)".into(),
    );
    unit(&env, d, s, &id, "TEST_START", "MyCase::testOne()".into());
    unit(
        &env,
        d,
        s,
        &id,
        "INFO",
        serde_json::json!({"message": {"k": 1}}),
    );
    unit(&env, d, s, &id, "TEST_OK", serde_json::Value::Null);
    unit(&env, d, s, &id, "TEST_START", "MyCase::testTwo()".into());
    unit(&env, d, s, &id, "TEST_OK", "done".into());
    unit(
        &env,
        d,
        s,
        &id,
        "SESSION_RESULT",
        serde_json::json!({"tests": 2, "assertions": 3, "failures": 0}),
    );
    let out = run.finish();
    out.ok()
        .has("[info] Started at ")
        .has("info] Found 1 test file(s):\n\ttests/pass.device.test.nut (tests/pass.agent.nut)\n")
        .has("info] Have no agent source file, using blank\n")
        .has("info] Using device test file \"tests/pass.device.test.nut\"\n")
        .has("info] Using Device Group \"DG\" [")
        .has("info] Created Deployment: ")
        .has(&format!("test] Starting test session \"{id}\"\n"))
        .has(&format!("info] Using Device device-1 [{d}] (1/1)\n"))
        .has(&format!("Warning: please ensure imp device {d} is online."))
        .has(&format!(
            "Device \"{d}\" is assigned successfully to Device Group \""
        ))
        .has("test] MyCase::testOne()\n")
        .has("test] {\"k\":1}\n")
        .has("test] Success\n")
        .has("test] Success: done\n")
        .has("test] Tests: 2, Assertions: 3, Failures: 0\n")
        .has(&format!("test] Session \"{id}\" succeeded\n"))
        .has("info] -------------TEST SUMMARY-------------\n\n")
        .has("info] Tests: 2, Assertions: 3, Failures: 0\n")
        .has("info] --------------------------------------\n")
        .has("info] Testing succeeded\nIMPT COMMAND SUCCEEDS\n")
        .lacks("ignored");
    // blank lines around the summary header; timing prefixes after the first line
    assert!(
        regex::Regex::new(r"succeeded\n\n\[\+[^\]]*info\] -------------TEST SUMMARY")
            .unwrap()
            .is_match(&out.stdout)
    );
    assert!(
        regex::Regex::new(r"\[\+\d+\.\d\d/\d+\.\d\ds test\] MyCase::testOne\(\)")
            .unwrap()
            .is_match(&out.stdout)
    );
    // the deployment: framework and bootstrap on the device, the partner on the agent
    let (_, deps) = env.http("GET", "/deployments", None);
    let dep = &deps["data"].as_array().unwrap()[0]["attributes"];
    let device_code = dep["device_code"].as_str().unwrap();
    assert!(device_code.contains("__module_impUnit_exports <- {};"));
    assert!(device_code.contains(&format!("runner.session = \"{id}\";")));
    assert!(device_code.contains("runner.timeout = 7;"));
    assert!(device_code.contains("class MyCase extends ImpTestCase"));
    assert!(dep["agent_code"]
        .as_str()
        .unwrap()
        .contains("// partner agent code"));
}

#[test]
fn failing_test_and_summary() {
    let (env, devices) = setup(1, &[]);
    write(&env, "dev.nut", "// app\n");
    env.impt(&["test", "update", "-x", "dev.nut"]).ok();
    write(&env, "a.test.nut", PASSING);
    let before = assign_requests(&env);
    let mut run = start(&env, &["-z", "minimal"]);
    let id = session(&mut run, 0, false);
    let d = &devices[0];
    // minimal mode prints no info lines to wait for: watch the sim for the re-assignment
    let deadline = Instant::now() + Duration::from_secs(20);
    while assign_requests(&env) < before + 1 {
        assert!(Instant::now() < deadline, "no re-assignment");
        std::thread::sleep(Duration::from_millis(20));
    }
    // the restart's boot loads the code: its code space line tells the session is ready
    let booted = history_count(&env, d, "program storage used");
    env.http("POST", &format!("/_sim/devices/{d}/restart"), None);
    wait_logged(&env, d, "program storage used", booted);
    let s = "server.log";
    unit(&env, d, s, &id, "SESSION_START", "".into());
    unit(&env, d, s, &id, "TEST_START", "MyCase::testBad()".into());
    unit(
        &env,
        d,
        s,
        &id,
        "TEST_FAIL",
        "Expected value: 1, got: 2".into(),
    );
    unit(&env, d, s, &id, "TEST_START", "MyCase::testGood()".into());
    unit(&env, d, s, &id, "TEST_OK", serde_json::Value::Null);
    emit(&env, d, "server.error", "the index 'x' does not exist");
    unit(
        &env,
        d,
        s,
        &id,
        "SESSION_RESULT",
        serde_json::json!({"tests": 2, "assertions": 2, "failures": 1}),
    );
    let out = run.finish();
    out.failed()
        .has("test] Failure: Expected value: 1, got: 2\n")
        .has("test] MyCase::testGood()\n")
        .has("test] Device Runtime Error: the index 'x' does not exist\n")
        .has(&format!("test] Session \"{id}\" failed\n"))
        .has("Error: Testing failed\n")
        // minimal: no info lines, no status line
        .lacks("[info]")
        .lacks("TEST SUMMARY")
        .lacks("IMPT COMMAND");

    // default mode: the summary lists the failure
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(&env, d, s, &id, "SESSION_START", "".into());
    unit(&env, d, s, &id, "TEST_START", "MyCase::testBad()".into());
    unit(&env, d, s, &id, "TEST_FAIL", "boom".into());
    unit(
        &env,
        d,
        s,
        &id,
        "SESSION_RESULT",
        serde_json::json!({"tests": 1, "assertions": 0, "failures": 1}),
    );
    let out = run.finish();
    out.failed()
        .has("info] Using device source file: dev.nut\n")
        .has("info] 1) MyCase::testBad()\n")
        .has("info] at a.test.nut\n")
        .has("info] Error: boom\n")
        .has("info] Tests: 1, Assertions: 0, Failures: 1\n")
        .has("info] Testing failed\nError: Testing failed\nIMPT COMMAND FAILS\n");
}

#[test]
fn agent_test_on_two_devices_and_external_command() {
    let (env, devices) = setup(2, &[]);
    write(&env, "my.agent.test.nut", PASSING);
    let mut run = start(&env, &[]);
    for (i, d) in devices.iter().enumerate() {
        let id = session(&mut run, i, true);
        loaded(&mut run, &env, d, i);
        let a = "agent.log";
        unit(&env, d, a, &id, "SESSION_START", "".into());
        unit(
            &env,
            d,
            "server.log",
            &id,
            "TEST_FAIL",
            "device side is not tested".into(),
        );
        unit(&env, d, a, &id, "TEST_START", "MyCase::testOne()".into());
        unit(
            &env,
            d,
            a,
            &id,
            "EXTERNAL_COMMAND",
            serde_json::json!({"command": "echo hello; echo world"}),
        );
        unit(&env, d, a, &id, "TEST_OK", serde_json::Value::Null);
        unit(
            &env,
            d,
            a,
            &id,
            "SESSION_RESULT",
            serde_json::json!({"tests": 1, "assertions": 1, "failures": 0}),
        );
        run.wait_nth(&format!("Session \"{id}-{}\" succeeded", i + 1), 0);
    }
    let out = run.finish();
    out.ok()
        .has("info] Test session is agent-only\n")
        .has("(1/2)\n")
        .has("(2/2)\n")
        .has("info] Running external command: echo hello; echo world\n")
        .has("> hello\n> world\n")
        .has("info] Tests: 2, Assertions: 2, Failures: 0\n")
        .lacks("Warning: please ensure")
        .lacks("device side is not tested");
}

#[test]
fn timeout_stop_on_fail_and_state_errors() {
    let (env, devices) = setup(1, &["-t", "1", "-s"]);
    write(&env, "a.test.nut", PASSING);
    write(&env, "b.test.nut", PASSING);
    let d = &devices[0];
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(&env, d, "server.log", &id, "SESSION_START", "".into());
    unit(
        &env,
        d,
        "server.log",
        &id,
        "TEST_START",
        "MyCase::testSlow()".into(),
    );
    // nothing more: the test messages watchdog fires after timeout + 5 s
    let out = run.finish();
    out.failed()
        .has("error] Testing timeout\n")
        .has(&format!("Session \"{id}\" failed"))
        .lacks("Using device test file \"b.test.nut\"")
        .has("Error: Testing failed");

    // a message before the session started is a state error
    let mut run = start(&env, &["--tests", "b.test"]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(
        &env,
        d,
        "server.log",
        &id,
        "TEST_START",
        "MyCase::testOne()".into(),
    );
    let out = run.finish();
    out.failed()
        .has("Found 1 test file(s):\n\tb.test.nut\n")
        .has("error] Invalid test session state\n");
}

#[test]
fn no_files_no_devices_skip_and_debug() {
    let (env, _devices) = setup(0, &[]);
    env.impt(&["test", "run"])
        .failed()
        .has("Error: No test files found\n");
    write(&env, "a.test.nut", PASSING);
    env.impt(&["test", "run"])
        .failed()
        .has("Found 1 test file(s):")
        .has("does not have assigned Devices.");
    let dev = env.device_ids()[0].clone();
    env.impt(&["device", "assign", "-d", &dev, "-g", "DG", "-q"])
        .ok();
    // selection of a class the file lacks: skipped, debug mode writes the sources
    let out = env.impt(&["test", "run", "-t", ":Other", "-z", "debug"]);
    out.ok()
        .has("info] Skip \"a.test.nut\" testing\n")
        .has("Tests: 0, Assertions: 0, Failures: 0")
        .has("Testing succeeded");
    std::fs::create_dir(env.path(".builder-cache")).unwrap();
    env.impt(&["test", "run", "-e", "-t", ":Other"])
        .ok()
        .has("Builder cache .builder-cache directory is deleted successfully.\n[info] Started at ");
    assert!(!env.path(".builder-cache").exists());
    let out = env.impt(&["test", "run", "-t", ":Other", "-z", "json"]);
    assert_eq!(out.ok().stdout, "{}\n");
    let out = env.impt(&["test", "run", "-t", "zzz"]);
    out.failed().has("Error: No test files found");
    // a file's class selected: debug output and the preprocessed sources
    let mut run = start(&env, &["-t", "a.test.nut:MyCase::testOne", "-z", "debug"]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, &dev, 0);
    unit(&env, &dev, "server.log", &id, "SESSION_START", "".into());
    unit(
        &env,
        &dev,
        "server.log",
        &id,
        "SESSION_RESULT",
        serde_json::json!({"tests": 0, "assertions": 0, "failures": 0}),
    );
    let out = run.finish();
    out.ok()
        .has("[debug:TestHelper] Device code size: ")
        .has("[debug:TestLogsParser] Log line received: ");
    let pre = std::fs::read_to_string(env.path(".build/preprocessed.device.a.test.nut")).unwrap();
    assert!(
        pre.contains("runner.testClass = \"MyCase\";")
            && pre.contains("runner.testCase = \"testOne\";")
    );
    assert!(env.path(".build/preprocessed.agent.a.test.nut").exists());
}

#[test]
fn builder_variables_compile_error_and_builder_error() {
    let (env, devices) = setup(1, &["-j", "vars.json", "-i", "gh.json"]);
    write(&env, "vars.json", "{\"GREETING\": \"hello\"}");
    write(
        &env,
        "gh.json",
        "{\"githubUser\": \"u\", \"githubToken\": \"t\"}",
    );
    write(&env, "1.test.nut", "//#sim-compile-error boom\n");
    write(
        &env,
        "2.test.nut",
        "local greeting = \"@{GREETING}\";\nclass B extends ImpTestCase {\n  function testB() {}\n}\n",
    );
    let d = &devices[0];
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(&env, d, "server.log", &id, "SESSION_START", "".into());
    unit(
        &env,
        d,
        "server.log",
        &id,
        "SESSION_RESULT",
        serde_json::json!({"tests": 1, "assertions": 0, "failures": 0}),
    );
    let out = run.finish();
    out.failed()
        .lacks("is not found")
        .has("info] Using device test file \"1.test.nut\"\n")
        .has("error] impCentral API error HTTP/400\n")
        .has("Error: ")
        .has("boom")
        .has("info] Using device test file \"2.test.nut\"\n")
        .has(&format!("test] Session \"{id}\" succeeded\n"))
        .has("info] Tests: 1, Assertions: 0, Failures: 0\n")
        .has("info] Testing failed\nError: Testing failed\n");
    let (_, deps) = env.http("GET", "/deployments", None);
    let codes: Vec<String> = deps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attributes"]["device_code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes
        .iter()
        .any(|c| c.contains("local greeting = \"hello\";")));

    // a preprocessing error ends the run before any deployment
    std::fs::remove_file(env.path("1.test.nut")).unwrap();
    write(&env, "2.test.nut", "@include \"missing.nut\"\n");
    env.impt(&["test", "run"])
        .failed()
        .has("Error: ")
        .has("missing.nut")
        .lacks("Created Deployment")
        .lacks("TEST SUMMARY");
}

#[test]
fn disconnects_and_failing_external_command() {
    let (env, devices) = setup(1, &[]);
    write(&env, "a.test.nut", PASSING);
    let d = &devices[0];
    let s = "server.log";
    // a disconnect during the session fails it
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(&env, d, s, &id, "SESSION_START", "".into());
    env.http("POST", &format!("/_sim/devices/{d}/offline"), None);
    let out = run.finish();
    out.failed()
        .has("test] Device disconnected\n")
        .has(&format!("Session \"{id}\" failed"));

    // allowed by config: only noted; a failing external command ends the session
    env.http("POST", &format!("/_sim/devices/{d}/online"), None);
    env.impt(&["test", "update", "-a"]).ok();
    let mut run = start(&env, &[]);
    let id = session(&mut run, 0, false);
    loaded(&mut run, &env, d, 0);
    unit(&env, d, s, &id, "SESSION_START", "".into());
    env.http("POST", &format!("/_sim/devices/{d}/offline"), None);
    run.wait_nth("Disconnected. Allowed by config.", 0);
    unit(&env, d, s, &id, "TEST_START", "MyCase::testCmd()".into());
    unit(
        &env,
        d,
        s,
        &id,
        "EXTERNAL_COMMAND",
        serde_json::json!({"command": "echo out; exit 3"}),
    );
    let out = run.finish();
    out.failed()
        .has("info] Disconnected. Allowed by config.\n")
        .has("> out\n")
        .has("error] External command failed with exit code 3\n")
        .has(&format!("Session \"{id}\" failed"))
        .lacks("test] Device disconnected");
}

/// Waits an hour of `imp.wakeup` (passes), and a test that never ends (fails by the
/// framework's own timeout, two hours): real time would take hours.
const HOURS: &str = "class Waits extends ImpTestCase {\n  \
    function testHour() {\n    \
        local start = time();\n    \
        return Promise(function (ok, err) {\n      \
            imp.wakeup(3600, function () { ok(time() - start); });\n    \
        }).then(function (waited) {\n      \
            this.assertTrue(waited >= 3600, \"waited \" + waited);\n      \
            server.log(\"waited \" + waited + \" s\");\n    \
        }.bindenv(this));\n  \
    }\n  \
    function testForever() { return Promise(function (ok, err) {}); }\n}\n";

#[test]
fn virtual_time_runs_hours_of_waiting_at_once_and_is_restored() {
    let (env, _devices) = setup(1, &["-t", "7200"]);
    write(&env, "waits.device.test.nut", HOURS);
    let (_, before) = env.http("GET", "/_sim/time", None);
    assert_eq!(before["virtual"], false, "{before}");
    let mut run = start(&env, &["--virtual-time"]);
    // Bounded well under the hours the tests wait: only virtual time can end it in time.
    let end = run.wait_within("Testing failed", Duration::from_secs(120));
    assert!(end.is_some(), "the run did not end on virtual time");
    let out = run.finish();
    out.failed()
        .has("Waits::testHour()")
        .has("Waits::testForever()")
        .has("Test timed out after 7200s")
        .has("Tests: 2, Assertions: 1, Failures: 1");
    // The simulator's clock jumped the hours, and is back to real time.
    let (_, after) = env.http("GET", "/_sim/time", None);
    assert_eq!(after["virtual"], false, "{after}");
    // (the jumps skip what real time has not covered: the hours less the run's seconds)
    assert!(
        after["skipped"].as_f64().unwrap() > 3600.0 + 7200.0 - 60.0,
        "{after}"
    );
    // The waited time is the virtual clock's.
    let (_, logs) = env.http("GET", &format!("/devices/{}/logs", _devices[0]), None);
    // (`time()` counts whole seconds: 3600 or 3601)
    assert!(logs.to_string().contains("waited 360"), "{logs}");
}

#[test]
fn virtual_time_leaves_a_simulator_on_virtual_time_as_it_was() {
    // A simulator already on virtual time stays on it after the run.
    let (env, _devices) = setup_on(&["--virtual-time"], 1, &["-t", "100"]);
    write(
        &env,
        "nap.device.test.nut",
        "class Nap extends ImpTestCase {\n  function testNap() {\n    \
         return Promise(function (ok, err) { imp.wakeup(50, ok); });\n  }\n}\n",
    );
    env.impt(&["test", "run", "--virtual-time"])
        .ok()
        .has("Tests: 1, Assertions: 0, Failures: 0");
    let (_, after) = env.http("GET", "/_sim/time", None);
    assert_eq!(after["virtual"], true, "{after}");
}

#[test]
fn virtual_time_is_switched_back_on_ctrl_c_and_on_an_error() {
    let (env, devices) = setup(1, &[]);
    write(&env, "a.device.test.nut", PASSING);
    let virtual_now = || env.http("GET", "/_sim/time", None).1["virtual"].clone();
    // Ctrl-C while the run waits for its device (the sim does not restart a device
    // re-assigned to its own group: see `loaded`).
    let mut run = start(&env, &["--virtual-time"]);
    run.wait_nth("is assigned successfully to Device Group", 0);
    assert_eq!(virtual_now(), true, "the run switched virtual time on");
    let (code, rest) = run.interrupt();
    assert_eq!(code, 1, "{rest}");
    assert!(
        rest.contains("Testing interrupted (Ctrl-C); the simulator is back on real time."),
        "{rest}"
    );
    assert_eq!(
        virtual_now(),
        false,
        "Ctrl-C left the simulator on virtual time"
    );
    // Ctrl-C during a parallel run also removes its temporary lanes (Device Group and
    // virtual device).
    write(&env, "b.device.test.nut", PASSING);
    let count = |path: &str| {
        env.http("GET", path, None).1["data"]
            .as_array()
            .unwrap()
            .len()
    };
    let (groups, all_devices) = (count("/devicegroups"), count("/devices"));
    let mut run = start(&env, &["--virtual-time", "--jobs", "2"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count("/devicegroups") == groups {
        assert!(std::time::Instant::now() < deadline, "no lane was made");
        run.pump(std::time::Instant::now() + Duration::from_millis(50));
    }
    let (code, rest) = run.interrupt();
    assert_eq!(code, 1, "{rest}");
    assert_eq!(
        count("/devicegroups"),
        groups,
        "a lane's Device Group is left"
    );
    assert_eq!(count("/devices"), all_devices, "a lane's device is left");
    assert_eq!(virtual_now(), false);
    std::fs::remove_file(env.path("b.device.test.nut")).unwrap();
    // An error after the switch: the group has no device any more.
    env.impt(&["device", "unassign", "-d", &devices[0]]).ok();
    env.impt(&["test", "run", "--virtual-time"])
        .failed()
        .has("does not have assigned Devices");
    assert_eq!(
        virtual_now(),
        false,
        "an error left the simulator on virtual time"
    );
}

/// An agent test whose device answers a message at once, on a device that takes 3 s to
/// download its code: the tests start once the device's code runs or, as the original,
/// 2 s after loading, so the answer comes within the test's 2 s (at once, it would not).
#[test]
fn an_agent_test_starts_once_its_device_runs() {
    let (env, _devices) = setup_on(&["--device-boot-delay", "3"], 1, &["-t", "30"]);
    write(
        &env,
        "ping.agent.test.nut",
        "class Ping extends ImpTestCase {\n  function testPing() {\n    \
         return Promise(function (ok, err) {\n      \
         device.on(\"pong\", function (_) { ok(); });\n      \
         device.send(\"ping\", null);\n      \
         imp.wakeup(2, function () { err(\"no pong within 2 s\"); });\n    \
         });\n  }\n}\n",
    );
    write(
        &env,
        "ping.device.nut",
        "agent.on(\"ping\", function (_) { agent.send(\"pong\", null); });\n",
    );
    for args in [&["--virtual-time"][..], &[]] {
        let mut all = vec!["test", "run"];
        all.extend_from_slice(args);
        env.impt(&all)
            .ok()
            .has("Tests: 1, Assertions: 0, Failures: 0")
            .lacks("no pong");
    }
}

/// A stand-in for an endpoint that is not the simulator: passes API requests on to the sim
/// (one connection each) and answers 404 under `/_sim/`, as any other server would.
fn not_a_simulator(sim_root: &str) -> String {
    use std::io::{Read, Write};
    let target = sim_root.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let target = target.clone();
            std::thread::spawn(move || {
                let mut req = Vec::new();
                let mut buf = [0u8; 8192];
                let head_end = loop {
                    let n = conn.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&req[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while req.len() < head_end + length {
                    let n = conn.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let path = head.split(' ').nth(1).unwrap_or("");
                if path.starts_with("/_sim") {
                    let _ = conn.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                }
                // one request per connection: the sim closes after answering
                let mut lines: Vec<&str> = head[..head_end - 4]
                    .split("\r\n")
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .collect();
                lines.push("connection: close");
                let mut out = std::net::TcpStream::connect(&target).unwrap();
                out.write_all(format!("{}\r\n\r\n", lines.join("\r\n")).as_bytes())
                    .unwrap();
                out.write_all(&req[head_end..]).unwrap();
                let mut answer = Vec::new();
                let _ = out.read_to_end(&mut answer);
                let _ = conn.write_all(&answer);
            });
        }
    });
    format!("http://127.0.0.1:{port}/v5")
}

#[test]
fn virtual_time_is_refused_when_the_endpoint_is_not_the_simulator() {
    let (env, _devices) = setup(1, &[]);
    write(&env, "a.test.nut", PASSING);
    let url = not_a_simulator(env.url.trim_end_matches("/v5"));
    env.impt(&[
        "auth", "login", "-u", USER, "-w", PASSWORD, "-e", &url, "-q",
    ])
    .ok();
    // the API answers through the stand-in
    env.impt(&["test", "info"]).ok().has("DG");
    env.impt(&["test", "run", "--virtual-time"])
        .failed()
        .has("--virtual-time needs impt sim");
}

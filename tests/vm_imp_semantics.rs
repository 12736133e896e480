//! Squirrel as the imp runs it and the imp API as Electric Imp documents it: each test runs a
//! Squirrel snippet in a device or agent VM; the snippet calls `check(cond, what)`, which
//! throws on failure, and the test asserts the run (and any timers it set) succeeded.

use std::sync::{Arc, Mutex};

use impt::vm::{Host, Limits, LogKind, Side, Value, Vm};

#[derive(Clone)]
struct TestHost {
    side: Side,
    logs: Arc<Mutex<Vec<String>>>,
    now: Arc<Mutex<f64>>,
}

impl Host for TestHost {
    fn side(&self) -> Side {
        self.side
    }
    fn log(&mut self, _kind: LogKind, message: &str) {
        self.logs.lock().unwrap().push(message.to_string());
    }
    fn now(&self) -> f64 {
        *self.now.lock().unwrap()
    }
    fn send(&mut self, _name: &str, _data: Value) {}
}

const CHECK: &str = r#"
function check(cond, what) { if (!cond) throw "check failed: " + what; }
function same(want, got, what) {
    if (want != got) throw "check failed: " + what + ": expected " + want + ", got " + got;
}
"#;

/// Runs `code` on `side`, then every timer it sets (advancing virtual time up to 1000 s);
/// returns the log lines, panicking with the error of a failed run.
fn run_on(side: Side, code: &str) -> Vec<String> {
    let host = TestHost {
        side,
        logs: Arc::new(Mutex::new(Vec::new())),
        now: Arc::new(Mutex::new(1_700_000_000.0)),
    };
    let mut vm = Vm::new(Limits::default(), Box::new(host.clone())).expect("vm");
    let src = format!("{CHECK}\n{code}");
    if let Err(e) = vm.run_main(&src, "snippet.nut") {
        panic!("{e}\nlogs: {:?}", host.logs.lock().unwrap());
    }
    for _ in 0..10_000 {
        let Some(t) = vm.next_timer() else { break };
        if t.due > 1_700_001_000.0 {
            break;
        }
        *host.now.lock().unwrap() = t.due;
        if let Err(e) = vm.fire_timer(t.id) {
            panic!("{e}\nlogs: {:?}", host.logs.lock().unwrap());
        }
    }
    let logs = host.logs.lock().unwrap().clone();
    logs
}

fn device(code: &str) -> Vec<String> {
    run_on(Side::Device, code)
}

fn agent(code: &str) -> Vec<String> {
    run_on(Side::Agent, code)
}

#[test]
fn integers_are_32_bit_and_wrap() {
    device(
        r#"
        same(-2147483648, 1 << 31, "1 << 31");
        same(0, 1 << 32, "shift by 32");
        same(-2147483648, 2147483647 + 1, "overflow on +");
        same(2147483647, -2147483647 - 2, "overflow on -");
        same(-2, 0x7fffffff * 2, "overflow on *");
        same(-1, 0xFFFFFFFF, "hex literal");
        same(0x7fffffff, -1 >>> 1, "unsigned shift");
        same(-1, -1 >> 31, "signed shift");
        local i = 2147483647; i++;
        same(-2147483648, i, "increment");
        local t = { n = 2147483647 }; t.n += 1;
        same(-2147483648, t.n, "compound");
        same(-2147483648, -(-2147483648), "negation");
        same(4, (0xA5A5A5A5 >> 28) & 0xF ^ 0xE, "mixed");
    "#,
    );
}

#[test]
fn string_bytes_are_unsigned() {
    device(
        r#"
        local s = "\xff\x80a";
        local got = [];
        foreach (b in s) got.push(b);
        same(255, got[0], "foreach byte 0");
        same(128, got[1], "foreach byte 1");
        same(97, got[2], "foreach byte 2");
        same(255, s[0], "index");
    "#,
    );
}

#[test]
fn bindenv_keeps_its_environment_alive() {
    let logs = device(
        r#"
        class Holder {
            value = 42;
            function report() { server.log("value " + this.value); }
        }
        function schedule() {
            local h = Holder();
            imp.wakeup(0.1, h.report.bindenv(h));
        }
        schedule();
        collectgarbage();
    "#,
    );
    assert_eq!(logs, vec!["value 42".to_string()]);
}

#[test]
fn functions_stored_on_imp_see_the_root_table() {
    device(
        r#"
        ::answer <- 42;
        imp.helper <- function() { return answer; };
        same(42, imp.helper(), "root fall-through");
        local caught = null;
        try { imp.nosuchcall(); } catch (e) { caught = e; }
        check(caught != null && caught.find("not supported") != null, "missing API error");
    "#,
    );
}

//! The Squirrel VM and the imp API it offers to deployed code.

use std::sync::{Arc, Mutex};

use impt_vm::{
    compile_check, ErrorKind, Host, HttpRequest, HttpResponse, Limits, LogKind, Side, Value, Vm,
};

/// What a test host saw, shared with the test.
#[derive(Default)]
struct Seen {
    logs: Vec<(LogKind, String)>,
    sent: Vec<(String, Value)>,
    now: f64,
    saved: Option<Value>,
    nv: Option<Value>,
    pins: Vec<(String, Value)>,
    late_responses: Vec<(u64, HttpResponse)>,
}

#[derive(Clone)]
struct TestHost {
    side: Side,
    seen: Arc<Mutex<Seen>>,
}

impl TestHost {
    fn new(side: Side) -> TestHost {
        let seen = Seen {
            now: 1_700_000_000.0,
            ..Seen::default()
        };
        TestHost {
            side,
            seen: Arc::new(Mutex::new(seen)),
        }
    }
    fn logs(&self) -> Vec<String> {
        let s = self.seen.lock().unwrap();
        s.logs.iter().map(|(_, m)| m.clone()).collect()
    }
    fn set_now(&self, t: f64) {
        self.seen.lock().unwrap().now = t;
    }
    fn take_sent(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.seen.lock().unwrap().sent)
    }
}

impl Host for TestHost {
    fn side(&self) -> Side {
        self.side
    }
    fn log(&mut self, kind: LogKind, message: &str) {
        self.seen
            .lock()
            .unwrap()
            .logs
            .push((kind, message.to_string()));
    }
    fn now(&self) -> f64 {
        self.seen.lock().unwrap().now
    }
    fn send(&mut self, name: &str, data: Value) {
        self.seen
            .lock()
            .unwrap()
            .sent
            .push((name.to_string(), data));
    }
    fn mac_address(&self) -> String {
        "0c2a69aabbcc".into()
    }
    fn save(&mut self, data: Value) -> Result<(), String> {
        self.seen.lock().unwrap().saved = Some(data);
        Ok(())
    }
    fn load(&mut self) -> Value {
        let s = self.seen.lock().unwrap();
        s.saved.clone().unwrap_or(Value::Table(vec![]))
    }
    fn load_nv(&mut self) -> Value {
        self.seen.lock().unwrap().nv.clone().unwrap_or(Value::Null)
    }
    fn store_nv(&mut self, nv: &Value) {
        self.seen.lock().unwrap().nv = Some(nv.clone());
    }
    fn pin_written(&mut self, pin: &str, value: &Value) {
        self.seen
            .lock()
            .unwrap()
            .pins
            .push((pin.into(), value.clone()));
    }
    fn http_response(&mut self, request_id: u64, response: HttpResponse) {
        let mut s = self.seen.lock().unwrap();
        s.late_responses.push((request_id, response));
    }
}

fn vm(side: Side) -> (Vm, TestHost) {
    let host = TestHost::new(side);
    let vm = Vm::new(Limits::default(), Box::new(host.clone())).expect("vm starts");
    (vm, host)
}

#[test]
fn compile_error_reports_row_and_column() {
    assert_eq!(
        compile_check("local a = 1;\nserver.log(a);\n", "device.nut"),
        Ok(())
    );
    let err = compile_check("local a = 1;\nlocal b = ;\n", "device.nut").unwrap_err();
    assert_eq!(err.row, 2);
    // Squirrel's lexer column, as the imp compiler reports it: just past the bad token.
    assert_eq!(err.column, 12);
    assert_eq!(err.text, "expression expected");

    let err = compile_check("function f() {\n  return 1\n", "agent.nut").unwrap_err();
    assert_eq!(err.row, 3, "{err:?}");

    // run_main reports the same error as a Compile error.
    let (mut vm, _host) = vm(Side::Device);
    let err = vm.run_main("server.log(\"a\"\n", "device.nut").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Compile);
}

#[test]
fn server_log_and_error_reach_the_host() {
    let (mut vm, host) = vm(Side::Device);
    vm.run_main(
        r#"
        server.log("hello " + 42);
        server.error("bad thing");
        server.log({a = 1}.a);
        print("printed");
        server.log(format("%d-%s", 7, "x") + " " + split("a,b", ",").len() + " " + math.abs(-3));
        server.log(imp.getmacaddress());
        server.log(strip("  s  ") + "|" + "Abc".toupper());
        "#,
        "device.nut",
    )
    .unwrap();
    let seen = host.seen.lock().unwrap();
    let logs: Vec<_> = seen.logs.iter().map(|(k, m)| (*k, m.as_str())).collect();
    assert_eq!(
        logs,
        vec![
            (LogKind::Log, "hello 42"),
            (LogKind::Error, "bad thing"),
            (LogKind::Log, "1"),
            (LogKind::Log, "printed"),
            (LogKind::Log, "7-x 2 3"),
            (LogKind::Log, "0c2a69aabbcc"),
            (LogKind::Log, "s|ABC"),
        ]
    );
}

#[test]
fn agent_and_device_exchange_messages() {
    let (mut device, dev_host) = vm(Side::Device);
    let (mut agent, agent_host) = vm(Side::Agent);
    agent
        .run_main(
            r#"
            device.on("temp", function(data) {
                server.log("temp " + data.value + " from " + data.unit);
                device.send("ack", { count = data.value * 2, list = [1, "two", null] });
            });
            "#,
            "agent.nut",
        )
        .unwrap();
    device
        .run_main(
            r#"
            agent.on("ack", function(data) { server.log("ack " + data.count + " " + data.list[1]); });
            agent.send("temp", { value = 21, unit = "C" });
            "#,
            "device.nut",
        )
        .unwrap();

    // A minimal driver: route until both queues are empty.
    loop {
        let from_device = dev_host.take_sent();
        let from_agent = agent_host.take_sent();
        if from_device.is_empty() && from_agent.is_empty() {
            break;
        }
        for (name, data) in from_device {
            assert!(agent.call_handler(&name, data).unwrap());
        }
        for (name, data) in from_agent {
            assert!(device.call_handler(&name, data).unwrap());
        }
    }
    assert_eq!(agent_host.logs(), vec!["temp 21 from C"]);
    assert_eq!(dev_host.logs(), vec!["ack 42 two"]);
    // No handler: reported, not an error.
    assert!(!device.call_handler("nobody", Value::Null).unwrap());
}

#[test]
fn wakeup_timers_fire_in_virtual_time_order() {
    let (mut vm, host) = vm(Side::Device);
    vm.run_main(
        r#"
        imp.wakeup(5, function() { server.log("five"); });
        imp.wakeup(1, function() {
            server.log("one");
            imp.wakeup(1, function() { server.log("two"); });
        });
        local t = imp.wakeup(3, function() { server.log("cancelled"); });
        imp.wakeup(10, function() { server.log("ten at " + (time() - 1700000000)); });
        imp.cancelwakeup(t);
        "#,
        "device.nut",
    )
    .unwrap();
    let dues: Vec<f64> = vm
        .timers()
        .iter()
        .map(|t| t.due - 1_700_000_000.0)
        .collect();
    assert_eq!(dues, vec![1.0, 5.0, 10.0]);

    // Nothing is due yet.
    assert_eq!(vm.run_due_timers(1_700_000_000.5).unwrap(), 0);
    assert!(host.logs().is_empty());

    // The driver advances virtual time to each due timer.
    while let Some(t) = vm.next_timer() {
        if t.due > 1_700_000_006.0 {
            break;
        }
        host.set_now(t.due);
        assert!(vm.fire_timer(t.id).unwrap());
    }
    assert_eq!(host.logs(), vec!["one", "two", "five"]);
    host.set_now(1_700_000_010.0);
    assert_eq!(vm.run_due_timers(1_700_000_010.0).unwrap(), 1);
    assert_eq!(host.logs().last().unwrap(), "ten at 10");
    assert!(vm.timers().is_empty());
}

#[test]
fn http_request_is_handled_by_onrequest() {
    let (mut agent, host) = vm(Side::Agent);
    agent
        .run_main(
            r#"
            http.onrequest(function(req, res) {
                if (req.path == "/later") {
                    imp.wakeup(1, function() { res.send(202, "done later"); });
                    return;
                }
                res.header("Content-Type", "application/json");
                res.send(200, http.jsonencode({ method = req.method, led = req.query.led, body = req.body }));
            });
            "#,
            "agent.nut",
        )
        .unwrap();
    let req = HttpRequest {
        method: "POST".into(),
        path: "/".into(),
        query: vec![("led".into(), "1".into())],
        headers: vec![("content-type".into(), "text/plain".into())],
        body: "hi".into(),
    };
    let resp = agent.handle_http(&req).unwrap().expect("answered at once");
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    let json: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"method": "POST", "led": "1", "body": "hi"})
    );

    // Answered from a timer: reaches the host with the request's id.
    let later = HttpRequest {
        method: "GET".into(),
        path: "/later".into(),
        ..HttpRequest::default()
    };
    assert_eq!(agent.handle_http(&later).unwrap(), None);
    let id = agent.last_request_id();
    let t = agent.next_timer().unwrap();
    agent.fire_timer(t.id).unwrap();
    let seen = host.seen.lock().unwrap();
    assert_eq!(seen.late_responses.len(), 1);
    assert_eq!(seen.late_responses[0].0, id);
    assert_eq!(seen.late_responses[0].1.status, 202);
    assert_eq!(seen.late_responses[0].1.body, "done later");
}

#[test]
fn runtime_error_has_message_and_call_stack() {
    let (mut vm, _host) = vm(Side::Device);
    let src = "function inner(x) {\n  return x.missing;\n}\nfunction outer() {\n  local r = inner({});\n  return r;\n}\nouter();\n";
    let err = vm.run_main(src, "device.nut").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Script);
    assert_eq!(err.message, "the index 'missing' does not exist");
    let frames: Vec<_> = err
        .stack
        .iter()
        .map(|f| (f.function.as_str(), f.file.as_str(), f.line))
        .collect();
    assert_eq!(
        frames,
        vec![
            ("inner", "device.nut", 2),
            ("outer", "device.nut", 5),
            ("main", "device.nut", 8)
        ]
    );
    assert_eq!(
        err.to_string(),
        "ERROR: the index 'missing' does not exist\nERROR:   at inner:2\nERROR:   from outer:5\nERROR:   from main:8"
    );

    // An error in a handler, and a thrown string.
    vm.run_main(
        "agent.on(\"x\", function(d) {\n  throw \"boom \" + d;\n});",
        "device.nut",
    )
    .unwrap();
    let err = vm.call_handler("x", Value::Int(3)).unwrap_err();
    assert_eq!(err.message, "boom 3");
    assert_eq!(err.stack.len(), 1);
    assert_eq!(err.stack[0].line, 2);

    // Unsupported imp API calls say so.
    let err = vm
        .run_main("imp.nosuchcall(9600);", "device.nut")
        .unwrap_err();
    assert!(
        err.message.contains("'imp.nosuchcall' is not supported"),
        "{}",
        err.message
    );
}

#[test]
fn pins_nv_and_server_save() {
    let host = TestHost::new(Side::Device);
    let mut dev = Vm::new(Limits::default(), Box::new(host.clone())).unwrap();
    dev.run_main(
        r#"
        hardware.pinA.configure(DIGITAL_OUT);
        hardware.pinA.write(1);
        server.log("pin1 " + hardware.pinA.read());
        hardware.pinB.configure(DIGITAL_IN, function() { server.log("pin2 now " + hardware.pinB.read()); });
        if (!("boots" in nv)) nv.boots <- 0;
        nv.boots++;
        server.log("boots " + nv.boots);
        "#,
        "device.nut",
    )
    .unwrap();
    dev.set_pin("B", Value::Int(1)).unwrap();
    assert_eq!(host.logs(), vec!["pin1 1", "boots 1", "pin2 now 1"]);
    assert_eq!(
        host.seen.lock().unwrap().pins,
        vec![
            ("A".to_string(), Value::Int(0)),
            ("A".to_string(), Value::Int(1))
        ]
    );
    drop(dev);
    // A new run of the device keeps nv.
    let mut dev = Vm::new(Limits::default(), Box::new(host.clone())).unwrap();
    dev.run_main("server.log(\"boots \" + (++nv.boots));", "device.nut")
        .unwrap();
    assert_eq!(host.logs().last().unwrap(), "boots 2");

    let (mut agent, ahost) = vm(Side::Agent);
    agent
        .run_main(
            "server.save({ n = 5 });\nserver.log(\"loaded \" + server.load().n);",
            "agent.nut",
        )
        .unwrap();
    assert_eq!(ahost.logs(), vec!["loaded 5"]);
}

#[test]
fn common_lifecycle_calls_work() {
    let (mut agent, host) = vm(Side::Agent);
    agent
        .run_main(
            r#"
            device.onconnect(function() { server.log("device connected"); });
            device.ondisconnect(function() { server.log("device gone"); });
            server.onshutdown(function(reason) {});
            imp.onidle(function() { server.log("idle"); });
            imp.cancelwakeup(null);
            server.log(typeof imp.rssi() + " " + date(0).year + " " + date(86400 * 365).month);
            "#,
            "agent.nut",
        )
        .unwrap();
    assert!(agent.notify_connection(true).unwrap());
    assert!(agent.notify_connection(false).unwrap());
    let now = host.seen.lock().unwrap().now;
    assert_eq!(agent.run_due_timers(now).unwrap(), 1);
    assert_eq!(
        host.logs(),
        vec!["integer 1970 0", "device connected", "device gone", "idle"]
    );
}

/// An idle VM holds only the core of the imp API: the rest loads when the code names it or
/// looks it up by a name built at run time, and `imp.getmemoryfree()` does not count it (the
/// crypto part takes about 7 KB; the code keeps only the name it built).
#[test]
fn rarely_used_api_parts_load_on_first_use() {
    for side in [Side::Device, Side::Agent] {
        let (mut v, host) = vm(side);
        v.set_memory_free(80_000);
        // The code never spells the names it looks up (a name in the code loads its part).
        let code = r#"
            local root = getroottable();
            local name = "cry" + "pto", sha = "sha" + "256", err = "SEND_ERROR_" + "WOULDBLOCK";
            server.log("before " + root.rawin(name) + " " + root.rawin(err));
            local free = imp.getmemoryfree();
            local c = root[name];
            server.log("free " + (free - imp.getmemoryfree() < 1000));
            server.log("digest " + c[sha]("abc").len() + " " + root[err]);
            server.log("member " + typeof imp[("ge" + "tss" + "id")]);
        "#;
        v.run_main(code, "main").unwrap();
        assert_eq!(
            host.logs(),
            [
                "before false false",
                "free true",
                "digest 32 4",
                "member function"
            ],
            "{side:?}"
        );
        // Named in the code: loaded before it runs (`in` sees the member).
        let (mut v, host) = vm(side);
        v.run_main(
            r#"server.log(("onidle" in imp) + " " + ("crypto" in getroottable()));"#,
            "main",
        )
        .unwrap();
        assert_eq!(host.logs(), ["true true"], "{side:?}");
        // A blob from the other side reaches code that never used the blob library.
        let (mut v, host) = vm(side);
        v.set_memory_free(80_000);
        let on = if side == Side::Agent {
            "device"
        } else {
            "agent"
        };
        let code = format!(
            "local f = imp.getmemoryfree();
             {on}.on(\"b\", function(d) {{
                 server.log(typeof d + \" \" + d.len() + \" \" + (f - imp.getmemoryfree() < 1000));
             }});"
        );
        v.run_main(&code, "main").unwrap();
        assert!(v.call_handler("b", Value::Blob(vec![1, 2, 3])).unwrap());
        assert_eq!(host.logs(), ["blob 3 true"], "{side:?}");
    }
}

/// A VM starts with a small stack that grows on demand: a deeply nested value from the host
/// (a decoded JSON document, a message) arrives whole, in a metamethod too (where the stack
/// cannot grow: a clear error at worst, never a crash).
#[test]
fn deep_values_arrive_whole_on_a_small_stack() {
    let (mut v, host) = vm(Side::Agent);
    let code = r#"
        local s = "";
        for (local i = 0; i < 127; i++) s += "{\"a\":";
        s += "7";
        for (local i = 0; i < 127; i++) s += "}";
        function depth(t) { local n = 0; while (typeof t == "table") { t = t.a; n++; } return n + ":" + t; }
        class Lazy { function _get(k) { return depth(http.jsondecode(s)); } }
        local r;
        try { r = Lazy().x; } catch (e) { r = "error " + e; }
        server.log(r);
        server.log(depth(http.jsondecode(s)));
        device.on("deep", function(d) { server.log(depth(d)); });
    "#;
    v.run_main(code, "main").unwrap();
    let mut deep = Value::Int(7);
    for _ in 0..32 {
        deep = Value::table([("a", deep)]);
    }
    assert!(v.call_handler("deep", deep).unwrap());
    let logs = host.logs();
    assert!(
        logs[0] == "127:7" || logs[0].contains("stack"),
        "in a metamethod: {}",
        logs[0]
    );
    assert_eq!(logs[1..], ["127:7", "32:7"]);
}

/// A type's built-in methods (`weakref.ref`, a string's `slice`, …) are there the first time
/// a value looks one up, and building them does not change `imp.getmemoryfree()`.
#[test]
fn builtin_methods_appear_on_first_use_uncounted() {
    let (mut v, host) = vm(Side::Device);
    v.set_memory_free(80_000);
    let code = r#"
        local t = {}, w = t.weakref(), gen = (function() { yield 5; })();
        local f0 = imp.getmemoryfree();
        local ok = w.ref() == t && gen.getstatus() == "suspended" && "abc".slice(1) == "bc";
        local same = f0 == imp.getmemoryfree();
        server.log(ok + " " + same);
    "#;
    v.run_main(code, "main").unwrap();
    assert_eq!(host.logs(), ["true true"]);
}

/// `server.log`, `imp.wakeup`, `agent.on` and the other members every VM holds are natives
/// (crates/impt-vm/src/ffi/natives.rs): they keep the checks, messages and results the imp
/// API's Squirrel had.
#[test]
fn core_members_keep_their_checks_and_messages() {
    let (mut vm, host) = vm(Side::Device);
    vm.run_main(
        r#"
        class Named { function _tostring() { return "a Named"; } }
        server.log(null);
        server.log(Named());
        server.log("first", "ignored");
        server.error(12.5);
        local quiet = function() { server.log("timer, no parameters"); };
        local id = imp.wakeup("2", quiet);
        server.log("id " + typeof id);
        imp.cancelwakeup(id + 1000);
        imp.cancelwakeup("not an id");
        server.log(("__timers" in getroottable()) + " " + ("__handlers" in getroottable()));
        agent.on("m", function() { server.log("handler, no parameters"); });
        server.log(typeof imp.getmemoryfree());
        // A function kept in an API table finds a global of a part not loaded yet (the
        // name is built so that the code does not name it).
        imp.helper <- compilestring("return " + "for" + "mat(\"%03d\", 7);");
        server.log(imp.helper());
        "#,
        "device.nut",
    )
    .unwrap();
    assert_eq!(
        host.logs(),
        vec![
            "(null : 0x0)",
            "a Named",
            "first",
            "12.5",
            "id integer",
            "false false",
            "integer",
            "007"
        ]
    );
    // The timer was set for "2" seconds; its callback takes no parameters.
    let t = vm.next_timer().expect("a timer");
    assert_eq!(t.due - 1_700_000_000.0, 2.0);
    assert!(vm.fire_timer(t.id).unwrap());
    assert!(!vm.fire_timer(t.id).unwrap(), "a timer fires once");
    assert!(vm.call_handler("m", Value::Int(1)).unwrap());
    assert_eq!(
        &host.logs()[8..],
        ["timer, no parameters", "handler, no parameters"]
    );

    let failing = [
        ("server.log();", "wrong number of parameters"),
        (
            "imp.wakeup(1, 5);",
            "imp.wakeup: the callback must be a function",
        ),
        ("imp.wakeup(1);", "wrong number of parameters"),
        (
            "imp.wakeup({}, function() {});",
            "the index 'tofloat' does not exist",
        ),
        (
            "agent.on(\"x\", null);",
            "on: the handler must be a function",
        ),
        (
            "agent.send(\"x\", function() {});",
            "cannot pass a value of type 'function' to the host",
        ),
        (
            "class Bad { function _tostring() { throw \"no text\"; } }\nserver.log(Bad());",
            "no text",
        ),
    ];
    for (code, message) in failing {
        let (mut vm, _host) = self::vm(Side::Device);
        let err = vm.run_main(code, "device.nut").unwrap_err();
        assert_eq!(err.message, message, "{code}");
        assert!(
            err.stack.iter().all(|f| f.file == "device.nut"),
            "{code}: {:?}",
            err.stack
        );
    }

    // An error inside a timer's callback points at the deployed code.
    let (mut vm, _host) = self::vm(Side::Device);
    vm.run_main(
        "imp.wakeup(0, function() {\n  local x = null;\n  x.boom();\n});",
        "device.nut",
    )
    .unwrap();
    let t = vm.next_timer().unwrap();
    let err = vm.fire_timer(t.id).unwrap_err();
    let frames: Vec<_> = err
        .stack
        .iter()
        .map(|f| (f.file.as_str(), f.line))
        .collect();
    assert_eq!(frames, [("device.nut", 3)]);
}

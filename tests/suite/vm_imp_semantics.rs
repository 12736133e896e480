//! Squirrel as the imp runs it and the imp API as Electric Imp documents it: each test runs a
//! Squirrel snippet in a device or agent VM; the snippet calls `check(cond, what)`, which
//! throws on failure, and the test asserts the run (and any timers it set) succeeded.

use std::sync::{Arc, Mutex};

use impt_vm::{Host, Limits, LogKind, Side, Value, Vm};

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
    fn send(&mut self, name: &str, data: Value) {
        self.logs
            .lock()
            .unwrap()
            .push(format!("sent {name} {data:?}"));
    }
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

#[test]
fn imp_environment_and_constants() {
    device(
        r#"
        same(ENVIRONMENT_MODULE, imp.environment(), "device environment");
        check(RAND_MAX > 0 && math.rand() <= RAND_MAX, "RAND_MAX");
        check(typeof imp.info() == "table", "imp.info");
        check(imp.net.info().interface.len() > 0, "imp.net.info");
        check(typeof imp.getsoftwareversion() == "string", "software version");
        check(typeof imp.configparams == "table", "configparams");
        imp.setwificonfiguration("ssid", "pw");
        imp.enableblinkup(true);
        same(WAKEREASON_NEW_SQUIRREL, hardware.wakereason(), "wake reason");
        check(hardware.micros() >= 0 && hardware.millis() >= 0, "timers");
        server.setsendtimeoutpolicy(RETURN_ON_ERROR, WAIT_TIL_SENT, 30);
        local bad = null;
        try { server.setsendtimeoutpolicy(99, WAIT_TIL_SENT, 30); } catch (e) { bad = e; }
        check(bad != null, "bad policy refused");
        server.disconnect();
        check(!server.isconnected(), "disconnected");
        server.connect(function(reason) {
            same(SERVER_CONNECTED, reason, "connect reason");
            check(server.isconnected(), "connected in the callback");
        });
        check(!server.isconnected(), "connecting is asynchronous under RETURN_ON_ERROR");
    "#,
    );
    agent(r#"same(ENVIRONMENT_AGENT, imp.environment(), "agent environment");"#);
}

#[test]
fn blobs_as_on_the_imp() {
    device(
        r#"
        local b = blob();
        b.writestring("h\xffi");
        same(3, b.len(), "len after writestring");
        same("h\xffi", b.tostring(), "tostring gives the bytes");
        b.seek(1, 'b');
        same("\xffi", b.readstring(5), "readstring stops at the end");
        check(b.eos(), "eos");
        b.seek(0, 'b');
        b.writen(0x01020304, 'i');
        same(4, b.len(), "writen grows the blob");
        b.swap4();
        b.seek(0, 'b');
        same(0x04030201, b.readn('i'), "swap4");
        b.resize(100);
        same(4, b.len(), "resize sets the allocation, not the size");
        b.resize(2);
        same(2, b.len(), "shrinking cuts");
    "#,
    );
}

#[test]
fn crypto_hashes() {
    device(
        r#"
        local h = crypto.sha256("abc");
        same("blob", typeof h, "sha256 gives a blob");
        same(32, h.len(), "sha256 length");
        same(0xba, h[0], "sha256 first byte");
        local m = crypto.hmacsha256("what do ya want for nothing?", "Jefe");
        same(0x5b, m[0], "hmac first byte");
        same(0x43, m[31], "hmac last byte");
        check(crypto.equals(h, crypto.sha256("abc")), "equals");
        check(!crypto.equals(h, m), "not equals");
    "#,
    );
    agent(
        r#"
        same("YWJj", http.base64encode("abc"), "base64encode");
        same("abc", http.base64decode("YWJj").tostring(), "base64decode");
        same("ab", http.base64decode("YWI").tostring(), "base64decode without padding");
        same("ab", http.base64decode("YW I=\n").tostring(), "base64decode skips spaces");
        check(regexp2(@"--b").search("x--b") != null, "regexp2");
        same(20, http.hash.sha1("abc").len(), "sha1 length");
    "#,
    );
}

#[test]
fn spiflash_is_nor_flash() {
    device(
        r#"
        local f = hardware.spiflash;
        local caught = null;
        try { f.size(); } catch (e) { caught = e; }
        check(caught != null, "disabled chip refuses");
        f.enable();
        local size = f.size();
        check(size > 0 && size % 4096 == 0, "size in sectors");
        f.erasesector(4096);
        same(0xff, f.read(4096, 1)[0], "erased byte");
        local b = blob(); b.writen(0x0f, 'b');
        same(0, f.write(4096, b, SPIFLASH_POSTVERIFY), "first write verifies");
        b.seek(0, 'b'); b.writen(0xf0, 'b');
        check(f.write(4096, b, SPIFLASH_POSTVERIFY) != 0, "bits only clear");
        same(0x00, f.read(4096, 1)[0], "and of both writes");
        f.write(4100, "xyz", 0, 1, 3);
        same("yz", f.read(4100, 2).tostring(), "write of a slice");
        f.erasesector(4096);
        same(0xff, f.read(4096, 1)[0], "erase again");
        f.disable();
    "#,
    );
}

const IMPUNIT: &str = include_str!("../../templates/impunit/impunit.nut");

#[test]
fn impunit_promise_is_complete() {
    let logs = agent(&format!(
        "{IMPUNIT}\n{}",
        r#"
        local P = __module_impUnit_exports.Promise;
        local out = [];
        P.all([P.resolve(1), function () { return P.resolve(2); }, 3])
            .then(function (v) { out.push("all " + v[0] + v[1] + v[2]); });
        P.race([P(function (ok, err) { imp.wakeup(1, function () { ok("slow"); }); }),
                P.reject("fast")])
            .fail(function (r) { out.push("race " + r); });
        local n = 0;
        P.loop(function () { return n < 3; }, function () { return P.resolve(++n); })
            .then(function (v) { out.push("loop " + v); });
        P.serial([function () { return P.resolve("a"); }, P.resolve("b")])
            .then(function (v) { out.push("serial " + v); });
        P.reject("no").finally(function (r) { out.push("finally " + r); });
        P.resolve(5).then(function (v) { throw "boom"; })
            .then(function (v) { out.push("not reached"); })
            .fail(function (r) { out.push("fail " + r); });
        imp.wakeup(5, function () {
            out.sort();
            foreach (line in out) server.log(line);
        });
    "#
    ));
    assert_eq!(
        logs,
        vec![
            "all 123",
            "fail boom",
            "finally no",
            "loop 3",
            "race fast",
            "serial b"
        ]
    );
}

#[test]
fn string_find_is_binary_safe() {
    device(
        r#"
        local s = "\x01\x01\x00\x01";
        same(2, s.find("\x00"), "find a NUL byte");
        same(null, s.find("\x00", 3), "not after it");
        same(1, "abcabc".find("bc"), "plain find");
        same(4, "abcabc".find("bc", 2), "from an index");
    "#,
    );
}

#[test]
fn blobs_cross_in_messages() {
    let host = TestHost {
        side: Side::Device,
        logs: Arc::new(Mutex::new(Vec::new())),
        now: Arc::new(Mutex::new(1_700_000_000.0)),
    };
    let mut vm = Vm::new(Limits::default(), Box::new(host.clone())).expect("vm");
    vm.run_main(
        r#"
        agent.on("data", function(b) {
            server.log(typeof b + " " + b.len() + " " + b[2]);
            local out = blob(2); out[0] = 7; out[1] = 0xff;
            agent.send("back", { payload = out });
        });
    "#,
        "main.nut",
    )
    .unwrap();
    assert!(vm
        .call_handler("data", Value::Blob(vec![1, 2, 255]))
        .unwrap());
    let logs = host.logs.lock().unwrap().clone();
    assert_eq!(logs[0], "blob 3 255");
    assert_eq!(
        logs[1],
        format!(
            "sent back {:?}",
            Value::table([("payload", Value::Blob(vec![7, 255]))])
        )
    );
}

#[test]
fn regexp_as_rocky_uses_it() {
    device(
        r#"
        check(regexp2(".*").match("/testsimpleregexp_1"), ".* matches");
        local ex = regexp2("/testMatches/([^/]*)");
        check(ex.match("/testMatches/hello"), "group matches");
        local caps = ex.capture("/testMatches/hello");
        same(2, caps.len(), "captures");
        same("hello", "/testMatches/hello".slice(caps[1].begin, caps[1].end), "capture 1");
        local ex2 = regexp2("/test1(.*/test\\d.*)");
        check(ex2.match("/test1/test2/test3"), "digit class");
    "#,
    );
}

#[test]
fn split_drops_empty_pieces() {
    device(
        r#"
        local p = split("/testPath/a//b/", "/");
        same(3, p.len(), "pieces");
        same("testPath", p[0], "first");
        same("b", p[2], "last");
        same(2, split("a, b", ", ").len(), "several separators");
    "#,
    );
}

#[test]
fn regexp2_is_a_full_engine() {
    agent(
        r#"
        local re = regexp2("\n\n");
        local m = re.search("ab\n\ncd");
        same(2, m.begin, "newline pattern begin");
        same(4, m.end, "newline pattern end");
        local header = "Content-Disposition: form-data; name=\"life\"; filename=\"life.json\"";
        local kv = regexp2(@"(^|\W)(\S+)\s*[=:]\s*(""[^""]*""|\S*)");
        local c = kv.capture(header);
        check(c != null, "capture");
        same(4, c.len(), "groups");
        same("Content-Disposition", header.slice(c[2].begin, c[2].end), "key");
        local c2 = kv.capture(header, c[0].end);
        same("name", header.slice(c2[2].begin, c2[2].end), "next key");
        check(regexp2("a+").match("aaa"), "full match");
        check(!regexp2("a+").match("aab"), "not a full match");
        same(null, regexp2("z").search("abc"), "no match");
        local bad = null;
        try { regexp2("("); } catch (e) { bad = e; }
        check(bad != null, "bad pattern refused");
    "#,
    );
}

#[test]
fn messages_refuse_what_the_imp_cannot_serialise() {
    device(
        r#"
        foreach (bad in [function() {}, { "\x00\x01": 1 }, [ { "\x00": 2 } ]]) {
            local caught = null;
            try { agent.send("x", bad); } catch (e) { caught = e; }
            check(caught != null, "refused: " + typeof bad);
        }
        agent.send("x", { "ok": "\x01" });
    "#,
    );
}

//! Runaway code and memory hogs end as runtime errors, and the VM stays usable.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use impt_vm::{ErrorKind, Host, Limits, LogKind, Side, Value, Vm};

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl Host for Logs {
    fn side(&self) -> Side {
        Side::Device
    }
    fn log(&mut self, _kind: LogKind, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
    fn now(&self) -> f64 {
        0.0
    }
    fn send(&mut self, _name: &str, _data: Value) {}
}

fn vm(limits: Limits) -> (Vm, Logs) {
    let logs = Logs::default();
    (Vm::new(limits, Box::new(logs.clone())).unwrap(), logs)
}

#[test]
fn runaway_loop_is_stopped_by_the_instruction_limit() {
    let limits = Limits {
        instructions_per_run: 5_000_000,
        ..Limits::default()
    };
    let (mut vm, logs) = vm(limits);
    let started = Instant::now();
    let err = vm
        .run_main("server.log(\"start\");\nwhile(true){}\n", "device.nut")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, ErrorKind::InstructionLimit, "{err}");
    assert!(err.message.contains("instruction limit"), "{}", err.message);
    assert_eq!(err.stack[0].function, "main");
    assert_eq!(err.stack[0].line, 2);
    let used = vm.last_instructions();
    assert_eq!(used, 5_000_000);
    eprintln!(
        "5M instructions in {elapsed:?}: {:.0} M instructions/s",
        used as f64 / elapsed.as_secs_f64() / 1e6
    );

    // try/catch cannot swallow it.
    let err = vm
        .run_main(
            "while (true) { try { while (true) {} } catch (e) { server.log(\"caught \" + e); } }",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InstructionLimit);

    // The VM still runs later callbacks with a fresh budget.
    vm.run_main(
        "local n = 0; for (local i = 0; i < 1000; i++) n += i; server.log(\"n=\" + n);",
        "device.nut",
    )
    .unwrap();
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "n=499500");
}

#[test]
fn runaway_timer_callback_is_stopped() {
    let limits = Limits {
        instructions_per_run: 1_000_000,
        ..Limits::default()
    };
    let (mut vm, _logs) = vm(limits);
    vm.run_main(
        "function spin() { local i = 0; while (i >= 0) { i = (i + 1) % 10; } }\nimp.wakeup(1, spin);",
        "device.nut",
    )
    .unwrap();
    let err = vm.run_due_timers(1.0).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InstructionLimit);
    assert_eq!(err.stack[0].function, "spin");
}

#[test]
fn memory_hog_is_stopped_by_the_memory_limit() {
    let limits = Limits {
        instructions_per_run: 0, // unlimited: only the memory cap can stop it
        memory_bytes: 2 << 20,
        cpu_ms_per_run: 0,
    };
    let (mut vm, logs) = vm(limits);
    let base = vm.memory_used();
    eprintln!("a fresh VM with the imp API holds {base} bytes");
    assert!(base < 1 << 20, "API takes {base} bytes");
    let err = vm
        .run_main(
            "local hog = [];\nwhile (true) {\n  hog.push(\"item number \" + hog.len());\n}\n",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{err}");
    assert!(err.message.contains("out of memory"), "{}", err.message);
    // The hog's memory is released with its stack frame; the VM carries on.
    assert!(vm.memory_used() < 1 << 20, "{}", vm.memory_used());
    vm.run_main("server.log(\"still alive\");", "device.nut")
        .unwrap();
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "still alive");

    // Unbounded recursion is stopped too.
    let err = vm
        .run_main(
            "function f(n) { return f(n + 1) + 1; }\nf(0);",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{err}");
    assert_eq!(err.stack[0].function, "f");
}

/// Garbage reference cycles are collected when the heap reaches the cap, where a script's
/// own `collectgarbage()` could run: not while a native (here `map`) that may hold objects
/// of its own is on the stack; there the run still fails, cleanly.
#[test]
fn garbage_cycles_are_collected_at_the_cap_but_not_under_a_native() {
    let limits = Limits {
        instructions_per_run: 0,
        memory_bytes: 2 << 20,
        cpu_ms_per_run: 0,
    };
    let (mut vm, logs) = vm(limits);
    let cycles = "for (local i = 0; i < 100000; i++) { local t = { n = i }; t.me <- t; }";
    vm.run_main(&format!("{cycles}\nserver.log(\"top ok\");"), "device.nut")
        .unwrap();
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "top ok");
    let src = format!(
        "local r = [1, 2].map(function(x) {{ {cycles} return {{ v = x }}; }});\nserver.log(\"map ok\");"
    );
    let err = vm.run_main(&src, "device.nut").unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{err}");
    // The VM carries on, and what map builds is intact when nothing is collected under it.
    vm.run_main(
        "local r = [1, 2, 3].map(function(x) { return { v = x }; });\n\
         collectgarbage();\nserver.log(\"sum \" + (r[0].v + r[1].v + r[2].v));",
        "device.nut",
    )
    .unwrap();
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "sum 6");
}

#[test]
fn script_sized_allocations_over_the_cap_are_refused() {
    let limits = Limits {
        instructions_per_run: 10_000_000,
        memory_bytes: 2 << 20,
        ..Limits::default()
    };
    let (mut vm, _logs) = vm(limits);
    for src in [
        "local a = array(2000000000);",
        "local a = array(100000000, 0);",
        "local a = []; a.resize(500000000);",
        "local b = blob(1000000000);",
        "local b = blob(10); b.resize(1000000000);",
    ] {
        let err = vm.run_main(src, "device.nut").unwrap_err();
        assert!(err.message.contains("out of memory"), "{src}: {err}");
    }
    let err = vm
        .run_main("local a = array(-5);", "device.nut")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Script);
    // Within the cap these work.
    vm.run_main(
        "local a = array(1000, 0); local b = blob(1000); a.resize(2000);",
        "device.nut",
    )
    .unwrap();
}

#[test]
fn deep_native_recursion_is_an_error() {
    let (mut vm, _logs) = vm(Limits::default());
    let err = vm
        .run_main(
            "class A { function _get(k) { return this[k + \"x\"]; } }\nA().foo;",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Script, "{err}");
    let err = vm
        .run_main(
            "local t = {}; t.setdelegate({ _get = function(k) { return t[k]; } });\nt.x;",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Script, "{err}");
}

#[test]
fn each_vm_is_charged_for_its_own_memory() {
    let (mut a, _) = vm(Limits::default());
    let (mut b, _) = vm(Limits::default());
    let (a0, b0) = (a.memory_used(), b.memory_used());
    a.run_main("big <- array(20000, 0);", "a.nut").unwrap();
    assert!(
        a.memory_used() >= a0 + 20000 * 16,
        "{a0} -> {}",
        a.memory_used()
    );
    assert_eq!(b.memory_used(), b0);
    b.run_main("server.log(\"b\");", "b.nut").unwrap();
    a.run_main("big = null;", "a.nut").unwrap();
    assert!(a.memory_used() < a0 + 20000 * 16);
    let err = a
        .run_main("local x = imp.nosuchcall;", "a.nut")
        .unwrap_err();
    assert_eq!(
        err.message,
        "the imp API 'imp.nosuchcall' is not supported by the simulator"
    );
}

#[test]
fn vm_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Vm>();
    let (mut vm, logs) = vm(Limits::default());
    std::thread::spawn(move || {
        vm.run_main("server.log(\"from a thread\");", "d.nut")
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(logs.0.lock().unwrap().as_slice(), ["from a thread"]);
}

/// Code whose time goes into natives (sort, reverse, find) runs few instructions: the CPU
/// time budget stops it, inside the native when one call alone would take long.
#[test]
fn native_heavy_code_is_stopped_by_the_cpu_time_limit() {
    let limits = Limits {
        instructions_per_run: 0, // unlimited: only the time budget can stop it
        cpu_ms_per_run: 200,
        ..Limits::default()
    };
    let (mut vm, logs) = vm(limits);
    let err = vm
        .run_main(
            "local a = array(100000, 0);\nforeach (i, _ in a) a[i] = (i * 7919) % 100003;\nserver.log(\"sorting\");\nwhile (true) { a.sort(); a.reverse(); }\n",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TimeLimit, "{err}");
    assert!(err.message.contains("CPU time limit"), "{}", err.message);
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "sorting");
    // One `find` that alone would run for hours (500 KB needle over 1 MB of 'a') is stopped
    // inside the native; try/catch cannot keep the run going.
    let err = vm
        .run_main(
            "local s = \"a\";\nwhile (s.len() < 1000000) s += s;\nlocal needle = s.slice(0, 500000) + \"b\";\nwhile (true) { try { s.find(needle); } catch (e) {} }\n",
            "device.nut",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TimeLimit, "{err}");
    // The VM carries on with a fresh budget.
    vm.run_main("server.log(\"still alive\");", "device.nut")
        .unwrap();
    assert_eq!(logs.0.lock().unwrap().last().unwrap(), "still alive");
}

/// A host that tells another thread when the code logged.
struct Signal(std::sync::mpsc::Sender<String>);

impl Host for Signal {
    fn side(&self) -> Side {
        Side::Device
    }
    fn log(&mut self, _kind: LogKind, message: &str) {
        let _ = self.0.send(message.to_string());
    }
    fn now(&self) -> f64 {
        0.0
    }
    fn send(&mut self, _name: &str, _data: Value) {}
}

/// Another thread raises the interrupt flag: the running call stops (in plain code and in a
/// long native), and the VM runs again once the flag is down.
#[test]
fn the_interrupt_flag_stops_a_run_from_another_thread() {
    use std::sync::atomic::{AtomicI32, Ordering};
    let limits = Limits {
        instructions_per_run: 0,
        cpu_ms_per_run: 0, // no budget: only the flag can stop these runs
        ..Limits::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let mut vm = Vm::new(limits, Box::new(Signal(tx))).unwrap();
    let flag = Arc::new(AtomicI32::new(0));
    vm.set_interrupt(flag.clone());
    let raiser = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            for _ in 0..2 {
                let started = rx.recv().unwrap();
                assert!(started.starts_with("started"), "{started}");
                flag.store(1, Ordering::Relaxed);
            }
            rx
        })
    };
    for code in [
        "server.log(\"started 1\");\nwhile (true) {}\n",
        "local a = array(200000, 1);\nserver.log(\"started 2\");\nwhile (true) { try { a.sort(); a.reverse(); } catch (e) {} }\n",
    ] {
        let err = vm.run_main(code, "device.nut").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Interrupted, "{err}");
        assert!(err.message.contains("stopped by the simulator"), "{}", err.message);
        flag.store(0, Ordering::Relaxed);
    }
    let rx = raiser.join().unwrap();
    vm.run_main("server.log(\"after\");", "device.nut").unwrap();
    assert_eq!(rx.recv().unwrap(), "after");
}

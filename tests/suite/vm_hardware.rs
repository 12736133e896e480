//! The device's `hardware` object per imp type, with nothing attached (and with a host that
//! answers for an attached part).

use std::sync::{Arc, Mutex};

use impt_vm::{Host, Limits, LogKind, Side, Value, Vm, IMP_TYPES};

#[derive(Default)]
struct Seen {
    logs: Vec<String>,
    now: f64,
    ops: Vec<String>,
}

#[derive(Clone)]
struct Board {
    imp: String,
    seen: Arc<Mutex<Seen>>,
    /// Answer i2c reads at this 8-bit address with 0xBC (a part), else nothing attached.
    part_at: Option<i64>,
}

impl Host for Board {
    fn side(&self) -> Side {
        Side::Device
    }
    fn log(&mut self, _kind: LogKind, message: &str) {
        self.seen.lock().unwrap().logs.push(message.to_string());
    }
    fn now(&self) -> f64 {
        self.seen.lock().unwrap().now
    }
    fn send(&mut self, _name: &str, _data: Value) {}
    fn imp_type(&self) -> String {
        self.imp.clone()
    }
    fn hardware(&mut self, op: &str, args: &[Value]) -> Value {
        self.seen.lock().unwrap().ops.push(op.to_string());
        match (op, self.part_at, args.get(1)) {
            ("i2c_read", Some(a), Some(Value::Int(addr))) if a == *addr => Value::Str("bc".into()),
            ("i2c_write", Some(a), Some(Value::Int(addr))) if a == *addr => Value::Int(0),
            _ => Value::Null,
        }
    }
}

fn device(imp: &str, part_at: Option<i64>) -> (Vm, Board) {
    let board = Board {
        imp: imp.into(),
        seen: Arc::new(Mutex::new(Seen::default())),
        part_at,
    };
    (
        Vm::new(Limits::default(), Box::new(board.clone())).unwrap(),
        board,
    )
}

fn logs(b: &Board) -> Vec<String> {
    b.seen.lock().unwrap().logs.clone()
}

/// Runs `code` on a fresh device of type `imp`; its log lines.
fn run(imp: &str, code: &str) -> Vec<String> {
    let (mut vm, b) = device(imp, None);
    vm.run_main(code, "device.nut")
        .unwrap_or_else(|e| panic!("{imp}: {e}\n{:?}", logs(&b)));
    logs(&b)
}

#[test]
fn each_imp_type_has_exactly_its_pins_and_buses() {
    for t in IMP_TYPES {
        let (mut vm, b) = device(t.name, None);
        // SPI, UART, the sampler, the DAC and Bluetooth are built when the code names one
        // of them (FIDELITY.md: a UART or SPI name of any imp type will do).
        let code = r#"
            local named = ["uart57", "spi257", "sampler", "fixedfrequencydac", "bluetooth"];
            local names = [];
            foreach (k, v in hardware) names.push(k);
            names.sort();
            server.log(imp.info().type);
            server.log(names.reduce(@(a, b) a + " " + b));
        "#;
        vm.run_main(code, "device.nut").unwrap();
        let l = logs(&b);
        assert_eq!(l[0], t.name);
        let have: Vec<&str> = l[1].split(' ').collect();
        for p in t.pins {
            assert!(
                have.contains(&format!("pin{p}").as_str()),
                "{} pin{p}",
                t.name
            );
        }
        for (kind, list) in [("i2c", t.i2c), ("spi", t.spi), ("uart", t.uart)] {
            for bus in list {
                assert!(
                    have.contains(&format!("{kind}{bus}").as_str()),
                    "{} {kind}{bus}",
                    t.name
                );
            }
            let count = have
                .iter()
                .filter(|n| n.starts_with(kind) && !n.starts_with("spiflash"))
                .count();
            assert_eq!(count, list.len(), "{}: {kind} buses {have:?}", t.name);
        }
        let pins = have.iter().filter(|n| n.starts_with("pin")).count();
        assert_eq!(pins, t.pins.len(), "{}", t.name);
        assert_eq!(have.contains(&"spiflash"), t.spiflash, "{}", t.name);
        assert_eq!(have.contains(&"sampler"), t.sampler, "{}", t.name);
        assert_eq!(have.contains(&"fixedfrequencydac"), t.ffdac, "{}", t.name);
        assert_eq!(have.contains(&"bluetooth"), t.bluetooth, "{}", t.name);
    }
}

/// The buses other than I2C are built on first use: a name built at run time finds them too,
/// and from then on `foreach` lists them.
#[test]
fn spi_and_uart_buses_are_built_when_first_looked_up() {
    let lines = run(
        "imp003",
        r#"
        local count = function(prefix) {
            local n = 0;
            foreach (k, v in hardware) if (k.find(prefix) == 0 && k != "spiflash") n++;
            return n;
        };
        server.log(count("pin") + " " + count("i2c") + " " + count("uart") + " " + count("spi"));
        local u = hardware["ua" + "rtFG"];
        server.log(u + " " + count("uart") + " " + count("spi"));
        server.log(hardware["sp" + "iLGDK"] + " " + count("spi"));
        "#,
    );
    let imp = IMP_TYPES.iter().find(|t| t.name == "imp003").unwrap();
    assert_eq!(
        lines,
        [
            format!("{} {} 0 0", imp.pins.len(), imp.i2c.len()),
            format!("uartFG {} 0", imp.uart.len()),
            format!("spiLGDK {}", imp.spi.len()),
        ]
    );
}

#[test]
fn a_bus_the_type_lacks_fails_as_on_that_imp() {
    let (mut vm, _) = device("imp003", None);
    let err = vm
        .run_main(
            "hardware.uart1.configure(9600, 8, PARITY_NONE, 1, NO_CTSRTS);",
            "d.nut",
        )
        .unwrap_err();
    assert_eq!(err.message, "the index 'uart1' does not exist");
    let (mut vm, _) = device("imp001", None);
    let err = vm
        .run_main("hardware.pinA.configure(DIGITAL_OUT);", "d.nut")
        .unwrap_err();
    assert_eq!(err.message, "the index 'pinA' does not exist");
    // only the imp004m and the imp006 have a Bluetooth radio
    let (mut vm, _) = device("imp003", None);
    let err = vm
        .run_main("hardware.bluetooth.open();", "d.nut")
        .unwrap_err();
    assert_eq!(err.message, "the index 'bluetooth' does not exist");
}

#[test]
fn bluetooth_opens_as_documented_per_type_and_finds_nobody_in_range() {
    let l = run(
        "imp004m",
        r#"
        foreach (args in [[], [hardware.uartFGJH], [42, "fw"], [hardware.uartFGJH, 7]]) {
            try { hardware.bluetooth.open.acall([null].extend(args)); server.log("opened"); }
            catch (e) { server.log(e); }
        }
        local bt = hardware.bluetooth.open(hardware.uartFGJH, "\x4C\xFC\x46");
        bt.setscanfilter([]);
        bt.startscan(function(adverts) { server.log("advert " + adverts.len()); });
        bt.setadvertisement(0, blob(3));
        bt.startadvertise(0, 100, 100);
        bt.servegatt([]);
        bt.onconnect(function(conn) { server.log("connected"); });
        server.log("uartflags " + bt.uartflags());
        bt.stopscan();
        bt.close();
        try { bt.startscan(@(a) null); } catch (e) { server.log(e); }
        "#,
    );
    assert_eq!(
        l,
        [
            "bluetooth.open: a UART and the Bluetooth firmware are required",
            "bluetooth.open: a UART and the Bluetooth firmware are required",
            "bluetooth.open: the first argument must be a UART",
            "bluetooth.open: the firmware must be a string or a blob",
            "uartflags 0",
            "bluetooth.startscan: the bluetooth instance is closed",
        ]
    );
    // the imp006's radio takes no arguments: giving some is an exception
    let l = run(
        "imp006",
        r#"
        local bt = hardware.bluetooth.open();
        server.log("open " + bt.uartflags());
        try { hardware.bluetooth.open(hardware.uartABCD, "fw"); } catch (e) { server.log(e); }
        "#,
    );
    assert_eq!(
        l,
        ["open 0", "bluetooth.open: the imp006 takes no arguments"]
    );
}

#[test]
fn the_imp001_era_expectonlinein_and_getrssi_are_there() {
    let l = run(
        "imp001",
        r#"
        server.expectonlinein(600);
        server.log(imp.getrssi() == imp.rssi());
        try { server.expectonlinein("soon"); } catch (e) { server.log(e); }
        "#,
    );
    assert_eq!(
        l,
        ["true", "server.expectonlinein: the time must be a number"]
    );
}

#[test]
fn i2c_with_nothing_attached_fails_softly_with_the_documented_codes() {
    let l = run(
        "imp001",
        r#"
        local i2c = hardware.i2c89;
        server.log("unconfigured " + i2c.read(0xBE, "\x0F", 1) + " " + i2c.readerror() + " " + i2c.write(0xBE, "\x20\x81"));
        i2c.configure(CLOCK_SPEED_400_KHZ);
        local r = i2c.read(0xBE, "\x0F", 1);
        server.log("read " + r + " " + i2c.readerror());
        server.log("write " + i2c.write(0xBE, "\x20\x81"));
        "#,
    );
    assert_eq!(l, ["unconfigured null -13 -13", "read null -2", "write -2"]);
}

#[test]
fn i2c_reads_what_an_attached_part_answers() {
    let (mut vm, b) = device("imp003", Some(0xBE));
    vm.run_main(
        r#"
        hardware.i2cAB.configure(CLOCK_SPEED_100_KHZ);
        local r = hardware.i2cAB.read(0xBE, "\x0F", 1);
        server.log(format("%02X %d %d", r[0], hardware.i2cAB.readerror(), hardware.i2cAB.write(0xBE, "\x20")));
        server.log((hardware.i2cAB.read(0x40, "\x00", 2) == null) + " " + hardware.i2cAB.readerror());
        "#,
        "d.nut",
    )
    .unwrap();
    assert_eq!(logs(&b), ["BC 0 0", "true -2"]);
    let ops = b.seen.lock().unwrap().ops.clone();
    assert_eq!(
        ops,
        [
            "pin_events",
            "i2c_configure",
            "i2c_read",
            "i2c_write",
            "i2c_read"
        ]
    );
}

#[test]
fn uart_spi_and_pins_behave_as_an_empty_board() {
    let l = run(
        "imp005",
        r#"
        local u = hardware.uart0;
        server.log("baud " + u.configure(115200, 8, PARITY_NONE, 1, NO_CTSRTS, function() {}));
        u.write("hello\n");
        server.log("read " + u.read() + " '" + u.readstring() + "' " + u.readblob().len() + " " + u.flags());
        try { u.configure(9600, 9, PARITY_NONE, 1, 0); } catch (e) { server.log(e); }
        local s = hardware.spiBCAD;
        server.log("spi " + s.configure(CLOCK_IDLE_LOW | MSB_FIRST, 1000));
        local r = s.writeread(blob(2));
        server.log(format("%02X%02X %d", r[0], r[1], s.write("abc")));
        hardware.pinA.configure(DIGITAL_OUT, 1);
        hardware.pinB.configure(DIGITAL_IN_PULLUP);
        hardware.pinC.configure(DIGITAL_IN);
        hardware.pinE.configure(PWM_OUT, 0.02, 0.5);
        server.log(hardware.pinA.read() + " " + hardware.pinB.read() + " " + hardware.pinC.read() + " " + hardware.pinE.read());
        hardware.pinG.write(1);
        server.log("unconfigured " + hardware.pinF.read() + " " + hardware.pinG.read());
        try { hardware.pinF.configure(PWM_OUT); } catch (e) { server.log(e); }
        "#,
    );
    assert_eq!(
        l,
        [
            "baud 115200",
            "read -1 '' 0 0",
            "uart0.configure: the word size must be 7 or 8",
            "spi 1000",
            "FFFF 3",
            "1 1 0 0.5",
            "unconfigured 0 0",
            "pinF.configure: PWM_OUT needs a period and a duty cycle",
        ]
    );
}

#[test]
fn sampler_delivers_silence_at_its_rate_and_the_dac_takes_its_buffers() {
    let (mut vm, b) = device("imp001", None);
    vm.run_main(
        r#"
        local n = 0;
        hardware.sampler.configure(hardware.pin2, 1000, [blob(200), blob(200)], function(buf, len) {
            n++;
            server.log("samples " + len + " at " + hardware.millis() + " first " + buf[0]);
        });
        hardware.sampler.start();
        hardware.fixedfrequencydac.configure(hardware.pin5, 500, [blob(100)], function(buf) {
            server.log("dac done " + buf.len() + " at " + hardware.millis());
        });
        hardware.fixedfrequencydac.start();
        "#,
        "d.nut",
    )
    .unwrap();
    // 200 bytes of 16-bit samples at 1 kHz: one buffer every 100 ms; the DAC plays its
    // 100 bytes (50 samples at 500 Hz) in 100 ms.
    for step in 1..=3 {
        let t = step as f64 * 0.101;
        b.seen.lock().unwrap().now = t;
        vm.run_due_timers(t).unwrap();
    }
    let l = logs(&b);
    let samples: Vec<&String> = l.iter().filter(|s| s.starts_with("samples")).collect();
    assert_eq!(samples.len(), 3, "{l:?}");
    assert!(
        samples[0].starts_with("samples 200 at 101 first 0"),
        "{l:?}"
    );
    assert_eq!(
        l.iter().filter(|s| s.starts_with("dac done 100")).count(),
        1,
        "{l:?}"
    );
}

#[test]
fn a_driven_input_pin_runs_its_state_change_callback() {
    let (mut vm, b) = device("imp003", None);
    vm.run_main(
        r#"
        hardware.pinM.configure(DIGITAL_IN_PULLDOWN, function() { server.log("M now " + hardware.pinM.read()); });
        hardware.pinN.configure(ANALOG_IN);
        "#,
        "d.nut",
    )
    .unwrap();
    vm.set_pin("M", Value::Int(1)).unwrap();
    vm.set_pin("M", Value::Int(1)).unwrap();
    vm.set_pin("M", Value::Int(0)).unwrap();
    vm.set_pin("N", Value::Float(0.5)).unwrap();
    vm.run_main("server.log(\"N \" + hardware.pinN.read());", "more.nut")
        .unwrap();
    assert_eq!(logs(&b), ["M now 1", "M now 0", "N 32767"]);
    assert!(vm.set_pin("Z", Value::Int(1)).is_err());
}

#[test]
fn every_constant_the_example_applications_use_exists() {
    let l = run(
        "imp001",
        r#"
        local names = ["DIGITAL_IN", "DIGITAL_IN_PULLUP", "DIGITAL_IN_PULLDOWN", "DIGITAL_IN_WAKEUP",
            "DIGITAL_OUT", "DIGITAL_OUT_OD", "ANALOG_IN", "ANALOG_OUT", "PWM_OUT", "PULSE_COUNTER",
            "PARITY_NONE", "PARITY_EVEN", "PARITY_ODD", "NO_CTSRTS", "NO_TX", "NO_RX",
            "CLOCK_SPEED_10_KHZ", "CLOCK_SPEED_50_KHZ", "CLOCK_SPEED_100_KHZ", "CLOCK_SPEED_400_KHZ",
            "CLOCK_IDLE_LOW", "CLOCK_IDLE_HIGH", "CLOCK_2ND_EDGE", "MSB_FIRST", "LSB_FIRST",
            "NO_SCLK", "SIMPLEX_RX", "SIMPLEX_TX", "USE_CS_L", "A_LAW_COMPRESS", "A_LAW_DECOMPRESS",
            "AUDIO", "READ_READY", "WRITE_DONE", "OVERRUN_ERROR", "SPI_257", "I2C_89",
            "WAKEREASON_PIN", "WAKEREASON_TIMER", "WAKEREASON_POWER_ON"];
        local missing = names.filter(@(i, n) !(n in getroottable()));
        server.log("missing " + missing.len());
        server.log(CLOCK_SPEED_400_KHZ + " " + CLOCK_SPEED_100_KHZ);
        "#,
    );
    assert_eq!(l, ["missing 0", "400000 100000"]);
}

/// The `hardware` API loads when first needed: its constants and the table are there for
/// code that reaches them without naming `hardware`, and loading it costs the code nothing
/// (`imp.getmemoryfree()` says about the same before and after).
#[test]
fn the_hardware_api_is_there_when_needed_and_costs_the_code_no_memory() {
    let (mut vm, b) = device("imp004m", None);
    vm.set_memory_free(100 * 1024);
    vm.run_main(
        r#"
        server.log("free " + imp.getmemoryfree());
        server.log("speed " + CLOCK_SPEED_400_KHZ);
        server.log("in root " + (("hard" + "ware") in getroottable()));
        server.log("free " + imp.getmemoryfree());
        "#,
        "device.nut",
    )
    .unwrap();
    vm.run_main(
        "server.log(\"spiflash \" + (\"spiflash\" in hardware));",
        "more.nut",
    )
    .unwrap();
    let l = logs(&b);
    assert_eq!(l[1..3], ["speed 400000", "in root true"], "{l:?}");
    assert_eq!(l[4], "spiflash true", "{l:?}");
    let free = |s: &str| s.strip_prefix("free ").unwrap().parse::<i64>().unwrap();
    let (before, after) = (free(&l[0]), free(&l[3]));
    assert!(
        (before - after).abs() < 2048,
        "loading the API took {} bytes of the code's memory: {l:?}",
        before - after
    );
}

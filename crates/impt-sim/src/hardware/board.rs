//! One device's board: the parts of its part file with their state, answering the bus
//! transactions of the device's `hardware` object (see `impt_vm::Host::hardware`), and
//! the bus trace.

use super::parts::{bus_name, number, pin_name, Part, PartFile};
use impt_vm::Value;
use std::collections::{BTreeMap, HashSet};

/// A part's live state.
struct Live {
    part: Part,
    /// Register values (register maps).
    regs: BTreeMap<u8, u8>,
    read_only: HashSet<u8>,
    /// Register pointer (register maps).
    pointer: u8,
    /// UART: virtual time of `uart.configure()`, lines already sent (counting repeats),
    /// bytes waiting for the device, what the device sent since the last reply.
    configured_at: Option<f64>,
    sent: usize,
    rx: Vec<u8>,
    tx: String,
}

/// The parts attached to one device.
pub struct Board {
    pub trace: bool,
    live: Vec<Live>,
    pub pins: Vec<(f64, String, Value)>,
    /// Pins driven low (SPI chip selects).
    low: HashSet<String>,
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn bytes(v: Option<&Value>) -> Vec<u8> {
    match v {
        Some(Value::Str(s)) => hex::decode(s).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i)) => *i,
        Some(Value::Float(f)) => *f as i64,
        _ => 0,
    }
}

fn show(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("0x{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

impl Board {
    pub fn new(file: PartFile) -> Board {
        let live = file
            .parts
            .into_iter()
            .map(|p| {
                let regs = p
                    .registers
                    .iter()
                    .filter_map(|(k, v)| Some((number(k)? as u8, *v as u8)))
                    .collect();
                let read_only = p
                    .read_only
                    .iter()
                    .filter_map(|k| number(k).map(|n| n as u8))
                    .collect();
                Live {
                    part: p,
                    regs,
                    read_only,
                    pointer: 0,
                    configured_at: None,
                    sent: 0,
                    rx: Vec::new(),
                    tx: String::new(),
                }
            })
            .collect();
        let pins = file
            .pins
            .into_iter()
            .map(|e| {
                let v = match e.value {
                    toml::Value::Float(f) => Value::Float(f),
                    toml::Value::Boolean(b) => Value::Int(b as i64),
                    toml::Value::Integer(i) => Value::Int(i),
                    _ => Value::Int(0),
                };
                (e.at, pin_name(&e.pin), v)
            })
            .collect();
        Board {
            trace: file.trace,
            live,
            pins,
            low: HashSet::new(),
        }
    }

    fn on_bus(&mut self, bus: String) -> impl Iterator<Item = &mut Live> + '_ {
        self.live
            .iter_mut()
            .filter(move |l| bus_name(&l.part.bus) == bus)
    }

    /// A pin the device drove.
    pub fn pin_written(&mut self, pin: &str, value: &Value) {
        let low = matches!(value, Value::Int(0)) || matches!(value, Value::Float(f) if *f == 0.0);
        if low {
            self.low.insert(pin.to_string());
        } else {
            self.low.remove(pin);
        }
    }

    /// One transaction; the answer for the VM and the trace lines.
    pub fn op(&mut self, op: &str, args: &[Value], now: f64) -> (Value, Vec<String>) {
        let bus = match args.first() {
            Some(Value::Str(s)) => s.clone(),
            _ => return (Value::Null, Vec::new()),
        };
        let mut trace = Vec::new();
        let answer = match op {
            "i2c_read" => {
                let addr = int(args.get(1));
                let reg = bytes(args.get(2));
                let n = int(args.get(3)).clamp(0, 4096) as usize;
                let part = self
                    .on_bus(format!("i2c{bus}"))
                    .find(|l| l.part.address == Some(addr));
                let head = format!("i2c{bus} 0x{addr:02X}");
                match part {
                    Some(l) => {
                        let data = l.read_regs(reg.first().copied(), n);
                        trace.push(format!(
                            "{head} write {}; read {n} → {}",
                            show(&reg),
                            show(&data)
                        ));
                        Value::Str(hex(&data))
                    }
                    None => {
                        trace.push(format!("{head} write {}; no acknowledge", show(&reg)));
                        Value::Null
                    }
                }
            }
            "i2c_write" => {
                let addr = int(args.get(1));
                let data = bytes(args.get(2));
                let head = format!("i2c{bus} 0x{addr:02X} write {}", show(&data));
                match self
                    .on_bus(format!("i2c{bus}"))
                    .find(|l| l.part.address == Some(addr))
                {
                    Some(l) => {
                        l.write_regs(&data);
                        trace.push(head);
                        Value::Int(0)
                    }
                    None => {
                        trace.push(format!("{head}; no acknowledge"));
                        Value::Null
                    }
                }
            }
            "spi" => {
                let out = bytes(args.get(1));
                let low = self.low.clone();
                let part = self.on_bus(format!("spi{bus}")).find(|l| {
                    l.part
                        .cs
                        .as_ref()
                        .is_none_or(|cs| low.contains(&pin_name(cs)))
                });
                match part {
                    Some(l) => {
                        let back = l.spi(&out);
                        trace.push(format!("spi{bus} out {} in {}", show(&out), show(&back)));
                        Value::Str(hex(&back))
                    }
                    None => {
                        trace.push(format!("spi{bus} out {}", show(&out)));
                        Value::Null
                    }
                }
            }
            "uart_configure" => {
                let mut any = false;
                for l in self.on_bus(format!("uart{bus}")) {
                    l.configured_at = Some(now);
                    l.sent = 0;
                    l.rx.clear();
                    l.tx.clear();
                    any = true;
                }
                if any {
                    Value::Bool(true)
                } else {
                    Value::Null
                }
            }
            "uart_write" => {
                let data = bytes(args.get(1));
                trace.push(format!("uart{bus} tx {}", text(&data)));
                for l in self.on_bus(format!("uart{bus}")) {
                    if l.part.loopback {
                        l.rx.extend_from_slice(&data);
                    }
                    l.tx.push_str(&String::from_utf8_lossy(&data));
                    let mut replied = false;
                    for r in &l.part.replies {
                        if regex::Regex::new(&r.pattern).is_ok_and(|re| re.is_match(&l.tx)) {
                            l.rx.extend_from_slice(r.text.as_bytes());
                            replied = true;
                        }
                    }
                    if replied || l.tx.len() > 4096 || l.tx.ends_with('\n') {
                        l.tx.clear();
                    }
                }
                Value::Null
            }
            "uart_read" => {
                let mut got = Vec::new();
                for l in self.on_bus(format!("uart{bus}")) {
                    l.due_lines(now);
                    got.append(&mut l.rx);
                }
                if got.is_empty() {
                    Value::Null
                } else {
                    trace.push(format!("uart{bus} rx {}", text(&got)));
                    Value::Str(hex(&got))
                }
            }
            _ => Value::Null,
        };
        if !self.trace {
            trace.clear();
        }
        (
            answer,
            trace.into_iter().map(|t| format!("[bus] {t}")).collect(),
        )
    }
}

impl Live {
    /// The next register after `r` and whether reads move on (auto-increment).
    fn step(&self, r: u8) -> (u8, bool) {
        match self.part.auto_increment {
            Some(mask) if mask > 0 => (r & !(mask as u8), r & mask as u8 != 0),
            _ => (r, true),
        }
    }

    fn read_regs(&mut self, reg: Option<u8>, n: usize) -> Vec<u8> {
        let (mut r, inc) = match reg {
            Some(r) => self.step(r),
            None => (self.pointer, true),
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.regs.get(&r).copied().unwrap_or(0));
            if inc {
                r = r.wrapping_add(1);
            }
        }
        self.pointer = r;
        out
    }

    fn write_regs(&mut self, data: &[u8]) {
        let Some((&first, rest)) = data.split_first() else {
            return;
        };
        let (mut r, inc) = self.step(first);
        for &v in rest {
            if !self.read_only.contains(&r) {
                self.regs.insert(r, v);
            }
            if inc {
                r = r.wrapping_add(1);
            }
        }
        self.pointer = r;
    }

    /// A register-map SPI transfer: the first byte is the register with the read bit; the
    /// bytes after it are read or written.
    fn spi(&mut self, out: &[u8]) -> Vec<u8> {
        let Some((&first, rest)) = out.split_first() else {
            return Vec::new();
        };
        let read_bit = self.part.read_bit.unwrap_or(0x80) as u8;
        let cmd = first & !read_bit;
        let mut back = vec![0xFF];
        if first & read_bit != 0 {
            back.extend(self.read_regs(Some(cmd), rest.len()));
        } else {
            let mut w = vec![cmd];
            w.extend_from_slice(rest);
            self.write_regs(&w);
            back.extend(std::iter::repeat_n(0xFF, rest.len()));
        }
        back
    }

    /// Queue the script lines due by `now`.
    fn due_lines(&mut self, now: f64) {
        let Some(t0) = self.configured_at else {
            return;
        };
        let n = self.part.lines.len();
        if n == 0 {
            return;
        }
        loop {
            let cycle = self.sent / n;
            if cycle > 0 && self.part.repeat.is_none() {
                return;
            }
            let line = &self.part.lines[self.sent % n];
            let at = t0 + line.at + cycle as f64 * self.part.repeat.unwrap_or(0.0);
            if at > now {
                return;
            }
            self.rx.extend_from_slice(line.text.as_bytes());
            self.sent += 1;
            if self.rx.len() > 1 << 20 {
                return;
            }
        }
    }
}

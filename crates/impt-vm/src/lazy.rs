//! The parts of the imp API a VM loads only when they are first needed, so that an idle
//! device or agent pays only for the API it uses (each VM holds its own compiled copy).
//!
//! `src/prelude.nut` marks them with `//@lazy NAME [side=device|agent]: KEYS` … `//@end`;
//! the rest of the file (the core) runs in every new VM. The device's `hardware` API
//! (`src/hardware.nut`) is one more part, with parts of its own marked the same way (the
//! buses other than I2C, the sampler, the DAC, Bluetooth). A part loads:
//! - before the deployed code runs, when that code names one of its keys (a word of the
//!   source), so `"onidle" in imp` and the like see the member;
//! - when a missing global or API member is looked up (the root table's and the API
//!   tables' `_get`, natives in `ffi/natives.rs`), for code that builds names at run time;
//! - with the parts its own source names (loaded first, in file order).
//!
//! A part's keys: those its header lists (`api.member` for API members), and the globals it
//! defines (`::NAME <-` on a line of its own, `function NAME` / `class NAME` at the start of
//! a line). The hardware part answers to `hardware`, to any `hardware.` member and, as
//! before, to any missing global (it defines many constants); its own parts to their
//! members (`hardware.bus:uart` in a header: every UART name of any imp type).
//!
//! What a part takes is added to the VM's heap cap as it loads, so `imp.getmemoryfree()`
//! says the same whether or not it has loaded (as if it had been loaded with the core).

use crate::Side;
use std::collections::HashSet;
use std::sync::OnceLock;

/// One lazily loaded part.
pub(crate) struct Part {
    pub name: String,
    /// The side it exists on (`None`: both).
    pub side: Option<Side>,
    /// Keys: globals, `api.member`, `api.*` (any member of `api`), `*` (any missing global).
    pub keys: Vec<String>,
    pub source: String,
    /// The parts this one's source names (by bit).
    pub deps: u64,
}

pub(crate) struct Api {
    /// The prelude without its lazy parts.
    pub core: String,
    pub parts: Vec<Part>,
}

/// The parsed prelude (once per process).
pub(crate) fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| parse(crate::PRELUDE, crate::HARDWARE))
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `text` without its `//` line comments (the identifiers a part's code uses).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers of `text`.
pub(crate) fn words(text: &str) -> HashSet<&str> {
    text.split(|c: char| !is_word(c))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The name of `line` if it starts with `prefix` followed by an identifier.
fn defined_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(prefix)?;
    let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The globals `source` defines (see the module documentation).
fn globals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines() {
        let t = line.trim_start();
        if let Some(name) = defined_after(t, "::") {
            if t[2 + name.len()..].trim_start().starts_with("<-") {
                out.push(name.to_string());
            }
        }
        for prefix in ["function ", "class "] {
            if let Some(name) = defined_after(line, prefix) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// `text` split into its core (the lines outside `//@lazy` … `//@end`, blank lines in place
/// of the parts, so line numbers stay the file's) and its parts.
fn split(file: &str, text: &str) -> (String, Vec<Part>) {
    let mut core = String::with_capacity(text.len());
    let mut parts: Vec<Part> = Vec::new();
    let mut current: Option<Part> = None;
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("//@lazy ") {
            assert!(current.is_none(), "{file}: nested //@lazy");
            let (head, keys) = header
                .split_once(':')
                .unwrap_or_else(|| panic!("{file}: //@lazy NAME: KEYS"));
            let mut head = head.split_whitespace();
            let name = head
                .next()
                .unwrap_or_else(|| panic!("{file}: //@lazy needs a name"));
            let side = head.next().map(|s| match s {
                "side=device" => Side::Device,
                "side=agent" => Side::Agent,
                other => panic!("{file}: unknown //@lazy attribute {other}"),
            });
            current = Some(Part {
                name: name.to_string(),
                side,
                keys: keys.split_whitespace().flat_map(expand_key).collect(),
                source: String::new(),
                deps: 0,
            });
            core.push('\n');
            continue;
        }
        if line == "//@end" {
            let part = current
                .take()
                .unwrap_or_else(|| panic!("{file}: //@end without //@lazy"));
            parts.push(part);
            core.push('\n');
            continue;
        }
        match current.as_mut() {
            Some(part) => {
                part.source.push_str(line);
                part.source.push('\n');
                core.push('\n');
            }
            None => {
                core.push_str(line);
                core.push('\n');
            }
        }
    }
    assert!(current.is_none(), "{file}: //@lazy without //@end");
    (core, parts)
}

/// A header key; `hardware.bus:KIND` stands for `hardware.KINDNAME` for every bus `NAME` of
/// that kind (`i2c`, `spi`, `uart`) on any imp type.
fn expand_key(key: &str) -> Vec<String> {
    let Some(kind) = key.strip_prefix("hardware.bus:") else {
        return vec![key.to_string()];
    };
    let mut out: Vec<String> = Vec::new();
    for t in crate::imptypes::IMP_TYPES {
        let names = match kind {
            "i2c" => t.i2c,
            "spi" => t.spi,
            "uart" => t.uart,
            other => panic!("hardware.nut: unknown bus kind {other}"),
        };
        for n in names {
            let k = format!("hardware.{kind}{n}");
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

pub(crate) fn parse(prelude: &str, hardware: &str) -> Api {
    let (core, mut parts) = split("prelude.nut", prelude);
    // The device's `hardware` API: the file's core is one part, its own parts follow (they
    // need it, so it loads first).
    let (hw_core, hw_parts) = split("hardware.nut", hardware);
    parts.push(Part {
        name: "hardware".into(),
        side: Some(Side::Device),
        keys: vec!["hardware.*".into(), "*".into()],
        source: hw_core,
        deps: 0,
    });
    for mut part in hw_parts {
        part.side = Some(Side::Device);
        parts.push(part);
    }
    for part in &mut parts {
        let found = globals(&part.source);
        part.keys.extend(found);
    }
    assert!(parts.len() <= 64, "at most 64 lazy parts");
    let deps: Vec<u64> = parts
        .iter()
        .map(|p| triggered(&parts, &words(&code_of(&p.source))))
        .collect();
    for (part, d) in parts.iter_mut().zip(deps) {
        part.deps = d;
    }
    Api { core, parts }
}

/// The last part of a key (`imp.onidle` → `onidle`), the word that names it in code.
fn key_word(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The parts whose keys are among `words` (by bit).
fn triggered(parts: &[Part], words: &HashSet<&str>) -> u64 {
    let mut mask = 0;
    for (i, p) in parts.iter().enumerate() {
        if p.keys
            .iter()
            .map(|k| key_word(k))
            .any(|w| w != "*" && words.contains(w))
        {
            mask |= 1 << i;
        }
    }
    mask
}

impl Api {
    fn on_side(&self, side: Side) -> u64 {
        let mut mask = 0;
        for (i, p) in self.parts.iter().enumerate() {
            if p.side.is_none_or(|s| s == side) {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// `mask` with the parts they depend on, restricted to `side` and minus `loaded`.
    fn close(&self, mut mask: u64, side: Side, loaded: u64) -> u64 {
        let allowed = self.on_side(side) & !loaded;
        mask &= allowed;
        loop {
            let mut next = mask;
            for (i, p) in self.parts.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    next |= p.deps & allowed;
                }
            }
            if next == mask {
                return mask;
            }
            mask = next;
        }
    }

    /// The parts to load before running `source` on `side`.
    pub fn for_source(&self, source: &str, side: Side, loaded: u64) -> u64 {
        let words = words(source);
        let mut mask = triggered(&self.parts, &words);
        if words.contains("hardware") {
            mask |= self.bit("hardware");
        }
        self.close(mask, side, loaded)
    }

    /// The parts to load for a missing `key` (a global, or `api.member`).
    pub fn for_key(&self, key: &str, side: Side, loaded: u64) -> u64 {
        let allowed = self.on_side(side) & !loaded;
        let wildcard = match key.rsplit_once('.') {
            Some((api, _)) => format!("{api}.*"),
            None => "*".to_string(),
        };
        let find = |k: &str| {
            self.parts
                .iter()
                .enumerate()
                .filter(|(i, p)| allowed & (1 << i) != 0 && p.keys.iter().any(|x| x == k))
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        let mut mask = find(key);
        if mask == 0 {
            mask = find(&wildcard);
        }
        self.close(mask, side, loaded)
    }

    /// The source of the parts in `mask`, in file order.
    pub fn source(&self, mask: u64) -> String {
        let mut out = String::new();
        for (i, p) in self.parts.iter().enumerate() {
            if mask & (1 << i) != 0 {
                out.push_str(&p.source);
                out.push('\n');
            }
        }
        out
    }

    /// The bit of the part named `name`.
    pub fn bit(&self, name: &str) -> u64 {
        self.parts
            .iter()
            .position(|p| p.name == name)
            .map_or(0, |i| 1 << i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_have_keys_and_the_core_keeps_line_numbers() {
        let api = api();
        assert_eq!(
            api.core.lines().count(),
            crate::PRELUDE.lines().count(),
            "the core keeps the prelude's line numbers"
        );
        for p in &api.parts {
            assert!(!p.keys.is_empty(), "part {} has no keys", p.name);
            assert!(!p.source.trim().is_empty(), "part {} is empty", p.name);
        }
        let constants = api.bit("constants");
        assert_ne!(constants, 0);
        // The constants need the math library (`RAND_MAX`), nothing else.
        assert_eq!(
            api.for_key("SEND_ERROR_WOULDBLOCK", Side::Device, 0),
            constants | api.bit("stdlib-math")
        );
        // A part that names another brings it along (the imp part uses the constants).
        let imp = api.for_key("imp.environment", Side::Agent, 0);
        assert_eq!(imp & constants, constants);
        assert_eq!(api.for_key("imp.environment", Side::Agent, imp), 0);
        // Side-only parts and the hardware part's wildcards.
        assert_eq!(api.for_key("http.request", Side::Device, 0), 0);
        let hw = api.bit("hardware");
        assert_eq!(api.for_key("hardware.pin1", Side::Device, 0) & hw, hw);
        assert_eq!(api.for_key("PWM_OUT", Side::Device, 0) & hw, hw);
        assert_eq!(api.for_key("PWM_OUT", Side::Agent, 0), 0);
        // The hardware part's own parts load only with their members (and bring it along).
        let buses = ["hw-spi", "hw-uart", "hw-sampler", "hw-dac", "hw-bluetooth"]
            .iter()
            .fold(0, |m, p| m | api.bit(p));
        assert_eq!(buses.count_ones(), 5);
        assert_eq!(api.for_key("hardware.pinA", Side::Device, 0) & buses, 0);
        assert_eq!(
            api.for_source("hardware.pinA.write(1);", Side::Device, 0) & buses,
            0
        );
        let uart = api.for_key("hardware.uart57", Side::Device, 0);
        assert_eq!(uart & (buses | hw), api.bit("hw-uart") | hw);
        let s = api.for_source(
            "hardware.uartFG.configure(9600, 8, 0, 1, 0);",
            Side::Device,
            0,
        );
        assert_eq!(s & (buses | hw), api.bit("hw-uart") | hw);
        assert_eq!(
            api.for_source("imp.wakeup(1, f); server.log(1);", Side::Device, 0),
            0
        );
        let s = api.for_source("if (\"onidle\" in imp) imp.onidle(f);", Side::Device, 0);
        assert_eq!(s & api.bit("imp"), api.bit("imp"));
    }

    struct H(Side, std::sync::Arc<std::sync::Mutex<Vec<String>>>);
    impl crate::Host for H {
        fn side(&self) -> Side {
            self.0
        }
        fn log(&mut self, _kind: crate::LogKind, message: &str) {
            self.1.lock().unwrap().push(message.to_string());
        }
        fn now(&self) -> f64 {
            0.0
        }
        fn send(&mut self, _name: &str, _data: crate::Value) {}
    }

    /// A name the deployed code builds at run time (so its words name no part).
    fn built(name: &str) -> String {
        let (a, b) = name.split_at(name.len() / 2);
        format!("(\"{a}\" + \"{b}\")")
    }

    #[test]
    fn every_key_of_a_part_exists_once_looked_up() {
        // Buses of other imp types do not exist on the default one.
        let imp = crate::imptypes::imp_type(crate::DEFAULT_IMP_TYPE).unwrap();
        let here: Vec<String> = [("i2c", imp.i2c), ("spi", imp.spi), ("uart", imp.uart)]
            .iter()
            .flat_map(|(kind, names)| names.iter().map(move |n| format!("hardware.{kind}{n}")))
            .collect();
        let mut elsewhere: HashSet<String> = ["i2c", "spi", "uart"]
            .iter()
            .flat_map(|kind| expand_key(&format!("hardware.bus:{kind}")))
            .filter(|k| !here.contains(k))
            .collect();
        for (member, has) in [
            ("sampler", imp.sampler),
            ("fixedfrequencydac", imp.ffdac),
            ("bluetooth", imp.bluetooth),
        ] {
            if !has {
                elsewhere.insert(format!("hardware.{member}"));
            }
        }
        assert!(
            elsewhere.contains("hardware.uart57") && here.contains(&"hardware.uartFG".to_string())
        );
        for side in [Side::Device, Side::Agent] {
            for p in api()
                .parts
                .iter()
                .filter(|p| p.side.is_none_or(|s| s == side))
            {
                for key in p
                    .keys
                    .iter()
                    .filter(|k| !k.ends_with('*') && !elsewhere.contains(*k))
                {
                    let logs = std::sync::Arc::default();
                    let host = H(side, std::sync::Arc::clone(&logs));
                    let mut vm = crate::Vm::new(crate::Limits::default(), Box::new(host)).unwrap();
                    let code = match key.split_once('.') {
                        Some((t, m)) => format!(
                            "local t = getroottable()[{}]; local m = {}; \
                             try {{ t[m]; }} catch (e) {{}} server.log(t.rawin(m));",
                            built(t),
                            built(m)
                        ),
                        None => format!(
                            "local k = {}; try {{ getroottable()[k]; }} catch (e) {{}} \
                             server.log(getroottable().rawin(k));",
                            built(key)
                        ),
                    };
                    vm.run_main(&code, "main").unwrap();
                    let seen = logs.lock().unwrap().clone();
                    assert_eq!(seen, ["true"], "{key} of part {} on {side:?}", p.name);
                }
            }
        }
    }
}

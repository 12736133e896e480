//! The part file: virtual parts attached to a device's buses and pins (TOML).
//!
//! ```toml
//! trace = true                      # log bus traffic as "[bus] …" lines
//!
//! [[part]]                          # a register map on I²C (or SPI)
//! name = "HTS221"
//! bus = "i2c89"
//! address = 0xBE                    # 8-bit address, as the imp API takes it
//! auto_increment = 0x80             # register bit that turns auto-increment on (0: always)
//! registers = { "0x0F" = 0xBC, "0x28" = 0x10 }   # reset values
//! read_only = ["0x0F", "0x28"]
//!
//! [[part]]                          # a UART that replays a script
//! name = "gps"
//! bus = "uart12"
//! lines = [{ at = 0.5, text = "$GPGGA,…\r\n" }]   # seconds after uart.configure()
//! repeat = 1.0                      # play the lines again every second
//! replies = [{ match = "PMTK", text = "$PMTK001,…\r\n" }]
//! loopback = false                  # true: what the device sends comes back
//!
//! [[pin]]                           # an input level at a time (seconds after boot)
//! pin = "M"
//! at = 2.0
//! value = 1                         # 0/1 digital, 0.0-1.0 analog
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest part file accepted.
pub const MAX_PART_FILE: usize = 256 * 1024;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartFile {
    #[serde(default)]
    pub trace: bool,
    #[serde(default, rename = "part")]
    pub parts: Vec<Part>,
    #[serde(default, rename = "pin")]
    pub pins: Vec<PinEvent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    #[serde(default)]
    pub name: String,
    /// `i2c89`, `spi257`, `uart12`, … (with or without `hardware.`).
    pub bus: String,
    /// I²C: 8-bit address. SPI: unused.
    #[serde(default)]
    pub address: Option<i64>,
    /// SPI: the chip-select pin (`pin8`, `D`); the part answers while it is low.
    #[serde(default)]
    pub cs: Option<String>,
    /// SPI: the bit of the first byte that means "read" (default 0x80).
    #[serde(default)]
    pub read_bit: Option<i64>,
    #[serde(default)]
    pub auto_increment: Option<i64>,
    #[serde(default)]
    pub registers: BTreeMap<String, i64>,
    #[serde(default)]
    pub read_only: Vec<String>,
    #[serde(default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub repeat: Option<f64>,
    #[serde(default)]
    pub replies: Vec<Reply>,
    #[serde(default)]
    pub loopback: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub at: f64,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[serde(rename = "match")]
    pub pattern: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinEvent {
    pub pin: String,
    #[serde(default)]
    pub at: f64,
    pub value: toml::Value,
}

/// A register number written as `"0x0F"` or `"15"`.
pub fn number(s: &str) -> Option<i64> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The bus name without `hardware.`.
pub fn bus_name(s: &str) -> &str {
    s.trim().strip_prefix("hardware.").unwrap_or(s.trim())
}

/// The pin name without `hardware.` and `pin` (`"M"`, `"1"`, `"XA"`).
pub fn pin_name(s: &str) -> String {
    let s = bus_name(s);
    s.strip_prefix("pin").unwrap_or(s).to_string()
}

/// Parses and checks a part file against the imp type `imp` (its buses and pins).
pub fn parse(text: &str, imp: &impt_vm::ImpType) -> Result<PartFile, String> {
    if text.len() > MAX_PART_FILE {
        return Err(format!(
            "the part file is larger than {MAX_PART_FILE} bytes"
        ));
    }
    let f: PartFile = toml::from_str(text).map_err(|e| format!("part file: {e}"))?;
    for p in &f.parts {
        let bus = bus_name(&p.bus);
        let known = [("i2c", imp.i2c), ("spi", imp.spi), ("uart", imp.uart)]
            .iter()
            .any(|(k, list)| bus.strip_prefix(k).is_some_and(|b| list.contains(&b)));
        if !known || bus.starts_with("spiflash") {
            return Err(format!(
                "part \"{}\": {} has no bus \"{bus}\"",
                p.name, imp.name
            ));
        }
        if bus.starts_with("i2c") && p.address.is_none() {
            return Err(format!("part \"{}\": an I²C part needs an address", p.name));
        }
        for (k, v) in &p.registers {
            if number(k).is_none() || !(0..=255).contains(v) {
                return Err(format!(
                    "part \"{}\": register \"{k}\" = {v}: registers are numbers, values bytes",
                    p.name
                ));
            }
        }
        for r in &p.read_only {
            if number(r).is_none() {
                return Err(format!(
                    "part \"{}\": read_only \"{r}\" is no number",
                    p.name
                ));
            }
        }
        for r in &p.replies {
            regex::Regex::new(&r.pattern)
                .map_err(|e| format!("part \"{}\": reply pattern: {e}", p.name))?;
        }
        if p.repeat.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(format!("part \"{}\": repeat must be positive", p.name));
        }
        if let Some(cs) = &p.cs {
            if !imp.pins.contains(&pin_name(cs).as_str()) {
                return Err(format!(
                    "part \"{}\": {} has no pin \"{cs}\"",
                    p.name, imp.name
                ));
            }
        }
    }
    for e in &f.pins {
        if !imp.pins.contains(&pin_name(&e.pin).as_str()) {
            return Err(format!("pin event: {} has no pin \"{}\"", imp.name, e.pin));
        }
        if !matches!(
            e.value,
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)
        ) {
            return Err(format!("pin event {}: the value must be a number", e.pin));
        }
    }
    Ok(f)
}

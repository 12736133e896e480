//! The platform's limits on what device and agent code may use, as the simulator applies
//! them, with the platform's errors: memory per imp type (and an honest
//! `imp.getmemoryfree()`), message size and queues counted in bytes both ways, agents'
//! HTTP requests (rate credits, requests in flight, response body size), log rate.
//!
//! Each number is the imp API's where it documents one (the source is named); the others
//! are chosen, marked *assumed* here and in FIDELITY.md, and each is an `impt sim` option.

use impt_vm::Value;
use std::collections::VecDeque;
use std::sync::OnceLock;

/// Largest message (name plus data) either way: the imp API (`agent.send`): "the agent will
/// accept no request greater than 256KB in size".
pub const MESSAGE_BYTES: usize = 256 * 1024;
/// Bytes of messages waiting for the other side, each way (assumed; `--message-queue-bytes`).
pub const QUEUE_BYTES: usize = 1024 * 1024;
/// Outgoing HTTP request credits of an agent and their regeneration per second: the imp API
/// (`httprequest`, "Rate-Limiting": 40 credits, two a second).
pub const HTTP_CREDITS: f64 = 40.0;
pub const HTTP_CREDITS_PER_SEC: f64 = 2.0;
/// Outgoing requests of one agent under way at once (assumed; `--http-in-flight`).
pub const HTTP_IN_FLIGHT: usize = 40;
/// Outgoing requests of all agents under way at once: the simulator's own budget of
/// sockets and threads (assumed; `--http-in-flight-total`).
pub const HTTP_IN_FLIGHT_TOTAL: usize = 256;
/// Largest response body an agent's request takes (assumed; `--http-max-body`).
pub const HTTP_MAX_BODY: usize = 4 * 1024 * 1024;
/// Heap of an agent (assumed; `--agent-memory`).
pub const AGENT_MEMORY: u64 = 8 << 20;
/// Log lines a device and its agent may emit per second (assumed; `--log-rate`).
pub const LOG_LINES_PER_SEC: u32 = 1000;

/// Memory free to Squirrel when a device's code starts, by imp type (assumed: the imp API
/// documents no figures; `--device-memory` overrides them all).
pub const DEVICE_MEMORY: &[(&str, u64)] = &[
    ("imp001", 80 * 1024),
    ("imp002", 80 * 1024),
    ("imp003", 120 * 1024),
    ("imp004m", 128 * 1024),
    ("imp005", 1024 * 1024),
    ("imp006", 512 * 1024),
    ("impC001", 512 * 1024),
];

/// The limits in force (`impt sim` options).
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformLimits {
    /// Device memory for every imp type (`None`: [`DEVICE_MEMORY`]).
    pub device_memory: Option<u64>,
    pub agent_memory: u64,
    pub message_bytes: usize,
    pub queue_bytes: usize,
    pub http_in_flight: usize,
    pub http_in_flight_total: usize,
    pub http_max_body: usize,
    pub log_lines_per_sec: u32,
}

impl Default for PlatformLimits {
    fn default() -> Self {
        PlatformLimits {
            device_memory: None,
            agent_memory: AGENT_MEMORY,
            message_bytes: MESSAGE_BYTES,
            queue_bytes: QUEUE_BYTES,
            http_in_flight: HTTP_IN_FLIGHT,
            http_in_flight_total: HTTP_IN_FLIGHT_TOTAL,
            http_max_body: HTTP_MAX_BODY,
            log_lines_per_sec: LOG_LINES_PER_SEC,
        }
    }
}

impl PlatformLimits {
    /// Memory free to a device's code at start, for its imp type.
    pub fn device_memory(&self, imp_type: &str) -> u64 {
        self.device_memory.unwrap_or_else(|| {
            DEVICE_MEMORY
                .iter()
                .find(|(t, _)| *t == imp_type)
                .map_or(80 * 1024, |(_, m)| *m)
        })
    }

    /// The VM heap cap while the simulator's imp API loads (its peak is not charged to
    /// the code; after it, the cap is what it holds plus `free`).
    pub fn heap_cap(free: u64) -> u64 {
        (api_baseline() * 4).max(1 << 20) + free
    }
}

/// Heap bytes the simulator's imp API takes in a fresh VM (measured once).
pub fn api_baseline() -> u64 {
    static BASE: OnceLock<u64> = OnceLock::new();
    *BASE.get_or_init(|| {
        struct Quiet;
        impl impt_vm::Host for Quiet {
            fn side(&self) -> impt_vm::Side {
                impt_vm::Side::Device
            }
            fn log(&mut self, _: impt_vm::LogKind, _: &str) {}
            fn now(&self) -> f64 {
                0.0
            }
            fn send(&mut self, _: &str, _: Value) {}
        }
        let limits = impt_vm::Limits {
            instructions_per_run: 0,
            memory_bytes: 0,
            cpu_ms_per_run: 0,
        };
        impt_vm::Vm::new(limits, Box::new(Quiet)).map_or(64 * 1024, |vm| vm.memory_used())
    })
}

/// The bytes a value takes on the wire (about what the imp's serialiser writes: a tag and
/// the payload of each value).
pub fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Null => 1,
        Value::Bool(_) => 2,
        Value::Int(_) | Value::Float(_) => 5,
        Value::Str(s) => 5 + s.len(),
        Value::Blob(b) => 5 + b.len(),
        Value::Array(a) => 5 + a.iter().map(value_bytes).sum::<usize>(),
        Value::Table(t) => {
            5 + t
                .iter()
                .map(|(k, x)| value_bytes(k) + value_bytes(x))
                .sum::<usize>()
        }
    }
}

/// Messages waiting for one side, counted in bytes too.
#[derive(Debug, Default)]
pub struct MsgQueue {
    items: VecDeque<(String, Value, usize)>,
    bytes: usize,
}

impl MsgQueue {
    /// Queue a message of `size` bytes.
    pub fn push_sized(&mut self, name: String, data: Value, size: usize) {
        self.bytes += size;
        self.items.push_back((name, data, size));
    }

    /// Queue a message (its size computed).
    pub fn push_back(&mut self, (name, data): (String, Value)) {
        let size = name.len() + value_bytes(&data);
        self.push_sized(name, data, size);
    }

    pub fn pop_front(&mut self) -> Option<(String, Value)> {
        let (name, data, size) = self.items.pop_front()?;
        self.bytes -= size;
        Some((name, data))
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// An agent's outgoing request credits (see [`HTTP_CREDITS`]), refilled on the simulator's
/// clock (virtual seconds, see `exec::Clock`): a jump of virtual time refills them as the
/// same time passing for real would, so results do not depend on how fast the code ran.
#[derive(Debug, Clone, Copy)]
pub struct Credits {
    left: f64,
    /// Clock time (seconds) of the last take.
    at: Option<f64>,
}

impl Default for Credits {
    fn default() -> Self {
        Credits {
            left: HTTP_CREDITS,
            at: None,
        }
    }
}

impl Credits {
    /// Takes one credit if there is one, at clock time `now` (seconds).
    pub fn take(&mut self, now: f64) -> bool {
        if let Some(at) = self.at {
            let gained = (now - at).max(0.0) * HTTP_CREDITS_PER_SEC;
            if gained.is_finite() {
                self.left = (self.left + gained).min(HTTP_CREDITS);
            }
        }
        self.at = Some(self.at.map_or(now, |at| at.max(now)));
        if self.left >= 1.0 {
            self.left -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_count_bytes() {
        let mut q = MsgQueue::default();
        q.push_back(("m".into(), Value::Blob(vec![0; 1000])));
        q.push_back(("m".into(), Value::Str("x".repeat(10))));
        assert_eq!(q.bytes(), 1 + 1005 + 1 + 15);
        q.pop_front();
        assert_eq!(q.bytes(), 16);
        q.clear();
        assert_eq!((q.len(), q.bytes()), (0, 0));
    }

    #[test]
    fn credits_burst_forty_then_two_a_second() {
        let mut c = Credits::default();
        let t = 1.7e9;
        assert_eq!((0..100).filter(|_| c.take(t)).count(), 40);
        assert_eq!((0..100).filter(|_| c.take(t + 5.0)).count(), 10);
        // A clock read a moment earlier (another thread) neither refills nor goes back.
        assert!(!c.take(t + 4.0));
        assert_eq!((0..100).filter(|_| c.take(t + 5.5)).count(), 1);
    }

    #[test]
    fn memory_by_imp_type() {
        let l = PlatformLimits::default();
        assert_eq!(l.device_memory("imp004m"), 128 * 1024);
        assert!(api_baseline() > 10_000);
        let l = PlatformLimits {
            device_memory: Some(1000),
            ..l
        };
        assert_eq!(l.device_memory("imp005"), 1000);
    }
}

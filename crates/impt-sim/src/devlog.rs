//! Log lines of virtual devices: recorded in the device's history and sent to every log
//! stream subscribed to the device.
//!
//! The history is kept apart from the entities ([`Logs`], in the world but not in the
//! `Db`): bounded per device (entries and bytes), saved to its own file in the background
//! (see the persist module), so its size never slows an acknowledged change.

use super::app::{App, SseMsg, World};
use super::model::{log_type_for, truncate_log, Db, Device, LogEntry, MAX_DEVICE_LOGS};
use super::util::now_iso;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Bytes of messages kept per device, besides [`MAX_DEVICE_LOGS`] entries.
pub const MAX_DEVICE_LOG_BYTES: usize = 256 * 1024;

/// One device's history, oldest first.
#[derive(Default, Clone)]
pub struct History {
    pub entries: VecDeque<Arc<LogEntry>>,
    bytes: usize,
}

impl History {
    fn push(&mut self, e: LogEntry) {
        self.bytes += e.msg.len();
        self.entries.push_back(Arc::new(e));
        while self.entries.len() > MAX_DEVICE_LOGS
            || (self.bytes > MAX_DEVICE_LOG_BYTES && self.entries.len() > 1)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.msg.len();
            }
        }
    }
}

/// The log history of every device.
#[derive(Default)]
pub struct Logs {
    pub by_device: HashMap<String, History>,
    /// Number of changes made, and the number the log file holds.
    pub changes: u64,
    pub saved: u64,
}

impl Logs {
    pub fn push(&mut self, device_id: &str, e: LogEntry) {
        let msg = truncate_log(&e.msg);
        let e = match msg {
            std::borrow::Cow::Owned(m) => LogEntry { msg: m, ..e },
            std::borrow::Cow::Borrowed(_) => e,
        };
        self.by_device
            .entry(device_id.to_string())
            .or_default()
            .push(e);
        self.changes += 1;
    }

    /// Entries of a device, newest first.
    pub fn newest_first(&self, device_id: &str) -> Vec<Arc<LogEntry>> {
        self.by_device
            .get(device_id)
            .map(|h| h.entries.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    pub fn forget(&mut self, device_id: &str) {
        if self.by_device.remove(device_id).is_some() {
            self.changes += 1;
        }
    }

    /// Move the entries a device carries (a new device's first one, or an older state
    /// file's history) into the store.
    pub fn adopt(&mut self, d: &mut Device) {
        for e in std::mem::take(&mut d.logs) {
            self.push(&d.id, e);
        }
    }

    /// [`Logs::adopt`] for every device of `db`; histories of devices `db` does not hold
    /// are dropped.
    pub fn adopt_all(&mut self, db: &mut Db) {
        for d in &mut db.devices {
            self.adopt(d);
        }
        let ids: std::collections::HashSet<&str> =
            db.devices.iter().map(|d| d.id.as_str()).collect();
        self.by_device.retain(|k, _| ids.contains(k.as_str()));
    }

    /// What the log file holds (entries shared, not copied).
    pub fn snapshot(&self) -> HashMap<String, Vec<Arc<LogEntry>>> {
        self.by_device
            .iter()
            .map(|(k, h)| (k.clone(), h.entries.iter().cloned().collect()))
            .collect()
    }
}

/// Deserializes a list of log entries keeping only the newest [`MAX_DEVICE_LOGS`] (one at a
/// time: an older state file's long history is never held whole).
pub fn newest_entries<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<VecDeque<LogEntry>, D::Error> {
    struct Tail;
    impl<'de> serde::de::Visitor<'de> for Tail {
        type Value = VecDeque<LogEntry>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of log entries")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = VecDeque::new();
            while let Some(mut e) = seq.next_element::<LogEntry>()? {
                if let std::borrow::Cow::Owned(m) = truncate_log(&e.msg) {
                    e.msg = m;
                }
                out.push_back(e);
                if out.len() > MAX_DEVICE_LOGS {
                    out.pop_front();
                }
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Tail)
}

/// The log file's document.
#[derive(serde::Serialize, Deserialize)]
pub struct LogFile {
    pub devices: HashMap<String, Vec<Arc<LogEntry>>>,
}

/// Record a log line of a device and send it to every stream that has the device.
pub fn emit(w: &mut World, device_id: &str, typ: &str, msg: &str) {
    let Some(i) = w.db.device_pos(device_id) else {
        return;
    };
    let msg = truncate_log(msg);
    let msg: &str = &msg;
    let log_type = {
        let g = w.db.devices[i].group.clone();
        log_type_for(g.as_deref().and_then(|g| w.db.group_type(g)))
    };
    let ts = now_iso();
    w.logs.push(
        device_id,
        LogEntry {
            ts: ts.clone(),
            typ: typ.into(),
            msg: msg.into(),
        },
    );
    for s in w
        .streams
        .iter()
        .filter(|s| s.devices.iter().any(|x| x == device_id))
    {
        s.send(SseMsg::Log {
            device_id: device_id.to_string(),
            ts: ts.clone(),
            log_type: log_type.into(),
            typ: typ.into(),
            msg: msg.into(),
        });
    }
}

pub fn emit_app(app: &App, device_id: &str, typ: &str, msg: &str) -> bool {
    let mut w = app.world();
    if w.db.device_pos(device_id).is_none() {
        return false;
    }
    // Log lines change the log history only: no entity snapshot is due.
    emit(&mut w, device_id, typ, msg);
    true
}

/// Percentage of program storage that device code of `len` bytes uses.
pub fn storage_used(len: usize) -> f64 {
    3.0 + (len as f64 / 4096.0).min(90.0)
}

//! Each log line once across a reconnection: the lines of one device delivered lately, so
//! that lines recovered from the device's history after a log stream dropped are shown only
//! when they were missed, and recovered lines the new stream delivers again are dropped.
//! Used by the healing log stream ([`super::stream`]) and by watch's stream.

use std::collections::{HashMap, VecDeque};

/// Lines remembered per device to drop duplicates after a recovery.
const SEEN_CAP: usize = 2000;

/// What identifies a log line: `(ts, type, msg)`.
pub type Key = (String, String, String);

/// The key of a log entry as the API delivers it (`{ts, type, msg}`).
pub fn key_of(v: &serde_json::Value) -> Key {
    let s = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (s("ts"), s("type"), s("msg"))
}

/// The lines of one device delivered lately. Identical lines in normal streaming are all
/// shown.
#[derive(Default)]
pub struct Seen {
    recent: VecDeque<Key>,
    /// Lines recovered from history that the new stream may deliver again (oldest first).
    pending: VecDeque<Key>,
    /// The newest timestamp delivered (empty: none yet).
    pub last_ts: String,
}

impl Seen {
    fn record(&mut self, k: Key) {
        if k.0 > self.last_ts {
            self.last_ts = k.0.clone();
        }
        self.recent.push_back(k);
        if self.recent.len() > SEEN_CAP {
            self.recent.pop_front();
        }
    }

    /// A line of the stream: false when it was recovered from history already.
    pub fn on_stream(&mut self, k: Key) -> bool {
        // The stream is in order: recovered lines older than this one will not come.
        while self.pending.front().is_some_and(|p| p.0 < k.0) {
            self.pending.pop_front();
        }
        if let Some(i) = self.pending.iter().position(|p| *p == k) {
            self.pending.remove(i);
            return false;
        }
        self.record(k);
        true
    }

    /// History entries (oldest first) not older than `since`: those to deliver.
    pub fn on_history<T>(
        &mut self,
        entries: Vec<T>,
        key: impl Fn(&T) -> Key,
        since: &str,
    ) -> Vec<T> {
        let mut credit: HashMap<Key, usize> = HashMap::new();
        for k in self.recent.iter().filter(|k| k.0.as_str() >= since) {
            *credit.entry(k.clone()).or_default() += 1;
        }
        let mut out = Vec::new();
        for l in entries {
            let k = key(&l);
            if k.0.as_str() < since {
                continue;
            }
            if let Some(c) = credit.get_mut(&k).filter(|c| **c > 0) {
                *c -= 1;
                continue;
            }
            self.record(k.clone());
            self.pending.push_back(k);
            out.push(l);
        }
        out
    }

    /// No recovered line is waiting for the stream.
    #[cfg(test)]
    pub fn settled(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(ts: &str, msg: &str) -> Key {
        (ts.into(), "server.log".into(), msg.into())
    }

    #[test]
    fn every_line_once_across_a_recovery() {
        let mut s = Seen::default();
        // Identical lines while streaming are all shown.
        assert!(s.on_stream(k("t1", "a")));
        assert!(s.on_stream(k("t1", "a")));
        assert!(s.on_stream(k("t2", "b")));
        // History after a reconnection: t2 b was shown, t2 c and t3 d were missed, t4 e
        // will come on the new stream too.
        let hist = vec![
            k("t1", "a"),
            k("t2", "b"),
            k("t2", "c"),
            k("t3", "d"),
            k("t4", "e"),
        ];
        let missed: Vec<String> = s
            .on_history(hist, Clone::clone, "t2")
            .into_iter()
            .map(|l| l.2)
            .collect();
        assert_eq!(missed, ["c", "d", "e"]);
        assert_eq!(s.last_ts, "t4");
        assert!(!s.on_stream(k("t4", "e")));
        assert!(s.on_stream(k("t4", "e")));
        assert!(s.on_stream(k("t5", "f")));
        assert!(s.settled());
    }
}

//! Request rate limiting and brute-force protection of the login endpoints.
//!
//! `--rate-limit N` counts requests per second per key: the account of a valid bearer
//! token, otherwise the client's address (random bearer strings do not get fresh buckets,
//! and anonymous clients on other addresses are not affected). Failed logins are counted
//! per client address and login id: after [`MAX_FAILURES`] within [`FAILURE_WINDOW_MS`],
//! further attempts for that pair get `429` until the window has passed; other ids and
//! other addresses log in as usual.
//!
//! The failure table is bounded without letting junk ids push a locked id out: when full,
//! expired and then unlocked entries go; if it is still full (every entry locked), a new
//! id's failures count on its address's overflow entry, which, once locked, locks every id
//! the table does not hold for that address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use super::app::lock;

/// Failed logins per (address, id) allowed in the window.
pub const MAX_FAILURES: u32 = 10;
pub const FAILURE_WINDOW_MS: i64 = 60_000;
/// Keys kept by each table before old entries are dropped.
const MAX_KEYS: usize = 10_000;

/// Who tries to log in: the client's address and the login id.
type LoginKey = (Option<IpAddr>, String);

#[derive(Default)]
pub struct Guard {
    /// Rate limiting: key → (window second, count).
    rate: Mutex<HashMap<String, (i64, u32)>>,
    /// Failed logins: (address, id) → (first failure of the window in ms, count).
    failures: Mutex<HashMap<LoginKey, (i64, u32)>>,
    /// Failures of ids the full table could not hold, per address.
    overflow: Mutex<HashMap<Option<IpAddr>, (i64, u32)>>,
}

/// Seconds until a `(first failure, count)` entry lets its key try again, if it is locked.
fn wait_of(entry: Option<(i64, u32)>, now_ms: i64) -> Option<u64> {
    let (first, n) = entry?;
    let left = first + FAILURE_WINDOW_MS - now_ms;
    (n >= MAX_FAILURES && left > 0).then(|| (left as u64).div_ceil(1000).max(1))
}

fn count_failure(e: &mut (i64, u32), now_ms: i64) {
    if now_ms - e.0 >= FAILURE_WINDOW_MS {
        *e = (now_ms, 0);
    }
    e.1 = e.1.saturating_add(1);
}

/// What a request counts against.
pub fn rate_key(account: Option<&str>, addr: Option<IpAddr>) -> String {
    match (account, addr) {
        (Some(a), _) => format!("account {a}"),
        (None, Some(ip)) => format!("address {ip}"),
        (None, None) => "anonymous".into(),
    }
}

impl Guard {
    /// Count a request of `key` in the current second: `(remaining, over)`.
    pub fn count(&self, key: String, limit: u32, now_sec: i64) -> (u32, bool) {
        let mut m = lock(&self.rate);
        if m.len() >= MAX_KEYS && !m.contains_key(&key) {
            m.retain(|_, (s, _)| *s == now_sec);
        }
        let e = m.entry(key).or_insert((now_sec, 0));
        if e.0 != now_sec {
            *e = (now_sec, 0);
        }
        e.1 = e.1.saturating_add(1);
        (limit.saturating_sub(e.1), e.1 > limit)
    }

    /// Seconds until `(addr, id)` may try again, when it has failed too often.
    pub fn login_blocked(&self, addr: Option<IpAddr>, id: &str, now_ms: i64) -> Option<u64> {
        let m = lock(&self.failures);
        match m.get(&(addr, id.to_string())) {
            Some(e) => wait_of(Some(*e), now_ms),
            None => wait_of(lock(&self.overflow).get(&addr).copied(), now_ms),
        }
    }

    pub fn login_failed(&self, addr: Option<IpAddr>, id: &str, now_ms: i64) {
        let mut m = lock(&self.failures);
        let key = (addr, id.to_string());
        if m.len() >= MAX_KEYS && !m.contains_key(&key) {
            m.retain(|_, (t, _)| now_ms - *t < FAILURE_WINDOW_MS);
            if m.len() >= MAX_KEYS {
                // Still full: forget the older half of the unlocked entries; locked ones
                // stay until their window has passed.
                let mut ts: Vec<i64> = m
                    .values()
                    .filter(|(_, n)| *n < MAX_FAILURES)
                    .map(|(t, _)| *t)
                    .collect();
                ts.sort_unstable();
                if let Some(cut) = ts.get(ts.len() / 2).copied() {
                    m.retain(|_, (t, n)| *n >= MAX_FAILURES || *t > cut);
                }
            }
            if m.len() >= MAX_KEYS {
                let mut o = lock(&self.overflow);
                if o.len() >= MAX_KEYS {
                    o.retain(|_, (t, _)| now_ms - *t < FAILURE_WINDOW_MS);
                }
                if o.len() < MAX_KEYS || o.contains_key(&addr) {
                    count_failure(o.entry(addr).or_insert((now_ms, 0)), now_ms);
                }
                return;
            }
        }
        count_failure(m.entry(key).or_insert((now_ms, 0)), now_ms);
    }

    pub fn login_succeeded(&self, addr: Option<IpAddr>, id: &str) {
        lock(&self.failures).remove(&(addr, id.to_string()));
    }

    #[cfg(test)]
    fn keys(&self) -> (usize, usize) {
        (lock(&self.rate).len(), lock(&self.failures).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_one_pair_only() {
        let g = Guard::default();
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert!(g.login_blocked(a, "user", 0).is_none());
            g.login_failed(a, "user", 0);
        }
        assert_eq!(g.login_blocked(a, "user", 1000), Some(59));
        assert!(g.login_blocked(a, "other", 1000).is_none());
        assert!(g.login_blocked(b, "user", 1000).is_none());
        assert!(g.login_blocked(a, "user", FAILURE_WINDOW_MS).is_none());
    }

    #[test]
    fn tables_stay_bounded() {
        let g = Guard::default();
        for i in 0..(MAX_KEYS as i64 * 3) {
            g.count(format!("k{i}"), 5, i / 1000);
            g.login_failed(a_addr(), &format!("id{i}"), 0);
        }
        let (r, f) = g.keys();
        assert!(r <= MAX_KEYS && f <= MAX_KEYS, "{r} {f}");
    }

    #[test]
    fn junk_ids_cannot_unlock_a_locked_id() {
        let g = Guard::default();
        let a = a_addr();
        for _ in 0..MAX_FAILURES {
            g.login_failed(a, "user", 0);
        }
        assert!(g.login_blocked(a, "user", 1).is_some());
        // Newer failures of many other ids fill the table again and again.
        for i in 0..(MAX_KEYS as i64 * 3) {
            g.login_failed(a, &format!("junk{i}"), 1 + i / 100);
        }
        assert!(g.login_blocked(a, "user", 400).is_some());
        assert!(g.keys().1 <= MAX_KEYS);
        // Every entry locked: an id the table cannot hold is counted per address.
        let g = Guard::default();
        for i in 0..MAX_KEYS {
            for _ in 0..MAX_FAILURES {
                g.login_failed(a, &format!("id{i}"), 0);
            }
        }
        for _ in 0..MAX_FAILURES {
            assert!(g.login_blocked(a, "target", 1).is_none());
            g.login_failed(a, "target", 1);
        }
        assert!(g.login_blocked(a, "target", 2).is_some());
        assert!(g.login_blocked(a, "id0", 2).is_some());
        assert!(g.login_blocked(a_other(), "target", 2).is_none());
    }

    fn a_other() -> Option<IpAddr> {
        Some("10.0.0.9".parse().unwrap())
    }

    fn a_addr() -> Option<IpAddr> {
        Some("10.0.0.1".parse().unwrap())
    }
}

//! Request rate limiting and brute-force protection of the login endpoints.
//!
//! `--rate-limit N` counts requests per second per key: the account of a valid bearer
//! token, otherwise the client's address (random bearer strings do not get fresh buckets,
//! and anonymous clients on other addresses are not affected). Failed logins are counted
//! per client address and login id: after [`MAX_FAILURES`] within [`FAILURE_WINDOW_MS`],
//! further attempts for that pair get `429` until the window has passed; other ids and
//! other addresses log in as usual.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

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
        let (first, n) = *m.get(&(addr, id.to_string()))?;
        let left = first + FAILURE_WINDOW_MS - now_ms;
        (n >= MAX_FAILURES && left > 0).then(|| (left as u64).div_ceil(1000).max(1))
    }

    pub fn login_failed(&self, addr: Option<IpAddr>, id: &str, now_ms: i64) {
        let mut m = lock(&self.failures);
        if m.len() >= MAX_KEYS {
            m.retain(|_, (t, _)| now_ms - *t < FAILURE_WINDOW_MS);
            if m.len() >= MAX_KEYS {
                // Still full: forget the oldest half rather than grow.
                let mut ts: Vec<i64> = m.values().map(|(t, _)| *t).collect();
                ts.sort_unstable();
                let cut = ts[ts.len() / 2];
                m.retain(|_, (t, _)| *t > cut);
            }
        }
        let e = m.entry((addr, id.to_string())).or_insert((now_ms, 0));
        if now_ms - e.0 >= FAILURE_WINDOW_MS {
            *e = (now_ms, 0);
        }
        e.1 = e.1.saturating_add(1);
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

    fn a_addr() -> Option<IpAddr> {
        Some("10.0.0.1".parse().unwrap())
    }
}

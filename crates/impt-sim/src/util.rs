//! Small helpers: ids, timestamps, random values.

use base64::Engine;
use rand::Rng;

/// Current time as ISO-8601 UTC with milliseconds and `Z`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn iso_from_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn rand_hex(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A 36-char lower-case hex id in 8-4-4-4-12 layout.
pub fn new_id() -> String {
    format!(
        "{}-{}-{}-{}-{}",
        rand_hex(8),
        rand_hex(4),
        rand_hex(4),
        rand_hex(4),
        rand_hex(12)
    )
}

/// 16 lower-case hex chars.
pub fn new_agent_id() -> String {
    let bytes: [u8; 9] = rand::thread_rng().gen();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn new_access_token() -> String {
    let bytes: Vec<u8> = (0..105).map(|_| rand::thread_rng().gen()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn new_secret_hex(bytes: usize) -> String {
    rand_hex(bytes * 2)
}

pub fn sha256_hex(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

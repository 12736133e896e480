//! Secrets as the state file keeps them: passwords as Argon2id hashes (PHC strings, salted),
//! access, refresh and login tokens as SHA-256 digests (they are long random strings, so a
//! fast digest is enough: nobody can guess one back from it). Login key ids stay as they
//! are: the API lists them, as impCentral does.
//!
//! [`migrate`] turns an older state file (plaintext passwords and tokens) into this form.

use super::model::Db;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Version of the state file's secrets: 0 (or absent) kept them in plaintext.
pub const FORMAT: u32 = 2;

/// The digest a token is kept as.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new Argon2id hash (default parameters: 19 MiB, 2 passes) of `password`.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Hashes already checked, with the digest of the password that matched: an Argon2 check
/// costs tens of milliseconds, and clients log in often. Memory only.
static CHECKED: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
const CHECKED_MAX: usize = 1024;

/// Whether `password` matches the PHC string `hash`.
pub fn password_ok(hash: &str, password: &str) -> bool {
    if hash.is_empty() {
        return false;
    }
    let digest = token_digest(password);
    {
        let m = super::app::lock(&CHECKED);
        if let Some(d) = m.as_ref().and_then(|m| m.get(hash)) {
            return *d == digest;
        }
    }
    let ok = PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    if ok {
        let mut m = super::app::lock(&CHECKED);
        let m = m.get_or_insert_with(HashMap::new);
        if m.len() >= CHECKED_MAX {
            m.clear();
        }
        m.insert(hash.to_string(), digest);
    }
    ok
}

/// Bring the secrets of `db` to [`FORMAT`]: hash plaintext passwords, digest tokens.
pub fn migrate(db: &mut Db) {
    if db.format >= FORMAT {
        for a in &mut db.accounts {
            a.password.clear();
        }
        return;
    }
    for a in &mut db.accounts {
        if a.password_hash.is_empty() {
            a.password_hash = hash_password(&a.password);
        }
        a.password.clear();
        a.otp = a.otp.as_deref().map(hash_password);
    }
    for t in &mut db.access_tokens {
        t.token = token_digest(&t.token);
    }
    for t in &mut db.refresh_tokens {
        t.token = token_digest(&t.token);
    }
    for t in &mut db.login_tokens {
        t.token = token_digest(&t.token);
    }
    db.format = FORMAT;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_salted_hashes() {
        let a = hash_password("secret");
        let b = hash_password("secret");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(password_ok(&a, "secret"));
        assert!(password_ok(&a, "secret"));
        assert!(!password_ok(&a, "Secret"));
        assert!(!password_ok("", ""));
        assert!(!password_ok("not a hash", "secret"));
    }
}

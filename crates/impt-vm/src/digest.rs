//! Hashes for the imp's `crypto` (device) and `http.hash` (agent) APIs, from the RustCrypto
//! crates: digests and HMACs of raw bytes.

use hmac::{Hmac, Mac};
use sha2::Digest;

/// The digest of `data` with `alg` (`sha1`, `sha256`, `sha512`, `md5`).
pub fn digest(alg: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match alg {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        "md5" => md5::Md5::digest(data).to_vec(),
        other => return Err(format!("unknown hash '{other}'")),
    })
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// The HMAC of `data` under `key` with `alg` (`sha1`, `sha256`, `sha512`, `md5`).
pub fn hmac(alg: &str, data: &[u8], key: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match alg {
        "sha1" => mac::<Hmac<sha1::Sha1>>(key, data),
        "sha256" => mac::<Hmac<sha2::Sha256>>(key, data),
        "sha512" => mac::<Hmac<sha2::Sha512>>(key, data),
        "md5" => mac::<Hmac<md5::Md5>>(key, data),
        other => return Err(format!("unknown hash '{other}'")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            hex::encode(digest("sha256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hex::encode(hmac("sha256", b"what do ya want for nothing?", b"Jefe").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(digest("sha3", b"").is_err());
    }
}

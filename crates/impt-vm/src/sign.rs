//! RSA signatures for the agent's `crypto.sign` / `crypto.verify` (RSASSA-PKCS1-v1_5 with
//! SHA-256, the one mode the imp offers), from the RustCrypto `rsa` crate. Keys are DER:
//! PKCS#1 or PKCS#8 private keys, SubjectPublicKeyInfo ("PKCS#8") or PKCS#1 public keys,
//! as `openssl genrsa` / `openssl rsa -pubout` write them once the PEM armour is removed.

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// The largest message the imp signs (64 KiB).
pub const MAX_MESSAGE: usize = 65536;
/// Key sizes the imp accepts, in bits (inclusive).
const MIN_BITS: usize = 1024;
const MAX_BITS: usize = 4096;

fn check_bits(op: &str, n_bits: usize) -> Result<(), String> {
    if (MIN_BITS..=MAX_BITS).contains(&n_bits) {
        Ok(())
    } else {
        Err(format!(
            "crypto.{op}: the RSA key has {n_bits} bits; keys of {MIN_BITS} to {MAX_BITS} bits are supported"
        ))
    }
}

/// The RSASSA-PKCS1-v1_5 SHA-256 signature of `message` under the DER private key `key`
/// (as long as the modulus). Errors are texts for a runtime error.
pub fn sign(key: &[u8], message: &[u8]) -> Result<Vec<u8>, String> {
    if message.len() > MAX_MESSAGE {
        return Err(format!(
            "crypto.sign: the message has {} bytes; at most {MAX_MESSAGE} can be signed",
            message.len()
        ));
    }
    let key = RsaPrivateKey::from_pkcs1_der(key)
        .or_else(|_| RsaPrivateKey::from_pkcs8_der(key))
        .map_err(|_| {
            "crypto.sign: the key is not a DER-encoded PKCS#1 or PKCS#8 RSA private key \
             (unencrypted, without the PEM header and base64)"
                .to_string()
        })?;
    check_bits("sign", key.n().bits())?;
    let signature = SigningKey::<Sha256>::new(key)
        .try_sign(message)
        .map_err(|e| format!("crypto.sign: {e}"))?;
    Ok(signature.to_vec())
}

/// Whether `signature` is the RSASSA-PKCS1-v1_5 SHA-256 signature of `message` under the
/// DER public key `key`. A malformed key is an error; a wrong signature is `false`.
pub fn verify(key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, String> {
    let key = RsaPublicKey::from_public_key_der(key)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(key))
        .map_err(|_| {
            "crypto.verify: the key is not a DER-encoded PKCS#8 (SubjectPublicKeyInfo) or \
             PKCS#1 RSA public key"
                .to_string()
        })?;
    check_bits("verify", key.n().bits())?;
    let Ok(signature) = Signature::try_from(signature) else {
        return Ok(false);
    };
    Ok(VerifyingKey::<Sha256>::new(key)
        .verify(message, &signature)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// The DER inside a PEM file of tests/fixtures/rsa.
    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    const PKCS1: &str = include_str!("../../../tests/fixtures/rsa/rsa1024.key");
    const PKCS8: &str = include_str!("../../../tests/fixtures/rsa/rsa1024.p8");
    const SPKI: &str = include_str!("../../../tests/fixtures/rsa/rsa1024.pub");
    const PKCS1_PUB: &str = include_str!("../../../tests/fixtures/rsa/rsa1024.p1pub");
    const SMALL: &str = include_str!("../../../tests/fixtures/rsa/rsa512.key");
    const SMALL_PUB: &str = include_str!("../../../tests/fixtures/rsa/rsa512.pub");
    /// `openssl dgst -sha256 -sign rsa1024.key` of "Hello, World!".
    const OPENSSL_SIG: &[u8] = include_bytes!("../../../tests/fixtures/rsa/hello.sig");

    #[test]
    fn signs_as_openssl_does_with_either_private_key_format() {
        let sig = sign(&der(PKCS1), b"Hello, World!").unwrap();
        assert_eq!(sig, OPENSSL_SIG);
        assert_eq!(sign(&der(PKCS8), b"Hello, World!").unwrap(), OPENSSL_SIG);
        assert_ne!(sign(&der(PKCS1), b"Hello, World?").unwrap(), OPENSSL_SIG);
    }

    #[test]
    fn verifies_openssl_signatures_with_either_public_key_format() {
        for key in [der(SPKI), der(PKCS1_PUB)] {
            assert_eq!(verify(&key, b"Hello, World!", OPENSSL_SIG), Ok(true));
            assert_eq!(verify(&key, b"Hello, World?", OPENSSL_SIG), Ok(false));
            let mut bad = OPENSSL_SIG.to_vec();
            bad[40] ^= 1;
            assert_eq!(verify(&key, b"Hello, World!", &bad), Ok(false));
            assert_eq!(verify(&key, b"Hello, World!", &OPENSSL_SIG[1..]), Ok(false));
            assert_eq!(verify(&key, b"Hello, World!", b""), Ok(false));
        }
    }

    #[test]
    fn malformed_or_unsupported_keys_are_errors() {
        let e = sign(b"not a key", b"m").unwrap_err();
        assert!(
            e.starts_with(
                "crypto.sign: the key is not a DER-encoded PKCS#1 or PKCS#8 RSA private key"
            ),
            "{e}"
        );
        // A public key is no private key and the other way round.
        assert!(sign(&der(SPKI), b"m").is_err());
        let e = verify(&der(PKCS1), b"m", OPENSSL_SIG).unwrap_err();
        assert!(e.starts_with("crypto.verify: the key is not"), "{e}");
        assert_eq!(
            sign(&der(SMALL), b"m").unwrap_err(),
            "crypto.sign: the RSA key has 512 bits; keys of 1024 to 4096 bits are supported"
        );
        assert_eq!(
            verify(&der(SMALL_PUB), b"m", OPENSSL_SIG).unwrap_err(),
            "crypto.verify: the RSA key has 512 bits; keys of 1024 to 4096 bits are supported"
        );
    }

    #[test]
    fn messages_over_64k_are_refused() {
        assert!(sign(&der(PKCS1), &vec![7; MAX_MESSAGE]).is_ok());
        assert_eq!(
            sign(&der(PKCS1), &vec![7; MAX_MESSAGE + 1]).unwrap_err(),
            "crypto.sign: the message has 65537 bytes; at most 65536 can be signed"
        );
    }
}

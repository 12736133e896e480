//! The agent's `crypto.sign` / `crypto.verify` against Electric Imp's documented behaviour:
//! RSASSA-PKCS1-v1_5 SHA-256 with DER keys made by openssl (tests/fixtures/rsa), the result
//! passed to the callback later as (error, signature blob) / (error, isVerified), bad
//! arguments thrown as runtime errors, agents only.

use std::sync::{Arc, Mutex};

use base64::Engine;
use impt_vm::{Host, Limits, LogKind, Side, Value, Vm};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};

const PKCS1: &str = include_str!("../fixtures/rsa/rsa1024.key");
const PKCS8: &str = include_str!("../fixtures/rsa/rsa1024.p8");
const SPKI: &str = include_str!("../fixtures/rsa/rsa1024.pub");
const SMALL: &str = include_str!("../fixtures/rsa/rsa512.key");
/// `openssl dgst -sha256 -sign rsa1024.key` of "Hello, World!".
const OPENSSL_SIG: &[u8] = include_bytes!("../fixtures/rsa/hello.sig");

#[derive(Clone)]
struct Logs(Side, Arc<Mutex<Vec<String>>>);

impl Host for Logs {
    fn side(&self) -> Side {
        self.0
    }
    fn log(&mut self, _kind: LogKind, message: &str) {
        self.1.lock().unwrap().push(message.to_string());
    }
    fn now(&self) -> f64 {
        0.0
    }
    fn send(&mut self, _name: &str, _data: Value) {}
}

fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// Squirrel that turns a PEM text into the DER blob, as imp code does.
fn pem_const(name: &str, pem: &str) -> String {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    format!("{name} <- http.base64decode(\"{body}\");\n")
}

const HEX: &str =
    "function hex(b) { local s = \"\"; foreach (x in b) s += format(\"%02x\", x); return s; }\n";

/// Runs `code` on a VM of `side` with the test keys defined, then the due timers; the logs.
fn run(side: Side, code: &str) -> (Vec<String>, Result<(), impt_vm::RuntimeError>) {
    let logs = Logs(side, Arc::default());
    let mut vm = Vm::new(Limits::default(), Box::new(logs.clone())).unwrap();
    let mut src = String::from(HEX);
    if side == Side::Agent {
        src += &pem_const("PKCS1", PKCS1);
        src += &pem_const("PKCS8", PKCS8);
        src += &pem_const("SPKI", SPKI);
        src += &pem_const("SMALL", SMALL);
    }
    src += code;
    let r = vm.run_main(&src, "agent.nut");
    if r.is_ok() {
        vm.run_due_timers(0.0).unwrap();
    }
    let seen = logs.1.lock().unwrap().clone();
    (seen, r)
}

#[test]
fn sign_gives_openssls_signature_as_a_blob_later() {
    let (logs, r) = run(
        Side::Agent,
        r#"
        foreach (key in [PKCS1, PKCS8]) {
            crypto.sign(crypto.RSASSA_PKCS1_SHA256, "Hello, World!", key, function(err, sig) {
                server.log("cb " + err + " " + typeof sig + " " + hex(sig));
            });
        }
        server.log("returned");
        "#,
    );
    r.unwrap();
    let want = format!("cb null blob {}", hex::encode(OPENSSL_SIG));
    assert_eq!(logs, vec!["returned".to_string(), want.clone(), want]);
}

#[test]
fn squirrel_signature_verifies_with_the_rsa_crate() {
    let (logs, r) = run(
        Side::Agent,
        "local m = blob(); m.writestring(\"a message\"); m.writen(1, 'b'); m.writen(255, 'b');\n\
         crypto.sign(crypto.RSASSA_PKCS1_SHA256, m, PKCS1, function(e, s) { server.log(hex(s)); });",
    );
    let message = b"a message\x01\xff";
    r.unwrap();
    let sig = hex::decode(&logs[0]).unwrap();
    let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
        rsa::RsaPublicKey::from_public_key_der(&der(SPKI)).unwrap(),
    );
    let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    key.verify(message, &sig).unwrap();
    assert!(key.verify(b"another message", &sig).is_err());
}

#[test]
fn verify_accepts_rust_signatures_and_refuses_wrong_ones() {
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(
        rsa::RsaPrivateKey::from_pkcs1_der(&der(PKCS1)).unwrap(),
    );
    let sig = signer.sign(b"from rust").to_vec();
    let mut bad = sig.clone();
    bad[5] ^= 0x80;
    let (logs, r) = run(
        Side::Agent,
        &format!(
            "local good = blob(); good.writestring(http.base64decode({g:?}).tostring());\n\
             local bad = http.base64decode({b:?});\n\
             local log = function(what) {{ return function(e, ok) {{ server.log(what + \" \" + e + \" \" + ok); }}; }};\n\
             crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"from rust\", good, SPKI, log(\"good\"));\n\
             crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"from rust\", good.tostring(), SPKI, log(\"string\"));\n\
             crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"from rust!\", good, SPKI, log(\"message\"));\n\
             crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"from rust\", bad, SPKI, log(\"signature\"));\n\
             crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"from rust\", \"short\", SPKI, log(\"short\"));\n",
            g = base64::engine::general_purpose::STANDARD.encode(&sig),
            b = base64::engine::general_purpose::STANDARD.encode(&bad),
        ),
    );
    r.unwrap();
    assert_eq!(
        logs,
        [
            "good null true",
            "string null true",
            "message null false",
            "signature null false",
            "short null false"
        ]
    );
}

#[test]
fn bad_arguments_are_runtime_errors() {
    let cases = [
        (
            "crypto.sign(99, \"m\", PKCS1, function(e, s) {});",
            "crypto.sign: unsupported mode (the only mode is crypto.RSASSA_PKCS1_SHA256)",
        ),
        (
            "crypto.verify(\"x\", \"m\", \"s\", SPKI, function(e, s) {});",
            "crypto.verify: unsupported mode (the only mode is crypto.RSASSA_PKCS1_SHA256)",
        ),
        (
            "crypto.sign(crypto.RSASSA_PKCS1_SHA256, \"m\", PKCS1, null);",
            "crypto.sign: the callback must be a function",
        ),
        (
            "crypto.sign(crypto.RSASSA_PKCS1_SHA256, 42, PKCS1, function(e, s) {});",
            "crypto.sign: the message must be a string or a blob",
        ),
        (
            "crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"m\", null, SPKI, function(e, s) {});",
            "crypto.verify: the signature must be a string or a blob",
        ),
        (
            "crypto.sign(crypto.RSASSA_PKCS1_SHA256, \"m\", \"-----BEGIN RSA PRIVATE KEY-----\", function(e, s) {});",
            "crypto.sign: the key is not a DER-encoded PKCS#1 or PKCS#8 RSA private key (unencrypted, without the PEM header and base64)",
        ),
        (
            "crypto.verify(crypto.RSASSA_PKCS1_SHA256, \"m\", \"s\", PKCS1, function(e, s) {});",
            "crypto.verify: the key is not a DER-encoded PKCS#8 (SubjectPublicKeyInfo) or PKCS#1 RSA public key",
        ),
        (
            "crypto.sign(crypto.RSASSA_PKCS1_SHA256, \"m\", SMALL, function(e, s) {});",
            "crypto.sign: the RSA key has 512 bits; keys of 1024 to 4096 bits are supported",
        ),
        (
            "crypto.sign(crypto.RSASSA_PKCS1_SHA256, blob(65537), PKCS1, function(e, s) {});",
            "crypto.sign: the message has 65537 bytes; at most 65536 can be signed",
        ),
    ];
    for (code, want) in cases {
        let (logs, r) = run(Side::Agent, code);
        assert_eq!(r.unwrap_err().message, want, "{code}");
        assert!(logs.is_empty(), "{code}: no callback: {logs:?}");
    }
}

#[test]
fn devices_have_no_sign_or_verify() {
    for (code, want) in [
        (
            "crypto.sign(1, \"m\", \"k\", function(e, s) {});",
            "crypto.sign is available on agents only",
        ),
        (
            "crypto.verify(1, \"m\", \"s\", \"k\", function(e, s) {});",
            "crypto.verify is available on agents only",
        ),
    ] {
        let (_, r) = run(Side::Device, code);
        assert_eq!(r.unwrap_err().message, want);
    }
    let (logs, r) = run(
        Side::Device,
        "server.log((\"RSASSA_PKCS1_SHA256\" in crypto) + \" \" + hex(crypto.sha256(\"abc\")).len());",
    );
    r.unwrap();
    assert_eq!(logs, ["false 64"]);
}

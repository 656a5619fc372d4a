//! Envelopes signed here verify with Python securesystemslib's Envelope API
//! (tools/interop/dsse_verify.py), and a tampered one is rejected by it.
//!
//! Needs `AILEDGER_TEST_PYTHON`: a Python with tools/interop/requirements.txt installed
//! (`.ci/run` sets it up). Without it the test says SKIPPED on stderr and passes.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ailedger_attest::dsse::Envelope;
use ailedger_attest::sign::{SigningKey, sign_envelope};

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest"
    ))
    .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn script() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tools/interop/dsse_verify.py"
    ))
    .to_path_buf()
}

/// Runs the Python verifier; returns (exit code, stdout + stderr).
fn python_verify(
    python: &str,
    dir: &Path,
    name: &str,
    env: &Envelope,
    key: &SigningKey,
) -> (i32, String) {
    let env_path = dir.join(format!("{name}.dsse.json"));
    let key_path = dir.join(format!("{name}.pub.pem"));
    std::fs::write(&env_path, env.to_json()).unwrap();
    std::fs::write(&key_path, key.public_key().to_pem()).unwrap();
    let out = Command::new(python)
        .arg(script())
        .arg(&env_path)
        .arg(&key_path)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn securesystemslib_verifies_our_envelopes_and_rejects_tampered_ones() {
    let Some(python) = std::env::var("AILEDGER_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        eprintln!(
            "SKIPPED: AILEDGER_TEST_PYTHON is not set; the securesystemslib DSSE interop test did not run (.ci/run sets it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (generated, _) = SigningKey::generate_ed25519().unwrap();
    let pem = |stem: &str| {
        SigningKey::from_pem(
            std::str::from_utf8(&fixture(&format!(
                "python-in-toto/TEST_ONLY_{stem}.priv.pem"
            )))
            .unwrap(),
        )
        .unwrap()
    };
    let keys = [
        ("ed25519", pem("slsa-provenance-v1.ed25519")),
        ("ecdsa-p256", pem("test-result-v0.1.ecdsa-p256")),
        ("ed25519-generated", generated),
    ];
    let payload = Envelope::parse(&fixture(
        "python-in-toto/slsa-provenance-v1.ed25519.dsse.json",
    ))
    .unwrap()
    .payload;
    for (name, key) in &keys {
        let env = sign_envelope("application/vnd.in-toto+json", &payload, key).unwrap();
        let (code, out) = python_verify(&python, dir.path(), name, &env, key);
        assert_eq!(
            code, 0,
            "{name}: securesystemslib refused our envelope: {out}"
        );
        assert_eq!(
            out.trim(),
            format!("verified {}", key.keyid()),
            "{name}: securesystemslib's key id must equal ours"
        );

        // One flipped payload byte: rejected.
        let mut tampered = env.clone();
        tampered.payload[10] ^= 0x01;
        let (code, out) = python_verify(
            &python,
            dir.path(),
            &format!("{name}-tampered"),
            &tampered,
            key,
        );
        assert_eq!(
            code, 1,
            "{name}: securesystemslib accepted a tampered envelope: {out}"
        );
        assert!(out.contains("not verified"), "{name}: {out}");

        // Signed by another key: rejected.
        let other = &keys[(keys.iter().position(|(n, _)| n == name).unwrap() + 1) % keys.len()].1;
        let (code, out) = python_verify(
            &python,
            dir.path(),
            &format!("{name}-wrongkey"),
            &env,
            other,
        );
        assert_eq!(
            code, 1,
            "{name}: securesystemslib accepted the wrong key: {out}"
        );
    }
}

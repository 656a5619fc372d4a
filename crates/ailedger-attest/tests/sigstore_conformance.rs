//! Every bundle-verify case of sigstore-conformance: a case verifies iff its name lacks
//! `_fail`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use ailedger_attest::keys::PublicKey;
use ailedger_attest::sigstore::{
    ArtifactInput, Bundle, IdentityPolicy, Matcher, SigstoreError, TrustedRoot, VerifyOptions,
    verify,
};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases this verifier cannot support, with the reason; each must fail as unsupported.
const GAPS: &[(&str, &str)] = &[];

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest/sigstore"
    ))
    .to_path_buf()
}

fn run_case(dir: &Path) -> Result<ailedger_attest::sigstore::Verified, SigstoreError> {
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let root_bytes = read("trusted_root.json")
        .unwrap_or_else(|| std::fs::read(fixtures().join("production_trusted_root.json")).unwrap());
    let root = TrustedRoot::from_json(&root_bytes)?;
    let bundle = Bundle::parse(&read("bundle.sigstore.json").unwrap())?;
    let artifact = read("artifact")
        .unwrap_or_else(|| std::fs::read(fixtures().join("conformance/a.txt")).unwrap());
    let identity = read("identity")
        .map(|b| String::from_utf8(b).unwrap().trim().to_string())
        .unwrap_or(DEFAULT_IDENTITY.into());
    let issuer = read("issuer")
        .map(|b| String::from_utf8(b).unwrap().trim().to_string())
        .unwrap_or(DEFAULT_ISSUER.into());
    // A key.pub that does not parse (managed-key-wrong-key_fail) fails the case.
    let keys: Vec<PublicKey> = match read("key.pub") {
        Some(k) => vec![PublicKey::parse(&k).map_err(|e| SigstoreError::Key(e.to_string()))?],
        None => vec![],
    };
    let policies = if keys.is_empty() {
        vec![IdentityPolicy {
            san: Matcher::Exact(identity),
            issuer: Matcher::Exact(issuer),
        }]
    } else {
        vec![]
    };
    let mut opts = VerifyOptions::new(&root);
    opts.identities = &policies;
    opts.keys = &keys;
    opts.artifact = Some(ArtifactInput::Bytes(&artifact));
    verify(&bundle, &opts)
}

#[test]
fn conformance_cases() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures().join("conformance"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 22, "the fixture set has 22 cases");
    let mut wrong = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let result = run_case(dir);
        if let Some((_, why)) = GAPS.iter().find(|(n, _)| *n == name) {
            match &result {
                Err(e) if e.is_unsupported() => eprintln!("{name}: gap ({why}): {e}"),
                other => wrong.push(format!("{name}: listed as a gap but gave {other:?}")),
            }
            continue;
        }
        let expect_ok = !name.ends_with("_fail");
        match (&result, expect_ok) {
            (Ok(v), true) => eprintln!("{name}: ok {:?}", v.signer),
            (Err(e), false) => {
                eprintln!("{name}: rejected: {e}");
                if e.is_unsupported() {
                    wrong.push(format!("{name}: rejected only as unsupported: {e}"));
                }
            }
            (Ok(v), false) => wrong.push(format!("{name}: accepted but must fail: {v:?}")),
            (Err(e), true) => wrong.push(format!("{name}: must verify: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! Real-world Sigstore bundles (slsa-verifier, npm, model signing) and negatives beyond
//! the conformance suite: tampered payload, SET, checkpoint, malformed base64, size.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use ailedger_attest::keys::PublicKey;
use ailedger_attest::sigstore::{
    ArtifactInput, Bundle, IdentityPolicy, Matcher, Signer, SigstoreError, TimeSource, TrustedRoot,
    VerifyOptions, fuzz_parse, verify, verify_chain,
};
use serde_json::Value;
use sha2::Digest as _;

const BCR_SAN: &str = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";
const GHA_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest/"
    ))
    .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap()
}

fn production() -> TrustedRoot {
    TrustedRoot::from_json(&read("sigstore/production_trusted_root.json")).unwrap()
}

fn bcr_policy() -> Vec<IdentityPolicy> {
    vec![IdentityPolicy {
        san: Matcher::Exact(BCR_SAN.into()),
        issuer: Matcher::Exact(GHA_ISSUER.into()),
    }]
}

/// The in-toto statement's subject digests (`algorithm` → hex) from a verified envelope.
fn subject_digests(v: &ailedger_attest::sigstore::Verified, alg: &str) -> Vec<String> {
    let env = v.dsse.as_ref().unwrap();
    let stmt: Value = serde_json::from_slice(&env.payload).unwrap();
    stmt["subject"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["digest"][alg].as_str().map(str::to_string))
        .collect()
}

#[test]
fn embedded_production_root_is_the_fixture() {
    let a = TrustedRoot::production().unwrap();
    let b = production();
    assert_eq!(a.tlogs.len(), b.tlogs.len());
    assert_eq!(a.certificate_authorities.len(), 2);
    assert_eq!(
        ailedger_attest::sigstore::PRODUCTION_ROOT,
        read("sigstore/production_trusted_root.json").as_slice()
    );
}

#[test]
fn bcr_attestation_verifies_for_its_artifact_and_identity() {
    let root = production();
    let bundle = Bundle::parse(&read("slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")).unwrap();
    assert_eq!(
        bundle.media_type(),
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let policy = bcr_policy();
    let mut opts = VerifyOptions::new(&root);
    opts.identities = &policy;
    let v = verify(&bundle, &opts).unwrap();
    let Signer::Certificate(c) = &v.signer else {
        panic!("{:?}", v.signer)
    };
    assert_eq!(c.san.as_deref(), Some(BCR_SAN));
    assert_eq!(c.issuer.as_deref(), Some(GHA_ISSUER));
    assert_eq!(v.tlog_entries.len(), 1);
    assert_eq!(v.tlog_entries[0].kind, "dsse");
    assert!(
        v.tlog_entries[0]
            .checkpoint_origin
            .as_deref()
            .unwrap()
            .starts_with("rekor.sigstore.dev")
    );
    assert!(v.signed_at.is_some());
    assert!(!v.sct_logs.is_empty());
    let artifact = hex::encode(sha2::Sha256::digest(read("slsa-verifier/bcr/MODULE.bazel")));
    assert!(
        subject_digests(&v, "sha256").contains(&artifact),
        "subject names MODULE.bazel"
    );
}

#[test]
fn bcr_wrong_signer_fails_the_policy_and_names_its_identity() {
    let root = production();
    let text = read("slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl");
    let line = text.split(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap();
    let bundle = Bundle::parse(line).unwrap();
    let policy = bcr_policy();
    let mut opts = VerifyOptions::new(&root);
    opts.identities = &policy;
    let err = verify(&bundle, &opts).unwrap_err();
    let SigstoreError::Identity(msg) = &err else {
        panic!("{err}")
    };
    // Without a policy it verifies, and the reported identity is the one the error named.
    let v = verify(&bundle, &VerifyOptions::new(&root)).unwrap();
    let Signer::Certificate(c) = &v.signer else {
        panic!()
    };
    let san = c.san.clone().unwrap();
    assert_ne!(san, BCR_SAN);
    assert!(msg.contains(&san), "{msg}");
    // A regex policy covering that repository's workflows accepts it; anchoring matters.
    let (prefix, _) = san.split_once("@").unwrap();
    let re = vec![IdentityPolicy {
        san: Matcher::regex(&format!("{}@.*", regex::escape(prefix))).unwrap(),
        issuer: Matcher::Exact(GHA_ISSUER.into()),
    }];
    opts.identities = &re;
    verify(&bundle, &opts).unwrap();
    let partial = vec![IdentityPolicy {
        san: Matcher::regex(&regex::escape(prefix)).unwrap(),
        issuer: Matcher::Exact(GHA_ISSUER.into()),
    }];
    opts.identities = &partial;
    assert!(matches!(
        verify(&bundle, &opts),
        Err(SigstoreError::Identity(_))
    ));
}

#[test]
fn gha_container_based_v01_bundle_verifies() {
    let root = production();
    let bundle = Bundle::parse(&read(
        "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2.intoto.jsonl",
    ))
    .unwrap();
    let v = verify(&bundle, &VerifyOptions::new(&root)).unwrap();
    assert_eq!(v.tlog_entries[0].kind, "intoto");
    assert!(matches!(
        v.time_source,
        Some(TimeSource::TlogIntegratedTime { .. })
    ));
    let empty = hex::encode(sha2::Sha256::digest(read(
        "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2",
    )));
    assert_eq!(
        empty,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(subject_digests(&v, "sha256").contains(&empty));
}

#[test]
fn npm_bundle_with_sha512_subject_verifies() {
    let root = production();
    let bundle = Bundle::parse(&read("sigstore/npm_sigstore-5.0.0_slsa_bundle_v03.json")).unwrap();
    let v = verify(&bundle, &VerifyOptions::new(&root)).unwrap();
    assert_eq!(subject_digests(&v, "sha512").len(), 1);
    assert!(subject_digests(&v, "sha256").is_empty());
    // It carries an RFC 3161 timestamp too; the tlog time is used when earlier.
    assert!(v.signed_at.is_some());
}

#[test]
fn model_signing_sigstore_bundle_verifies() {
    let root = production();
    let bundle = Bundle::parse(&read(
        "model_signing/upstream-golden/v1.1.0-sigstore/model.sig",
    ))
    .unwrap();
    let policy = vec![IdentityPolicy {
        san: Matcher::Exact("stefanb@us.ibm.com".into()),
        issuer: Matcher::Exact("https://sigstore.verify.ibm.com/oauth2".into()),
    }];
    let mut opts = VerifyOptions::new(&root);
    opts.identities = &policy;
    let v = verify(&bundle, &opts).unwrap();
    assert_eq!(v.dsse.unwrap().payload_type, "application/vnd.in-toto+json");
    assert_eq!(v.timestamps.len(), bundle.rfc3161_timestamps.len());
}

#[test]
fn model_signing_key_bundle_without_tlog() {
    let root = production();
    let bundle = Bundle::parse(&read("model_signing/tiny-model.sig")).unwrap();
    let key = PublicKey::parse(&read("model_signing/ec_p256_public.pem")).unwrap();
    let keys = vec![key.clone()];
    let mut opts = VerifyOptions::new(&root);
    opts.keys = &keys;
    // By default a log entry is required.
    assert!(matches!(
        verify(&bundle, &opts),
        Err(SigstoreError::Tlog { .. })
    ));
    opts.require_tlog = false;
    let v = verify(&bundle, &opts).unwrap();
    assert_eq!(
        v.signer,
        Signer::Key {
            keyid: key.keyid(),
            hint: match &bundle.material {
                ailedger_attest::sigstore::Material::PublicKey { hint } => hint.clone(),
                _ => panic!(),
            }
        }
    );
    assert_eq!(v.signed_at, None);
    // Another key does not verify it.
    let other = vec![PublicKey::parse(&read("dsse/dsse-spec-vector.pub.pem")).unwrap()];
    opts.keys = &other;
    assert!(matches!(
        verify(&bundle, &opts),
        Err(SigstoreError::Signature(_))
    ));
    // A tampered payload fails the signature itself (no log entry to catch it first).
    let mut b2 = bundle.clone();
    if let ailedger_attest::sigstore::Content::Dsse(d) = &mut b2.content {
        d.payload[10] ^= 1;
    }
    opts.keys = &keys;
    assert!(matches!(
        verify(&b2, &opts),
        Err(SigstoreError::Signature(_))
    ));
}

/// Edits a bundle JSON and re-verifies it.
fn tampered(
    rel: &str,
    edit: impl FnOnce(&mut Value),
) -> Result<ailedger_attest::sigstore::Verified, SigstoreError> {
    let mut v: Value = serde_json::from_slice(&read(rel)).unwrap();
    edit(&mut v);
    let bundle = Bundle::from_value(&v)?;
    let root = production();
    let artifact = read("sigstore/conformance/a.txt");
    let mut opts = VerifyOptions::new(&root);
    opts.artifact = Some(ArtifactInput::Bytes(&artifact));
    verify(&bundle, &opts)
}

fn flip_b64(v: &mut Value, ptr: &str, at: usize) {
    let s = v.pointer(ptr).unwrap().as_str().unwrap();
    let mut bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).unwrap();
    bytes[at] ^= 0x01;
    *v.pointer_mut(ptr).unwrap() = Value::String(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &bytes,
    ));
}

#[test]
fn untampered_copies_verify() {
    tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |_| {},
    )
    .unwrap();
    tampered("slsa-verifier/bcr/MODULE.bazel.intoto.jsonl", |_| {}).unwrap();
}

#[test]
fn flipped_dsse_payload_byte_fails() {
    let err = tampered("slsa-verifier/bcr/MODULE.bazel.intoto.jsonl", |v| {
        flip_b64(v, "/dsseEnvelope/payload", 40)
    })
    .unwrap_err();
    assert!(
        matches!(&err, SigstoreError::Tlog { reason, .. } if reason.contains("payloadHash")),
        "{err}"
    );
}

#[test]
fn flipped_set_byte_fails() {
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            flip_b64(
                v,
                "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
                20,
            )
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, SigstoreError::Tlog { reason, .. } if reason.contains("signed entry timestamp")),
        "{err}"
    );
    // So does a changed integratedTime under an intact SET.
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            v["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
                Value::String("1710869187".into());
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("signed entry timestamp"), "{err}");
}

#[test]
fn flipped_checkpoint_byte_fails() {
    let ptr = "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope";
    // A changed origin character: the note signature no longer verifies.
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            let s = v.pointer(ptr).unwrap().as_str().unwrap().replacen(
                "rekor.sigstore.dev - ",
                "rekor.sigstore.dew - ",
                1,
            );
            *v.pointer_mut(ptr).unwrap() = Value::String(s);
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, SigstoreError::Tlog { reason, .. } if reason.contains("checkpoint") && reason.contains("does not verify")),
        "{err}"
    );
    // A flipped signature byte.
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            let s = v.pointer(ptr).unwrap().as_str().unwrap().to_string();
            let (head, sig_line) = s.trim_end().rsplit_once(' ').unwrap();
            let mut raw =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig_line)
                    .unwrap();
            raw[12] ^= 1;
            let s = format!(
                "{head} {}\n",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &raw)
            );
            *v.pointer_mut(ptr).unwrap() = Value::String(s);
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("checkpoint"), "{err}");
}

#[test]
fn flipped_inclusion_proof_hash_fails() {
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            flip_b64(
                v,
                "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/3",
                0,
            )
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("inclusion proof: computed root"),
        "{err}"
    );
}

#[test]
fn wrong_artifact_fails() {
    let root = production();
    let bundle = Bundle::parse(&read(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
    ))
    .unwrap();
    let mut opts = VerifyOptions::new(&root);
    assert!(matches!(
        verify(&bundle, &opts),
        Err(SigstoreError::Artifact(_))
    ));
    opts.artifact = Some(ArtifactInput::Bytes(b"not a.txt"));
    let err = verify(&bundle, &opts).unwrap_err();
    assert!(matches!(err, SigstoreError::Artifact(_)), "{err}");
    // The right digest verifies (prehashed ECDSA), with the same result as the bytes.
    let a = read("sigstore/conformance/a.txt");
    let d = sha2::Sha256::digest(&a);
    opts.artifact = Some(ArtifactInput::Digest {
        algorithm: "sha256",
        digest: &d,
    });
    let by_digest = verify(&bundle, &opts).unwrap();
    opts.artifact = Some(ArtifactInput::Bytes(&a));
    assert_eq!(verify(&bundle, &opts).unwrap(), by_digest);
    assert_eq!(
        by_digest.message_digest,
        Some(("SHA2_256".to_string(), d.to_vec()))
    );
    opts.artifact = Some(ArtifactInput::Digest {
        algorithm: "sha512",
        digest: &d,
    });
    assert!(verify(&bundle, &opts).unwrap_err().is_unsupported());
    let wrong = sha2::Sha256::digest(b"x");
    opts.artifact = Some(ArtifactInput::Digest {
        algorithm: "sha256",
        digest: &wrong,
    });
    assert!(matches!(
        verify(&bundle, &opts),
        Err(SigstoreError::Artifact(_))
    ));
}

#[test]
fn managed_key_bundle_verifies_from_digest_and_rejects_a_bad_signature() {
    let dir = "sigstore/conformance/managed-key-happy-path/";
    let root = production();
    let bundle = Bundle::parse(&read(&format!("{dir}bundle.sigstore.json"))).unwrap();
    let keys = vec![PublicKey::parse(&read(&format!("{dir}key.pub"))).unwrap()];
    let a = read("sigstore/conformance/a.txt");
    let d = sha2::Sha256::digest(&a);
    let mut opts = VerifyOptions::new(&root);
    opts.keys = &keys;
    opts.artifact = Some(ArtifactInput::Digest {
        algorithm: "SHA2_256",
        digest: &d,
    });
    let v = verify(&bundle, &opts).unwrap();
    assert!(matches!(v.signer, Signer::Key { .. }));
    assert!(matches!(
        v.time_source,
        Some(TimeSource::Timestamp { .. }) | Some(TimeSource::TlogIntegratedTime { .. })
    ));
    // Without its log entry and timestamp, a flipped signature byte is caught by the
    // prehashed signature check itself.
    let mut b2 = bundle.clone();
    b2.tlog_entries.clear();
    b2.rfc3161_timestamps.clear();
    opts.require_tlog = false;
    verify(&b2, &opts).unwrap();
    if let ailedger_attest::sigstore::Content::MessageSignature { signature, .. } = &mut b2.content
    {
        let n = signature.len();
        signature[n - 3] ^= 1;
    }
    assert!(matches!(
        verify(&b2, &opts),
        Err(SigstoreError::Signature(_))
    ));
}

#[test]
fn malformed_base64_names_the_field() {
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            v["messageSignature"]["signature"] = Value::String("MEUC!!!".into());
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        SigstoreError::Field {
            field: "messageSignature.signature".into(),
            reason: "invalid base64".into()
        }
    );
    let err = tampered(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
        |v| {
            v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][2] =
                Value::String("%%".into());
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "verificationMaterial.tlogEntries[0].inclusionProof.hashes[2]: invalid base64"
    );
}

#[test]
fn oversized_bundle_is_refused() {
    let mut big = read("sigstore/conformance/happy-path-v0.3/bundle.sigstore.json");
    big.truncate(big.len() - 1);
    big.extend(std::iter::repeat_n(b' ', 10 * 1024 * 1024));
    big.push(b'}');
    let err = Bundle::parse(&big).unwrap_err();
    assert!(matches!(err, SigstoreError::TooLarge { .. }), "{err}");
}

#[test]
fn v01_entry_without_set_gives_no_signing_time() {
    // With the SET removed, the v0.1 entry still proves inclusion but its
    // integratedTime is unsigned: there is no time to check the certificate at.
    let err = tampered(
        "sigstore/conformance/happy-path-v0.1/bundle.sigstore.json",
        |v| {
            let e = &mut v["verificationMaterial"]["tlogEntries"][0];
            e.as_object_mut().unwrap().remove("inclusionPromise");
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("no verified signing time"),
        "{err}"
    );
}

#[test]
fn fulcio_certificate_expired_at_signing_time_is_named() {
    let root = production();
    let bundle = Bundle::parse(&read(
        "sigstore/conformance/happy-path-v0.3/bundle.sigstore.json",
    ))
    .unwrap();
    let ailedger_attest::sigstore::Material::Certificates(certs) = &bundle.material else {
        panic!()
    };
    let (chain, anchors): (Vec<Vec<u8>>, Vec<Vec<u8>>) = {
        let ca = root.certificate_authorities.last().unwrap();
        (
            ca.chain[..ca.chain.len() - 1].to_vec(),
            vec![ca.chain.last().unwrap().clone()],
        )
    };
    let info = verify_chain(&certs[0], &chain, &anchors, 1_710_869_186).unwrap();
    let err = verify_chain(&certs[0], &chain, &anchors, info.not_after + 1).unwrap_err();
    assert!(
        err.to_string().contains("expired at 2024-03-19T17:36:27Z"),
        "{err}"
    );
}

const CERTS: &str = "model_signing/upstream-golden/keys/certificate/";

fn pem_der(rel: &str) -> Vec<u8> {
    let text = String::from_utf8(read(rel)).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
}

#[test]
fn verify_chain_model_signing_certificates() {
    let leaf = pem_der(&format!("{CERTS}signing-key-cert.pem"));
    let int = pem_der(&format!("{CERTS}int-ca-cert.pem"));
    let ca = pem_der(&format!("{CERTS}ca-cert.pem"));
    let t = 1_750_000_000; // 2025-06-15
    let info = verify_chain(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&ca),
        t,
    )
    .unwrap();
    assert_eq!(info.subject, "CN=intermediate-ca");
    assert_eq!(
        info.chain_subjects,
        vec!["CN=intermediate-ca".to_string(), "CN=root-ca".to_string()]
    );
    assert_eq!(info.issuer, None);
    assert_eq!(
        info.fingerprint_sha256,
        hex::encode(sha2::Sha256::digest(&leaf))
    );
    // Without the intermediate there is no path.
    let err = verify_chain(&leaf, &[], std::slice::from_ref(&ca), t).unwrap_err();
    assert!(err.to_string().contains("no path"), "{err}");
    // The intermediate as anchor is enough (it is trusted directly).
    verify_chain(&leaf, &[], std::slice::from_ref(&int), t).unwrap();
    // Before issuance and after expiry.
    let err = verify_chain(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&ca),
        1_700_000_000,
    )
    .unwrap_err();
    assert!(err.to_string().contains("not yet valid"), "{err}");
    let err = verify_chain(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&ca),
        2_100_000_000,
    )
    .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    // An unrelated anchor.
    let fulcio_root = {
        let root = production();
        root.certificate_authorities[0]
            .chain
            .last()
            .unwrap()
            .clone()
    };
    assert!(verify_chain(&leaf, std::slice::from_ref(&int), &[fulcio_root], t).is_err());
}

#[test]
fn fuzz_parse_over_all_fixtures() {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&fixture("sigstore"), &mut files);
    walk(&fixture("slsa-verifier"), &mut files);
    walk(&fixture("model_signing"), &mut files);
    assert!(files.len() > 50);
    for f in files {
        let data = std::fs::read(&f).unwrap();
        fuzz_parse(&data);
        // Truncations and a flipped byte too.
        for cut in [1usize, 7, 64, 500] {
            if data.len() > cut {
                fuzz_parse(&data[..data.len() - cut]);
            }
        }
        if !data.is_empty() {
            let mut d = data.clone();
            let mid = d.len() / 2;
            d[mid] ^= 0x20;
            fuzz_parse(&d);
        }
    }
}

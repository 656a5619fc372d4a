//! Keys and DSSE envelopes against the shared fixtures (python-in-toto, the DSSE
//! spec's test vector, slsa-verifier's JSON Lines) and locally generated keys
//! (tests/data/keys, see its README).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use ailedger_attest::dsse::{self, DsseError, Envelope, SigFailure, SigOutcome};
use ailedger_attest::keys::{KeyAlgorithm, KeyError, PublicKey, SigScheme};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest"
    ))
    .to_path_buf()
}

fn fixture(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn local(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// (stem, algorithm, scheme its envelope's signature uses)
const PY: [(&str, KeyAlgorithm, SigScheme); 2] = [
    (
        "slsa-provenance-v1.ed25519",
        KeyAlgorithm::Ed25519,
        SigScheme::Ed25519,
    ),
    (
        "test-result-v0.1.ecdsa-p256",
        KeyAlgorithm::EcdsaP256,
        SigScheme::EcdsaDer,
    ),
];

fn py_key(stem: &str, ext: &str) -> PublicKey {
    PublicKey::parse(&fixture(&format!("python-in-toto/{stem}.{ext}"))).unwrap()
}

fn json_keyid(stem: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("python-in-toto/{stem}.pub.json"))).unwrap();
    v["keyid"].as_str().unwrap().to_owned()
}

#[test]
fn keyids_match_securesystemslib_for_pem_der_and_json() {
    for (stem, alg, _) in PY {
        let expected = json_keyid(stem);
        let pem = py_key(stem, "pub.pem");
        let json = py_key(stem, "pub.json");
        let der = PublicKey::parse(pem.spki_der()).unwrap();
        assert_eq!(pem.algorithm(), alg, "{stem}");
        assert_eq!(pem.keyid(), expected, "{stem} from PEM");
        assert_eq!(json.keyid(), expected, "{stem} from JSON");
        assert_eq!(der.keyid(), expected, "{stem} from DER");
        assert_eq!(pem, json, "{stem}: PEM and JSON give the same key");
        assert_eq!(pem, der, "{stem}: PEM and DER give the same key");
    }
}

#[test]
fn key_forms_and_refusals() {
    let rsa = PublicKey::parse(&local("keys/rsa2048.pub.pem")).unwrap();
    assert_eq!(rsa.algorithm(), KeyAlgorithm::Rsa);
    assert_eq!(rsa.sslib_type(), ("rsa", "rsassa-pss-sha256"));
    let p384 = PublicKey::parse(&local("keys/p384.pub.pem")).unwrap();
    assert_eq!(p384.algorithm(), KeyAlgorithm::EcdsaP384);
    assert_eq!(p384.sslib_type(), ("ecdsa", "ecdsa-sha2-nistp384"));
    let managed = PublicKey::parse(&fixture(
        "sigstore/conformance/managed-key-happy-path/key.pub",
    ))
    .unwrap();
    assert_eq!(managed.algorithm(), KeyAlgorithm::EcdsaP256);

    let err = PublicKey::parse(&local("keys/rsa1024.pub.pem")).unwrap_err();
    assert!(err.to_string().contains("1024 bits"), "{err}");
    let err = PublicKey::parse(&local("keys/secp256k1.pub.pem")).unwrap_err();
    assert!(
        matches!(err, KeyError::UnsupportedCurve(ref c) if c == "1.3.132.0.10"),
        "{err}"
    );
    // The conformance suite's deliberately broken key (base64 "…wrongkey==").
    assert!(
        PublicKey::parse(&fixture(
            "sigstore/conformance/managed-key-wrong-key_fail/key.pub"
        ))
        .is_err()
    );
    // A private key is not a public key.
    let err = PublicKey::parse(&fixture(
        "python-in-toto/TEST_ONLY_slsa-provenance-v1.ed25519.priv.pem",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("BEGIN PUBLIC KEY"), "{err}");
    assert_eq!(
        PublicKey::parse(b"hello").unwrap_err(),
        KeyError::Unrecognised
    );
    let err =
        PublicKey::parse(br#"{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"zz"}}"#)
            .unwrap_err();
    assert_eq!(err.to_string(), "keyval.public: invalid hex");
    let mut v: serde_json::Value = serde_json::from_slice(&fixture(
        "python-in-toto/test-result-v0.1.ecdsa-p256.pub.json",
    ))
    .unwrap();
    v["keytype"] = "rsa".into();
    let err = PublicKey::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(err.to_string().starts_with("keytype:"), "{err}");
}

#[test]
fn rsa_pss_pkcs1_and_p384_signatures() {
    let msg = local("keys/message.txt");
    let rsa = PublicKey::parse(&local("keys/rsa2048.pub.pem")).unwrap();
    assert_eq!(
        rsa.verify(&msg, &local("keys/rsa2048.pss.sig")),
        Ok(SigScheme::RsaPss)
    );
    assert_eq!(
        rsa.verify(&msg, &local("keys/rsa2048.pkcs1.sig")),
        Ok(SigScheme::RsaPkcs1v15)
    );
    let mut tampered = msg.clone();
    tampered[0] ^= 1;
    assert!(
        rsa.verify(&tampered, &local("keys/rsa2048.pss.sig"))
            .is_err()
    );

    let p384 = PublicKey::parse(&local("keys/p384.pub.pem")).unwrap();
    let der = local("keys/p384.sha384.der.sig");
    assert_eq!(p384.verify(&msg, &der), Ok(SigScheme::EcdsaDer));
    assert_eq!(
        p384.verify(&msg, &der_to_raw(&der, 48)),
        Ok(SigScheme::EcdsaRaw)
    );
    let err = p384.verify(&tampered, &der).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ECDSA P-384 signature does not verify (tried ecdsa (DER), ecdsa (raw r||s))"
    );
}

/// Converts a DER ECDSA signature to raw fixed-width r‖s.
fn der_to_raw(der: &[u8], width: usize) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut i = if der[1] & 0x80 != 0 { 3 } else { 2 };
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.iter().position(|b| *b != 0).unwrap_or(int.len())..];
        out.extend(std::iter::repeat_n(0u8, width - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

#[test]
fn dsse_spec_test_vector() {
    let v: serde_json::Value =
        serde_json::from_slice(&fixture("dsse/dsse-spec-v1.0.2-vector.json")).unwrap();
    let env = Envelope::from_value(&v["envelope"]).unwrap();
    assert_eq!(env.payload_type, v["payloadType"].as_str().unwrap());
    assert_eq!(
        env.payload,
        v["serializedBody_utf8"].as_str().unwrap().as_bytes()
    );
    assert_eq!(env.pae(), v["pae_utf8"].as_str().unwrap().as_bytes());
    assert_eq!(env.signatures.len(), 1);
    assert_eq!(env.signatures[0].keyid, None);
    assert_eq!(env.signatures[0].sig.len(), 64, "raw r||s");

    let key = PublicKey::parse(&fixture("dsse/dsse-spec-vector.pub.pem")).unwrap();
    let checks = env.verify(std::slice::from_ref(&key));
    assert_eq!(checks.len(), 1);
    assert_eq!(
        checks[0].outcome,
        SigOutcome::Verified {
            keyid: key.keyid(),
            key_index: 0,
            algorithm: KeyAlgorithm::EcdsaP256,
            scheme: SigScheme::EcdsaRaw,
        }
    );
    // Another body under the same signature fails.
    let mut other = env.clone();
    other.payload = b"hello world!".to_vec();
    assert!(matches!(
        other.verify(&[key])[0].outcome,
        SigOutcome::Failed(SigFailure::NoKeyVerifies { tried: 1 })
    ));
}

#[test]
fn python_in_toto_envelopes_verify_with_pem_and_json_keys() {
    for (stem, alg, scheme) in PY {
        let env = Envelope::parse(&fixture(&format!("python-in-toto/{stem}.dsse.json"))).unwrap();
        assert_eq!(env.payload_type, "application/vnd.in-toto+json");
        assert_eq!(
            env.pae(),
            fixture(&format!("python-in-toto/{stem}.pae.bin")),
            "{stem}"
        );
        for ext in ["pub.pem", "pub.json"] {
            let key = py_key(stem, ext);
            let checks = env.verify(&[key]);
            assert_eq!(checks.len(), 1);
            assert_eq!(
                checks[0].keyid_hint.as_deref(),
                Some(json_keyid(stem).as_str())
            );
            assert_eq!(
                checks[0].outcome,
                SigOutcome::Verified {
                    keyid: json_keyid(stem),
                    key_index: 0,
                    algorithm: alg,
                    scheme,
                },
                "{stem} with {ext}"
            );
            assert!(checks[0].counts());
        }
        // Re-encoded URL-safe without padding, the envelope reads the same.
        let mut v: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("python-in-toto/{stem}.dsse.json"))).unwrap();
        v["payload"] = URL_SAFE_NO_PAD.encode(&env.payload).into();
        v["signatures"][0]["sig"] = URL_SAFE_NO_PAD.encode(&env.signatures[0].sig).into();
        v["unknownField"] = serde_json::json!({"ignored": true});
        assert_eq!(Envelope::from_value(&v).unwrap(), env, "{stem}");
    }
}

#[test]
fn legacy_link_envelope_verifies_with_its_key_only() {
    let env = Envelope::parse(&fixture(
        "python-in-toto/legacy-link.build.f5b4ef8b.dsse.json",
    ))
    .unwrap();
    let ed = py_key("slsa-provenance-v1.ed25519", "pub.pem");
    let ec = py_key("test-result-v0.1.ecdsa-p256", "pub.pem");
    // The right key among others: found by its key id, wherever it is.
    let checks = env.verify(&[ec.clone(), ed.clone()]);
    assert!(matches!(
        &checks[0].outcome,
        SigOutcome::Verified { key_index: 1, keyid, .. } if *keyid == ed.keyid()
    ));
    // A signature by a key not given.
    let checks = env.verify(std::slice::from_ref(&ec));
    assert_eq!(
        checks[0].outcome,
        SigOutcome::Failed(SigFailure::UnknownKey {
            keyid: ed.keyid(),
            tried: 1
        })
    );
    assert_eq!(
        checks[0].to_string(),
        format!(
            "signatures[0]: not verified: signed by key {}, which is not among the 1 trusted key(s)",
            ed.keyid()
        )
    );
    assert_eq!(
        env.verify(&[])[0].outcome,
        SigOutcome::Failed(SigFailure::NoKeys)
    );
}

#[test]
fn wrong_key_and_tampered_payload_fail() {
    for (stem, _, _) in PY {
        let env = Envelope::parse(&fixture(&format!("python-in-toto/{stem}.dsse.json"))).unwrap();
        let key = py_key(stem, "pub.pem");
        // Wrong key that claims the signature's key id: no keyid hint can help.
        let mut unhinted = env.clone();
        unhinted.signatures[0].keyid = None;
        let other = if stem.contains("ed25519") {
            py_key("test-result-v0.1.ecdsa-p256", "pub.pem")
        } else {
            py_key("slsa-provenance-v1.ed25519", "pub.pem")
        };
        assert_eq!(
            unhinted.verify(std::slice::from_ref(&other))[0].outcome,
            SigOutcome::Failed(SigFailure::NoKeyVerifies { tried: 1 })
        );
        // One flipped byte of the payload anywhere (sampled), and of the type.
        let n = env.payload.len();
        for pos in [0, 1, n / 3, n / 2, n - 2, n - 1] {
            let mut t = env.clone();
            t.payload[pos] ^= 0x01;
            let checks = t.verify(std::slice::from_ref(&key));
            assert!(
                matches!(&checks[0].outcome, SigOutcome::Failed(SigFailure::BadSignature { keyid, .. }) if *keyid == key.keyid()),
                "{stem} byte {pos}: {}",
                checks[0]
            );
        }
        let mut t = env.clone();
        t.payload_type = "application/vnd.in-toto+jsoN".into();
        assert!(!t.verify(std::slice::from_ref(&key))[0].counts());
        // A flipped signature bit.
        let mut t = env.clone();
        let last = t.signatures[0].sig.len() - 1;
        t.signatures[0].sig[last] ^= 0x80;
        assert!(!t.verify(&[key])[0].counts(), "{stem}");
    }
}

#[test]
fn duplicated_signatures_count_once() {
    // Same bytes twice.
    let stem = "slsa-provenance-v1.ed25519";
    let env = Envelope::parse(&fixture(&format!("python-in-toto/{stem}.dsse.json"))).unwrap();
    let key = py_key(stem, "pub.pem");
    let mut twice = env.clone();
    twice.signatures.push(env.signatures[0].clone());
    let checks = twice.verify(std::slice::from_ref(&key));
    assert_eq!(checks.len(), 2);
    assert!(checks[0].counts());
    assert_eq!(checks[1].outcome, SigOutcome::DuplicateSignature { of: 0 });
    assert_eq!(checks.iter().filter(|c| c.counts()).count(), 1);
    assert_eq!(
        checks[1].to_string(),
        "signatures[1]: duplicate of signatures[0] (counted once)"
    );

    // The same key twice, with different bytes: the ECDSA signature as DER and raw.
    let stem = "test-result-v0.1.ecdsa-p256";
    let env = Envelope::parse(&fixture(&format!("python-in-toto/{stem}.dsse.json"))).unwrap();
    let key = py_key(stem, "pub.json");
    let mut twice = env.clone();
    twice.signatures.push(dsse::Signature {
        keyid: None,
        sig: der_to_raw(&env.signatures[0].sig, 32),
    });
    let checks = twice.verify(std::slice::from_ref(&key));
    assert!(checks[0].counts());
    assert_eq!(
        checks[1].outcome,
        SigOutcome::DuplicateKey {
            keyid: key.keyid(),
            of: 0
        }
    );
    assert_eq!(checks[1].verified_keyid(), Some(key.keyid().as_str()));
    assert_eq!(checks.iter().filter(|c| c.counts()).count(), 1);
}

#[test]
fn malformed_envelopes_are_refused_naming_the_field() {
    let good: serde_json::Value = serde_json::from_slice(&fixture(
        "python-in-toto/slsa-provenance-v1.ed25519.dsse.json",
    ))
    .unwrap();
    let sig = good["signatures"][0].clone();
    let case = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        Envelope::parse(&serde_json::to_vec(&v).unwrap())
            .unwrap_err()
            .to_string()
    };
    let bad_sig = |s: &str| serde_json::json!({"keyid": "k", "sig": s});
    assert!(
        case(&|v| v["signatures"] = serde_json::json!([sig, bad_sig("not base64!")]))
            .starts_with("signatures[1].sig: invalid base64")
    );
    assert!(
        case(&|v| v["signatures"] = serde_json::json!([sig, bad_sig("ab+_")]))
            .starts_with("signatures[1].sig: invalid base64")
    );
    assert!(case(&|v| v["payload"] = "e30=@".into()).starts_with("payload: invalid base64"));
    assert_eq!(
        case(&|v| v["payloadType"] = 7.into()),
        "payloadType: not a string"
    );
    assert_eq!(
        case(&|v| {
            v.as_object_mut().unwrap().remove("payloadType");
        }),
        "payloadType: missing"
    );
    assert_eq!(
        case(&|v| v["signatures"] = "x".into()),
        "signatures: not an array"
    );
    assert_eq!(
        case(&|v| v["signatures"] = serde_json::json!([sig, {"keyid": "k"}])),
        "signatures[1].sig: missing"
    );
    assert_eq!(
        case(&|v| v["signatures"][0]["keyid"] = 1.into()),
        "signatures[0].keyid: not a string"
    );
    assert_eq!(Envelope::parse(b"[1]").unwrap_err(), DsseError::NotObject);
    assert!(matches!(
        Envelope::parse(b"{\"payload\":").unwrap_err(),
        DsseError::Json(_)
    ));

    // Unsigned: parsed, and verify reports nothing verified.
    let mut v = good.clone();
    v["signatures"] = serde_json::json!([]);
    let env = Envelope::from_value(&v).unwrap();
    assert!(
        env.verify(&[py_key("slsa-provenance-v1.ed25519", "pub.pem")])
            .is_empty()
    );

    // Over 10 MB.
    let mut big = b"{\"payload\":\"".to_vec();
    big.resize(dsse::MAX_ENVELOPE + 1, b'A');
    assert_eq!(
        Envelope::parse(&big).unwrap_err(),
        DsseError::TooLarge {
            size: dsse::MAX_ENVELOPE + 1,
            max: dsse::MAX_ENVELOPE
        }
    );
}

#[test]
fn jsonl_files_split_into_objects() {
    for (rel, media) in [
        (
            "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl",
            "application/vnd.dev.sigstore.bundle.v0.3+json",
        ),
        (
            "slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl",
            "application/vnd.dev.sigstore.bundle.v0.3+json",
        ),
        (
            "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2.intoto.jsonl",
            "application/vnd.dev.sigstore.bundle+json;version=0.1",
        ),
    ] {
        let objs = dsse::parse_jsonl(&fixture(rel)).unwrap();
        assert_eq!(objs.len(), 1, "{rel}");
        assert_eq!(objs[0]["mediaType"], media, "{rel}");
        // The envelope inside the bundle reads as DSSE carrying an in-toto statement.
        let env = Envelope::from_value(&objs[0]["dsseEnvelope"]).unwrap();
        assert_eq!(env.payload_type, "application/vnd.in-toto+json", "{rel}");
        assert_eq!(env.signatures.len(), 1, "{rel}");
    }
    // Plain envelopes, blank and CRLF lines, and an error naming its line.
    let a = fixture("python-in-toto/legacy-link.build.f5b4ef8b.dsse.json");
    let mut text = a.clone();
    text.extend_from_slice(b"\r\n\n");
    text.extend_from_slice(&a);
    text.extend_from_slice(b"\r\n");
    let objs = dsse::parse_jsonl(&text).unwrap();
    assert_eq!(objs.len(), 2);
    assert!(Envelope::from_value(&objs[1]).is_ok());
    text.extend_from_slice(b"{\"payload\": \n");
    let err = dsse::parse_jsonl(&text).unwrap_err();
    assert!(err.to_string().starts_with("line 4: not JSON"), "{err}");
    assert_eq!(
        dsse::parse_jsonl(b"{}\n[]").unwrap_err().to_string(),
        "line 2: not a JSON object"
    );
}

#[test]
fn to_json_of_a_parsed_fixture_is_byte_identical() {
    let bytes = fixture("python-in-toto/slsa-provenance-v1.ed25519.dsse.json");
    let env = Envelope::parse(&bytes).unwrap();
    assert_eq!(
        String::from_utf8(env.to_json()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
    let bytes = fixture("python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json");
    assert_eq!(Envelope::parse(&bytes).unwrap().to_json(), bytes);
    // And it reads back.
    let mut env = Envelope::parse(&bytes).unwrap();
    env.signatures.clear();
    env.payload_type = "x/\"ü\"".into();
    assert_eq!(Envelope::parse(&env.to_json()).unwrap(), env);
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.metadata().unwrap().len() < 2_000_000 {
            out.push(p);
        }
    }
}

#[test]
fn fuzz_body_never_panics_on_fixtures_and_their_truncations() {
    let mut files = Vec::new();
    walk(&fixtures(), &mut files);
    assert!(files.len() > 50, "fixtures found: {}", files.len());
    for f in files {
        let data = std::fs::read(&f).unwrap();
        dsse::fuzz_parse(&data);
        if data.len() < 20_000 {
            let step = (data.len() / 64).max(1);
            for cut in (0..data.len()).step_by(step) {
                dsse::fuzz_parse(&data[..cut]);
            }
        }
    }
    // Base64 that decodes to odd things, and a signature of the DSSE spec's length.
    dsse::fuzz_parse(br#"{"payload":"","payloadType":"","signatures":[{"sig":""},{"sig":"AAAA"},{"sig":"AAAA"},{"keyid":null,"sig":"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F-FnZ-O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA"}]}"#);
    assert!(STANDARD.decode("AAAA").is_ok());
}

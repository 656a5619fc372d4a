//! OpenSSF model signatures over the fixtures in tests/fixtures/attest/model_signing:
//! signatures made by PyPI `model-signing` 1.1.1 here and upstream's golden vectors
//! (v0.2.0 to v1.1.0). Each model directory is hashed independently here (the `sha2`
//! crate, a plain directory walk) and compared with what the signature lists.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use ailedger_attest::model_signing::{
    self, ModelSigError, ModelSignature, PREDICATE_DIGESTS_V01, PREDICATE_V1, Serialization,
    check_resources, manifest_digest, parse, python_order, shard_ranges,
};
use sha2::{Digest as _, Sha256};

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest/model_signing"
    ))
    .to_owned()
}

/// A fixture: its signature, the model it signs (a directory, or a single file), and
/// what the model-signing CLI would be told to ignore besides the signature's own list.
struct Vector {
    sig: &'static str,
    model: &'static str,
    extra_ignore: &'static [&'static str],
    predicate: &'static str,
    method: Serialization,
    resources: usize,
}

const VECTORS: &[Vector] = &[
    Vector {
        sig: "tiny-model.sig",
        model: "tiny-model",
        extra_ignore: &[],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 4,
    },
    Vector {
        sig: "order-model.files.sig",
        model: "order-model",
        extra_ignore: &[],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 4,
    },
    Vector {
        sig: "order-model.shards.sig",
        model: "order-model",
        extra_ignore: &[],
        predicate: PREDICATE_V1,
        method: Serialization::Shards { shard_size: 4096 },
        resources: 6,
    },
    Vector {
        sig: "upstream-golden/v1.1.0-elliptic-key/model.sig",
        model: "upstream-golden/v1.1.0-elliptic-key",
        extra_ignore: &["ignore-me"],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 2,
    },
    Vector {
        sig: "upstream-golden/v0.3.1-elliptic-key/model.sig",
        model: "upstream-golden/v0.3.1-elliptic-key/signme-1",
        extra_ignore: &[],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 1,
    },
    Vector {
        sig: "upstream-golden/v1.1.0-certificate/model.sig",
        model: "upstream-golden/v1.1.0-certificate",
        extra_ignore: &["ignore-me"],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 2,
    },
    Vector {
        sig: "upstream-golden/v0.2.0-certificate/model.sig",
        model: "upstream-golden/v0.2.0-certificate",
        extra_ignore: &["model.sig"],
        predicate: PREDICATE_DIGESTS_V01,
        method: Serialization::Files,
        resources: 2,
    },
    Vector {
        sig: "upstream-golden/v1.1.0-sigstore/model.sig",
        model: "upstream-golden/v1.1.0-sigstore",
        extra_ignore: &["ignore-me"],
        predicate: PREDICATE_V1,
        method: Serialization::Files,
        resources: 2,
    },
];

/// Files under `root` as model-signing lists them: relative `/` paths, ignored paths
/// (and everything under them) left out; a single-file model is `.`.
fn files_of(root: &Path, ignore: &[String]) -> Vec<(String, PathBuf)> {
    if root.is_file() {
        return vec![(".".into(), root.to_owned())];
    }
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root.to_owned())];
    while let Some((rel, dir)) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if ignore
                .iter()
                .any(|i| child == *i || child.starts_with(&format!("{i}/")))
            {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push((child, e.path()));
            } else {
                out.push((child, e.path()));
            }
        }
    }
    out
}

/// What `model` hashes to under the signature's serialization: (resource name, digest).
fn hash_model(model: &Path, sig: &ModelSignature, extra_ignore: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut ignore = sig.ignore_paths.clone();
    ignore.extend(extra_ignore.iter().map(|s| s.to_string()));
    ignore.extend([".git", ".github", ".gitignore", ".gitattributes"].map(String::from));
    let mut out = Vec::new();
    for (rel, path) in files_of(model, &ignore) {
        let bytes = std::fs::read(path).unwrap();
        match sig.method {
            Serialization::Files => out.push((rel, Sha256::digest(&bytes).to_vec())),
            Serialization::Shards { shard_size } => {
                for (s, e) in shard_ranges(bytes.len() as u64, shard_size) {
                    out.push((
                        format!("{rel}:{s}:{e}"),
                        Sha256::digest(&bytes[s as usize..e as usize]).to_vec(),
                    ));
                }
            }
        }
    }
    out
}

fn load(v: &Vector) -> (model_signing::SignatureFile, ModelSignature) {
    parse(&std::fs::read(fixtures().join(v.sig)).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", v.sig))
}

/// Every vector parses, with the predicate, method and resource count expected, and
/// the model directory hashes to exactly what it lists.
#[test]
fn every_vector_parses_and_its_model_matches() {
    for v in VECTORS {
        let (_, sig) = load(v);
        assert_eq!(sig.predicate_type, v.predicate, "{}", v.sig);
        assert_eq!(sig.method, v.method, "{}", v.sig);
        assert_eq!(sig.resources.len(), v.resources, "{}", v.sig);
        assert_eq!(
            sig.root_digest.is_some(),
            v.predicate == PREDICATE_V1,
            "{}",
            v.sig
        );
        let actual = hash_model(&fixtures().join(v.model), &sig, v.extra_ignore);
        check_resources(&sig, &actual).unwrap_or_else(|e| panic!("{}: {e}", v.sig));
    }
}

/// A flipped byte in any file of any vector's model fails and names that file (for
/// shards, the shard holding the byte); a file added or removed is named too.
#[test]
fn a_flipped_byte_names_the_file() {
    for v in VECTORS {
        let (_, sig) = load(v);
        let model = fixtures().join(v.model);
        let actual = hash_model(&model, &sig, v.extra_ignore);
        for (i, (name, _)) in actual.iter().enumerate() {
            let mut bad = actual.clone();
            bad[i].1[7] ^= 0x01;
            match check_resources(&sig, &bad) {
                Err(e @ ModelSigError::Mismatch { .. }) => {
                    let ModelSigError::Mismatch {
                        differ,
                        missing,
                        extra,
                    } = &e
                    else {
                        unreachable!()
                    };
                    assert_eq!(differ, std::slice::from_ref(name), "{}", v.sig);
                    assert!(missing.is_empty() && extra.is_empty(), "{}", v.sig);
                    assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
                }
                other => panic!("{}: {name} flipped: {other:?}", v.sig),
            }
        }
        let mut fewer = actual.clone();
        let gone = fewer.remove(0).0;
        let e = check_resources(&sig, &fewer).unwrap_err();
        assert!(
            matches!(&e, ModelSigError::Mismatch { missing, .. } if missing == std::slice::from_ref(&gone)),
            "{}: {e}",
            v.sig
        );
        let mut more = actual.clone();
        more.push(("new-file".into(), vec![0; 32]));
        let e = check_resources(&sig, &more).unwrap_err();
        assert!(
            e.to_string().contains("not in the signature: `new-file`"),
            "{e}"
        );
    }
}

/// Python's path order, the trap of order-model: `a/b` sorts before `a-b` and `a.txt`
/// (byte order would put `a-b` first), shards by numeric offset. The signature lists
/// resources in that order, and the root digest over the model's files taken in that
/// order is the subject's.
#[test]
fn python_path_order_gives_the_signed_order_and_root() {
    for sig_name in ["order-model.files.sig", "order-model.shards.sig"] {
        let v = VECTORS.iter().find(|v| v.sig == sig_name).unwrap();
        let (_, sig) = load(v);
        let mut actual = hash_model(&fixtures().join(v.model), &sig, &[]);
        actual.sort_by(|a, b| python_order(&a.0, &b.0));
        let names: Vec<&str> = actual.iter().map(|a| a.0.as_str()).collect();
        let signed: Vec<&str> = sig.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, signed, "{sig_name}");
        let mut bytewise = names.clone();
        bytewise.sort();
        assert_ne!(bytewise, signed, "{sig_name}: byte order must differ here");
        let mut h = Sha256::new();
        for (_, d) in &actual {
            h.update(d);
        }
        assert_eq!(
            h.finalize().to_vec(),
            sig.root_digest.as_ref().unwrap().1,
            "{sig_name}"
        );
    }
    // Shard offsets compare as numbers, not text.
    assert!(python_order("w:8192:10240", "w:10240:12288").is_lt());
}

/// `shard_size` is written as the float 4096.0 by model-signing; it is read as 4096,
/// and a fractional or negative size is refused.
#[test]
fn shard_size_as_float() {
    let v = VECTORS
        .iter()
        .find(|v| v.sig == "order-model.shards.sig")
        .unwrap();
    let (file, sig) = load(v);
    assert_eq!(sig.method, Serialization::Shards { shard_size: 4096 });
    let text = String::from_utf8(file.payload.clone()).unwrap();
    assert!(text.contains("4096.0"), "the fixture has the float form");
    for bad in ["4096.5", "-4096", "0", "\"4096\""] {
        let payload = text.replace("4096.0", bad);
        let e = model_signing::parse_payload(payload.as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("serialization/shard_size"),
            "{bad}: {e}"
        );
    }
}

/// The root digest binds the resource list: changing one listed digest without the
/// subject is refused at parse time.
#[test]
fn root_digest_is_checked() {
    let v = &VECTORS[0];
    let (file, _) = load(v);
    let text = String::from_utf8(file.payload.clone()).unwrap();
    let d = "6886ca76b06b1acccc355e16e598da94eb097d6f02093077f072120a63a892ff";
    assert!(text.contains(d));
    let tampered = text.replace(d, &"00".repeat(32));
    let e = model_signing::parse_payload(tampered.as_bytes()).unwrap_err();
    assert!(matches!(e, ModelSigError::RootDigest { .. }), "{e}");
    assert!(e.to_string().contains("/subject/0/digest/sha256"), "{e}");
}

/// Malformed signature files are refused with the JSON pointer at fault, never a panic.
#[test]
fn malformed_signatures_name_the_field() {
    let raw = std::fs::read(fixtures().join("tiny-model.sig")).unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "/dsseEnvelope/signatures/0/sig",
            Box::new(|b| b["dsseEnvelope"]["signatures"][0]["sig"] = "@@not base64@@".into()),
        ),
        (
            "/dsseEnvelope/payload",
            Box::new(|b| b["dsseEnvelope"]["payload"] = 42.into()),
        ),
        (
            "/dsseEnvelope/payloadType",
            Box::new(|b| b["dsseEnvelope"]["payloadType"] = "text/plain".into()),
        ),
        (
            "/dsseEnvelope/signatures",
            Box::new(|b| b["dsseEnvelope"]["signatures"] = serde_json::json!([])),
        ),
        (
            "/verificationMaterial",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("verificationMaterial");
            }),
        ),
        (
            "/mediaType",
            Box::new(|b| b["mediaType"] = "application/json".into()),
        ),
        (
            "payload/predicateType",
            Box::new(|b| {
                use base64::Engine as _;
                let e = base64::engine::general_purpose::STANDARD;
                let p = e
                    .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
                    .unwrap();
                let p = String::from_utf8(p)
                    .unwrap()
                    .replace(PREDICATE_V1, "https://slsa.dev/provenance/v1");
                b["dsseEnvelope"]["payload"] = e.encode(p).into();
            }),
        ),
    ];
    for (want, edit) in cases {
        let mut b = bundle.clone();
        edit(&mut b);
        let e = parse(&serde_json::to_vec(&b).unwrap()).unwrap_err();
        assert!(e.to_string().starts_with(want), "{want}: {e}");
    }
    for junk in [&b""[..], b"[]", b"{", b"null", &[0xff; 64]] {
        assert!(parse(junk).is_err());
    }
    let big = vec![b' '; model_signing::MAX_SIGNATURE_BYTES + 1];
    assert!(matches!(parse(&big), Err(ModelSigError::TooLarge(_))));
}

/// Files mode with SHA-256 gives the digest of ailedger's own manifest of the same
/// files (`<hex>  <path>\n`, sorted by path bytes); shards and `.` give none.
#[test]
fn manifest_digest_matches_ailedger_manifest_text() {
    let v = &VECTORS[0];
    let (_, sig) = load(v);
    let mut lines: Vec<String> = hash_model(&fixtures().join(v.model), &sig, &[])
        .iter()
        .map(|(n, d)| format!("{}  {n}\n", hex::encode(d)))
        .collect();
    lines.sort_by(|a, b| a.as_bytes()[66..].cmp(&b.as_bytes()[66..]));
    let want = Sha256::digest(lines.concat().as_bytes());
    assert_eq!(manifest_digest(&sig).unwrap().0[..], want[..]);
    for s in [
        "order-model.shards.sig",
        "upstream-golden/v0.3.1-elliptic-key/model.sig",
    ] {
        let v = VECTORS.iter().find(|v| v.sig == s).unwrap();
        assert_eq!(manifest_digest(&load(v).1), None, "{s}");
    }
}

/// The pre-1.0 PAE is Python's `repr` of the payload bytes after `DSSEV1`.
#[test]
fn compat_pae_is_python_repr() {
    assert_eq!(
        model_signing::python_bytes_repr(b"a'b\\c\n\x00\x7f\xe9\"x"),
        r#"b'a\'b\\c\n\x00\x7f\xe9"x'"#
    );
    assert_eq!(model_signing::python_bytes_repr(b"it's"), r#"b"it's""#);
    assert_eq!(
        model_signing::pae_compat(b"{\"a\": 1}\n"),
        b"DSSEV1 28 application/vnd.in-toto+json 9 b'{\"a\": 1}\\n'".to_vec()
    );
    assert_eq!(
        model_signing::pae(b"{}"),
        b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
    );
}

// ---- who signed -------------------------------------------------------------------

use ailedger_attest::keys::PublicKey;
use ailedger_attest::model_signing::{ModelSigner, ModelVerifier, verify_signature};
use ailedger_attest::sigstore::{IdentityPolicy, Matcher, TrustedRoot};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap()
}

fn pem_certs(rel: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let text = String::from_utf8(read(rel)).unwrap();
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|b| {
            let body: String = b
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        })
        .collect()
}

const GOLDEN_KEY: &str = "upstream-golden/keys/certificate/signing-key-pub.pem";

fn anchors() -> Vec<Vec<u8>> {
    let mut a = pem_certs("upstream-golden/keys/certificate/ca-cert.pem");
    a.extend(pem_certs(
        "upstream-golden/keys/certificate/int-ca-cert.pem",
    ));
    a
}

fn sigstore_root() -> TrustedRoot {
    TrustedRoot::from_json(
        &std::fs::read(fixtures().join("../sigstore/production_trusted_root.json")).unwrap(),
    )
    .unwrap()
}

fn ibm_identity() -> IdentityPolicy {
    IdentityPolicy {
        san: Matcher::Exact("stefanb@us.ibm.com".into()),
        issuer: Matcher::Exact("https://sigstore.verify.ibm.com/oauth2".into()),
    }
}

/// Each vector verifies in its mode, reporting who signed and which PAE: key mode with
/// the key whose hint the bundle names (both elliptic-key vectors use upstream's
/// signing-key-pub.pem; v0.3.1 has no hint, only the PEM in rawBytes), certificate mode
/// against upstream's CAs (v0.2.0 signs the pre-1.0 PAE, hashed with SHA-256 on a P-384
/// key), Sigstore mode with the public-good root and the signer's identity.
#[test]
fn every_vector_verifies_in_its_mode() {
    let tiny_key = PublicKey::parse(&read("ec_p256_public.pem")).unwrap();
    let golden_key = PublicKey::parse(&read(GOLDEN_KEY)).unwrap();
    let anchors = anchors();
    let root = sigstore_root();
    let identity = ibm_identity();
    for v in VECTORS {
        let how = match v.sig {
            s if s.starts_with("upstream-golden/v1.1.0-elliptic")
                || s.starts_with("upstream-golden/v0.3.1-elliptic") =>
            {
                ModelVerifier::Key(&golden_key)
            }
            s if s.contains("certificate") => ModelVerifier::Certificate { anchors: &anchors },
            s if s.contains("sigstore") => ModelVerifier::Sigstore {
                root: &root,
                identity: &identity,
            },
            _ => ModelVerifier::Key(&tiny_key),
        };
        let got = verify_signature(&read(v.sig), &how).unwrap_or_else(|e| panic!("{}: {e}", v.sig));
        assert_eq!(got.sig, load(v).1, "{}", v.sig);
        assert_eq!(got.compat_pae, v.sig.contains("v0.2.0"), "{}", v.sig);
        match (&how, &got.signer) {
            (
                ModelVerifier::Key(k),
                ModelSigner::Key {
                    key_hint, keyid, ..
                },
            ) => {
                assert_eq!(keyid, &k.keyid());
                if let model_signing::Material::PublicKey { hint: Some(h), .. } = load(v).0.material
                {
                    assert_eq!(&h, key_hint, "{}", v.sig);
                }
            }
            (ModelVerifier::Certificate { .. }, ModelSigner::Certificate { subject, .. }) => {
                assert_eq!(subject, "CN=intermediate-ca", "{}", v.sig);
            }
            (
                ModelVerifier::Sigstore { .. },
                ModelSigner::Sigstore {
                    san,
                    issuer,
                    signed_at,
                    ..
                },
            ) => {
                assert_eq!(san, "stefanb@us.ibm.com");
                assert_eq!(issuer, "https://sigstore.verify.ibm.com/oauth2");
                assert_eq!(*signed_at, Some(1_760_062_340));
            }
            (_, s) => panic!("{}: signer {s:?}", v.sig),
        }
    }
}

/// The hint of the fixture key is what model-signing wrote (SHA-256 of its PEM).
#[test]
fn key_hint_is_sha256_of_pem() {
    let key = PublicKey::parse(&read("ec_p256_public.pem")).unwrap();
    assert_eq!(
        model_signing::key_hint(&key),
        "804a2a1ea09ac3c7cd09b3db6b165586daa261be9ad73e7056814e9caa32570b"
    );
    // The fixture PEM is byte-for-byte what Python's cryptography writes.
    assert_eq!(
        model_signing::key_hint(&key),
        hex::encode(Sha256::digest(read("ec_p256_public.pem")))
    );
}

/// Rewrites the DSSE payload of a bundle (the signature is kept).
fn with_payload(sig: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::STANDARD;
    let mut b: serde_json::Value = serde_json::from_slice(sig).unwrap();
    let p = e
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let p = edit(String::from_utf8(p).unwrap());
    b["dsseEnvelope"]["payload"] = e.encode(p).into();
    serde_json::to_vec(&b).unwrap()
}

/// Refusals: a wrong key (hint mismatch, or no hint and a bad signature), a tampered
/// payload in every mode, a certificate with no path to the given CAs, the wrong
/// Sigstore identity, and a mode that does not fit the bundle.
#[test]
fn wrong_signers_and_tampering_are_refused() {
    let tiny_key = PublicKey::parse(&read("ec_p256_public.pem")).unwrap();
    let golden_key = PublicKey::parse(&read(GOLDEN_KEY)).unwrap();
    let anchors = anchors();
    let root = sigstore_root();
    let identity = ibm_identity();
    // Wrong key: the hint names another key.
    let e =
        verify_signature(&read("tiny-model.sig"), &ModelVerifier::Key(&golden_key)).unwrap_err();
    assert!(matches!(e, ModelSigError::KeyMismatch { .. }), "{e}");
    // No hint (v0.3.1): the signature itself refuses the wrong key.
    let e = verify_signature(
        &read("upstream-golden/v0.3.1-elliptic-key/model.sig"),
        &ModelVerifier::Key(&tiny_key),
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::BadSignature(_)), "{e}");
    assert!(
        e.to_string().starts_with("/dsseEnvelope/signatures/0/sig"),
        "{e}"
    );
    // A tampered payload (root digest kept consistent: the model name changes).
    let rename = |p: String| p.replace("\"tiny-model\"", "\"tiny-modeL\"");
    let e = verify_signature(
        &with_payload(&read("tiny-model.sig"), rename),
        &ModelVerifier::Key(&tiny_key),
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::BadSignature(_)), "{e}");
    let rename = |p: String| p.replace("\"v1.1.0-certificate\"", "\"v1.1.0-certificatE\"");
    let e = verify_signature(
        &with_payload(
            &read("upstream-golden/v1.1.0-certificate/model.sig"),
            rename,
        ),
        &ModelVerifier::Certificate { anchors: &anchors },
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::BadSignature(_)), "{e}");
    let rename = |p: String| p.replace("\"v1.1.0-sigstore\"", "\"v1.1.0-sigstorE\"");
    let e = verify_signature(
        &with_payload(&read("upstream-golden/v1.1.0-sigstore/model.sig"), rename),
        &ModelVerifier::Sigstore {
            root: &root,
            identity: &identity,
        },
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::Sigstore(_)), "{e}");
    // v0.2.0's subjects carry the digests directly: changing one breaks the signature.
    let flip = |p: String| p.replace("f6310066c7", "f6310066c8");
    let e = verify_signature(
        &with_payload(&read("upstream-golden/v0.2.0-certificate/model.sig"), flip),
        &ModelVerifier::Certificate { anchors: &anchors },
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::BadSignature(_)), "{e}");
    // Only the root CA's sibling: no path (the Fulcio roots are unrelated CAs).
    let fulcio: Vec<Vec<u8>> = root
        .certificate_authorities
        .iter()
        .filter_map(|c| c.chain.last().cloned())
        .collect();
    let e = verify_signature(
        &read("upstream-golden/v1.1.0-certificate/model.sig"),
        &ModelVerifier::Certificate { anchors: &fulcio },
    )
    .unwrap_err();
    assert!(matches!(e, ModelSigError::Certificate(_)), "{e}");
    // Another identity.
    let other = IdentityPolicy {
        san: Matcher::Exact("someone@example.com".into()),
        issuer: Matcher::Exact("https://sigstore.verify.ibm.com/oauth2".into()),
    };
    let e = verify_signature(
        &read("upstream-golden/v1.1.0-sigstore/model.sig"),
        &ModelVerifier::Sigstore {
            root: &root,
            identity: &other,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("identity"), "{e}");
    // Modes that do not fit: a key for a certificate bundle, CAs for a key bundle.
    let e = verify_signature(
        &read("upstream-golden/v1.1.0-certificate/model.sig"),
        &ModelVerifier::Key(&golden_key),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("/verificationMaterial"), "{e}");
    let e = verify_signature(
        &read("tiny-model.sig"),
        &ModelVerifier::Certificate { anchors: &anchors },
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("/verificationMaterial"), "{e}");
}

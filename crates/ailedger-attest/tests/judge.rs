//! The trust policy judging real documents: one table over every attestation fixture
//! (python-in-toto envelopes and legacy link, the DSSE spec vector, slsa-verifier's BCR
//! and container-based provenance, the npm bundle, every OpenSSF model signature, every
//! sigstore-conformance case) and variants made from them (tampered payloads, rewritten
//! key id hints, duplicated signatures, bare statements, broken base64, oversized
//! documents). Each row gives the policy (TOML written here), what the ledger knows, and
//! the expected outcome, admission, SLSA level, subjects and edges.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ailedger_attest::judge::{self, Known, Outcome, TrustPolicy};
use ailedger_attest::policy::{PolicyFiles, PolicyFormat};
use ailedger_attest::sign::{SigningKey, sign_envelope};
use ailedger_core::{ArtifactKind, EdgeKind};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest"
    ))
    .to_path_buf()
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn text(rel: &str) -> String {
    String::from_utf8(read(rel)).unwrap()
}

fn sha256_ref(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// ailedger's manifest digest of a model directory, computed here from the files as
/// `ailedger_core::manifest` documents it: `<hex>  <path>\n` per file, sorted by path
/// bytes, then SHA-256 of the text. `skip` names files the signer ignored.
fn manifest_ref(dir: &str, skip: &[&str]) -> String {
    fn walk(root: &Path, at: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, hex::encode(Sha256::digest(std::fs::read(&p).unwrap()))));
            }
        }
    }
    let root = fixtures().join(dir);
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.retain(|(p, _)| !skip.contains(&p.as_str()));
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let manifest: String = files.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
    sha256_ref(manifest.as_bytes())
}

// ---- Policy text, written as a user would. ----

const ED_PUB: &str = "python-in-toto/slsa-provenance-v1.ed25519.pub.pem";
const ED_PUB_JSON: &str = "python-in-toto/slsa-provenance-v1.ed25519.pub.json";
const EC_PUB: &str = "python-in-toto/test-result-v0.1.ecdsa-p256.pub.pem";
const MODEL_PUB: &str = "model_signing/ec_p256_public.pem";
const GOLDEN_PUB: &str = "upstream-golden/keys/certificate/signing-key-pub.pem";
const ED_ENV: &str = "python-in-toto/slsa-provenance-v1.ed25519.dsse.json";
const EC_ENV: &str = "python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json";
const LINK_ENV: &str = "python-in-toto/legacy-link.build.f5b4ef8b.dsse.json";
const ED_KEYID: &str = "f5b4ef8be18a9779203e41a61d2ee3f34380da5fa21760eee7e270de995679e4";
const EC_KEYID: &str = "2223afd5f1d8e62000624e7067f4149f273bb2851b25caaefb684a0f708e1561";
const GH_ISSUER: &str = "https://token.actions.githubusercontent.com";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const TRAINER: &str = "https://example.com/builders/ml-trainer@v1";

fn key(name: &str, pem_path: &str, scope: &str) -> String {
    let pem = text(pem_path);
    format!("[[keys]]\nname = \"{name}\"\npublic_key = '''\n{pem}'''\n{scope}\n")
}

fn identity(name: &str, san: &str, issuer: &str) -> String {
    format!("[[identities]]\nname = \"{name}\"\nsan = \"{san}\"\nissuer = \"{issuer}\"\n")
}

fn authority(name: &str, pems: &[&str]) -> String {
    let certs: String = pems
        .iter()
        .map(|p| text(&format!("model_signing/{p}")))
        .collect();
    format!("[[certificate_authorities]]\nname = \"{name}\"\ncertificates = '''\n{certs}'''\n")
}

/// The first certificate authority of the Sigstore production root, as PEM.
fn sigstore_root_cert() -> String {
    let root: Value =
        serde_json::from_slice(&read("sigstore/production_trusted_root.json")).unwrap();
    let der = root["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"]
        .as_str()
        .unwrap();
    format!("-----BEGIN CERTIFICATE-----\n{der}\n-----END CERTIFICATE-----\n")
}

fn policy(parts: &[String]) -> String {
    let mut out = String::from("version = 1\n");
    for p in parts {
        out.push_str(p);
        out.push('\n');
    }
    out
}

// ---- Documents made from the fixtures. ----

fn envelope_json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

fn payload_of(rel: &str) -> Vec<u8> {
    STANDARD
        .decode(envelope_json(rel)["payload"].as_str().unwrap())
        .unwrap()
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The envelope with one byte of its payload changed (a string value, so the payload
/// still reads as the same statement).
fn tampered(rel: &str) -> Vec<u8> {
    let mut v = envelope_json(rel);
    let payload = String::from_utf8(payload_of(rel)).unwrap();
    let changed = payload.replacen("configs/tiny.yaml", "configs/tiny.yamm", 1);
    assert_ne!(payload, changed);
    v["payload"] = Value::from(STANDARD.encode(changed));
    to_bytes(&v)
}

fn with_keyid(rel: &str, keyid: &str) -> Vec<u8> {
    let mut v = envelope_json(rel);
    v["signatures"][0]["keyid"] = Value::from(keyid);
    to_bytes(&v)
}

fn duplicated_signature(rel: &str) -> Vec<u8> {
    let mut v = envelope_json(rel);
    let s = v["signatures"][0].clone();
    v["signatures"].as_array_mut().unwrap().push(s);
    to_bytes(&v)
}

fn no_signatures(rel: &str) -> Vec<u8> {
    let mut v = envelope_json(rel);
    v["signatures"] = json!([]);
    to_bytes(&v)
}

/// An envelope signed here with the fixture's Ed25519 key, whose statement names a
/// package by purl and digest.
fn purl_statement(sha: &str) -> Vec<u8> {
    let key = SigningKey::from_pem(&text(
        "python-in-toto/TEST_ONLY_slsa-provenance-v1.ed25519.priv.pem",
    ))
    .unwrap();
    assert_eq!(key.keyid(), ED_KEYID);
    let st = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:pypi/acme-utils@1.0", "digest": {"sha256": sha}}],
        "predicateType": "https://in-toto.io/attestation/test-result/v0.1",
        "predicate": {"result": "PASSED", "configuration": [], "passedTests": [], "failedTests": [], "warnedTests": []}
    });
    sign_envelope(judge::IN_TOTO_PAYLOAD, &to_bytes(&st), &key)
        .unwrap()
        .to_json()
}

/// Both python-in-toto statement envelopes as JSON Lines.
fn two_lines() -> Vec<u8> {
    let mut out = to_bytes(&envelope_json(ED_ENV));
    out.push(b'\n');
    out.extend(to_bytes(&envelope_json(EC_ENV)));
    out.push(b'\n');
    out
}

/// The DSSE spec vector's envelope (payload type `http://example.com/HelloWorld`).
fn spec_vector_envelope() -> Vec<u8> {
    let v: Value = serde_json::from_slice(&read("dsse/dsse-spec-v1.0.2-vector.json")).unwrap();
    to_bytes(&v["envelope"])
}

// ---- The table. ----

#[derive(Clone)]
struct Case {
    label: String,
    doc: Vec<u8>,
    policy: String,
    files: Vec<(&'static str, String)>,
    known: Vec<(String, Known)>,
    require_verified: bool,
    /// `Err(text)`: detect refuses the document with an error containing `text`;
    /// `Ok(None)`: not an attestation at all.
    want: Result<Option<Want>, &'static str>,
}

#[derive(Clone)]
struct Want {
    outcome: Outcome,
    /// `Err(text)`: refused with a reason containing `text`.
    admit: Result<(), &'static str>,
    reason: &'static str,
    slsa: Option<u8>,
    subjects: Vec<String>,
    built_from: Vec<String>,
    built_by: Vec<String>,
    /// Policy names of the signers that count (`trusted_as`).
    trusted: Vec<&'static str>,
    warning: Option<&'static str>,
    check_edges: bool,
}

impl Want {
    fn new(outcome: Outcome) -> Self {
        Want {
            outcome,
            admit: Ok(()),
            reason: "",
            slsa: None,
            subjects: vec![],
            built_from: vec![],
            built_by: vec![],
            trusted: vec![],
            warning: None,
            check_edges: true,
        }
    }
}

impl Case {
    fn new(label: impl Into<String>, doc: Vec<u8>, want: Want) -> Self {
        Case {
            label: label.into(),
            doc,
            policy: policy(&[]),
            files: vec![],
            known: vec![],
            require_verified: false,
            want: Ok(Some(want)),
        }
    }
    fn file(rel: &str, want: Want) -> Self {
        Self::new(rel, read(rel), want)
    }
    fn policy(mut self, parts: &[String]) -> Self {
        self.policy = policy(parts);
        self
    }
    fn raw_policy(mut self, text: &str) -> Self {
        self.policy = text.to_owned();
        self
    }
    fn label(mut self, l: &str) -> Self {
        self.label = format!("{} [{l}]", self.label);
        self
    }
    fn known(mut self, key: &str, k: Known) -> Self {
        self.known.push((key.to_owned(), k));
        self
    }
    fn require_verified(mut self) -> Self {
        self.require_verified = true;
        self
    }
    fn with(mut self, f: impl FnOnce(&mut Want)) -> Self {
        if let Ok(Some(w)) = &mut self.want {
            f(w);
        }
        self
    }
}

fn refused(label: &str, doc: Vec<u8>, err: &'static str) -> Case {
    Case {
        want: Err(err),
        ..Case::new(label, doc, Want::new(Outcome::Failed))
    }
}

// Expected subjects and edges of the fixtures.

fn slsa_ed25519(outcome: Outcome) -> Want {
    Want {
        slsa: Some(1),
        subjects: vec![
            "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654".into(),
        ],
        built_from: vec![
            format!("sha256:{}", "0".repeat(64)),
            "sha256:ce873577c03991c8faaae22e109dd52816739e0a5b8410d17520f8d7f585fd6d".into(),
            "source:https://example.com/org/tiny-model@7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"
                .into(),
        ],
        built_by: vec![format!("builder:{TRAINER}")],
        ..Want::new(outcome)
    }
}

fn test_result(outcome: Outcome) -> Want {
    Want {
        subjects: vec![
            "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654".into(),
        ],
        ..Want::new(outcome)
    }
}

fn bcr(outcome: Outcome) -> Want {
    Want {
        slsa: Some(1),
        subjects: vec![sha256_ref(&read("slsa-verifier/bcr/MODULE.bazel"))],
        built_from: vec![
            "source:https://github.com/aspect-build/rules_lint@8f70009fde0c94ade6ce2a054b94718c819126ec".into(),
        ],
        built_by: vec![
            "builder:https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1".into(),
        ],
        ..Want::new(outcome)
    }
}

const GHA: &str = "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2";
const GHA_BUILDER: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.8.0";

fn gha(outcome: Outcome) -> Want {
    Want {
        slsa: Some(1),
        subjects: vec![sha256_ref(&read(GHA))],
        built_from: vec![
            "sha256:d14e0068b2ebfcc22a283d7b63984e2c57c9d84693f43f0afdab9560a68d6c11".into(),
            "source:https://github.com/slsa-framework/example-package@6cf671f47f3752f97b9f5bff511e37b938fe10d2".into(),
        ],
        built_by: vec![format!("builder:{GHA_BUILDER}")],
        ..Want::new(outcome)
    }
}

const NPM: &str = "sigstore/npm_sigstore-5.0.0_slsa_bundle_v03.json";

fn npm(outcome: Outcome) -> Want {
    Want {
        slsa: Some(1),
        subjects: vec!["pkg:npm/sigstore@5.0.0".into()],
        built_from: vec![
            "source:https://github.com/sigstore/sigstore-js@7d2900eca1c22b3f87c13987c8d4b7c9a29b733a".into(),
        ],
        built_by: vec!["builder:https://github.com/actions/runner/github-hosted".into()],
        ..Want::new(outcome)
    }
}

fn model(outcome: Outcome, subject: Option<String>) -> Want {
    Want {
        subjects: subject.into_iter().collect(),
        ..Want::new(outcome)
    }
}

fn known_model(id: &str) -> Known {
    Known {
        id: id.into(),
        kind: Some(ArtifactKind::Model),
        sha256s: vec![id.into()],
        ..Known::default()
    }
}

fn python_in_toto_rows() -> Vec<Case> {
    use Outcome::*;
    let ed = || key("trainer", ED_PUB, "");
    let ec = || key("evaluator", EC_PUB, "");
    let subject = "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654";
    let bare = payload_of(ED_ENV);
    let mut rows = vec![
        // The same document under the empty policy, the right key, the wrong key.
        Case::file(ED_ENV, slsa_ed25519(Unverified)).with(|w| {
            w.reason = "the policy holds no keys to check it (key id f5b4ef8b";
            w.slsa = Some(1);
        }),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .policy(&[ed()])
            .with(|w| {
                w.trusted = vec!["trainer"];
                w.reason = "verified by key f5b4ef8b";
            }),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("sslib JSON key")
            .raw_policy(&format!(
                "version = 1\n[[keys]]\nname = \"trainer\"\npublic_key = '''{}'''\n",
                text(ED_PUB_JSON)
            ))
            .with(|w| w.trusted = vec!["trainer"]),
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("unknown key id")
            .policy(&[ec()])
            .with(|w| w.reason = "not among the 1 trusted key"),
        Case::new(
            "ed25519 envelope re-hinted to the ECDSA key",
            with_keyid(ED_ENV, EC_KEYID),
            slsa_ed25519(Failed),
        )
        .label("hinted key held, signature wrong")
        .policy(&[ec()])
        .with(|w| {
            w.reason = "does not verify with key 2223afd5";
            w.admit = Err("the policy refuses failed documents");
        }),
        Case::new("tampered payload", tampered(ED_ENV), slsa_ed25519(Failed))
            .policy(&[ed()])
            .with(|w| {
                w.reason = "signature does not verify with key f5b4ef8b";
                w.admit = Err("failed");
            }),
        Case::new("tampered payload", tampered(ED_ENV), slsa_ed25519(Unverified))
            .label("key not held")
            .policy(&[ec()]),
        Case::new(
            "tampered payload",
            tampered(ED_ENV),
            slsa_ed25519(Failed),
        )
        .label("on.failed = record")
        .policy(&[ed(), "[on]\nfailed = \"record\"\n".into()])
        .with(|w| w.admit = Ok(())),
        Case::new(
            "duplicated signature",
            duplicated_signature(ED_ENV),
            slsa_ed25519(Verified),
        )
        .policy(&[ed()])
        .with(|w| w.trusted = vec!["trainer"]),
        // Scopes: the key may vouch for datasets only; the subject is a model.
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("scope kinds = dataset")
            .policy(&[key("trainer", ED_PUB, "scope = { kinds = [\"dataset\"] }")])
            .known(subject, known_model(subject))
            .with(|w| w.reason = "but trainer is not trusted for subject 0 (model"),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("scope kinds = model")
            .policy(&[key("trainer", ED_PUB, "scope = { kinds = [\"model\"] }")])
            .known(subject, known_model(subject))
            .with(|w| w.trusted = vec!["trainer"]),
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("scope kinds = model, subject not in the ledger")
            .policy(&[key("trainer", ED_PUB, "scope = { kinds = [\"model\"] }")])
            .with(|w| w.reason = "not trusted for subject 0 (not in the ledger"),
        // Builders and the SLSA level.
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("no builder rule: L1")
            .policy(&[ed()])
            .with(|w| w.slsa = Some(1)),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("builder rule: L2")
            .policy(&[ed(), format!("[[builders]]\nid = \"{TRAINER}\"\n")])
            .with(|w| w.slsa = Some(2)),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("builder regex: L2")
            .policy(&[
                ed(),
                "[[builders]]\nid_regex = 'https://example\\.com/builders/.+'\n".into(),
            ])
            .with(|w| w.slsa = Some(2)),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("builder regex anchored: L1")
            .policy(&[ed(), "[[builders]]\nid_regex = 'example\\.com'\n".into()])
            .with(|w| w.slsa = Some(1)),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("hardened builder: L3")
            .policy(&[
                ed(),
                format!("[[builders]]\nid = \"{TRAINER}\"\nhardened = true\nsigners = [\"trainer\"]\n"),
            ])
            .with(|w| w.slsa = Some(3)),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("builder vouched for by another signer: L1")
            .policy(&[
                ed(),
                ec(),
                format!("[[builders]]\nid = \"{TRAINER}\"\nhardened = true\nsigners = [\"evaluator\"]\n"),
            ])
            .with(|w| w.slsa = Some(1)),
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("builder rule, unverified: L1")
            .policy(&[format!("[[builders]]\nid = \"{TRAINER}\"\nhardened = true\n")])
            .with(|w| w.slsa = Some(1)),
        // Unsigned documents.
        Case::new("bare statement", bare.clone(), slsa_ed25519(Unverified))
            .with(|w| w.reason = "unsigned"),
        Case::new("bare statement", bare.clone(), slsa_ed25519(Unverified))
            .label("on.unsigned = refuse")
            .policy(&["[on]\nunsigned = \"refuse\"\n".into()])
            .with(|w| w.admit = Err("the policy refuses unsigned documents")),
        Case::new("bare statement", bare, slsa_ed25519(Unverified))
            .label("trusted key does not sign a bare statement")
            .policy(&[ed()]),
        Case::new(
            "envelope without signatures",
            no_signatures(ED_ENV),
            slsa_ed25519(Unverified),
        )
        .policy(&["[on]\nunsigned = \"refuse\"\nuntrusted = \"record\"\n".into()])
        .with(|w| w.admit = Err("refuses unsigned")),
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("on.untrusted = refuse")
            .policy(&["[on]\nuntrusted = \"refuse\"\n".into()])
            .with(|w| w.admit = Err("the policy refuses untrusted documents")),
        // --require-verified.
        Case::file(ED_ENV, slsa_ed25519(Unverified))
            .label("require_verified")
            .require_verified()
            .with(|w| w.admit = Err("verification was required")),
        Case::file(ED_ENV, slsa_ed25519(Verified))
            .label("require_verified, trusted key")
            .policy(&[ed()])
            .require_verified(),
        // The test-result statement (ECDSA, DER signature).
        Case::file(EC_ENV, test_result(Unverified)),
        Case::file(EC_ENV, test_result(Verified))
            .policy(&[ec()])
            .with(|w| w.trusted = vec!["evaluator"]),
        Case::file(EC_ENV, test_result(Unverified))
            .label("ed25519 key only")
            .policy(&[ed()]),
        // The legacy link: its products are the subjects.
        Case::file(
            LINK_ENV,
            Want {
                subjects: vec![
                    "sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"
                        .into(),
                ],
                ..Want::new(Verified)
            },
        )
        .policy(&[ed()]),
        // Subject digest mismatch: the ledger knows the purl with other bytes.
        Case::new(
            "purl subject, digest agrees",
            purl_statement(&"ab".repeat(32)),
            Want {
                subjects: vec!["pkg:pypi/acme-utils@1.0".into()],
                trusted: vec!["trainer"],
                ..Want::new(Verified)
            },
        )
        .policy(&[key(
            "trainer",
            ED_PUB,
            "scope = { purl_namespaces = [\"pkg:pypi/acme-*\"] }",
        )])
        .known(
            "pkg:pypi/acme-utils@1.0",
            Known {
                id: "pkg:pypi/acme-utils@1.0".into(),
                kind: Some(ArtifactKind::Package),
                sha256s: vec![format!("sha256:{}", "ab".repeat(32))],
                purls: vec!["pkg:pypi/acme-utils@1.0".into()],
                source: None,
            },
        ),
        Case::new(
            "purl subject, digest mismatch",
            purl_statement(&"cd".repeat(32)),
            Want {
                subjects: vec!["pkg:pypi/acme-utils@1.0".into()],
                reason: "subject 0 digest mismatch: pkg:pypi/acme-utils@1.0 is recorded with sha256:abab",
                admit: Err("digest mismatch"),
                ..Want::new(Failed)
            },
        )
        .policy(&[ed()])
        .known(
            "pkg:pypi/acme-utils@1.0",
            Known {
                id: "pkg:pypi/acme-utils@1.0".into(),
                kind: Some(ArtifactKind::Package),
                sha256s: vec![format!("sha256:{}", "ab".repeat(32))],
                purls: vec!["pkg:pypi/acme-utils@1.0".into()],
                source: None,
            },
        ),
        Case::new(
            "purl subject, unknown to the ledger",
            purl_statement(&"cd".repeat(32)),
            Want {
                subjects: vec![format!("sha256:{}", "cd".repeat(32))],
                reason: "not trusted for subject 0 (package, pkg:pypi/acme-utils@1.0)",
                ..Want::new(Unverified)
            },
        )
        .label("purl scope pkg:pypi/other-*")
        .policy(&[key(
            "trainer",
            ED_PUB,
            "scope = { purl_namespaces = [\"pkg:pypi/other-*\"] }",
        )]),
        // JSON Lines: one line verified, one not.
        Case::new(
            "two envelopes as JSON Lines",
            two_lines(),
            Want {
                subjects: vec![
                    "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654"
                        .into(),
                ],
                reason: "1 verified, 1 unverified, 0 failed",
                ..slsa_ed25519(Unverified)
            },
        )
        .policy(&[ed()])
        .with(|w| w.trusted = vec!["trainer"]),
        Case::new(
            "two envelopes as JSON Lines",
            two_lines(),
            Want {
                reason: "2 verified, 0 unverified, 0 failed",
                ..slsa_ed25519(Verified)
            },
        )
        .label("both keys")
        .policy(&[ed(), ec()])
        .with(|w| w.trusted = vec!["trainer", "evaluator"]),
        Case::new(
            "two envelopes as JSON Lines",
            two_lines(),
            slsa_ed25519(Unverified),
        )
        .label("require_verified")
        .policy(&[ed()])
        .require_verified()
        .with(|w| {
            w.trusted = vec!["trainer"];
            w.admit = Err("attestation 2: unverified");
        }),
    ];
    // Malformed documents: detect names the fault.
    let mut bad_payload = envelope_json(ED_ENV);
    bad_payload["payload"] = Value::from("!!not base64!!");
    let mut bad_sig = envelope_json(ED_ENV);
    bad_sig["signatures"][0]["sig"] = Value::from("@@@@");
    let mut big =
        br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "pad": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024 + 1));
    big.extend(br#""}"#);
    let mut big_other = br#"{"bomFormat": "CycloneDX", "pad": ""#.to_vec();
    big_other.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024 + 1));
    big_other.extend(br#""}"#);
    rows.extend([
        refused(
            "payload: malformed base64",
            to_bytes(&bad_payload),
            "payload",
        ),
        refused(
            "signature: malformed base64",
            to_bytes(&bad_sig),
            "signatures[0].sig",
        ),
        refused("bundle over 10 MB", big, "over the 10485760-byte limit"),
        refused(
            "DSSE spec vector: not in-toto",
            spec_vector_envelope(),
            "is not in-toto",
        ),
        Case {
            want: Ok(None),
            ..Case::new("10 MB of something else", big_other, Want::new(Failed))
        },
        Case {
            want: Ok(None),
            ..Case::new(
                "the DSSE spec vector file itself",
                read("dsse/dsse-spec-v1.0.2-vector.json"),
                Want::new(Failed),
            )
        },
    ]);
    rows
}

fn provenance_bundle_rows() -> Vec<Case> {
    use Outcome::*;
    let bcr_id = identity(
        "bcr",
        "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1",
        GH_ISSUER,
    );
    let bcr_file = "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl";
    let wrong = "slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl";
    let gha_file =
        "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2.intoto.jsonl";
    let gha_id = identity("generator", GHA_BUILDER, GH_ISSUER);
    let npm_id = identity(
        "sigstore-js",
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        GH_ISSUER,
    );
    vec![
        Case::file(bcr_file, bcr(Unverified))
            .with(|w| w.reason = "verified offline, but no identity of the policy trusts it"),
        Case::file(bcr_file, bcr(Verified))
            .policy(std::slice::from_ref(&bcr_id))
            .with(|w| w.trusted = vec!["bcr"]),
        Case::file(bcr_file, bcr(Verified))
            .label("hosted builder: L2")
            .policy(&[
                bcr_id.clone(),
                "[[builders]]\nid_regex = 'https://github\\.com/bazel-contrib/publish-to-bcr/.+'\n"
                    .into(),
            ])
            .with(|w| {
                w.trusted = vec!["bcr"];
                w.slsa = Some(2);
            }),
        Case::file(wrong, bcr(Unverified))
            .label("wrong signer")
            .policy(std::slice::from_ref(&bcr_id))
            .with(|w| w.reason = "malicious_attestation.yaml"),
        Case::file(wrong, bcr(Unverified))
            .label("wrong signer, require_verified")
            .policy(std::slice::from_ref(&bcr_id))
            .require_verified()
            .with(|w| w.admit = Err("verification was required")),
        Case::file(
            wrong,
            Want {
                trusted: vec!["any-aa-test"],
                ..bcr(Verified)
            },
        )
        .label("an identity regex that admits the wrong signer")
        .policy(&[format!(
            "[[identities]]\nname = \"any-aa-test\"\nsan_regex = 'https://github\\.com/loosebazooka/aa-test/.+'\nissuer = \"{GH_ISSUER}\"\n"
        )]),
        Case::file(gha_file, gha(Unverified)),
        Case::file(gha_file, gha(Verified))
            .label("hardened generator: L3")
            .policy(&[
                gha_id.clone(),
                format!("[[builders]]\nid = \"{GHA_BUILDER}\"\nhardened = true\nsigners = [\"generator\"]\n"),
            ])
            .with(|w| {
                w.trusted = vec!["generator"];
                w.slsa = Some(3);
            }),
        Case::file(NPM, npm(Unverified)),
        Case::file(NPM, npm(Verified))
            .policy(std::slice::from_ref(&npm_id))
            .with(|w| w.trusted = vec!["sigstore-js"]),
        Case::file(NPM, npm(Verified))
            .label("scope: npm packages")
            .policy(&[format!(
                "{npm_id}scope = {{ purl_namespaces = [\"pkg:npm/sigstore@*\"] }}\n"
            )])
            .with(|w| w.trusted = vec!["sigstore-js"]),
        Case::file(NPM, npm(Unverified))
            .label("scope: pypi packages")
            .policy(&[format!(
                "{npm_id}scope = {{ purl_namespaces = [\"pkg:pypi/*\"] }}\n"
            )])
            .with(|w| w.reason = "sigstore-js is not trusted for subject 0 (package, pkg:npm/sigstore@5.0.0)"),
        Case::file(NPM, npm(Unverified))
            .label("identity with the wrong issuer")
            .policy(&[identity(
                "sigstore-js",
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
                "https://accounts.google.com",
            )]),
    ]
}

fn model_rows() -> Vec<Case> {
    use Outcome::*;
    let mkey = || key("model-key", MODEL_PUB, "");
    let golden_key = || key("golden", &format!("model_signing/{GOLDEN_PUB}"), "");
    let ca = || {
        authority(
            "private-ca",
            &[
                "upstream-golden/keys/certificate/ca-cert.pem",
                "upstream-golden/keys/certificate/int-ca-cert.pem",
            ],
        )
    };
    let tiny = manifest_ref("model_signing/tiny-model", &[]);
    let order = manifest_ref("model_signing/order-model", &[]);
    let golden = |d: &str| {
        manifest_ref(
            &format!("model_signing/upstream-golden/{d}"),
            &["ignore-me", "model.sig"],
        )
    };
    let ibm = identity(
        "stefan",
        "stefanb@us.ibm.com",
        "https://sigstore.verify.ibm.com/oauth2",
    );
    vec![
        Case::file(
            "model_signing/tiny-model.sig",
            model(Unverified, Some(tiny.clone())),
        )
        .with(|w| w.reason = "signed by a key the policy does not hold (key hint 804a2a1e"),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Verified, Some(tiny.clone())),
        )
        .policy(&[mkey()])
        .with(|w| w.trusted = vec!["model-key"]),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Verified, Some(tiny.clone())),
        )
        .label("scope kinds = model")
        .policy(&[key(
            "model-key",
            MODEL_PUB,
            "scope = { kinds = [\"model\"] }",
        )])
        .with(|w| w.trusted = vec!["model-key"]),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Unverified, Some(tiny.clone())),
        )
        .label("scope kinds = dataset")
        .policy(&[key(
            "model-key",
            MODEL_PUB,
            "scope = { kinds = [\"dataset\"] }",
        )])
        .with(|w| w.reason = "model-key is not trusted for subject 0 (model"),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Verified, Some(tiny.clone())),
        )
        .label("model source scope, registered source matches")
        .policy(&[key(
            "model-key",
            MODEL_PUB,
            "scope = { model_sources = [\"hf://acme/*\"] }",
        )])
        .known(
            &tiny,
            Known {
                source: Some("hf://acme/tiny".into()),
                ..known_model(&tiny)
            },
        )
        .with(|w| w.trusted = vec!["model-key"]),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Unverified, Some(tiny.clone())),
        )
        .label("model source scope, other source")
        .policy(&[key(
            "model-key",
            MODEL_PUB,
            "scope = { model_sources = [\"hf://acme/*\"] }",
        )])
        .known(
            &tiny,
            Known {
                source: Some("hf://evil/tiny".into()),
                ..known_model(&tiny)
            },
        ),
        Case::file(
            "model_signing/tiny-model.sig",
            model(Unverified, Some(tiny.clone())),
        )
        .label("another key")
        .policy(&[key("other", EC_PUB, "")])
        .with(|w| w.reason = "key hint 804a2a1e"),
        Case::file(
            "model_signing/order-model.files.sig",
            model(Verified, Some(order)),
        )
        .policy(&[mkey()])
        .with(|w| w.trusted = vec!["model-key"]),
        Case::file(
            "model_signing/order-model.shards.sig",
            model(Verified, None),
        )
        .policy(&[mkey()])
        .with(|w| {
            w.trusted = vec!["model-key"];
            w.warning = Some("shard-serialised model signature names no file digests");
        }),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-elliptic-key/model.sig",
            model(Verified, Some(golden("v1.1.0-elliptic-key"))),
        )
        .policy(&[golden_key()])
        .with(|w| w.trusted = vec!["golden"]),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-elliptic-key/model.sig",
            model(Unverified, Some(golden("v1.1.0-elliptic-key"))),
        )
        .label("model key only"),
        Case::file(
            "model_signing/upstream-golden/v0.3.1-elliptic-key/model.sig",
            // A single-file model (resource `.`): linked to the file by its own digest.
            model(
                Verified,
                Some(format!(
                    "sha256:{}",
                    hex::encode(Sha256::digest(read(
                        "model_signing/upstream-golden/v0.3.1-elliptic-key/signme-1"
                    )))
                )),
            ),
        )
        .policy(&[golden_key()])
        .with(|w| w.trusted = vec!["golden"]),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-certificate/model.sig",
            model(Unverified, Some(golden("v1.1.0-certificate"))),
        )
        .with(|w| w.reason = "the policy holds no certificate authority"),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-certificate/model.sig",
            model(Verified, Some(golden("v1.1.0-certificate"))),
        )
        .policy(&[ca()])
        .with(|w| {
            w.trusted = vec!["private-ca"];
            w.reason = "certificate chains to authority private-ca";
        }),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-certificate/model.sig",
            model(Verified, Some(golden("v1.1.0-certificate"))),
        )
        .label("the intermediate alone is an anchor too")
        .policy(&[authority(
            "int-only",
            &["upstream-golden/keys/certificate/int-ca-cert.pem"],
        )]),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-certificate/model.sig",
            model(Unverified, Some(golden("v1.1.0-certificate"))),
        )
        .label("an unrelated authority")
        .policy(&[format!(
            "[[certificate_authorities]]\nname = \"other\"\ncertificates = '''\n{}'''\n",
            sigstore_root_cert()
        )])
        .with(|w| w.reason = "chains to no authority of the policy"),
        Case::file(
            "model_signing/upstream-golden/v0.2.0-certificate/model.sig",
            model(Verified, Some(golden("v0.2.0-certificate"))),
        )
        .policy(&[ca()])
        .with(|w| w.trusted = vec!["private-ca"]),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-sigstore/model.sig",
            model(Unverified, Some(golden("v1.1.0-sigstore"))),
        )
        .with(|w| w.reason = "stefanb@us.ibm.com"),
        Case::file(
            "model_signing/upstream-golden/v1.1.0-sigstore/model.sig",
            model(Verified, Some(golden("v1.1.0-sigstore"))),
        )
        .policy(&[ibm])
        .with(|w| w.trusted = vec!["stefan"]),
    ]
}

/// Every sigstore-conformance case, under a policy trusting the default identity (and
/// the case's key, and its trusted root when it has one): verified iff the case's name
/// lacks `_fail`; the subject is the case's artifact.
fn conformance_rows() -> Vec<Case> {
    let dir = fixtures().join("sigstore/conformance");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 22);
    let mut rows = Vec::new();
    for name in names {
        let base = format!("sigstore/conformance/{name}");
        let case_dir = dir.join(&name);
        let artifact = std::fs::read(case_dir.join("artifact"))
            .unwrap_or_else(|_| read("sigstore/conformance/a.txt"));
        let mut parts = vec![identity("beacon", BEACON, GH_ISSUER)];
        let mut files = vec![];
        let mut outcome = if name.ends_with("_fail") {
            Outcome::Failed
        } else {
            Outcome::Verified
        };
        if name == "managed-key-wrong-key_fail" {
            // Its key.pub is deliberately not a key (policy_files_are_checked); the
            // policy holds another: a key it does not hold is untrusted, not failed.
            parts.push(key("managed", EC_PUB, ""));
            outcome = Outcome::Unverified;
        } else if case_dir.join("key.pub").exists() {
            parts.push(key("managed", &format!("{base}/key.pub"), ""));
        }
        if case_dir.join("trusted_root.json").exists() {
            parts.push("[sigstore]\ntrusted_root = \"root.json\"\n".into());
            files.push(("root.json", text(&format!("{base}/trusted_root.json"))));
        }
        let provenance = name.contains("dsse") || name.contains("intoto");
        let mut case = Case::file(
            &format!("{base}/bundle.sigstore.json"),
            Want {
                subjects: vec![sha256_ref(&artifact)],
                admit: if outcome == Outcome::Failed {
                    Err("refuses failed documents")
                } else {
                    Ok(())
                },
                slsa: provenance.then_some(1),
                // Their materials and builders are checked by the rows above.
                check_edges: false,
                ..Want::new(outcome)
            },
        )
        .policy(&parts);
        case.files = files;
        rows.push(case);
    }
    rows
}

fn check(case: &Case) -> Result<(), String> {
    let mut files = PolicyFiles::new();
    for (n, t) in &case.files {
        files.insert((*n).to_owned(), t.clone());
    }
    let (policy, _) = TrustPolicy::compile(&case.policy, Some(PolicyFormat::Toml), &files, None)
        .map_err(|e| format!("policy: {e}"))?;
    let detected = judge::detect(&case.doc);
    let parsed = match (&case.want, detected) {
        (Ok(None), None) => return Ok(()),
        (Ok(None), Some(r)) => {
            return Err(format!("read as an attestation: {:?}", r.map(|p| p.format)));
        }
        (Err(want), Some(Err(e))) => {
            return if e.to_string().contains(want) {
                Ok(())
            } else {
                Err(format!("error {e:?} lacks {want:?}"))
            };
        }
        (Err(want), other) => {
            return Err(format!(
                "want error {want:?}, got {:?}",
                other.map(|r| r.map(|p| p.format))
            ));
        }
        (Ok(Some(_)), None) => return Err("not detected".into()),
        (Ok(Some(_)), Some(Err(e))) => return Err(format!("detect: {e}")),
        (Ok(Some(_)), Some(Ok(p))) => p,
    };
    let Ok(Some(want)) = &case.want else {
        unreachable!()
    };
    let keys = parsed.lookup_keys();
    let known: HashMap<String, Known> = case.known.iter().cloned().collect();
    for k in known.keys() {
        if !keys.contains(k) {
            return Err(format!("{k} is not among the lookup keys {keys:?}"));
        }
    }
    let facts = judge::judge(&parsed, &policy, &known);
    let j = &facts.judgement;
    let mut errs = Vec::new();
    if j.outcome != want.outcome {
        errs.push(format!("outcome {} (want {})", j.outcome, want.outcome));
    }
    if !j.reason.contains(want.reason) {
        errs.push(format!("reason {:?} lacks {:?}", j.reason, want.reason));
    }
    match (j.admit(&policy, case.require_verified), want.admit) {
        (Ok(()), Ok(())) => {}
        (Err(e), Err(w)) if e.contains(w) => {}
        (got, w) => errs.push(format!("admit {got:?} (want {w:?})")),
    }
    let slsa = j
        .items
        .iter()
        .find_map(|i| i.slsa.as_ref().map(|s| s.level));
    if slsa != want.slsa {
        errs.push(format!("SLSA level {slsa:?} (want {:?})", want.slsa));
    }
    let trusted: Vec<&str> = j
        .items
        .iter()
        .flat_map(|i| &i.signers)
        .filter_map(|s| s.trusted_as.as_deref())
        .collect();
    if !want.trusted.is_empty() && trusted != want.trusted {
        errs.push(format!(
            "trusted signers {trusted:?} (want {:?})",
            want.trusted
        ));
    }
    if want.outcome == Outcome::Verified && trusted.is_empty() {
        errs.push("verified, but no signer is trusted".into());
    }
    // Every item's subjects, and the edges (each subject built from / by).
    let subjects: BTreeSet<String> = j.items.iter().flat_map(|i| i.subjects.clone()).collect();
    let want_subjects: BTreeSet<String> = want.subjects.iter().cloned().collect();
    if subjects != want_subjects {
        errs.push(format!("subjects {subjects:?} (want {want_subjects:?})"));
    }
    let mut attests = BTreeSet::new();
    let mut from = BTreeSet::new();
    let mut by = BTreeSet::new();
    for (src, kind, to) in &facts.edges {
        match (src, kind) {
            (None, EdgeKind::Attests) => {
                attests.insert(to.clone());
            }
            (Some(s), EdgeKind::BuiltFrom) if subjects.contains(s) => {
                from.insert(to.clone());
            }
            (Some(s), EdgeKind::BuiltBy) if subjects.contains(s) => {
                by.insert(to.clone());
            }
            other => errs.push(format!("unexpected edge {other:?} -> {to}")),
        }
    }
    if attests != want_subjects {
        errs.push(format!("attests {attests:?} (want {want_subjects:?})"));
    }
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    if want.check_edges {
        if from != set(&want.built_from) {
            errs.push(format!("built-from {from:?} (want {:?})", want.built_from));
        }
        if by != set(&want.built_by) {
            errs.push(format!("built-by {by:?} (want {:?})", want.built_by));
        }
    }
    // Every artifact an edge names is among the facts, once.
    for (_, _, to) in &facts.edges {
        if !facts.artifacts.iter().any(|a| a.id == *to) {
            errs.push(format!("edge to {to}, which is not among the artifacts"));
        }
    }
    if let Some(w) = want.warning
        && !facts.warnings.iter().any(|x| x.contains(w))
    {
        errs.push(format!("warnings {:?} lack {w:?}", facts.warnings));
    }
    // What the ledger records: the judgement round-trips and names the outcome.
    let attr = facts.attrs.get("verification").and_then(Value::as_str);
    if attr != Some(j.outcome.as_str()) {
        errs.push(format!("verification attribute {attr:?}"));
    }
    let back: judge::Judgement =
        serde_json::from_value(facts.attrs["attestation"].clone()).unwrap();
    if back != *j {
        errs.push("the recorded judgement does not round-trip".into());
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

#[test]
fn the_table() {
    let rows: Vec<Case> = python_in_toto_rows()
        .into_iter()
        .chain(provenance_bundle_rows())
        .chain(model_rows())
        .chain(conformance_rows())
        .collect();
    let mut failures = Vec::new();
    for case in &rows {
        if let Err(e) = check(case) {
            failures.push(format!("{}: {e}", case.label));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// Every attestation fixture is read by `detect` (and nothing else under the fixtures
/// is mistaken for one), so the table above leaves none out.
#[test]
fn every_fixture_is_detected() {
    fn walk(at: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut all = Vec::new();
    walk(&fixtures(), &mut all);
    let mut detected = Vec::new();
    for p in &all {
        let bytes = std::fs::read(p).unwrap();
        if let Some(r) = judge::detect(&bytes) {
            let rel = p.strip_prefix(fixtures()).unwrap().display().to_string();
            assert!(r.is_ok(), "{rel}: {:?}", r.err());
            detected.push(rel);
        }
    }
    detected.sort();
    // 22 conformance bundles, 8 model signatures, 3 python-in-toto envelopes, 3
    // slsa-verifier JSON Lines, the npm bundle.
    assert_eq!(detected.len(), 22 + 8 + 3 + 3 + 1, "{detected:#?}");
    assert!(detected.iter().all(|d| !d.contains("trusted_root")
        && !d.ends_with(".pub.json")
        && !d.contains("client_trust_config")));
}

/// Policy files: a trusted root must be named by the policy and given with it.
#[test]
fn policy_files_are_checked() {
    let root = text("sigstore/conformance/intoto-with-custom-trust-root/trusted_root.json");
    let named = "version = 1\n[sigstore]\ntrusted_root = \"root.json\"\n";
    let e = TrustPolicy::compile(named, None, &PolicyFiles::new(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sigstore.trusted_root: names the file \"root.json\""),
        "{e}"
    );
    let stray = PolicyFiles::from([("root.json".to_owned(), root.clone())]);
    let e = TrustPolicy::compile("version = 1", None, &stray, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("files.root.json: the policy does not refer"),
        "{e}"
    );
    let broken = PolicyFiles::from([("root.json".to_owned(), "not JSON".to_owned())]);
    let e = TrustPolicy::compile(named, None, &broken, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("sigstore.trusted_root"), "{e}");
    // A root that trusts nothing would fail every bundle: refused when set.
    let empty = PolicyFiles::from([("root.json".to_owned(), "{}".to_owned())]);
    let e = TrustPolicy::compile(named, None, &empty, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sigstore.trusted_root") && e.contains("no certificate authority"),
        "{e}"
    );
    assert!(TrustPolicy::compile(named, None, &stray, None).is_ok());
    let e = TrustPolicy::compile(
        "version = 1\n[[keys]]\nname = \"k\"\npublic_key = \"not a key\"\n",
        None,
        &PolicyFiles::new(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("keys[0].public_key"), "{e}");
    let garbage = key(
        "k",
        "sigstore/conformance/managed-key-wrong-key_fail/key.pub",
        "",
    );
    let e = TrustPolicy::compile(&policy(&[garbage]), None, &PolicyFiles::new(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("keys[0].public_key: PEM"), "{e}");
    let e = TrustPolicy::compile(
        "version = 1\n[[certificate_authorities]]\nname = \"ca\"\ncertificates = \"nothing\"\n",
        None,
        &PolicyFiles::new(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("certificate_authorities[0].certificates"), "{e}");
}

/// The fuzz body over every fixture, its truncations and byte flips: never panics.
#[test]
fn fuzz_detect_never_panics_on_fixtures_and_mutations() {
    fn walk(at: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut all = Vec::new();
    walk(&fixtures(), &mut all);
    let mut docs: Vec<Vec<u8>> = all
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| judge::detect(b).is_some())
        .collect();
    docs.extend([
        tampered(ED_ENV),
        two_lines(),
        purl_statement(&"ab".repeat(32)),
        payload_of(ED_ENV),
    ]);
    for data in &docs {
        judge::fuzz_detect(data);
        let step = (data.len() / 24).max(1);
        for cut in (0..data.len()).step_by(step) {
            judge::fuzz_detect(&data[..cut]);
        }
        for i in (0..data.len()).step_by(step.max(7)) {
            let mut m = data.clone();
            m[i] ^= 0x20;
            judge::fuzz_detect(&m);
            m[i] = b'"';
            judge::fuzz_detect(&m);
        }
    }
}

//! in-toto statements, SLSA provenance and signing against the shared fixtures.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use ailedger_attest::dsse::{Envelope, SigOutcome};
use ailedger_attest::keys::{KeyAlgorithm, PublicKey, SigScheme};
use ailedger_attest::sign::{self, SigningKey};
use ailedger_attest::slsa::{self, SlsaVersion, SourceRef};
use ailedger_attest::statement::{self, ResourceDescriptor, StatementError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/attest"
    ))
    .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn local(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn envelope_payload(rel: &str) -> Vec<u8> {
    Envelope::parse(&fixture(rel)).unwrap().payload
}

/// The DSSE payload of the first bundle of a JSON Lines file, or of a bundle file.
fn bundle_payload(rel: &str) -> Vec<u8> {
    let text = fixture(rel);
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|_| {
        serde_json::from_slice(text.split(|b| *b == b'\n').next().unwrap()).unwrap()
    });
    STANDARD
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap()
}

fn err_of(json: serde_json::Value) -> String {
    statement::parse(&serde_json::to_vec(&json).unwrap())
        .unwrap_err()
        .to_string()
}

#[test]
fn python_in_toto_statements() {
    let st = statement::parse(&envelope_payload(
        "python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json",
    ))
    .unwrap();
    assert_eq!(st.statement_type, statement::STATEMENT_V1);
    assert_eq!(
        st.predicate_type,
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(st.subjects.len(), 1);
    assert_eq!(st.subjects[0].name.as_deref(), Some("model.safetensors"));
    assert_eq!(
        st.subjects[0].digest["sha256"],
        "a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654"
    );
    assert_eq!(st.predicate["result"], "PASSED");
    assert!(slsa::parse(&st.predicate_type, &st.predicate).is_none());
    // to_json reads back to the same statement.
    assert_eq!(statement::parse(&statement::to_json(&st)).unwrap(), st);
}

#[test]
fn legacy_link_becomes_a_link_v03_statement() {
    let st = statement::parse(&envelope_payload(
        "python-in-toto/legacy-link.build.f5b4ef8b.dsse.json",
    ))
    .unwrap();
    let digest = "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4";
    assert_eq!(st.statement_type, statement::STATEMENT_V1);
    assert_eq!(st.predicate_type, statement::LINK_PREDICATE_V03);
    assert_eq!(
        st.subjects,
        vec![ResourceDescriptor {
            name: Some("out.txt".into()),
            digest: [("sha256".to_owned(), digest.to_owned())].into(),
            ..Default::default()
        }]
    );
    assert_eq!(
        st.predicate,
        serde_json::json!({
            "name": "build",
            "command": ["sh", "-c", "cp input.txt out.txt"],
            "materials": [{"name": "input.txt", "digest": {"sha256": digest}}],
            "byproducts": {"return-value": 0, "stderr": "", "stdout": ""},
            "environment": {}
        })
    );
    assert_eq!(statement::parse(&statement::to_json(&st)).unwrap(), st);
}

#[test]
fn statement_errors_name_the_pointer() {
    let base = serde_json::json!({
        "_type": statement::STATEMENT_V1,
        "subject": [{"name": "a", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "https://example.com/p",
        "predicate": {}
    });
    assert!(statement::parse(&serde_json::to_vec(&base).unwrap()).is_ok());
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = base.clone();
        f(&mut v);
        err_of(v)
    };
    assert_eq!(
        with(&|v| v["subject"][0]["digest"]["sha256"] = "ab".repeat(31).into()),
        "/subject/0/digest/sha256: sha256 digest has 62 hex digits, expected 64"
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"]["sha256"] = "zz".repeat(32).into()),
        "/subject/0/digest/sha256: sha256 digest is not hex"
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"] = serde_json::json!({"sha512": "ab".repeat(32)})),
        "/subject/0/digest/sha512: sha512 digest has 64 hex digits, expected 128"
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"] = serde_json::json!({"gitCommit": "abc"})),
        "/subject/0/digest/gitCommit: gitCommit digest has 3 hex digits, expected 40 or 64"
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"] = serde_json::json!({"sha1": 1})),
        "/subject/0/digest/sha1: not a string"
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"] = serde_json::json!({})),
        "/subject/0/digest: a subject needs at least one digest"
    );
    assert_eq!(
        with(&|v| v["subject"] = serde_json::json!([])),
        "/subject: no subjects"
    );
    assert_eq!(
        with(&|v| v["predicateType"] = serde_json::json!(3)),
        "/predicateType: not a string"
    );
    assert_eq!(
        with(&|v| v["predicate"] = serde_json::json!("x")),
        "/predicate: not an object"
    );
    assert!(
        with(&|v| v["_type"] = "https://in-toto.io/Statement/v2".into())
            .starts_with("/_type: unsupported statement type")
    );
    assert_eq!(
        with(&|v| v["subject"][0]["digest"] = serde_json::json!({"a/b": 1})),
        "/subject/0/digest/a~1b: not a string"
    );
    // Known algorithms are lower-cased; unknown ones are kept verbatim.
    let mut v = base.clone();
    v["subject"][0]["digest"] = serde_json::json!({"sha1": "AB".repeat(20), "dirHash": "h1:XyZ="});
    let st = statement::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(st.subjects[0].digest["sha1"], "ab".repeat(20));
    assert_eq!(st.subjects[0].digest["dirHash"], "h1:XyZ=");
    assert!(matches!(
        statement::parse(b"not json").unwrap_err(),
        StatementError::Json(_)
    ));
}

#[test]
fn provenance_from_python_in_toto() {
    let st = statement::parse(&envelope_payload(
        "python-in-toto/slsa-provenance-v1.ed25519.dsse.json",
    ))
    .unwrap();
    let p = slsa::parse(&st.predicate_type, &st.predicate)
        .unwrap()
        .unwrap();
    assert_eq!(p.slsa_version, SlsaVersion::V1);
    assert_eq!(p.builder_id, "https://example.com/builders/ml-trainer@v1");
    assert_eq!(p.build_type, "https://example.com/ml-training/v1");
    assert_eq!(
        p.source,
        Some(SourceRef {
            repo: "https://example.com/org/tiny-model".into(),
            commit: Some("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d".into()),
            git_ref: Some("refs/heads/main".into()),
        })
    );
    assert_eq!(p.materials.len(), 3);
    assert_eq!(p.materials[1].name.as_deref(), Some("tiny-dataset"));
    assert_eq!(p.materials[2].uri.as_deref(), Some("pkg:pypi/torch@2.3.0"));
    assert_eq!(
        p.invocation_id.as_deref(),
        Some("https://example.com/runs/42")
    );
    assert_eq!(p.started_on.as_deref(), Some("2025-01-01T00:00:00Z"));
    assert_eq!(p.finished_on.as_deref(), Some("2025-01-01T01:00:00Z"));
}

#[test]
fn provenance_from_github_attestations() {
    // (fixture, statement type, builder, build type, source)
    let cases = [
        (
            "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl",
            statement::STATEMENT_V1,
            "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1",
            "https://actions.github.io/buildtypes/workflow/v1",
            (
                "https://github.com/aspect-build/rules_lint",
                "8f70009fde0c94ade6ce2a054b94718c819126ec",
                "refs/heads/publish-to-bcr",
            ),
        ),
        (
            "slsa-verifier/gha_container-based-v1.8.0/binary-linux-amd64-push-v14.2.intoto.jsonl",
            statement::STATEMENT_V01,
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.8.0",
            "https://slsa.dev/container-based-build/v0.1?draft",
            (
                "https://github.com/slsa-framework/example-package",
                "6cf671f47f3752f97b9f5bff511e37b938fe10d2",
                "refs/tags/v14.2",
            ),
        ),
        (
            "sigstore/npm_sigstore-5.0.0_slsa_bundle_v03.json",
            statement::STATEMENT_V1,
            "https://github.com/actions/runner/github-hosted",
            "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
            (
                "https://github.com/sigstore/sigstore-js",
                "7d2900eca1c22b3f87c13987c8d4b7c9a29b733a",
                "refs/heads/main",
            ),
        ),
    ];
    for (rel, st_type, builder, build_type, (repo, commit, git_ref)) in cases {
        let st = statement::parse(&bundle_payload(rel)).unwrap();
        assert_eq!(st.statement_type, st_type, "{rel}");
        assert_eq!(st.predicate_type, slsa::PROVENANCE_V1, "{rel}");
        let p = slsa::parse(&st.predicate_type, &st.predicate)
            .unwrap()
            .unwrap();
        assert_eq!(p.builder_id, builder, "{rel}");
        assert_eq!(p.build_type, build_type, "{rel}");
        assert_eq!(
            p.source,
            Some(SourceRef {
                repo: repo.into(),
                commit: Some(commit.into()),
                git_ref: Some(git_ref.into()),
            }),
            "{rel}"
        );
        assert!(!p.materials.is_empty(), "{rel}");
    }
    // The npm subject is named by its sha512 only.
    let st = statement::parse(&bundle_payload(
        "sigstore/npm_sigstore-5.0.0_slsa_bundle_v03.json",
    ))
    .unwrap();
    assert_eq!(
        st.subjects[0].name.as_deref(),
        Some("pkg:npm/sigstore@5.0.0")
    );
    assert_eq!(st.subjects[0].digest.keys().collect::<Vec<_>>(), ["sha512"]);
    assert_eq!(st.subjects[0].digest["sha512"].len(), 128);
}

#[test]
fn provenance_v02_hand_written() {
    let st = statement::parse(&local("slsa-provenance-v0.2.statement.json")).unwrap();
    assert_eq!(st.statement_type, statement::STATEMENT_V01);
    assert_eq!(
        st.subjects[0].digest["sha256"],
        "a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654"
    );
    let p = slsa::parse(&st.predicate_type, &st.predicate)
        .unwrap()
        .unwrap();
    assert_eq!(p.slsa_version, SlsaVersion::V02);
    assert_eq!(
        p.build_type,
        "https://github.com/slsa-framework/slsa-github-generator/generic@v1"
    );
    assert!(
        p.builder_id
            .ends_with("generator_generic_slsa3.yml@refs/tags/v1.9.0")
    );
    assert_eq!(
        p.source,
        Some(SourceRef {
            repo: "https://github.com/example-org/tiny-model".into(),
            commit: Some("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d".into()),
            git_ref: Some("refs/tags/v0.3.0".into()),
        })
    );
    assert_eq!(p.materials.len(), 2);
    assert_eq!(p.invocation_id.as_deref(), Some("5758776304-1"));
    assert_eq!(p.started_on.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(p.finished_on.as_deref(), Some("2024-05-01T10:20:00Z"));

    // Errors name the pointer.
    let mut bad = st.predicate.clone();
    bad["materials"][1]["digest"]["sha256"] = "00".into();
    assert_eq!(
        slsa::parse(slsa::PROVENANCE_V02, &bad)
            .unwrap()
            .unwrap_err()
            .to_string(),
        "/predicate/materials/1/digest/sha256: sha256 digest has 2 hex digits, expected 64"
    );
    let mut bad = st.predicate.clone();
    bad["builder"] = serde_json::json!({});
    assert_eq!(
        slsa::parse(slsa::PROVENANCE_V02, &bad)
            .unwrap()
            .unwrap_err()
            .to_string(),
        "/predicate/builder/id: missing"
    );
    assert_eq!(
        slsa::parse(slsa::PROVENANCE_V1, &st.predicate)
            .unwrap()
            .unwrap_err()
            .to_string(),
        "/predicate/buildDefinition/buildType: missing"
    );
}

fn signing_key(stem: &str) -> SigningKey {
    SigningKey::from_pem(
        std::str::from_utf8(&fixture(&format!(
            "python-in-toto/TEST_ONLY_{stem}.priv.pem"
        )))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn ed25519_fixture_is_reproduced_byte_for_byte() {
    let file = fixture("python-in-toto/slsa-provenance-v1.ed25519.dsse.json");
    let original = Envelope::parse(&file).unwrap();
    let key = signing_key("slsa-provenance-v1.ed25519");
    assert_eq!(
        key.public_key(),
        PublicKey::parse(&fixture(
            "python-in-toto/slsa-provenance-v1.ed25519.pub.pem"
        ))
        .unwrap()
    );
    let env = sign::sign_envelope(&original.payload_type, &original.payload, &key).unwrap();
    assert_eq!(
        String::from_utf8(env.to_json()).unwrap(),
        String::from_utf8(file).unwrap()
    );
}

#[test]
fn ecdsa_signing_verifies_with_the_published_key() {
    let key = signing_key("test-result-v0.1.ecdsa-p256");
    let public = PublicKey::parse(&fixture(
        "python-in-toto/test-result-v0.1.ecdsa-p256.pub.json",
    ))
    .unwrap();
    assert_eq!(key.public_key(), public);
    assert_eq!(
        key.keyid(),
        "2223afd5f1d8e62000624e7067f4149f273bb2851b25caaefb684a0f708e1561"
    );
    let payload = envelope_payload("python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json");
    let env = sign::sign_envelope("application/vnd.in-toto+json", &payload, &key).unwrap();
    assert_eq!(env.signatures[0].sig[0], 0x30, "DER");
    let checks = Envelope::parse(&env.to_json()).unwrap().verify(&[public]);
    assert!(matches!(
        checks[0].outcome,
        SigOutcome::Verified {
            scheme: SigScheme::EcdsaDer,
            ..
        }
    ));
}

#[test]
fn sec1_and_generated_keys() {
    let sec1 =
        SigningKey::from_pem(std::str::from_utf8(&local("keys/TEST_ONLY_p256.sec1.pem")).unwrap())
            .unwrap();
    assert_eq!(sec1.public_key().algorithm(), KeyAlgorithm::EcdsaP256);
    let sig = sec1.sign(b"m").unwrap();
    assert_eq!(
        sec1.public_key().verify(b"m", &sig),
        Ok(SigScheme::EcdsaDer)
    );
    assert!(sec1.public_key().verify(b"n", &sig).is_err());

    let (key, pem) = SigningKey::generate_ed25519().unwrap();
    let again = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(again.keyid(), key.keyid());
    assert_eq!(
        again.sign(b"x").unwrap(),
        key.sign(b"x").unwrap(),
        "Ed25519 is deterministic"
    );
    assert!(format!("{key:?}").contains(&key.keyid()));
    // Not a private key, or an unsupported one.
    assert!(
        SigningKey::from_pem(
            std::str::from_utf8(&fixture(
                "python-in-toto/slsa-provenance-v1.ed25519.pub.pem"
            ))
            .unwrap()
        )
        .is_err()
    );
    let err =
        SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")
            .unwrap_err();
    assert!(err.to_string().contains("neither Ed25519"), "{err}");
}

#[test]
fn vsa_statement_signed_and_read_back() {
    let subject = vec![ResourceDescriptor {
        name: Some("model.safetensors".into()),
        digest: [("sha256".to_owned(), "a1".repeat(32))].into(),
        ..Default::default()
    }];
    let inputs = vec![ResourceDescriptor {
        uri: Some("https://example.com/att/1".into()),
        digest: [("sha256".to_owned(), "b2".repeat(32))].into(),
        ..Default::default()
    }];
    let levels = vec!["SLSA_BUILD_LEVEL_2".to_owned()];
    let st = sign::vsa_statement(
        &subject,
        "https://ailedger.example/verifier",
        "2025-02-03T04:05:06Z",
        "pkg:huggingface/org/model",
        ("https://ailedger.example/policy/3", &"c3".repeat(32)),
        &inputs,
        true,
        &levels,
    )
    .unwrap();
    assert_eq!(
        st.predicate_type,
        "https://slsa.dev/verification_summary/v1"
    );
    let p = &st.predicate;
    assert_eq!(p["verifier"]["id"], "https://ailedger.example/verifier");
    assert_eq!(p["timeVerified"], "2025-02-03T04:05:06Z");
    assert_eq!(p["resourceUri"], "pkg:huggingface/org/model");
    assert_eq!(p["policy"]["digest"]["sha256"], "c3".repeat(32));
    assert_eq!(
        p["inputAttestations"][0]["uri"],
        "https://example.com/att/1"
    );
    assert_eq!(p["verificationResult"], "PASSED");
    assert_eq!(
        p["verifiedLevels"],
        serde_json::json!(["SLSA_BUILD_LEVEL_2"])
    );

    let key = signing_key("slsa-provenance-v1.ed25519");
    let env = sign::sign_envelope(
        "application/vnd.in-toto+json",
        &statement::to_json(&st),
        &key,
    )
    .unwrap();
    let back = Envelope::parse(&env.to_json()).unwrap();
    assert!(back.verify(&[key.public_key()])[0].counts());
    assert_eq!(statement::parse(&back.payload).unwrap(), st);

    let failed = sign::vsa_statement(
        &subject,
        "v",
        "2025-02-03T04:05:06+01:00",
        "r",
        ("p", &"c3".repeat(32)),
        &[],
        false,
        &[],
    )
    .unwrap();
    assert_eq!(failed.predicate["verificationResult"], "FAILED");
    let err = |r: Result<_, StatementError>| r.unwrap_err().to_string();
    assert_eq!(
        err(sign::vsa_statement(
            &subject,
            "v",
            "yesterday",
            "r",
            ("p", &"c3".repeat(32)),
            &[],
            true,
            &[]
        )),
        "/predicate/timeVerified: \"yesterday\" is not an RFC 3339 date-time"
    );
    assert_eq!(
        err(sign::vsa_statement(
            &subject,
            "v",
            "2025-02-03T04:05:06Z",
            "r",
            ("p", "c3"),
            &[],
            true,
            &[]
        )),
        "/predicate/policy/digest/sha256: sha256 digest has 2 hex digits, expected 64"
    );
    assert_eq!(
        err(sign::vsa_statement(
            &[],
            "v",
            "2025-02-03T04:05:06Z",
            "r",
            ("p", &"c3".repeat(32)),
            &[],
            true,
            &[]
        )),
        "/subject: no subjects"
    );
}

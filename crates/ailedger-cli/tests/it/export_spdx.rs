//! `ailedger export spdx` over the demo supply chain served by `ailedger demo`: the
//! document is schema-valid SPDX 2.3, the same ledger state gives the same bytes, and a
//! fresh ledger that ingests it exports the same artifacts, aliases and edges; `--sign`
//! gives a DSSE envelope of an in-toto statement that `ailedger ingest` verifies under a
//! policy trusting the key. Bad input exits 2 with one line.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{incidents::demo, ok, serve};

const SPDX_2_3: &str = include_str!("../../../../schemas/spdx/spdx-2.3.schema.json");

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SPDX_2_3).unwrap();
    let v = jsonschema::options().build(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Each element's SPDXID (from its artifact id), name, SHA-256 and the external
/// references that carry identity (purls, kind, aliases); the relationships.
fn identity(doc: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut elements = BTreeSet::new();
    for p in doc["packages"].as_array().unwrap() {
        let refs: BTreeSet<String> = p["externalRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                matches!(
                    r["referenceType"].as_str(),
                    Some("purl" | "ailedger-kind" | "ailedger-alias")
                )
            })
            .map(Value::to_string)
            .collect();
        let sha = p["checksums"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["algorithm"] == "SHA256"))
            .map(|c| c["checksumValue"].to_string());
        elements.insert(format!("{} {} {sha:?} {refs:?}", p["SPDXID"], p["name"]));
    }
    for f in doc["files"].as_array().into_iter().flatten() {
        elements.insert(format!(
            "{} {} {}",
            f["SPDXID"], f["fileName"], f["checksums"]
        ));
    }
    let rels = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    (elements, rels)
}

#[test]
fn export_spdx_of_the_demo_deployment() {
    let demo = demo();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("support-bot.spdx.json");
    let file_arg = file.to_str().unwrap();
    let root = "deployment:prod/support-bot";
    demo.ok(&["export", "spdx", root, "-o", file_arg]);
    let bytes = std::fs::read(&file).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    let kinds: BTreeSet<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().into_iter().flatten())
        .filter(|r| r["referenceType"] == "ailedger-kind")
        .filter_map(|r| r["referenceLocator"].as_str())
        .collect();
    for k in ["deployment", "model", "mcp-config", "mcp-server"] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    // The same ledger state, the same bytes, on standard output too.
    assert_eq!(
        demo.ok(&["export", "spdx", root]).as_bytes(),
        bytes.as_slice()
    );

    // A fresh ledger that ingests the export exports the same subgraph.
    let db = dir.path().join("copy.db");
    let copy = serve(db.to_str().unwrap());
    ok(&copy.url, &["ingest", file_arg]);
    let again: Value = serde_json::from_str(&ok(&copy.url, &["export", "spdx", root])).unwrap();
    let (ea, ra) = identity(&doc);
    let (eb, rb) = identity(&again);
    assert!(ea.len() > 10, "{ea:?}");
    assert_eq!(
        ea.symmetric_difference(&eb).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert_eq!(
        ra.symmetric_difference(&rb).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );

    // Signed: an in-toto statement (SPDX predicate) about the document's bytes, verified
    // on ingest under a policy trusting the key; not under one that does not.
    let untrusting = serve(dir.path().join("untrusting.db").to_str().unwrap());
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/attest/python-in-toto");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\n[[keys]]\nname = \"release\"\npublic_key = '''\n{}'''\n",
            std::fs::read_to_string(fixtures.join("slsa-provenance-v1.ed25519.pub.pem")).unwrap()
        ),
    )
    .unwrap();
    ok(&copy.url, &["policy", "set", policy.to_str().unwrap()]);
    let signed = dir.path().join("support-bot.spdx.intoto.json");
    let key = fixtures.join("TEST_ONLY_slsa-provenance-v1.ed25519.priv.pem");
    let key_arg = key.to_str().unwrap();
    demo.ok(&[
        "export",
        "spdx",
        root,
        "--sign",
        key_arg,
        "-o",
        signed.to_str().unwrap(),
    ]);
    let envelope = std::fs::read(&signed).unwrap();
    let env = ailedger_attest::dsse::Envelope::parse(&envelope).unwrap();
    assert_eq!(env.payload_type, "application/vnd.in-toto+json");
    let statement: Value = serde_json::from_slice(&env.payload).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
    assert_eq!(statement["predicate"], doc, "the predicate is the document");
    assert_eq!(
        statement["subject"],
        serde_json::json!([{
            "name": doc["documentNamespace"],
            "digest": {"sha256": ailedger_core::Sha256Digest::of(&bytes).hex()},
        }])
    );
    let v = super::json(&copy.url, &["ingest", signed.to_str().unwrap()]);
    assert_eq!(v[0]["attestation"]["outcome"], "verified", "{v}");
    assert_eq!(
        v[0]["attestation"]["items"][0]["predicate_type"], "https://spdx.dev/Document",
        "{v}"
    );
    let v = super::json(&untrusting.url, &["ingest", signed.to_str().unwrap()]);
    assert_ne!(v[0]["attestation"]["outcome"], "verified", "{v}");
    // A key that is not a key: exit 2 naming it, before any export.
    let out = demo.run(&["export", "spdx", root, "--sign", file_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(file_arg));

    // Bad input: exit 2, one line naming it.
    for (args, says) in [
        (
            vec!["export", "spdx", "deployment:prod/nothing"],
            "deployment:prod/nothing",
        ),
        (
            vec!["export", "spdx", root, "--as-of", "yesterday"],
            "--as-of",
        ),
        (vec!["export", "spdx", "model:"], "model:"),
        (
            vec!["export", "spdx", root, "-o", "/nonexistent-dir/x.json"],
            "/nonexistent-dir/x.json",
        ),
    ] {
        let out = demo.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

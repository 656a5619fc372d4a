//! `ailedger export spdx` over the demo supply chain served by `ailedger demo`: the
//! document is schema-valid SPDX 2.3, the same ledger state gives the same bytes, and a
//! fresh ledger that ingests it exports the same artifacts, aliases and edges. Bad
//! input exits 2 with one line.

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

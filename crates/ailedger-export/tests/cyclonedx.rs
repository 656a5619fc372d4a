//! The CycloneDX writer over a subgraph with every kind of artifact and edge the export
//! maps: the BOM validates against the official 1.6 and 1.7 schemas with zero errors, is
//! byte-identical when written twice, and reads back through ailedger's own parser to
//! the same artifacts and consuming edges.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

mod common;

use ailedger_core::{ArtifactKind, EdgeKind};
use ailedger_export::cyclonedx::{self, SpecVersion};
use common::{ATT, Batches, FILE, TORCH, art, edge, skeleton, subgraph};
use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

const BASE: &str = "http://cyclonedx.org/schema/";

fn validator(spec: SpecVersion) -> Validator {
    let text = match spec {
        SpecVersion::V1_6 => include_str!("../../../schemas/cyclonedx/bom-1.6.schema.json"),
        SpecVersion::V1_7 => include_str!("../../../schemas/cyclonedx/bom-1.7.schema.json"),
    };
    let mut registry = Registry::new();
    for (name, text) in [
        (
            "spdx.SNAPSHOT.schema.json",
            include_str!("../../../schemas/cyclonedx/spdx.SNAPSHOT.schema.json"),
        ),
        (
            "jsf-0.82.SNAPSHOT.schema.json",
            include_str!("../../../schemas/cyclonedx/jsf-0.82.SNAPSHOT.schema.json"),
        ),
        (
            "cryptography-defs.SNAPSHOT.schema.json",
            include_str!("../../../schemas/cyclonedx/cryptography-defs.SNAPSHOT.schema.json"),
        ),
    ] {
        let v: Value = serde_json::from_str(text).unwrap();
        registry = registry.add(format!("{BASE}{name}"), v).unwrap();
    }
    let registry = registry.prepare().unwrap();
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&schema)
        .unwrap()
}

fn schema_errors(spec: SpecVersion, doc: &Value) -> Vec<String> {
    validator(spec)
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn validates_against_the_official_schemas() {
    let sub = subgraph();
    for spec in [SpecVersion::V1_6, SpecVersion::V1_7] {
        let bytes = cyclonedx::to_json(&sub, spec);
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let errors = schema_errors(spec, &doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", spec.as_str());
        assert_eq!(doc["specVersion"], spec.as_str());
    }
}

#[test]
fn the_schema_check_can_fail() {
    // The validator is not vacuous: a BOM with a bad component type is refused.
    let mut doc = cyclonedx::bom(&subgraph(), SpecVersion::V1_6);
    doc["components"][0]["type"] = json!("spaceship");
    assert!(!schema_errors(SpecVersion::V1_6, &doc).is_empty());
}

#[test]
fn says_what_the_brief_lists() {
    let doc = cyclonedx::bom(&subgraph(), SpecVersion::V1_6);
    let meta = &doc["metadata"];
    assert_eq!(meta["timestamp"], "2026-12-02T10:00:00Z");
    assert_eq!(meta["component"]["bom-ref"], "deployment:prod/bot");
    assert_eq!(meta["component"]["type"], "application");
    let props = meta["properties"].as_array().unwrap();
    assert!(props.contains(&json!({"name": "ailedger:ledger.seq", "value": "42"})));
    assert!(
        props.contains(&json!({"name": "ailedger:ledger.root_hash", "value": "ee".repeat(32)}))
    );
    let comp = |r: &str| -> Value {
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["bom-ref"] == r)
            .cloned()
            .unwrap_or_else(|| panic!("no component {r}"))
    };
    // Models, their card, datasets, lineage, attestation.
    let bot = comp("model:bot@3");
    assert_eq!(bot["type"], "machine-learning-model");
    assert_eq!(
        bot["modelCard"]["modelParameters"]["datasets"],
        json!([{"ref": "dataset:tickets@1"}])
    );
    assert_eq!(
        bot["modelCard"]["modelParameters"]["task"],
        "text-generation"
    );
    assert_eq!(
        bot["modelCard"]["considerations"]["useCases"],
        json!(["support"])
    );
    assert_eq!(bot["pedigree"]["ancestors"][0]["name"], "llama");
    assert_eq!(
        bot["pedigree"]["ancestors"][0]["purl"],
        "pkg:huggingface/meta/llama@3.1"
    );
    let ext = &bot["externalReferences"][0];
    assert_eq!(ext["type"], "attestation");
    assert_eq!(ext["hashes"][0]["content"], "a".repeat(64));
    assert!(ext["comment"].as_str().unwrap().contains("verified"));
    assert_eq!(comp("dataset:tickets@1")["type"], "data");
    assert_eq!(comp("model:llama@3.1")["supplier"], json!({"name": "Meta"}));
    // Packages: purl, hashes, licences, supplier, findings, kept attributes.
    let torch = comp(TORCH);
    assert_eq!(torch["purl"], TORCH);
    assert_eq!(torch["hashes"].as_array().unwrap().len(), 2);
    assert_eq!(torch["licenses"][0]["license"]["id"], "BSD-3-Clause");
    assert_eq!(torch["supplier"]["name"], "PyTorch Foundation");
    assert_eq!(torch["description"], "tensors");
    let tprops = torch["properties"].as_array().unwrap();
    assert!(tprops.contains(&json!({"name": "ailedger:finding", "value": "AIL-PKG-001 low: old"})));
    assert!(tprops.contains(&json!({"name": "ailedger:alias", "value": "package:torch@2.4.0"})));
    assert!(tprops.contains(&json!({"name": "ailedger:attr.manifest", "value": "{\"x\":1}"})));
    // The MCP config is a component; MCP servers are services.
    assert_eq!(comp("mcp-config:tools@1")["type"], "file");
    let services = doc["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["bom-ref"], "mcp-server:fetch@1");
    assert_eq!(services[0]["trustZone"], "local");
    assert_eq!(
        services[1]["endpoints"],
        json!(["https://mcp.example.com/mcp"])
    );
    assert_eq!(services[1]["trustZone"], "remote");
    // Attestations are not components.
    assert!(
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["bom-ref"] != ATT)
    );
    // VEX.
    let v = &doc["vulnerabilities"][0];
    assert_eq!(v["id"], "GHSA-xxxx-yyyy-zzzz");
    assert_eq!(v["analysis"]["state"], "in_triage");
    assert_eq!(v["ratings"][0]["severity"], "high");
    assert_eq!(v["affects"], json!([{"ref": TORCH}]));
    // The edge kinds the dependency graph flattens are kept.
    let dprops = meta["component"]["properties"].as_array().unwrap();
    assert!(dprops.contains(&json!({"name": "ailedger:edge", "value": "deploys model:bot@3"})));
    let serial = doc["serialNumber"].as_str().unwrap();
    assert!(serial.starts_with("urn:uuid:"), "{serial}");
}

#[test]
fn deterministic_and_tied_to_the_ledger_state() {
    let sub = subgraph();
    let a = cyclonedx::to_json(&sub, SpecVersion::V1_7);
    let b = cyclonedx::to_json(&sub.clone(), SpecVersion::V1_7);
    assert_eq!(a, b);
    // The input order of artifacts does not matter.
    let mut shuffled = sub.clone();
    shuffled.artifacts.reverse();
    assert_eq!(a, cyclonedx::to_json(&shuffled, SpecVersion::V1_7));
    // Another ledger state gives another serial number.
    let mut later = sub.clone();
    later.ledger.root_hash = Some("ff".repeat(32));
    let serial = |bytes: &[u8]| {
        serde_json::from_slice::<Value>(bytes).unwrap()["serialNumber"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(
        serial(&a),
        serial(&cyclonedx::to_json(&later, SpecVersion::V1_7))
    );
}

#[test]
fn reads_back_through_the_parser() {
    let sub = subgraph();
    for spec in [SpecVersion::V1_6, SpecVersion::V1_7] {
        let bytes = cyclonedx::to_json(&sub, spec);
        let doc = ailedger_formats::parse(&bytes, &ailedger_formats::Options::default()).unwrap();
        assert!(doc.warnings.is_empty(), "{:#?}", doc.warnings);
        // Every exported artifact comes back under its id, with its kind and aliases
        // (attestations are references, not components).
        let got: BTreeSet<(&str, ArtifactKind)> = doc
            .artifacts
            .iter()
            .map(|a| (a.id.as_str(), a.kind))
            .collect();
        let want: BTreeSet<(&str, ArtifactKind)> = sub
            .artifacts
            .iter()
            .filter(|a| a.kind != ArtifactKind::Attestation)
            .map(|a| (a.id.as_str(), a.kind))
            .collect();
        assert_eq!(got, want);
        for a in &sub.artifacts {
            if let Some(back) = doc.artifacts.iter().find(|b| b.id == a.id) {
                for al in &a.aliases {
                    assert!(back.aliases.contains(al), "{}: alias {al} lost", a.id);
                }
            }
        }
        let edges: BTreeSet<(&str, EdgeKind, &str)> = doc
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.edge, e.to.as_str()))
            .collect();
        for (from, kind, to) in [
            ("model:bot@3", EdgeKind::DerivedFrom, "model:llama@3.1"),
            ("model:bot@3", EdgeKind::TrainedOn, "dataset:tickets@1"),
            ("model:llama@3.1", EdgeKind::DependsOn, TORCH),
            ("deployment:prod/bot", EdgeKind::DependsOn, TORCH),
            ("deployment:prod/bot", EdgeKind::Deploys, "model:bot@3"),
            ("model:bot@3", EdgeKind::Contains, FILE),
            (
                "mcp-config:tools@1",
                EdgeKind::UsesTool,
                "mcp-server:fetch@1",
            ),
            (
                "mcp-server:fetch@1",
                EdgeKind::Runs,
                "pkg:pypi/mcp-server-fetch@1",
            ),
        ] {
            assert!(edges.contains(&(from, kind, to)), "{from} {kind} {to}");
        }
        // Where the file sits in the model comes back with the contains edge.
        let contains = doc
            .edges
            .iter()
            .find(|e| e.edge == EdgeKind::Contains)
            .unwrap();
        assert_eq!(
            contains.paths,
            ["model.safetensors", "shards/copy of model.safetensors"]
        );
        assert!(
            doc.edges
                .iter()
                .filter(|e| e.edge != EdgeKind::Contains)
                .all(|e| e.paths.is_empty())
        );
    }
}

/// A streamed export of a skeleton (ids and kinds), its records read in batches, is the
/// same document as one written from held records; a failing read fails the export.
#[test]
fn streamed_from_batches_is_the_same_document() {
    // Enough packages for several batches.
    let mut sub = subgraph();
    for i in 0..1_200 {
        let id = format!("pkg:pypi/filler-{i:04}@1.0");
        sub.artifacts.push(art(
            &id,
            ArtifactKind::Package,
            &format!("filler-{i:04}"),
            Some("1.0"),
            json!({"licenses": [{"license": {"id": "MIT"}}]}),
        ));
        sub.edges
            .push(edge(&sub.root.clone(), EdgeKind::DependsOn, &id));
    }
    for spec in [SpecVersion::V1_6, SpecVersion::V1_7] {
        let whole = cyclonedx::to_json(&sub, spec);
        let skel = skeleton(&sub);
        let mut records = Batches {
            held: ailedger_export::Held::new(&sub),
            asked: Vec::new(),
            fail_after: None,
        };
        let mut out = Vec::new();
        cyclonedx::write_to(&skel, spec, cyclonedx::Format::Json, &mut records, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(whole).unwrap()
        );
        assert!(records.asked.len() >= 3, "{:?}", records.asked);
        assert!(
            records.asked.iter().all(|n| *n <= 1_024),
            "{:?}",
            records.asked
        );

        let mut failing = Batches {
            held: ailedger_export::Held::new(&sub),
            asked: Vec::new(),
            fail_after: Some(2),
        };
        let err = cyclonedx::write_to(
            &skel,
            spec,
            cyclonedx::Format::Json,
            &mut failing,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("went away"), "{err}");

        // XML: streamed from the skeleton, the same bytes as the whole JSON BOM
        // converted.
        let mut xml = Vec::new();
        let mut records = Batches {
            held: ailedger_export::Held::new(&sub),
            asked: Vec::new(),
            fail_after: None,
        };
        cyclonedx::write_to(&skel, spec, cyclonedx::Format::Xml, &mut records, &mut xml).unwrap();
        let converted = cyclonedx::xml::from_json(&cyclonedx::bom(&sub, spec)).unwrap();
        assert_eq!(
            String::from_utf8(xml).unwrap(),
            String::from_utf8(converted).unwrap()
        );
    }
}

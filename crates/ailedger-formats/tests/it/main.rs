//! Integration tests of ailedger-formats: the shared real-world fixtures
//! (`tests/fixtures/{cyclonedx,spdx,mcp,lockfiles}`), our own lockfile test data
//! (`tests/data`), crafted faults, limits and robustness.
#![allow(clippy::unwrap_used, clippy::panic)]

mod cyclonedx_spec;
mod documents;
mod lock_graph;
mod lockfiles;
mod mcp;
mod repairs;
mod robustness;
mod schema;
mod spdx3;

use ailedger_core::{EntryData, entry};
use ailedger_formats::{Document, Options, parse};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses and checks the invariants every document must satisfy: the result is a
/// valid register entry, ids are unique, edges name declared artifacts.
pub fn parse_ok(bytes: &[u8]) -> Document {
    let doc = parse(bytes, &Options::default()).unwrap_or_else(|e| panic!("parse failed: {e}"));
    check_invariants(&doc);
    doc
}

pub fn check_invariants(doc: &Document) {
    let mut artifacts = vec![doc.document.clone()];
    artifacts.extend(doc.artifacts.iter().cloned());
    let mut ids: Vec<&str> = artifacts.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate artifact ids");
    for e in &doc.edges {
        assert!(
            ids.binary_search(&e.from.as_str()).is_ok(),
            "edge from undeclared {}",
            e.from
        );
        assert!(
            ids.binary_search(&e.to.as_str()).is_ok(),
            "edge to undeclared {}",
            e.to
        );
    }
    let mut edges = doc.edges.clone();
    edges.sort();
    edges.dedup();
    assert_eq!(edges.len(), doc.edges.len(), "duplicate edges");
    assert_eq!(doc.document.id, doc.digest.to_string());
    let data = EntryData::Register {
        artifacts,
        edges: doc.edges.clone(),
    };
    entry::validate(&data).unwrap_or_else(|e| panic!("entry validation: {e}"));
    // The stored body (written item by item for large entries) equals the whole entry
    // canonicalised at once by the reference RFC 8785 implementation.
    let e = ailedger_core::Entry {
        seq: 42,
        time_us: 1_795_000_000_000_001,
        actor: "ingest@test".into(),
        data,
    };
    let reference = serde_json_canonicalizer::to_vec(&serde_json::json!({
        "v": entry::BODY_VERSION,
        "seq": e.seq,
        "time": entry::format_time(e.time_us),
        "actor": e.actor,
        "data": e.data,
    }))
    .unwrap();
    assert!(
        e.body().unwrap() == reference,
        "body differs from RFC 8785 reference"
    );
}

pub fn count_edges(doc: &Document, kind: &str) -> usize {
    doc.edges.iter().filter(|e| e.edge.as_str() == kind).count()
}

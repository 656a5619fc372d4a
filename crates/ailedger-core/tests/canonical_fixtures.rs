//! The fast RFC 8785 writer agrees with `serde_json_canonicalizer` on every JSON
//! fixture (real SBOMs, MCP configs, attestations, OSV records…).

// Tests unwrap: a failure should be loud.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[test]
fn fast_writer_matches_the_reference_on_every_json_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files = Vec::new();
    json_files(&root, &mut files);
    assert!(files.len() > 50, "fixtures missing: {}", files.len());
    let mut compared = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
            ailedger_core::canonical::fuzz_canonical(&bytes);
            compared += 1;
        }
    }
    assert!(compared > 50, "only {compared} fixtures parsed as JSON");
}

//! Benchmark of writing one ingested document into SQLite: the document is parsed once,
//! then its `document` entry (canonical body, leaf hash, artifacts, aliases, edges, log
//! nodes) is appended to a fresh database several times. Results in docs/benchmarks.md.
//!
//! `AILEDGER_BENCH_DOC` names the document (default: the generated 10,000-component
//! CycloneDX BOM in target/bench-data/bom10k.json, made by
//! `cargo run --release -p ailedger-formats --example gen_bom -- 10000`).

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::{path::PathBuf, time::Instant};

use ailedger_core::{DocumentInfo, EntryData};
use ailedger_store::{Blob, NewEntry, Store};
use ailedger_store_sqlite::SqliteStore;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    let path = std::env::var("AILEDGER_BENCH_DOC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| data.join("bom10k.json"));
    let bytes = std::fs::read(&path).unwrap();
    let doc = ailedger_formats::parse(&bytes, &ailedger_formats::Options::default()).unwrap();
    let format = doc.format.to_string();
    let mut artifacts = vec![doc.document.clone()];
    artifacts.extend(doc.artifacts.iter().cloned());
    let (n_art, n_edges) = (artifacts.len(), doc.edges.len());
    let data_entry = EntryData::Document {
        document: DocumentInfo {
            digest: doc.digest,
            format: format.clone(),
            size: bytes.len() as u64,
            name: None,
        },
        artifacts,
        edges: doc.edges.clone(),
        warnings: vec![],
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir_in(&data).unwrap();
        let store = SqliteStore::open(&dir.path().join("l.db")).await.unwrap();
        let t = Instant::now();
        store
            .append_indexed(
                vec![NewEntry {
                    actor: "bench".into(),
                    data: data_entry.clone(),
                }],
                Some(Blob {
                    digest: doc.digest,
                    format: format.clone(),
                    bytes: bytes.clone(),
                }),
            )
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "append one document entry ({n_art} artifacts, {n_edges} edges) to SQLite: best {:.0} ms, median {:.0} ms",
        times[0] * 1e3,
        times[times.len() / 2] * 1e3
    );
}

//! Benchmark of batched registrations on SQLite without HTTP: 5 appends of 20,000
//! `register` entries (a purl and a sha256 alias each, as `bench/foundation.sh writes`
//! sends) to a fresh database, each entry with its canonical body, leaf hash, derived
//! rows and log nodes. Prints entries/s per round (best and median of 3 rounds).

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::{path::PathBuf, time::Instant};

use ailedger_core::{ArtifactFact, ArtifactKind, EntryData};
use ailedger_store::{NewEntry, Store};
use ailedger_store_sqlite::SqliteStore;

const BATCHES: usize = 5;
const PER_BATCH: usize = 20_000;

fn batch(b: usize) -> Vec<NewEntry> {
    (0..PER_BATCH)
        .map(|i| NewEntry {
            actor: "bench".into(),
            data: EntryData::Register {
                artifacts: vec![ArtifactFact {
                    id: format!("pkg:pypi/bench-{b}-{i}@1.0.{}", i % 10),
                    kind: ArtifactKind::Package,
                    name: Some(format!("bench-{b}-{i}")),
                    version: Some(format!("1.0.{}", i % 10)),
                    aliases: vec![format!("sha256:{:064x}", b * 100_000 + i)],
                    attrs: Default::default(),
                }],
                edges: vec![],
            },
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&data).unwrap();
    let mut rates = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir_in(&data).unwrap();
        let store = SqliteStore::open(&dir.path().join("l.db")).await.unwrap();
        let batches: Vec<_> = (0..BATCHES).map(batch).collect();
        let t = Instant::now();
        for entries in batches {
            store.append_indexed(entries, None).await.unwrap();
        }
        rates.push((BATCHES * PER_BATCH) as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "append {BATCHES} x {PER_BATCH} registrations to SQLite: best {:.0} entries/s, median {:.0}",
        rates[rates.len() - 1],
        rates[rates.len() / 2]
    );
}

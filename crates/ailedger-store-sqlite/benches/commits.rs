//! Benchmark of single-entry commits on SQLite without HTTP: 2,000 appends of one
//! `register` entry each (a purl and a sha256 alias), each its own transaction, so each
//! pays the commit's durability (`synchronous`). Prints commits/s and the p50/p99 commit
//! latency, best of 3 rounds; the database is on the disk the repository is on
//! (target/bench-data), not a tmpfs. Results in docs/benchmarks.md.

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use ailedger_core::{ArtifactFact, ArtifactKind, EntryData};
use ailedger_store::{NewEntry, Store};
use ailedger_store_sqlite::SqliteStore;

const COMMITS: usize = 2_000;

fn entry(round: usize, i: usize) -> NewEntry {
    NewEntry {
        actor: "bench".into(),
        data: EntryData::Register {
            artifacts: vec![ArtifactFact {
                id: format!("pkg:pypi/commit-{round}-{i}@1.0"),
                kind: ArtifactKind::Package,
                name: Some(format!("commit-{round}-{i}")),
                version: Some("1.0".into()),
                aliases: vec![format!("sha256:{:064x}", round * 100_000 + i)],
                attrs: Default::default(),
            }],
            edges: vec![],
        },
    }
}

#[tokio::main]
async fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&data).unwrap();
    let mut best: Option<(f64, Duration, Duration)> = None;
    for round in 0..3 {
        let dir = tempfile::tempdir_in(&data).unwrap();
        let store = SqliteStore::open(&dir.path().join("l.db")).await.unwrap();
        let mut lat = Vec::with_capacity(COMMITS);
        let t = Instant::now();
        for i in 0..COMMITS {
            let one = Instant::now();
            store.append(vec![entry(round, i)]).await.unwrap();
            lat.push(one.elapsed());
        }
        let rate = COMMITS as f64 / t.elapsed().as_secs_f64();
        lat.sort();
        let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        if best.is_none_or(|b| rate > b.0) {
            best = Some((rate, p(0.5), p(0.99)));
        }
    }
    let (rate, p50, p99) = best.unwrap();
    println!(
        "{COMMITS} single-entry commits to SQLite: best {rate:.0} commits/s, p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

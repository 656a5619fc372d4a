//! Benchmarks of the tamper-evident log on SQLite (results in docs/benchmarks-log.md):
//!
//! 1. appending entries with tree maintenance through `Store::append`, in batches;
//! 2. inclusion and consistency proofs from the store at 10,000,000 leaves — `log_nodes`
//!    is filled synthetically (leaf i = SHA-256(0x00 || i as 8 bytes), every node the
//!    store would write), not with 10M real entries;
//! 3. the `log verify --db` audit over 1,000,000 real entries: the same steps the CLI
//!    takes (read entries and stored leaves in pages, decode and re-hash every body,
//!    rebuild the tree, check the signed checkpoint).
//!
//! Sizes: `AILEDGER_BENCH_APPEND` (default 50,000), `AILEDGER_BENCH_PROOF_LEAVES`
//! (default 10,000,000), `AILEDGER_BENCH_VERIFY` (default 1,000,000). The large
//! databases are kept under `target/bench-data/` and reused.

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::{path::PathBuf, time::Instant};

use ailedger_core::{ArtifactFact, ArtifactKind, EntryData};
use ailedger_log::{Audit, Checkpoint, Frontier, Signer};
use ailedger_store::{
    NewEntry, Store,
    log::{LogStore as _, SavedCheckpoint},
};
use ailedger_store_sqlite::SqliteStore;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entry(i: u64) -> NewEntry {
    NewEntry {
        actor: "bench@ci".into(),
        data: EntryData::Register {
            artifacts: vec![ArtifactFact {
                id: format!("pkg:pypi/bench-{i}@1.0.{}", i % 97),
                kind: ArtifactKind::Package,
                name: Some(format!("bench-{i}")),
                version: Some(format!("1.0.{}", i % 97)),
                aliases: vec![],
                attrs: Default::default(),
            }],
            edges: vec![],
        },
    }
}

async fn fill(store: &SqliteStore, from: u64, to: u64, batch: u64) {
    let mut i = from;
    while i < to {
        let n = batch.min(to - i);
        store.append((i..i + n).map(entry).collect()).await.unwrap();
        i += n;
    }
}

async fn bench_append() {
    let n = env("AILEDGER_BENCH_APPEND", 50_000);
    for batch in [100u64, 1_000, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("a.db")).await.unwrap();
        let t = Instant::now();
        fill(&store, 0, n, batch).await;
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(store.tree_size().await.unwrap(), n);
        println!(
            "append+tree  {n} entries, batches of {batch:>5}: {secs:.2} s = {:.0} entries/s",
            n as f64 / secs
        );
    }
}

async fn bench_proofs() {
    let leaves = env("AILEDGER_BENCH_PROOF_LEAVES", 10_000_000);
    let path = data_dir().join(format!("log-nodes-{leaves}.db"));
    let fresh = !path.exists();
    let store = SqliteStore::open(&path).await.unwrap();
    if fresh {
        let t = Instant::now();
        let pool = store.pool();
        let mut frontier = Frontier::new();
        let mut nodes = Vec::with_capacity(2_100_000);
        let mut tx = pool.begin().await.unwrap();
        for i in 0..leaves {
            frontier.append_into(ailedger_log::leaf_hash(&i.to_be_bytes()), &mut nodes);
            if nodes.len() >= 2_000_000 || i + 1 == leaves {
                for chunk in nodes.chunks(1000) {
                    let mut sql = String::from("INSERT INTO log_nodes (level, idx, hash) VALUES ");
                    for k in 0..chunk.len() {
                        if k > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("(${}, ${}, ${})", 3 * k + 1, 3 * k + 2, 3 * k + 3));
                    }
                    let mut q = sqlx::query(&sql);
                    for (id, h) in chunk {
                        q = q
                            .bind(i64::from(id.level))
                            .bind(id.index as i64)
                            .bind(h.to_vec());
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                nodes.clear();
            }
        }
        sqlx::query("UPDATE ledger_head SET seq = $1 WHERE id = 1")
            .bind(leaves as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        println!(
            "filled log_nodes for {leaves} synthetic leaves in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let root = store.root_at(leaves).await.unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % m
    };
    const N: usize = 2_000;
    let mut incl = Vec::with_capacity(N);
    for _ in 0..N {
        let seq = next(leaves) + 1;
        let t = Instant::now();
        let p = store.inclusion_proof(seq, leaves).await.unwrap();
        incl.push(t.elapsed().as_secs_f64() * 1e3);
        p.verify(&root).unwrap();
    }
    let mut cons = Vec::with_capacity(N);
    for _ in 0..N {
        let from = next(leaves - 1) + 1;
        let t = Instant::now();
        let p = store.consistency_proof(from, leaves).await.unwrap();
        cons.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!p.hashes.is_empty());
    }
    let mut roots = Vec::with_capacity(200);
    for _ in 0..200 {
        let size = next(leaves) + 1;
        let t = Instant::now();
        store.root_at(size).await.unwrap();
        roots.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for (what, mut v) in [
        ("inclusion proof", incl),
        ("consistency proof", cons),
        ("root_at", roots),
    ] {
        v.sort_by(f64::total_cmp);
        let pct = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
        println!(
            "{what:<18} at {leaves} leaves: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    }
}

async fn bench_verify() {
    let n = env("AILEDGER_BENCH_VERIFY", 1_000_000);
    let path = data_dir().join(format!("log-verify-{n}.db"));
    let fresh = !path.exists();
    let store = SqliteStore::open(&path).await.unwrap();
    let signer = Signer::from_seed("bench.example/log", [9; 32]).unwrap();
    if fresh {
        let t = Instant::now();
        fill(&store, 0, n, 10_000).await;
        let root = store.root_at(n).await.unwrap();
        let note = Checkpoint {
            origin: signer.name().into(),
            size: n,
            root,
        }
        .sign(&signer)
        .unwrap();
        let cp = SavedCheckpoint {
            size: n,
            root,
            note,
            key: signer.verifier().to_text(),
            time_us: 0,
        };
        store.save_checkpoint(&cp).await.unwrap();
        println!(
            "built a {n}-entry ledger in {:.1} s ({})",
            t.elapsed().as_secs_f64(),
            path.display()
        );
        std::fs::write(path.with_extension("pub"), signer.verifier().to_text()).unwrap();
    }
    // What `ailedger log verify --db` does, minus printing.
    let t = Instant::now();
    let verifier = signer.verifier();
    let mut audit = Audit::new();
    for cp in store.checkpoints(0, 10_000).await.unwrap() {
        audit
            .expect_checkpoint(&Checkpoint::open(&cp.note, &verifier).unwrap())
            .unwrap();
    }
    // Pages are decoded and hashed on all cores while the next page is read, as the CLI does.
    let store = std::sync::Arc::new(store);
    let read = |after: u64| {
        let store = store.clone();
        async move {
            let page = store.entries(after, 10_000).await.unwrap();
            let leaves = store
                .log_leaves(after, page.len().max(1) as u32)
                .await
                .unwrap();
            (page, leaves)
        }
    };
    let mut page = read(0).await;
    while let Some(last) = page.0.last().map(|e| e.seq) {
        let checking = tokio::task::spawn_blocking(move || {
            let (entries, leaves) = page;
            let half = entries.len().div_ceil(2);
            let hashes: Vec<[u8; 32]> = std::thread::scope(|s| {
                let parts: Vec<_> = entries
                    .chunks(half.max(1))
                    .map(|c| {
                        s.spawn(move || {
                            c.iter()
                                .map(|e| {
                                    e.decode().unwrap();
                                    ailedger_log::leaf_hash(&e.body)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                parts.into_iter().flat_map(|p| p.join().unwrap()).collect()
            });
            (entries, leaves, hashes)
        });
        let (next, done) = tokio::join!(read(last), checking);
        let (entries, leaves, hashes) = done.unwrap();
        for ((e, (seq, tree)), h) in entries.iter().zip(&leaves).zip(&hashes) {
            assert_eq!(e.seq, *seq);
            audit.push_checked(e.seq, h, tree).unwrap();
        }
        page = next;
    }
    let summary = audit.finish().unwrap();
    assert_eq!(summary.size, n);
    println!(
        "verify       {n} entries (decode, re-hash, rebuild, check checkpoint): {:.2} s",
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes --bench; anything else (e.g. `cargo test --benches`) only smoke-runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        bench_append().await;
        bench_proofs().await;
        bench_verify().await;
    });
}

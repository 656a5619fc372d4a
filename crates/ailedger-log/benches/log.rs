//! Benchmarks of the log's hot paths; results are recorded in docs/benchmarks-log.md.
//!
//! * `append`: 1,000,000 leaves through `Frontier::append` (what a store does per write).
//! * `proofs_10m`: inclusion / consistency plan + assemble (+ verify) at tree size
//!   10,000,000, nodes looked up in an in-memory `HashMap`. Setup appends all 10M leaves
//!   once and keeps the real hashes of the nodes the sampled proofs need.
//! * `audit`: `Audit` over 1,000,000 entries, hashing ~300-byte bodies, checking stored
//!   leaf hashes and a checkpoint at the end — `ailedger log verify` minus the reads.

#![allow(clippy::unwrap_used)] // benchmarks may unwrap

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::Duration;

use ailedger_log::{
    Audit, Frontier, Hash, NodeId, consistency_plan, inclusion_plan, leaf_hash, verify_consistency,
    verify_inclusion,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

/// xorshift64*, deterministic.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn append(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let leaves: Vec<Hash> = (0..N).map(leaf).collect();
    let mut g = c.benchmark_group("append");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(N));
    g.bench_function("frontier_append_1m", |b| {
        b.iter(|| {
            let mut f = Frontier::new();
            let mut written = 0usize;
            for l in &leaves {
                written += f.append(*l).len();
            }
            black_box((f.root(), written))
        })
    });
    g.bench_function("frontier_append_into_1m", |b| {
        let mut out = Vec::with_capacity(64);
        b.iter(|| {
            let mut f = Frontier::new();
            for l in &leaves {
                out.clear();
                f.append_into(*l, &mut out);
            }
            black_box(f.root())
        })
    });
    g.finish();
}

fn proofs_10m(c: &mut Criterion) {
    const SIZE: u64 = 10_000_000;
    const QUERIES: usize = 256;
    let mut next = rng(0x10_000_000);
    let indices: Vec<u64> = (0..QUERIES).map(|_| next() % SIZE).collect();
    let olds: Vec<u64> = (0..QUERIES).map(|_| 1 + next() % (SIZE - 1)).collect();
    let mut wanted: HashSet<NodeId> = HashSet::new();
    for &i in &indices {
        wanted.extend(inclusion_plan(i, SIZE).unwrap().node_ids());
        wanted.insert(NodeId::leaf(i));
    }
    for &o in &olds {
        wanted.extend(consistency_plan(o, SIZE).unwrap().node_ids());
    }
    // Real hashes: append all 10M leaves, keep the nodes the queries need, and the
    // roots at each old size.
    let old_set: HashSet<u64> = olds.iter().copied().collect();
    let mut old_roots = HashMap::new();
    let mut nodes: HashMap<NodeId, Hash> = HashMap::with_capacity(wanted.len());
    let mut f = Frontier::new();
    let mut out = Vec::with_capacity(64);
    for i in 0..SIZE {
        out.clear();
        f.append_into(leaf(i), &mut out);
        for (id, h) in &out {
            if wanted.contains(id) {
                nodes.insert(*id, *h);
            }
        }
        if old_set.contains(&(i + 1)) {
            old_roots.insert(i + 1, f.root());
        }
    }
    let root = f.root();
    let fetch = |id: NodeId| nodes.get(&id).copied();

    let mut g = c.benchmark_group("proofs_10m");
    g.sample_size(50).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(QUERIES as u64));
    g.bench_function("inclusion_plan_assemble_x256", |b| {
        b.iter(|| {
            for &i in &indices {
                black_box(inclusion_plan(i, SIZE).unwrap().assemble(fetch).unwrap());
            }
        })
    });
    g.bench_function("inclusion_plan_assemble_verify_x256", |b| {
        b.iter(|| {
            for &i in &indices {
                let proof = inclusion_plan(i, SIZE).unwrap().assemble(fetch).unwrap();
                let leaf = nodes[&NodeId::leaf(i)];
                verify_inclusion(&leaf, i, SIZE, &proof, &root).unwrap();
            }
        })
    });
    g.bench_function("consistency_plan_assemble_x256", |b| {
        b.iter(|| {
            for &o in &olds {
                black_box(consistency_plan(o, SIZE).unwrap().assemble(fetch).unwrap());
            }
        })
    });
    g.bench_function("consistency_plan_assemble_verify_x256", |b| {
        b.iter(|| {
            for &o in &olds {
                let proof = consistency_plan(o, SIZE).unwrap().assemble(fetch).unwrap();
                verify_consistency(o, SIZE, &proof, &old_roots[&o], &root).unwrap();
            }
        })
    });
    g.finish();
}

/// A ~300-byte canonical entry body for `seq`.
fn body_into(seq: u64, buf: &mut Vec<u8>) {
    use std::io::Write as _;
    buf.clear();
    write!(
        buf,
        r#"{{"actor":"ci@build-{}.pipelines.example","data":{{"artifacts":[{{"digest":"sha256:{:064x}","id":"pkg:pypi/torch@2.4.{}","kind":"package","name":"torch","version":"2.4.{}"}}],"type":"register"}},"seq":{seq},"time":"2026-11-24T11:06:40.123456Z","v":1}}"#,
        seq % 97,
        seq.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        seq % 10,
        seq % 10
    )
    .unwrap();
}

fn audit(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut buf = Vec::with_capacity(512);
    body_into(N, &mut buf);
    let body_len = buf.len();
    let stored: Vec<Hash> = (1..=N)
        .map(|seq| {
            body_into(seq, &mut buf);
            leaf_hash(&buf)
        })
        .collect();
    let mut f = Frontier::new();
    for h in &stored {
        f.push(*h);
    }
    let root = f.root();

    let mut g = c.benchmark_group("audit");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(N));
    g.bench_function(format!("audit_1m_bodies_{body_len}b"), |b| {
        b.iter_batched(
            || {
                let mut a = Audit::new();
                a.expect_root(N, root).unwrap();
                a
            },
            |mut a| {
                let mut buf = Vec::with_capacity(512);
                for seq in 1..=N {
                    body_into(seq, &mut buf);
                    a.push_body(seq, &buf, &stored[seq as usize - 1]).unwrap();
                }
                a.finish().unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("audit_1m_leaf_hashes_only", |b| {
        b.iter(|| {
            let mut a = Audit::new();
            a.expect_root(N, root).unwrap();
            for (i, h) in stored.iter().enumerate() {
                a.push(i as u64 + 1, h).unwrap();
            }
            a.finish().unwrap()
        })
    });
    g.bench_function("format_and_hash_1m_bodies_only", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(512);
            let mut x = 0u8;
            for seq in 1..=N {
                body_into(seq, &mut buf);
                x ^= leaf_hash(&buf)[0];
            }
            black_box(x)
        })
    });
    g.finish();
}

criterion_group!(benches, append, proofs_10m, audit);
criterion_main!(benches);

//! Graph index benchmark: a synthetic graph of 1,000,000 artifacts and 5,000,000 edges
//! in 100 clusters whose roots each have exactly 10,000 transitive dependents.
//! Reports `impact` latency (p50/p99, with paths), index memory per edge, and the
//! time to load the rows into the index. Run: `cargo bench -p ailedger-core --bench graph`.

// Tests and benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use ailedger_core::{
    ArtifactKind, EdgeKind, GraphIndex,
    graph::{EdgeRow, GraphSink},
};

const CLUSTERS: usize = 100;
const PER_CLUSTER: usize = 10_001;
const OUT_DEGREE: usize = 5;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FILLERS: usize = 100;

fn filler(k: usize) -> String {
    format!("pkg:pypi/leaf-{k}@1")
}

fn id(c: usize, i: usize) -> String {
    format!("pkg:pypi/c{c:03}-pkg-{i:05}@1.0.{}", i % 7)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test"); // `cargo test --benches` runs this briefly
    let clusters = if quick { 2 } else { CLUSTERS };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t = Instant::now();
    let mut index =
        GraphIndex::with_capacity(clusters * PER_CLUSTER, clusters * PER_CLUSTER * OUT_DEGREE);
    let mut seq = 0u64;
    for c in 0..clusters {
        for i in 0..PER_CLUSTER {
            index.artifact(&id(c, i), ArtifactKind::Package, Default::default());
        }
    }
    for k in 0..FILLERS {
        index.artifact(&filler(k), ArtifactKind::Package, Default::default());
    }
    index.begin_bulk(); // as ailedger_store::build_index does
    for c in 0..clusters {
        for i in 1..PER_CLUSTER {
            // One edge to a lower node guarantees every node reaches the cluster root.
            let mut targets = vec![rng.below(i)];
            while targets.len() < OUT_DEGREE.min(i) {
                let j = rng.below(i);
                if !targets.contains(&j) {
                    targets.push(j);
                }
            }
            while targets.len() < OUT_DEGREE {
                // Nodes near the root lack lower nodes: the rest go to shared leaf packages.
                targets.push(usize::MAX - rng.below(FILLERS));
            }
            for j in targets {
                seq += 1;
                let to = if j > PER_CLUSTER {
                    filler(usize::MAX - j)
                } else {
                    id(c, j)
                };
                let row = EdgeRow {
                    from: id(c, i).into(),
                    edge: EdgeKind::DependsOn,
                    to: to.into(),
                    since: seq,
                    until: None,
                    paths: vec![],
                };
                assert!(index.edge(row).is_ok());
            }
        }
    }
    index.end_bulk();
    index.set_head(seq);
    index.shrink_to_fit();
    let load = t.elapsed();
    let nodes = index.node_count();
    let edges = index.edge_count();
    let mem = index.memory_bytes();

    // Leaves near the top of a cluster are consumed by nobody; roots by 10,000.
    let mut lat = Vec::new();
    let mut count = 0;
    for round in 0..if quick { 20 } else { 1000 } {
        let c = round % clusters;
        let t = Instant::now();
        let hits = index.impact(&id(c, 0), None).unwrap();
        let paths: usize = hits.iter().map(|h| h.depth as usize).sum();
        lat.push(t.elapsed());
        count = hits.len();
        std::hint::black_box(paths);
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!(
        "graph: {nodes} artifacts, {edges} edges, loaded in {:.2?}",
        load
    );
    println!(
        "index memory: {:.1} MB, {:.1} bytes per edge (nodes included)",
        mem as f64 / 1e6,
        mem as f64 / edges as f64
    );
    println!(
        "impact with paths over {count} dependents: p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        p(0.50),
        p(0.99),
        lat[lat.len() - 1]
    );
}

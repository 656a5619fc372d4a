//! Parse throughput of ailedger-formats on a generated CycloneDX 1.6 BOM (10,000
//! components, 30,000 dependency edges) and on the largest real fixtures.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

include!("gen.rs");

fn bench(c: &mut Criterion) {
    let opts = ailedger_formats::Options::default();
    let mut g = c.benchmark_group("parse");
    g.sample_size(20);
    let bom = ailedger_formats_bench_bom(10_000);
    g.throughput(Throughput::Bytes(bom.len() as u64));
    g.bench_function("cyclonedx-1.6-10k-components-30k-edges", |b| {
        b.iter(|| ailedger_formats::parse(bom.as_bytes(), &opts).map(|d| d.edges.len()))
    });
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
    for f in [
        "cyclonedx/examples-juice-shop-npm-bare-1.4.json",
        "cyclonedx/examples-keycloak-10.0.2-1.2.json",
        "cyclonedx/examples-dropwizard-1.3.15-1.2.xml",
        "spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json",
    ] {
        let Ok(bytes) = std::fs::read(format!("{dir}/{f}")) else {
            continue;
        };
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(f.rsplit('/').next().unwrap_or(f), |b| {
            b.iter(|| ailedger_formats::parse(&bytes, &opts).map(|d| d.edges.len()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

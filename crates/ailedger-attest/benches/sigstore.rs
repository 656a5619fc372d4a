//! Sigstore bundle verification with the trusted root already loaded (target ≤ 5 ms
//! each): a message-signature bundle (conformance happy-path-v0.3: hashedrekord, SET,
//! inclusion proof, checkpoint, SCT, chain) and a DSSE bundle (the bcr SLSA attestation:
//! dsse entry plus an RFC 3161 timestamp). Parsing the bundle is included; the fixtures
//! are read once.

#![allow(clippy::unwrap_used)] // benchmarks may unwrap

use std::hint::black_box;

use ailedger_attest::sigstore::{ArtifactInput, Bundle, TrustedRoot, VerifyOptions, verify};
use criterion::{Criterion, criterion_group, criterion_main};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/attest/{}"
        ),
        rel
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let root = TrustedRoot::from_json(&read("sigstore/production_trusted_root.json")).unwrap();
    let artifact = read("sigstore/conformance/a.txt");
    let v03 = read("sigstore/conformance/happy-path-v0.3/bundle.sigstore.json");
    let dsse = read("slsa-verifier/bcr/MODULE.bazel.intoto.jsonl");
    let mut g = c.benchmark_group("sigstore_verify");
    g.bench_function("happy-path-v0.3", |b| {
        b.iter(|| {
            let bundle = Bundle::parse(black_box(&v03)).unwrap();
            let mut opts = VerifyOptions::new(&root);
            opts.artifact = Some(ArtifactInput::Bytes(&artifact));
            verify(&bundle, &opts).unwrap()
        })
    });
    g.bench_function("dsse-bcr-v0.3", |b| {
        b.iter(|| {
            let bundle = Bundle::parse(black_box(&dsse)).unwrap();
            verify(&bundle, &VerifyOptions::new(&root)).unwrap()
        })
    });
    g.finish();
    c.bench_function("trusted_root_load", |b| {
        let bytes = read("sigstore/production_trusted_root.json");
        b.iter(|| TrustedRoot::from_json(black_box(&bytes)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

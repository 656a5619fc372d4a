//! Ed25519 DSSE envelope verification: parse + PAE + verify, from the envelope's bytes.
//! Target (issue 14): at least 2,000 per second on one core.
#![allow(clippy::unwrap_used)]

use ailedger_attest::dsse::Envelope;
use ailedger_attest::keys::PublicKey;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ENVELOPE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/attest/python-in-toto/slsa-provenance-v1.ed25519.dsse.json"
));
const KEY: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/attest/python-in-toto/slsa-provenance-v1.ed25519.pub.pem"
));
const EC_ENVELOPE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/attest/python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json"
));
const EC_KEY: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/attest/python-in-toto/test-result-v0.1.ecdsa-p256.pub.pem"
));

fn verify_envelope(c: &mut Criterion) {
    let mut g = c.benchmark_group("dsse");
    g.throughput(Throughput::Elements(1));
    for (name, envelope, key) in [
        ("verify_ed25519", ENVELOPE, KEY),
        ("verify_ecdsa_p256", EC_ENVELOPE, EC_KEY),
    ] {
        let keys = [PublicKey::parse(key).unwrap()];
        g.bench_function(name, |b| {
            b.iter(|| {
                let env = Envelope::parse(std::hint::black_box(envelope)).unwrap();
                let checks = env.verify(&keys);
                assert!(checks[0].counts());
                checks
            })
        });
    }
    g.finish();
}

criterion_group!(benches, verify_envelope);
criterion_main!(benches);

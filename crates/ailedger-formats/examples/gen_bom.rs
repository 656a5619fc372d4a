//! Writes a synthetic CycloneDX 1.6 JSON BOM of N components with 3 dependency edges
//! each (to stdout), for throughput and peak-memory measurements:
//! `cargo run --release --example gen_bom -- 300000 > target/big.cdx.json`.
#![allow(clippy::print_stdout)]

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    print!("{}", ailedger_formats_bench_bom(n));
}

include!("../benches/gen.rs");

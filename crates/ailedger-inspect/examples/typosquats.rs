//! `cargo run --release -p ailedger-inspect --example typosquats [-- -v]`: the typosquat
//! figures of docs/benchmarks.md. Recall with the right target over the labelled malicious
//! packages of tests/fixtures/typosquats/labelled.tsv (per ecosystem and half) and the
//! flag rate over the 2,000 established PyPI names of established-pypi.txt. `-v` lists the
//! misses, wrong targets and flagged established names.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use ailedger_inspect::check_package_name;
use std::collections::BTreeMap;
use std::time::Instant;

fn flagged_target(eco: &str, name: &str) -> Option<String> {
    let f = check_package_name(eco, name);
    let ev = &f.first()?.evidence;
    let rest = ev.split_once(" ~ ")?.1;
    Some(rest.split(" (").next()?.to_string())
}

fn main() {
    let verbose = std::env::args().any(|a| a == "-v");
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/typosquats/"
    );
    let labelled = std::fs::read_to_string(format!("{dir}labelled.tsv")).unwrap();
    let established = std::fs::read_to_string(format!("{dir}established-pypi.txt")).unwrap();
    let start = Instant::now();
    let _ = check_package_name("pypi", "warm-up");
    let _ = check_package_name("npm", "warm-up");
    let loaded = start.elapsed();
    let start = Instant::now();
    let mut tally: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for line in labelled.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let (eco, name, target, kind, half) = (c[0], c[1], c[2], c[3], c[4]);
        let got = flagged_target(eco, name);
        let t = tally.entry((eco.into(), half.into())).or_default();
        t.1 += 1;
        if got.as_deref() == Some(target) {
            t.0 += 1;
        } else if verbose {
            println!("miss\t{eco}\t{name}\t{target}\t{kind}\t{half}\tgot {got:?}");
        }
    }
    let mut flags = 0;
    let mut total = 0;
    for name in established.lines().filter(|l| !l.trim().is_empty()) {
        total += 1;
        if let Some(t) = flagged_target("pypi", name) {
            flags += 1;
            if verbose {
                println!("flag\t{name}\t~ {t}");
            }
        }
    }
    let elapsed = start.elapsed();
    for ((eco, half), (hit, n)) in &tally {
        println!(
            "recall {eco:5} {half:8} {hit:4} / {n:4} = {:5.1}%",
            100.0 * *hit as f64 / *n as f64
        );
    }
    let (hit, n) = tally.values().fold((0, 0), |(a, b), (h, m)| (a + h, b + m));
    println!(
        "recall all            {hit:4} / {n:4} = {:5.1}%",
        100.0 * hit as f64 / n as f64
    );
    println!(
        "flag rate (established PyPI) {flags} / {total} = {:.2}%",
        100.0 * flags as f64 / total as f64
    );
    println!(
        "lists indexed in {loaded:.2?}; {} names checked in {elapsed:.2?}",
        n + total
    );
}

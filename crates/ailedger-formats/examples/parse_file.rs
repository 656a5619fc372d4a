//! Parses each file given as an argument and prints a one-line summary (format,
//! artifact, edge and warning counts, parse time), or the error. Used to measure peak
//! memory with `/usr/bin/time -v` on large generated BOMs.
#![allow(clippy::print_stdout)]

use std::time::Instant;

/// The allocator the `ailedger` binary uses, so the times are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let verbose = std::env::args().any(|a| a == "-v");
    // Compile the schema validators first, as a server does at start, so the times
    // below are parsing (schema check included), not compiling.
    ailedger_formats::warm_up_schemas();
    for path in std::env::args().skip(1).filter(|a| a != "-v") {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("{path}: cannot read: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let r = ailedger_formats::parse(&bytes, &ailedger_formats::Options::default());
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match r {
            Ok(d) => {
                println!(
                    "{path}: {} — {} artifacts, {} edges, {} warnings, {} includes ({ms:.1} ms, {:.1} MB/s)",
                    d.format,
                    d.artifacts.len(),
                    d.edges.len(),
                    d.warnings.len(),
                    d.includes.len(),
                    bytes.len() as f64 / 1e6 / (ms / 1000.0)
                );
                if verbose {
                    for w in &d.warnings {
                        println!("  warning {}: {}", w.pointer, w.message);
                    }
                }
            }
            Err(e) => println!("{path}: ERROR {e}"),
        }
    }
}

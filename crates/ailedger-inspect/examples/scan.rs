//! `cargo run --release --example scan -- [--json|--sarif|--time N] <path>…`: inspects
//! paths in-process (used by bench/inspect/compare.sh for timings).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ailedger_inspect::{Options, inspect_path, render_table};
use std::path::Path;
use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut mode = "table";
    let mut repeat = 1u32;
    while let Some(a) = args.first().cloned() {
        match a.as_str() {
            "--json" => mode = "json",
            "--sarif" => mode = "sarif",
            "--tsv" => mode = "tsv",
            "--time" => {
                args.remove(0);
                repeat = args.first().and_then(|n| n.parse().ok()).unwrap_or(1);
                mode = "time";
            }
            _ => break,
        }
        args.remove(0);
    }
    let opts = Options::default();
    let mut reports = Vec::new();
    let start = Instant::now();
    for _ in 0..repeat {
        reports.clear();
        for p in &args {
            match inspect_path(Path::new(p), &opts) {
                Ok(r) => reports.extend(r),
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(2);
                }
            }
        }
    }
    let elapsed = start.elapsed();
    match mode {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        ),
        "sarif" => println!("{}", ailedger_inspect::sarif::to_sarif(&reports)),
        "tsv" => {
            for r in &reports {
                let max = r
                    .max_severity()
                    .map_or("none".to_string(), |s| s.to_string());
                let codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
                println!("{}\t{}\t{}", r.path, max, codes.join(","));
            }
        }
        "time" => println!(
            "{} files, {} runs, {:.3} ms per run",
            reports.len(),
            repeat,
            elapsed.as_secs_f64() * 1000.0 / f64::from(repeat)
        ),
        _ => print!("{}", render_table(&reports)),
    }
    std::process::exit(ailedger_inspect::exit_code(&reports, opts.fail_on));
}

//! Integration tests, data-driven over the shared fixtures.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a test failure

mod budgets;
mod codes;
mod containers;
mod formats;
mod fuzz_smoke;
mod mcp;
mod packages;
mod pickles;
mod sarif;
mod typosquats;

use std::path::PathBuf;

pub fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures")).join(sub)
}

pub fn opts() -> ailedger_inspect::Options {
    ailedger_inspect::Options::default()
}

//! Fuzzes policy files as `POST /v1/check` takes them (any read token may send one):
//! TOML and YAML reading, the gate section's checks, and the gate over components of
//! every kind. The body lives in `ailedger_attest::gate::fuzz_policy` so the tests run
//! it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_attest::gate::fuzz_policy(data));

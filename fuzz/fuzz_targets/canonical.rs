//! Fuzzes the RFC 8785 writer against `serde_json_canonicalizer` on arbitrary JSON.
//! The body lives in `ailedger_core::canonical::fuzz_canonical` so the tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_core::canonical::fuzz_canonical(data));

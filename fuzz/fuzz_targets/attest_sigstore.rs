//! Fuzzes Sigstore bundle and trusted-root parsing and verification against the pinned
//! production root. The body lives in `ailedger_attest::sigstore::fuzz_parse` so the
//! tests run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_attest::sigstore::fuzz_parse(data));

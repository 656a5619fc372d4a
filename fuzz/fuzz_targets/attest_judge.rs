//! Fuzzes attestation ingest: detection (DSSE envelopes, Sigstore bundles, bare
//! statements, JSON Lines, model signatures), lookup keys, judgement under the empty
//! trust policy and admission. The body lives in `ailedger_attest::judge::fuzz_detect`
//! so the tests run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_attest::judge::fuzz_detect(data));

//! Fuzzes DSSE envelope, JSON Lines, public key and in-toto statement parsing, and
//! verification against fixed keys. The body lives in `ailedger_attest::dsse::fuzz_parse`
//! so the tests run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_attest::dsse::fuzz_parse(data));

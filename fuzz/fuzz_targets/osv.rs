//! Fuzzes OSV import: records (one, or an array) checked against the OSV schema, read
//! as advisories, matched and written as entries. The body lives in
//! `ailedger_formats::fuzz_osv` so the tests run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_formats::fuzz_osv(data));

//! Fuzzes 7z archives (the 7z signature is prepended when missing) and the pickle scan
//! of their members. The body lives in `ailedger_inspect::fuzz_seven_zip` so the tests
//! run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_inspect::fuzz_seven_zip(data));

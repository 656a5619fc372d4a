//! Fuzz target: every document parser of ailedger-formats, via format detection.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ailedger_formats::fuzz_parse(data);
});

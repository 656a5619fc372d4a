//! Fuzzes checkpoint-note and key parsing: the first line is a verifier (and signer) key,
//! the rest a note. The body lives in `ailedger_log::fuzz_note` so the unit tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_log::fuzz_note(data));

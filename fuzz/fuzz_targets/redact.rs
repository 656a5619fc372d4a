//! Fuzzes the redaction of secrets (URLs, command lines, MCP configs, lockfiles) on
//! arbitrary bytes. The body lives in `ailedger_core::redact::fuzz_redact` so the tests
//! run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_core::redact::fuzz_redact(data));

//! Fuzzes `vers:` range parsing (and canonical round trips), incident targets, OSV range
//! reading and OSV records as the ledger keeps them (matching, entry round trip). The
//! body lives in `ailedger_core::vers::fuzz_vers` so the tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_core::vers::fuzz_vers(data));

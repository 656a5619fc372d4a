#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_inspect::fuzz_gguf(data));

//! Fuzzes Keras model configs: `config.json` of a `.keras` archive, the `model_config`
//! search of a legacy `.h5` file, and the `.keras` archive path. The body lives in
//! `ailedger_inspect::fuzz_keras` so the tests run it over the fixtures too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ailedger_inspect::fuzz_keras(data));

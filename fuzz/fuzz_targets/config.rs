//! Fuzz target `config`: see `cruxlab_fuzz::config` for what it feeds and checks (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = cruxlab_fuzz::config(data);
});

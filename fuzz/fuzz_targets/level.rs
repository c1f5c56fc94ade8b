//! Fuzz target `level`: see `cruxlab_fuzz::level` for what it feeds and checks (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = cruxlab_fuzz::level(data);
});

//! Fuzz target `jsonl_touchpoints`: see `fuzz/targets.rs`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::only_uncaught_panics_crash();
    targets::jsonl_touchpoints(data)
});

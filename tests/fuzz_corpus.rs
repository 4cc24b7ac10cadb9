//! The fuzz targets (`fuzz/targets.rs`) over their committed corpus and every crash the
//! fuzzer ever found (`fuzz/regressions/`), on stable, as part of the test command: each
//! input must give an answer or an error, never a panic. `scripts/fuzz.sh` runs the same
//! targets under libFuzzer (nightly) for a bounded time.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

/// Every file under `fuzz/<kind>/<target>/`.
fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz").join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_survives_its_corpus_and_past_crashes() {
    let mut total = 0;
    for (target, run) in targets::TARGETS {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} holds no seeds");
        let regressions = inputs("regressions", target);
        for (name, data) in corpus.iter().chain(&regressions) {
            let outcome = std::panic::catch_unwind(|| run(data));
            assert!(outcome.is_ok(), "{target}: input {name} panicked");
            total += 1;
        }
    }
    eprintln!("{total} corpus and regression inputs replayed over {} targets", targets::TARGETS.len());
    std::fs::remove_dir_all(targets::scratch_dir()).ok();
}

//! The bodies of the fuzz targets: every parser of outside data, fed arbitrary bytes. Each
//! may return any error, and must never panic, abort or hang. Shared by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/`, nightly) and by `tests/fuzz_corpus.rs`, which replays the
//! committed corpus (`fuzz/corpus/<target>/`) and every crash found
//! (`fuzz/regressions/<target>/`) on stable, as part of the test command.

#![allow(dead_code)] // each fuzz binary uses one target

use std::path::PathBuf;

use omnitwin::io::InputFormat;
use omnitwin::progress::NoProgress;
use omnitwin::{Config, Engine, OnError, Segment, Touchpoint};

/// A target: a name (its folder in the corpus) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: [Target; 8] = [
    ("csv_touchpoints", csv_touchpoints),
    ("jsonl_touchpoints", jsonl_touchpoints),
    ("parquet_touchpoints", parquet_touchpoints),
    ("touchpoint_json", touchpoint_json),
    ("config_json", config_json),
    ("settings_json", settings_json),
    ("segment_expression", segment_expression),
    ("store_file", store_file),
];

/// libFuzzer's panic hook aborts on every panic, even one the core catches on purpose (the
/// DataFrame library panics on some malformed files; the core turns that into an error). A
/// panic that escapes the target still aborts: libfuzzer-sys catches it around every input.
pub fn only_uncaught_panics_crash() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

/// The scratch folder of this process (the corpus test removes it when done).
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("omnitwin-fuzz-{}", std::process::id()))
}

/// A scratch file of this process (and thread), rewritten by every input.
fn scratch(name: &str) -> PathBuf {
    let dir = scratch_dir();
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{:?}-{name}", std::thread::current().id()).replace(['(', ')'], ""))
}

/// Ingests a file of the given format, both failing on the first bad row and skipping bad
/// rows, then resolves and builds the profiles of what was accepted.
fn ingest_file(data: &[u8], format: InputFormat, name: &str) {
    let path = scratch(name);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    for on_error in [OnError::Fail, OnError::Skip] {
        let Ok(mut engine) = Engine::new(Config::default()) else { return };
        if engine.ingest_file(&path, Some(format), on_error, &NoProgress).is_ok() {
            let _ = engine.resolve();
            let _ = engine.profiles_frame();
        }
    }
}

/// CSV rows into touchpoints.
pub fn csv_touchpoints(data: &[u8]) {
    ingest_file(data, InputFormat::Csv, "in.csv");
}

/// JSON Lines into touchpoints.
pub fn jsonl_touchpoints(data: &[u8]) {
    ingest_file(data, InputFormat::Jsonl, "in.jsonl");
}

/// Parquet into touchpoints.
pub fn parquet_touchpoints(data: &[u8]) {
    ingest_file(data, InputFormat::Parquet, "in.parquet");
}

/// A touchpoint passed as JSON (what the Python and Node packages hand the core), then taken
/// in live.
pub fn touchpoint_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(mut engine) = Engine::new(Config::default()) else { return };
    if let Ok(tp) = engine.touchpoint_from_json(value) {
        let id = tp.touchpoint_id.to_string();
        if engine.ingest_one(tp).is_ok() {
            let _ = engine.profile_of(&id).map(|p| p.traits.clone());
        }
    }
}

/// The engine's config, then an engine under it resolving a few touchpoints.
pub fn config_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::from_json_str(text) else { return };
    let Ok(mut engine) = Engine::new(config) else { return };
    let people = [("a", "an@x.vn", "Nguyễn An"), ("b", "AN@x.vn", "Nguyen An"), ("c", "binh@x.vn", "Trần Bình")];
    let batch = people.iter().map(|(id, email, name)| Touchpoint {
        email: Some((*email).into()),
        full_name: Some((*name).into()),
        timestamp: Some(1_700_000_000_000),
        ..Touchpoint::new(*id)
    });
    if engine.ingest(batch).is_ok() {
        let _ = engine.resolve();
        let _ = engine.profiles();
    }
}

/// Record-linkage settings, then a linker over a small table.
pub fn settings_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(settings) = omnitwin::matching::Settings::from_json(text) else { return };
    let rows =
        [("1", "an", "nguyen", "1990-01-02"), ("2", "an", "nguyen", "1990-02-01"), ("3", "binh", "tran", "1985-05-05")]
            .iter()
            .map(|(id, first, last, dob)| {
                let mut row = serde_json::Map::new();
                for (column, value) in [("id", id), ("first_name", first), ("surname", last), ("dob", dob)] {
                    row.insert(column.into(), serde_json::Value::String((*value).into()));
                }
                row
            })
            .collect();
    let Ok(frame) = omnitwin::io::frame_from_rows(rows) else { return };
    if let Ok(mut linker) = omnitwin::matching::Linker::new(settings, &[frame]) {
        if linker.train().is_ok() {
            if let Ok(pairs) = linker.predict() {
                let _ = linker.cluster(&pairs);
            }
        }
    }
}

/// The segment expression language, then the segment evaluated on a few profiles.
pub fn segment_expression(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(segment) = Segment::parse(text) else { return };
    let Ok(mut engine) = Engine::new(Config::default()) else { return };
    let batch = (0..4).map(|i| Touchpoint {
        email: Some(format!("p{}@x.vn", i % 2).into()),
        event_type: Some(["purchase", "add_to_cart", "page_view", "purchase"][i].into()),
        amount: Some(100_000.0 * i as f64),
        timestamp: Some(1_700_000_000_000 + i as i64 * 86_400_000),
        ..Touchpoint::new(format!("t{i}"))
    });
    if engine.ingest(batch).is_ok() {
        let _ = engine.segment(&segment);
    }
}

/// A store file: opened for writing and read-only.
pub fn store_file(data: &[u8]) {
    let path = scratch("store.db");
    for suffix in ["-wal", "-shm", "-lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(engine) = Engine::open_read_only(&path) {
        let _ = engine.check();
    }
    if let Ok(mut engine) = Engine::open_existing(&path) {
        let _ = engine.ingest_one(Touchpoint { email: Some("fuzz@x.vn".into()), ..Touchpoint::new("fuzz-1") });
    }
}

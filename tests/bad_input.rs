//! Bad input: a typed error naming the row and column, or with `OnError::Skip` the row left out
//! and reported. Never a panic, never a lost touchpoint.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use std::io::Write;
use std::path::PathBuf;

use omnitwin::io::read_frame;
use omnitwin::{Config, Engine, Error, ErrorKind, OnError, Touchpoint};

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("omnitwin-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

fn ingest_file(name: &str, bytes: &[u8], on_error: OnError) -> omnitwin::Result<(Engine, usize)> {
    let path = write(name, bytes);
    let (df, bad_lines) = read_frame(&path, None, on_error)?;
    let mut engine = Engine::new(Config::default())?;
    let report = engine.ingest_frame(df, on_error)?;
    Ok((engine, report.rejected.len() + bad_lines.len()))
}

#[test]
fn missing_id_column_is_a_schema_error() {
    let err = ingest_file("noid.csv", b"email,phone\na@x.vn,0912345678\n", OnError::Fail).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
    assert!(err.to_string().contains("touchpoint_id") && err.to_string().contains("`email`"), "{err}");
}

#[test]
fn empty_id_names_the_row() {
    let err = ingest_file("emptyid.csv", b"touchpoint_id,email\nt1,a@x.vn\n,b@x.vn\n", OnError::Fail).unwrap_err();
    assert!(matches!(err, Error::MissingTouchpointId { row: 2, .. }), "{err}");
}

#[test]
fn duplicate_ids_name_both_rows() {
    let err =
        ingest_file("dup.csv", b"touchpoint_id,email\nt1,a@x.vn\nt2,b@x.vn\nt1,c@x.vn\n", OnError::Fail).unwrap_err();
    assert_eq!(err.to_string(), "row 3: duplicate touchpoint_id `t1` (already used at row 1)");
}

#[test]
fn duplicates_across_ingests_are_refused() {
    let mut engine = Engine::new(Config::default()).unwrap();
    engine.ingest([Touchpoint::new("t1")]).unwrap();
    let err = engine.ingest([Touchpoint::new("t2"), Touchpoint::new("t1")]).unwrap_err();
    assert!(matches!(err, Error::DuplicateTouchpointId { row: 2, .. }), "{err}");
    assert_eq!(engine.len(), 1, "all or nothing");
}

#[test]
fn bad_timestamp_names_row_and_column() {
    let err =
        ingest_file("ts.csv", b"touchpoint_id,timestamp\nt1,2024-01-01\nt2,yesterday\n", OnError::Fail).unwrap_err();
    assert_eq!(err.row(), Some(2));
    assert_eq!(err.column(), Some("timestamp"));
    assert!(err.to_string().contains("yesterday"), "{err}");
}

#[test]
fn wrong_type_amount_names_row_and_column() {
    let err = ingest_file("amount.csv", b"touchpoint_id,amount\nt1,120000\nt2,12O000\n", OnError::Fail).unwrap_err();
    assert_eq!((err.row(), err.column()), (Some(2), Some("amount")));
}

#[test]
fn empty_and_header_only_files() {
    for (name, bytes) in [("empty.csv", &b""[..]), ("blank.csv", b"\n\n  \n"), ("header.csv", b"touchpoint_id,email\n")]
    {
        let err = ingest_file(name, bytes, OnError::Fail).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Schema, "{name}: {err}");
        assert!(err.to_string().contains("no touchpoints") || err.to_string().contains("empty"), "{name}: {err}");
    }
}

#[test]
fn non_utf8_bytes_name_the_line_or_are_skipped() {
    let bytes = b"touchpoint_id,full_name\nt1,An\nt2,B\xffnh\nt3,Chi\n";
    let err = ingest_file("latin1.csv", bytes, OnError::Fail).unwrap_err();
    assert!(matches!(err, Error::InvalidUtf8 { line: 3, column: 2, .. }), "{err}");
    let (engine, rejected) = ingest_file("latin1-skip.csv", bytes, OnError::Skip).unwrap();
    assert_eq!((engine.len(), rejected), (2, 1));
    assert!(engine.touchpoint("t3").is_some());
}

#[test]
fn huge_fields_are_refused_not_swallowed() {
    let mut bytes = b"touchpoint_id,full_name\nt1,".to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    bytes.extend(b"\nt2,Binh\n");
    let err = ingest_file("huge.csv", &bytes, OnError::Fail).unwrap_err();
    assert_eq!((err.row(), err.column()), (Some(1), Some("full_name")));
    assert!(err.to_string().contains("max_field_bytes"), "{err}");
    let (engine, rejected) = ingest_file("huge-skip.csv", &bytes, OnError::Skip).unwrap();
    assert_eq!((engine.len(), rejected), (1, 1));
}

#[test]
fn skip_mode_keeps_every_good_row_exactly_once() {
    let bytes = b"touchpoint_id,timestamp,amount,email\nt1,2024-01-01,1,a@x.vn\nt2,nope,2,a@x.vn\nt1,2024-01-02,3,b@x.vn\nt4,2024-01-03,x,c@x.vn\n,2024-01-01,1,\nt6,,,a@x.vn\n";
    let path = write("mixed.csv", bytes);
    let (df, _) = read_frame(&path, None, OnError::Skip).unwrap();
    let mut engine = Engine::new(Config::default()).unwrap();
    let report = engine.ingest_frame(df, OnError::Skip).unwrap();
    let rows: Vec<usize> = report.rejected.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 3, 4, 5]);
    assert_eq!(report.accepted, 2);
    let ids: Vec<String> = engine.assignments().into_iter().map(|a| a.touchpoint_id).collect();
    assert_eq!(ids, ["t1", "t6"]);
    assert!(report.rejected[1].reasons[0].contains("duplicate"));
}

#[test]
fn invalid_identifier_values_are_counted_not_fatal() {
    let (engine, _) =
        ingest_file("junk.csv", b"touchpoint_id,email,phone\nt1,not-an-email,call me\nt2,a@x.vn,12\n", OnError::Fail)
            .unwrap();
    let report = engine.resolve();
    assert_eq!(report.links.invalid_values.get("email"), Some(&1));
    assert_eq!(report.links.invalid_values.get("phone"), Some(&2));
}

#[test]
fn jsonl_and_parquet_inputs_work() {
    let path = write("in.jsonl", b"{\"touchpoint_id\": \"j1\", \"email\": \"A@x.vn\", \"amount\": 5}\n{\"touchpoint_id\": \"j2\", \"email\": \"a@x.vn\"}\n");
    let (df, _) = read_frame(&path, None, OnError::Fail).unwrap();
    let mut engine = Engine::new(Config::default()).unwrap();
    engine.ingest_frame(df, OnError::Fail).unwrap();
    assert_eq!(engine.resolve().profiles, 1);
    assert_eq!(engine.touchpoint("j1").unwrap().amount, Some(5.0));
    let mut frame = engine.assignments_frame().unwrap();
    let parquet = write("out.parquet", b"");
    omnitwin::io::write_frame(&mut frame, &parquet, omnitwin::io::OutputFormat::Parquet).unwrap();
    let (back, _) = read_frame(&parquet, None, OnError::Fail).unwrap();
    assert_eq!(back.height(), 2);
}

#[test]
fn unknown_format_is_a_clear_error() {
    let path = write("data.xlsx", b"x");
    let err = read_frame(&path, None, OnError::Fail).unwrap_err();
    assert!(err.to_string().contains(".csv, .parquet or .jsonl"), "{err}");
}

#[test]
fn csv_batches_keep_row_numbers_and_quoted_newlines() {
    let mut text = String::from("touchpoint_id,timestamp,address\n");
    for i in 1..=1000 {
        let timestamp = if i == 777 { "not a time".to_owned() } else { "2024-01-01".to_owned() };
        let address = if i % 50 == 0 { "\"12 Lê Lợi,\nQ.1\"".to_owned() } else { "HCM".to_owned() };
        text.push_str(&format!("t{i},{timestamp},{address}\n"));
    }
    let path = write("batches.csv", text.as_bytes());
    let ingest = |on_error| -> omnitwin::Result<(Engine, Vec<usize>, usize)> {
        let mut engine = Engine::new(Config::default())?;
        let mut rejected = Vec::new();
        let mut batches = 0;
        for batch in omnitwin::io::CsvBatches::open_with_batch_bytes(&path, on_error, 300)? {
            let (df, first_row) = batch?;
            batches += 1;
            let report = engine.ingest_frame_batch(df, on_error, first_row, &omnitwin::progress::NoProgress)?;
            rejected.extend(report.rejected.iter().map(|r| r.row));
        }
        Ok((engine, rejected, batches))
    };
    let err = ingest(OnError::Fail).unwrap_err();
    assert_eq!((err.row(), err.column()), (Some(777), Some("timestamp")), "{err}");
    let (engine, rejected, batches) = ingest(OnError::Skip).unwrap();
    assert!(batches > 10, "{batches} batches");
    assert_eq!(rejected, [777]);
    assert_eq!(engine.len(), 999);
    assert_eq!(engine.touchpoint("t50").unwrap().address.as_deref(), Some("12 Lê Lợi,\nQ.1"));
}

/// A size from the environment for the big-input cases (`OMNITWIN_BIG_INPUTS=1` runs the
/// gigabyte line), or the bounded default.
fn big_line_bytes() -> usize {
    if std::env::var("OMNITWIN_BIG_INPUTS").is_ok_and(|v| v == "1") {
        1 << 30
    } else {
        64 << 20
    }
}

#[test]
fn a_very_long_csv_line_through_the_file_reader_is_one_bad_row() {
    let n = big_line_bytes();
    let path = write("long-line.csv", b"");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        file.write_all(b"touchpoint_id,email,full_name\nt1,a@x.vn,").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..n >> 20 {
            file.write_all(&chunk).unwrap();
        }
        file.write_all(b"\nt2,b@x.vn,Binh\n").unwrap();
    }
    let mut engine = Engine::new(Config::default()).unwrap();
    let progress = omnitwin::progress::NoProgress;
    let err = engine.ingest_file(&path, None, OnError::Fail, &progress).unwrap_err();
    assert_eq!((err.row(), err.column()), (Some(1), Some("full_name")), "{err}");
    assert!(engine.is_empty(), "all or nothing");
    let report = engine.ingest_file(&path, None, OnError::Skip, &progress).unwrap();
    assert_eq!((report.accepted, report.rejected.len()), (1, 1));
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_huge_value_or_a_hundred_thousand_identifiers_in_one_touchpoint_are_refused_or_bounded() {
    let mut engine = Engine::new(Config::default()).unwrap();
    let name = "á".repeat(5 << 20); // 10 MB of UTF-8
    let err = engine.ingest_one(Touchpoint { full_name: Some(name.into()), ..Touchpoint::new("t1") }).unwrap_err();
    assert_eq!(err.column(), Some("full_name"), "{err}");
    // A hundred thousand custom identifiers and attributes, as JSON from a binding.
    let mut identifiers = serde_json::Map::new();
    let mut attributes = serde_json::Map::new();
    for i in 0..100_000 {
        identifiers.insert(format!("kind_{i}"), serde_json::Value::String(format!("v{i}")));
        attributes.insert(format!("attr_{i}"), serde_json::Value::String(format!("a{i}")));
    }
    let value = serde_json::json!({"touchpoint_id": "t2", "email": "an@x.vn", "identifiers": identifiers, "attributes": attributes});
    match engine.touchpoint_from_json(value).and_then(|tp| engine.ingest_one(tp)) {
        Ok(outcome) => {
            assert_eq!(outcome.touchpoint_id, "t2");
            assert!(engine.profile_of("t2").is_some());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[test]
fn deeply_nested_json_is_an_error_at_every_entry_point() {
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let nested = format!(r#"{{"touchpoint_id": "t1", "attributes": {{"x": {}}}}}"#, deep(100_000));
    assert!(Touchpoint::from_json(&nested).is_err());
    assert!(Config::from_json_str(&format!(r#"{{"columns": {}}}"#, deep(100_000))).is_err());
    assert!(omnitwin::matching::Model::from_json(&deep(100_000)).is_err());
    assert!(omnitwin::matching::Settings::from_json(&deep(100_000)).is_err());
    let err = omnitwin::Segment::parse(&format!("{}orders > 1{}", "(".repeat(100_000), ")".repeat(100_000)));
    assert!(err.unwrap_err().to_string().contains("nested more than"));
    assert!(omnitwin::Segment::parse(&format!("{}orders > 1", "not ".repeat(100_000))).is_err());
    let chain = vec!["orders > 1"; 100_000].join(" and ");
    assert!(omnitwin::Segment::parse(&chain).unwrap_err().to_string().contains("conditions"));
    assert!(omnitwin::Segment::parse(&vec!["orders > 1"; 500].join(" or ")).is_ok(), "long real segments still parse");
    // In a JSON Lines file: that line is a bad row.
    let mut lines = String::from("{\"touchpoint_id\": \"ok\", \"email\": \"a@x.vn\"}\n");
    lines.push_str(&nested);
    lines.push('\n');
    let path = write("deep.jsonl", lines.as_bytes());
    let mut engine = Engine::new(Config::default()).unwrap();
    let progress = omnitwin::progress::NoProgress;
    assert!(engine.ingest_file(&path, None, OnError::Fail, &progress).is_err());
    assert!(engine.is_empty());
}

#[test]
fn a_parquet_file_the_reader_chokes_on_is_an_error_naming_the_file() {
    // Found by the fuzzer: malformed metadata on which the Parquet reader panics.
    let crash = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/parquet_touchpoints/crash-d500f7747d8c698a63b6a1d105e6425eed9d5851");
    let path = write("choke.parquet", &std::fs::read(crash).unwrap());
    let mut engine = Engine::new(Config::default()).unwrap();
    let err = engine.ingest_file(&path, None, OnError::Skip, &omnitwin::progress::NoProgress).unwrap_err();
    assert!(err.to_string().contains("choke.parquet") && err.to_string().contains("malformed"), "{err}");
    assert!(engine.is_empty());
}

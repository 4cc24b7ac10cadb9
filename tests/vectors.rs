//! The shared test vectors in `tests/vectors/`: the same files are run by the Python and Node
//! suites, so a behaviour is specified once and every language must match it exactly.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use std::collections::BTreeMap;
use std::path::Path;

use omnitwin::normalize::{self, PhoneRegion};
use omnitwin::{Config, Engine, Touchpoint};
use serde_json::{json, Value};

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cases<'a>(vectors: &'a Value, kind: &str) -> &'a Vec<Value> {
    vectors[kind].as_array().unwrap_or_else(|| panic!("no `{kind}` cases"))
}

#[test]
fn normalizers_match_the_vectors() {
    let vectors = load(&vectors_dir().join("normalize.json"));
    let mut checked = 0;
    for case in cases(&vectors, "email") {
        let got = normalize::normalize_email(case["input"].as_str().unwrap());
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "email {}", case["input"]);
        checked += 1;
    }
    for case in cases(&vectors, "phone") {
        let region: PhoneRegion = case["region"].as_str().unwrap().parse().unwrap();
        let got = normalize::normalize_phone(case["input"].as_str().unwrap(), region);
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "phone {}", case["input"]);
        checked += 1;
    }
    for case in cases(&vectors, "name") {
        let got = normalize::normalize_name(case["input"].as_str().unwrap());
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "name {}", case["input"]);
        checked += 1;
    }
    for case in cases(&vectors, "address") {
        let got = normalize::normalize_address(case["input"].as_str().unwrap());
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "address {}", case["input"]);
        checked += 1;
    }
    for case in cases(&vectors, "date_of_birth") {
        let got = normalize::normalize_date_of_birth(case["input"].as_str().unwrap()).ok();
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "date_of_birth {}", case["input"]);
        checked += 1;
    }
    for case in cases(&vectors, "gender") {
        let got = normalize::normalize_gender(case["input"].as_str().unwrap());
        assert_eq!(serde_json::to_value(got).unwrap(), case["expected"], "gender {}", case["input"]);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} normalizer cases ran");
}

fn check_resolve_vector(path: &Path) {
    let vector = load(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let config: Config = serde_json::from_value(vector["config"].clone()).unwrap();
    let touchpoints: Vec<Touchpoint> = serde_json::from_value(vector["touchpoints"].clone()).unwrap();
    let mut engine = Engine::new(config).unwrap();
    if !vector["model"].is_null() {
        engine.set_model(omnitwin::matching::Model::from_json(&vector["model"].to_string()).unwrap()).unwrap();
    }
    engine.ingest(touchpoints).unwrap();
    let expected = &vector["expected"];

    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in engine.assignments() {
        groups.entry(a.profile_id).or_default().push(a.touchpoint_id);
    }
    let mut got: Vec<Vec<String>> = groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    got.sort();
    let mut want: Vec<Vec<String>> = serde_json::from_value(expected["groups"].clone()).unwrap();
    want.iter_mut().for_each(|g| g.sort());
    want.sort();
    assert_eq!(got, want, "{name}: groups");

    let report = serde_json::to_value(engine.resolve()).unwrap();
    for (field, value) in expected["report"].as_object().unwrap() {
        assert_eq!(&report[field], value, "{name}: report.{field}");
    }
    for (field, value) in expected["links"].as_object().unwrap() {
        assert_eq!(&report["links"][field], value, "{name}: report.links.{field}");
    }
    for (tp, attributes) in expected["attributes"].as_object().unwrap() {
        let profile = engine.profile_of(tp).unwrap();
        for (attribute, value) in attributes.as_object().unwrap() {
            assert_eq!(json!(profile.attribute(attribute)), *value, "{name}: {tp}.{attribute}");
        }
    }
    for case in expected["explain"].as_array().unwrap() {
        let why = engine.explain(case["a"].as_str().unwrap(), case["b"].as_str().unwrap()).unwrap();
        assert_eq!(json!(why.same_profile), case["same_profile"], "{name}: explain {case}");
        assert_eq!(json!(why.path.len()), case["path_length"], "{name}: explain {case}: {why}");
    }
}

#[test]
fn resolve_vectors_match() {
    let mut paths: Vec<_> =
        std::fs::read_dir(vectors_dir().join("resolve")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 3);
    for path in paths {
        check_resolve_vector(&path);
    }
}

/// A live vector: touchpoints given one at a time to `ingest_one`, each with the outcome it
/// must give (profile id, changes, refusals), then the whole feed, and questions about history
/// (`profile_of` a touchpoint or `profile` by id as of the time after a step: the profile's id
/// and touchpoints then, or null).
fn check_live_vector(path: &Path) {
    let vector = load(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let config: Config = serde_json::from_value(vector["config"].clone()).unwrap();
    let mut engine = Engine::new(config).unwrap();
    if !vector["model"].is_null() {
        engine.set_model(omnitwin::matching::Model::from_json(&vector["model"].to_string()).unwrap()).unwrap();
    }
    // When the vector asks about history: the time after each step (each step a later
    // millisecond), the time before the first at 0.
    let mut times = Vec::new();
    for (i, step) in vector["steps"].as_array().unwrap().iter().enumerate() {
        let touchpoint: Touchpoint = serde_json::from_value(step["touchpoint"].clone()).unwrap();
        let id = touchpoint.touchpoint_id.to_string();
        let outcome = serde_json::to_value(engine.ingest_one(touchpoint).unwrap()).unwrap();
        if !vector["history"].is_null() {
            let at = engine.acknowledged_at(&id).unwrap();
            if times.is_empty() {
                times.push(at - 1);
            }
            times.push(at);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if std::env::var_os("OMNITWIN_PRINT_VECTORS").is_some() {
            println!("{}", json!({"touchpoint": step["touchpoint"], "expected": outcome}));
            continue;
        }
        assert_eq!(outcome, step["expected"], "{name}: step {}", i + 1);
    }
    let feed = serde_json::to_value(engine.changes(0)).unwrap();
    if std::env::var_os("OMNITWIN_PRINT_VECTORS").is_some() {
        println!("feed {feed}");
        return;
    }
    assert_eq!(feed, vector["expected_feed"], "{name}: feed");
    for query in vector["history"].as_array().into_iter().flatten() {
        let at = times[query["after_step"].as_u64().unwrap() as usize];
        let profile = match (query["profile_of"].as_str(), query["profile"].as_str()) {
            (Some(tp), _) => engine.profile_of_as_of(tp, at),
            (_, Some(id)) => engine.profile_as_of(id, at),
            _ => panic!("{name}: a history query names `profile_of` or `profile`: {query}"),
        };
        let got =
            profile.map_or(json!(null), |p| json!({"profile_id": p.profile_id, "touchpoint_ids": p.touchpoint_ids}));
        assert_eq!(got, query["expected"], "{name}: history {query}");
    }
}

#[test]
fn live_vectors_match() {
    let mut paths: Vec<_> = std::fs::read_dir(vectors_dir().join("live")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        check_live_vector(&path);
    }
}

/// A what-if vector: touchpoints given one at a time under `config`, then `simulate(new_config)`
/// (which must change nothing), then `apply_config(new_config)`: the simulation, the changes
/// the application records, and the assignments after.
fn check_what_if_vector(path: &Path) {
    let vector = load(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let config: Config = serde_json::from_value(vector["config"].clone()).unwrap();
    let new_config: Config = serde_json::from_value(vector["new_config"].clone()).unwrap();
    let mut engine = Engine::new(config).unwrap();
    for tp in vector["touchpoints"].as_array().unwrap() {
        engine.ingest_one(serde_json::from_value(tp.clone()).unwrap()).unwrap();
    }
    let before = engine.assignments();
    let feed = engine.changes(0).len();
    let simulation = serde_json::to_value(engine.simulate(new_config.clone()).unwrap()).unwrap();
    assert_eq!(engine.assignments(), before, "{name}: simulate changes nothing");
    assert_eq!(engine.changes(0).len(), feed, "{name}: simulate records nothing");
    engine.apply_config(new_config).unwrap();
    let got = json!({
        "simulation": simulation,
        "recorded": serde_json::to_value(engine.changes(feed as u64)).unwrap(),
        "assignments": engine.assignments().into_iter().map(|a| (a.touchpoint_id, json!(a.profile_id))).collect::<serde_json::Map<_, _>>(),
    });
    if std::env::var_os("OMNITWIN_PRINT_VECTORS").is_some() {
        println!("{name}: {got}");
        return;
    }
    assert_eq!(got, vector["expected"], "{name}");
}

#[test]
fn what_if_vectors_match() {
    let mut paths: Vec<_> =
        std::fs::read_dir(vectors_dir().join("what_if")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        check_what_if_vector(&path);
    }
}

/// A twin vector: rows ingested as a binding gives them (custom attributes as columns), then
/// each listed profile's traits, consent and segments, segment queries (by the touchpoints of
/// their members), configured segments' members, and expressions that must fail at a position.
fn check_twin_vector(path: &Path) {
    let vector = load(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let config: Config = serde_json::from_value(vector["config"].clone()).unwrap();
    let mut engine = Engine::new(config).unwrap();
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_value(vector["touchpoints"].clone()).unwrap();
    engine.ingest_frame(omnitwin::io::frame_from_rows(rows).unwrap(), omnitwin::OnError::Fail).unwrap();
    let expected = &vector["expected"];
    let printing = std::env::var_os("OMNITWIN_PRINT_VECTORS").is_some();
    let profile_id = |tp: &str| engine.profile_of(tp).unwrap().profile_id.clone();
    let profile_ids = |tps: &Value| {
        let mut ids: Vec<String> = tps.as_array().unwrap().iter().map(|tp| profile_id(tp.as_str().unwrap())).collect();
        ids.sort();
        ids
    };
    for (tp, want) in expected["profiles"].as_object().unwrap() {
        let profile = serde_json::to_value(engine.profile_of(tp).unwrap().as_ref()).unwrap();
        let got = json!({"traits": profile["traits"], "consent": profile["consent"], "segments": profile["segments"]});
        if printing {
            println!("\"{tp}\": {got},");
            continue;
        }
        assert_eq!(&got, want, "{name}: profile of {tp}");
    }
    for case in expected["segments"].as_array().unwrap() {
        let mut segment = omnitwin::Segment::parse(case["expression"].as_str().unwrap()).unwrap();
        if let Some(channel) = case["channel"].as_str() {
            segment = segment.requiring_consent(case["purpose"].as_str().unwrap_or("marketing"), channel);
        }
        assert_eq!(engine.segment(&segment).unwrap(), profile_ids(&case["members_of"]), "{name}: {case}");
    }
    for (segment, members_of) in expected["members"].as_object().unwrap() {
        assert_eq!(engine.segment_members(segment).unwrap(), profile_ids(members_of), "{name}: members of {segment}");
    }
    for case in expected["errors"].as_array().unwrap() {
        let err = omnitwin::Segment::parse(case["expression"].as_str().unwrap())
            .and_then(|segment| engine.segment(&segment))
            .unwrap_err();
        assert_eq!(json!(err.position()), case["position"], "{name}: {case}: {err}");
    }
}

#[test]
fn twin_vectors_match() {
    let mut paths: Vec<_> = std::fs::read_dir(vectors_dir().join("twin")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        check_twin_vector(&path);
    }
}

/// A store vector: sessions of touchpoints given one at a time to a store opened with
/// `config`, each ended by `close()`; after each, the profiles and the feed's length. Then a
/// read-only engine, a second writer and a closed engine are each refused a write, and the
/// store's check finds nothing wrong.
fn check_store_vector(path: &Path) {
    let vector = load(path);
    let dir = std::env::temp_dir().join(format!(
        "omnitwin-store-vector-{}-{}",
        path.file_stem().unwrap().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cdp.db");
    let config = Config::from_json_str(&vector["config"].to_string()).unwrap();
    let expected = &vector["expected"];
    let err = Engine::open(&file, config.clone()).unwrap_err();
    assert!(err.to_string().contains(expected["missing_error"].as_str().unwrap()), "{err}");
    assert!(!file.exists(), "opening a missing store created {}", file.display());
    let mut got = Vec::new();
    for (i, session) in vector["sessions"].as_array().unwrap().iter().enumerate() {
        let mut engine =
            if i == 0 { Engine::open_or_create(&file, config.clone()) } else { Engine::open(&file, None) }.unwrap();
        assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
        for tp in session["touchpoints"].as_array().unwrap() {
            let tp = engine.touchpoint_from_json(tp.clone()).unwrap();
            engine.ingest_one(tp).unwrap();
        }
        let profiles: BTreeMap<String, String> =
            engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
        got.push(json!({"profiles": profiles, "feed": engine.changes(0).len()}));
        engine.close();
    }
    assert_eq!(Value::Array(got), expected["sessions"], "{}", path.display());
    let mut reader = Engine::open_read_only(&file).unwrap();
    let err = reader.ingest_one(Touchpoint::new("r1")).unwrap_err();
    assert!(err.to_string().contains(expected["read_only_error"].as_str().unwrap()), "{err}");
    let mut writer = Engine::open(&file, config.clone()).unwrap();
    let err = Engine::open(&file, config.clone()).unwrap_err();
    assert!(err.to_string().contains(expected["second_writer_error"].as_str().unwrap()), "{err}");
    assert_eq!(serde_json::to_value(&writer.check().unwrap().problems).unwrap(), expected["problems"]);
    writer.close();
    let err = writer.ingest_one(Touchpoint::new("w1")).unwrap_err();
    assert!(err.to_string().contains(expected["closed_error"].as_str().unwrap()), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A rows vector: a batch of JSON objects read by the core's one conversion of rows, the groups
/// and touchpoints it gives, and bad batches refused whole with the row and column named.
fn check_rows_vector(path: &Path) {
    let vector = load(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let config: Config = serde_json::from_value(vector["config"].clone()).unwrap();
    let objects = |rows: &Value| -> Vec<serde_json::Map<String, Value>> {
        rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect()
    };
    let mut engine = Engine::new(config.clone()).unwrap();
    let frame = omnitwin::io::frame_from_rows(objects(&vector["rows"])).unwrap();
    engine.ingest_frame(frame, omnitwin::OnError::Fail).unwrap();
    let expected = &vector["expected"];
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in engine.assignments() {
        groups.entry(a.profile_id).or_default().push(a.touchpoint_id);
    }
    let mut got: Vec<Vec<String>> = groups.into_values().collect();
    got.iter_mut().for_each(|g| g.sort());
    got.sort();
    assert_eq!(serde_json::to_value(got).unwrap(), expected["groups"], "{name}: groups");
    for (id, fields) in expected["touchpoints"].as_object().unwrap() {
        let held = serde_json::to_value(engine.touchpoint(id).unwrap()).unwrap();
        for (field, value) in fields.as_object().unwrap() {
            assert_eq!(&held[field], value, "{name}: {id}.{field}");
        }
    }
    for bad in vector["bad_batches"].as_array().unwrap() {
        let mut engine = Engine::new(config.clone()).unwrap();
        let err = omnitwin::io::frame_from_rows(objects(&bad["rows"]))
            .and_then(|frame| engine.ingest_frame(frame, omnitwin::OnError::Fail))
            .unwrap_err();
        assert_eq!(err.kind(), omnitwin::ErrorKind::InvalidInput, "{name}: {err}");
        assert_eq!(err.row(), bad["row"].as_u64().map(|r| r as usize), "{name}: {err}");
        assert_eq!(err.column(), bad["column"].as_str(), "{name}: {err}");
        assert!(engine.is_empty());
    }
}

#[test]
fn rows_vectors_match() {
    let mut paths: Vec<_> = std::fs::read_dir(vectors_dir().join("rows")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        check_rows_vector(&path);
    }
}

#[test]
fn store_vectors_match() {
    let mut paths: Vec<_> =
        std::fs::read_dir(vectors_dir().join("store")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        check_store_vector(&path);
    }
}

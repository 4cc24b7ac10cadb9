//! I/O faults in every kind of write: the store fails while inserting or deleting touchpoints,
//! or just before its commit, or while compacting. The call returns the error; nothing
//! acknowledged is lost; the engine in memory stays equal to what is on disk (checked by
//! reopening) and takes the next call. With matching on and a model the engine trained.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use super::*;
use crate::model::Change;
use crate::store::{fail_store_writes, Step};

#[path = "../../../examples/synthetic/mod.rs"]
#[allow(dead_code, clippy::all)]
mod synthetic;

/// What a caller sees of an engine: its touchpoints' profiles, the feed and the model.
type Seen = (Vec<(String, String)>, Vec<Change>, Option<String>);

/// What a caller sees of an engine.
fn seen(engine: &Engine) -> Seen {
    let mut assignments: Vec<_> = engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    assignments.sort();
    (assignments, engine.changes(0).to_vec(), engine.model.as_ref().map(|m| m.to_json()))
}

/// The first difference between two views of an engine, in a line; `None` when equal.
fn differ(a: &Seen, b: &Seen) -> Option<String> {
    if a.0.len() != b.0.len() {
        return Some(format!("{} touchpoints vs {}", a.0.len(), b.0.len()));
    }
    if let Some((x, y)) = a.0.iter().zip(&b.0).find(|(x, y)| x != y) {
        return Some(format!("{x:?} vs {y:?} ({} differ)", a.0.iter().zip(&b.0).filter(|(x, y)| x != y).count()));
    }
    if a.1 != b.1 {
        let at = a.1.iter().zip(&b.1).position(|(x, y)| x != y).unwrap_or(a.1.len().min(b.1.len()));
        return Some(format!(
            "feeds of {} and {} entries differ from entry {}: {:?} vs {:?}",
            a.1.len(),
            b.1.len(),
            at + 1,
            a.1.get(at),
            b.1.get(at)
        ));
    }
    if a.2 != b.2 {
        let (x, y) = (a.2.as_deref().unwrap_or(""), b.2.as_deref().unwrap_or(""));
        let line = x.lines().zip(y.lines()).find(|(p, q)| p != q);
        return Some(format!("models differ (present: {} vs {}): {line:?}", a.2.is_some(), b.2.is_some()));
    }
    None
}

/// A fresh store path for one test.
fn store_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("omnitwin-faults-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("cdp.db")
}

/// A kind of write, given an engine and a number that makes its touchpoints new.
type Write = fn(&mut Engine, &[Touchpoint], usize) -> Result<()>;

/// Every kind of write a store takes; each uses fresh touchpoints from `pool` at `at`.
fn writes() -> Vec<(&'static str, Write)> {
    vec![
        ("ingest_one", |e, pool, at| e.ingest_one(pool[at].clone()).map(drop)),
        ("a small batch", |e, pool, at| e.ingest(pool[at..at + 5].to_vec()).map(drop)),
        ("a batch written alongside", |e, pool, at| e.ingest(pool[at..at + 60].to_vec()).map(drop)),
        ("a large batch (rebase)", |e, pool, at| e.ingest(pool[at..at + 1_100].to_vec()).map(drop)),
        ("forget", |e, pool, _| {
            let id = someone_held(e, pool);
            e.forget(ForgetTarget::Profile(id)).map(drop)
        }),
        ("forget and suppress", |e, pool, _| {
            let id = someone_held(e, pool);
            e.forget_and_suppress(ForgetTarget::Profile(id)).map(drop)
        }),
        ("retrain", |e, _, _| e.retrain()),
        ("set_model", |e, _, _| {
            let mut model = e.model().unwrap().clone();
            model.prior = (model.prior * 2.0).min(0.5);
            e.set_model(model)
        }),
        ("apply_config", |e, _, _| {
            let mut config = e.config().clone();
            config.matching.threshold = if config.matching.threshold > 0.9 { 0.85 } else { 0.95 };
            e.apply_config(config)
        }),
        ("compact", |e, _, _| e.compact()),
    ]
}

/// The profile of the first touchpoint of the pool the engine holds.
fn someone_held(engine: &Engine, pool: &[Touchpoint]) -> String {
    pool.iter().find_map(|tp| engine.profile_of(&tp.touchpoint_id)).map(|p| p.profile_id.clone()).unwrap()
}

#[test]
fn a_write_that_fails_at_any_step_leaves_engine_and_store_as_they_were() {
    let pool = synthetic::generate(8_000, 11).touchpoints;
    let path = store_path("steps");
    let mut engine = Engine::open_or_create(&path, Config::default()).unwrap();
    // A trained model: the store opens with 1,500 touchpoints held in one batch.
    engine.ingest(pool[..1_500].to_vec()).unwrap();
    assert!(engine.model().is_some(), "the engine trained a model");
    let mut next = 1_500;
    let mut failed = 0;
    for (what, write) in writes() {
        for step in [Step::Touchpoints, Step::Commit, Step::Compact] {
            let before = seen(&engine);
            fail_store_writes(&path, Some(step));
            let result = write(&mut engine, &pool, next);
            fail_store_writes(&path, None);
            match result {
                Err(e) => {
                    failed += 1;
                    assert!(e.to_string().contains("injected"), "{what} at {step:?}: {e}");
                    // A forget committed before compaction failed is done; anything else is
                    // as it was.
                    if !(what.starts_with("forget") && step == Step::Compact) {
                        let now = seen(&engine);
                        assert_eq!(differ(&now, &before), None, "{what} failing at {step:?}: the engine is as it was");
                    }
                }
                Ok(()) => {
                    // This write does not reach that step (a batch never compacts).
                    next += 1_200;
                }
            }
            // The engine equals the store, and it takes the next write.
            let held = seen(&engine);
            drop(engine);
            engine = Engine::open_existing(&path).unwrap();
            assert_eq!(engine.warnings(), [] as [String; 0], "{what} at {step:?}");
            let reopened = seen(&engine);
            assert_eq!(
                differ(&reopened, &held),
                None,
                "{what} failing at {step:?}: the store holds what the engine held"
            );
        }
        write(&mut engine, &pool, next).unwrap_or_else(|e| panic!("{what} after the failures: {e}"));
        next += 1_200;
        let check = engine.check().unwrap();
        assert!(check.is_ok(), "{what}: {check}");
    }
    assert!(failed >= 20, "only {failed} injected failures reached a write");
    eprintln!("I/O faults: {failed} injected failures over {} write kinds, each followed by a reopen", writes().len());
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

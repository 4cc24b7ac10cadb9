//! A model-based test of the whole store lifecycle: random sequences of operations — one
//! touchpoint, small and large batches, forgetting, a new config, a new or retrained model,
//! compacting, exporting, and closing and reopening (several times in a row) — applied to a
//! durable engine and to an in-memory reference engine. After every step both show the same
//! profiles, lookups, history, change feed and model, and the store passes its own check.
//! Failing sequences shrink to a minimal one (proptest keeps it in
//! `lifecycle.proptest-regressions`, which the suite replays). `OMNITWIN_LIFECYCLE_CASES` sets
//! the number of sequences (CI runs a bounded number).

use omnitwin::{Config, Engine, ForgetTarget, IdKind, Identifier, Touchpoint};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestCaseError, TestRunner};

use crate::common::{env_number, scratch, synthetic};

/// One step of a lifecycle.
#[derive(Debug, Clone)]
enum Op {
    /// `ingest_one` of a touchpoint made from the drawn parts.
    One(Parts),
    /// A batch of a few such touchpoints.
    Batch(Vec<Parts>),
    /// A batch larger than what is added to a live engine touchpoint by touchpoint (it is
    /// resolved again whole): the next `n` touchpoints of the synthetic pool.
    Large(usize),
    /// Forgets the profile of the touchpoint at this position (of those held).
    Forget(prop::sample::Index),
    /// A new config: the match threshold moved.
    Threshold(bool),
    /// The model given again with another prior.
    SetModel(u8),
    /// A model trained again on what is held.
    Retrain,
    /// Compacts the store's file.
    Compact,
    /// Writes the profiles to a file and reads them back.
    Export,
    /// Closes the durable engine and opens the store again (`times` in a row).
    Reopen(u8),
}

/// What a drawn touchpoint carries, from small pools of values so that touchpoints share
/// identifiers (merges), share a phone among many people (a shared identifier splitting
/// profiles), carry names with and without diacritics, or carry no name at all.
#[derive(Debug, Clone)]
struct Parts {
    email: Option<u8>,
    phone: Option<u8>,
    name: Option<u8>,
    cookie: Option<u8>,
    dob: Option<u8>,
}

const NAMES: [&str; 6] =
    ["Nguyễn Văn An", "Nguyen Van An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Đức", "Đặng Thu Hà"];

impl Parts {
    fn touchpoint(&self, id: String, at: i64) -> Touchpoint {
        Touchpoint {
            email: self.email.map(|e| format!("person{e}@mail.vn").into()),
            phone: self.phone.map(|p| format!("0912 000 {:03}", p).into()),
            full_name: self.name.map(|n| NAMES[n as usize % NAMES.len()].into()),
            cookie_id: self.cookie.map(|c| format!("ck-{c}").into()),
            date_of_birth: self.dob.map(|d| format!("1990-0{}-1{}", 1 + d % 9, d % 10).into()),
            timestamp: Some(1_700_000_000_000 + at * 3_600_000),
            ..Touchpoint::new(id)
        }
    }
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        proptest::option::of(0..8u8),
        proptest::option::weighted(0.4, 0..4u8),
        proptest::option::weighted(0.6, 0..6u8),
        proptest::option::weighted(0.3, 0..5u8),
        proptest::option::weighted(0.3, 0..3u8),
    )
        .prop_map(|(email, phone, name, cookie, dob)| Parts { email, phone, name, cookie, dob })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => parts().prop_map(Op::One),
        3 => prop::collection::vec(parts(), 2..40).prop_map(Op::Batch),
        1 => (1_030..1_300usize).prop_map(Op::Large),
        2 => any::<prop::sample::Index>().prop_map(Op::Forget),
        1 => any::<bool>().prop_map(Op::Threshold),
        1 => any::<u8>().prop_map(Op::SetModel),
        1 => Just(Op::Retrain),
        1 => Just(Op::Compact),
        1 => Just(Op::Export),
        3 => (1..4u8).prop_map(Op::Reopen),
    ]
}

/// Everything a caller sees of an engine that both engines must agree on.
fn compare(durable: &Engine, reference: &Engine, step: usize, op: &Op) -> Result<(), TestCaseError> {
    let sorted = |e: &Engine| {
        let mut a: Vec<_> = e.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
        a.sort();
        a
    };
    let (a, b) = (sorted(durable), sorted(reference));
    prop_assert_eq!(a.len(), b.len(), "step {} ({:?}): touchpoints held", step, op);
    let moved: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(3).collect();
    prop_assert!(moved.is_empty(), "step {} ({:?}): profiles differ: {:?}", step, op, moved);
    prop_assert!(durable.changes(0) == reference.changes(0), "step {} ({:?}): change feeds differ", step, op);
    prop_assert!(durable.model() == reference.model(), "step {} ({:?}): models differ", step, op);
    for e in 0..8u8 {
        let id = Identifier::new(IdKind::Email, format!("person{e}@mail.vn"));
        let (x, y) = (durable.lookup(&id), reference.lookup(&id));
        prop_assert_eq!(x.as_deref(), y.as_deref(), "step {} ({:?}): lookup of {:?}", step, op, id.value);
    }
    // History: what a touchpoint's profile was when it was acknowledged (each engine's time).
    for (tp, _) in a.iter().step_by(7).take(6) {
        let at =
            |e: &Engine| e.acknowledged_at(tp).and_then(|t| e.profile_of_as_of(tp, t)).map(|p| p.profile_id.clone());
        prop_assert_eq!(at(durable), at(reference), "step {} ({:?}): history of {}", step, op, tp);
    }
    Ok(())
}

/// Runs one lifecycle on a fresh store.
fn run(ops: &[Op], case: usize) -> Result<(), TestCaseError> {
    let dir = scratch(&format!("lifecycle-{case}"));
    let path = dir.join("cdp.db");
    let pool = synthetic::generate(1_500, 7).touchpoints;
    let mut durable = Engine::open_or_create(&path, Config::default()).map_err(fail)?;
    let mut reference = Engine::new(Config::default()).map_err(fail)?;
    reference.go_live().map_err(fail)?;
    // A seed batch large enough to train a model on.
    durable.ingest(pool[..1_100].to_vec()).map_err(fail)?;
    reference.ingest(pool[..1_100].to_vec()).map_err(fail)?;
    let mut next_pool = 1_100;
    let mut next_id = 0;
    compare(&durable, &reference, 0, &Op::Compact)?;
    for (step, op) in ops.iter().enumerate() {
        let step = step + 1;
        match op {
            Op::One(parts) => {
                next_id += 1;
                let tp = parts.touchpoint(format!("x{next_id}"), next_id);
                let (x, y) = (durable.ingest_one(tp.clone()), reference.ingest_one(tp));
                prop_assert_eq!(x.map_err(|e| e.to_string()), y.map_err(|e| e.to_string()), "step {}", step);
            }
            Op::Batch(list) => {
                let batch: Vec<Touchpoint> = list
                    .iter()
                    .map(|p| {
                        next_id += 1;
                        p.touchpoint(format!("x{next_id}"), next_id)
                    })
                    .collect();
                durable.ingest(batch.clone()).map_err(fail)?;
                reference.ingest(batch).map_err(fail)?;
            }
            Op::Large(n) => {
                let n = (*n).max(durable.len() / 8 + 1);
                let end = (next_pool + n).min(pool.len());
                if next_pool < end {
                    durable.ingest(pool[next_pool..end].to_vec()).map_err(fail)?;
                    reference.ingest(pool[next_pool..end].to_vec()).map_err(fail)?;
                    next_pool = end;
                }
            }
            Op::Forget(pick) => {
                let held = reference.assignments();
                let profile = held[pick.index(held.len())].profile_id.clone();
                let (x, y) = (
                    durable.forget(ForgetTarget::Profile(profile.clone())),
                    reference.forget(ForgetTarget::Profile(profile)),
                );
                prop_assert_eq!(x.map_err(|e| e.to_string()), y.map_err(|e| e.to_string()), "step {}", step);
            }
            Op::Threshold(high) => {
                let mut config = reference.config().clone();
                config.matching.threshold = if *high { 0.97 } else { 0.9 };
                durable.apply_config(config.clone()).map_err(fail)?;
                reference.apply_config(config).map_err(fail)?;
            }
            Op::SetModel(k) => {
                if let Some(mut model) = reference.model().cloned() {
                    model.prior = (model.prior * (1.0 + f64::from(*k) / 64.0)).min(0.4);
                    durable.set_model(model.clone()).map_err(fail)?;
                    reference.set_model(model).map_err(fail)?;
                }
            }
            Op::Retrain => {
                durable.retrain().map_err(fail)?;
                reference.retrain().map_err(fail)?;
            }
            Op::Compact => durable.compact().map_err(fail)?,
            Op::Export => {
                let file = dir.join("profiles.parquet");
                durable.write_profiles(&file, omnitwin::io::OutputFormat::Parquet).map_err(fail)?;
                let (exported, _) = omnitwin::io::read_frame(&file, None, omnitwin::OnError::Fail).map_err(fail)?;
                prop_assert_eq!(exported, reference.profiles_frame().map_err(fail)?, "step {}: exports", step);
            }
            Op::Reopen(times) => {
                for _ in 0..*times {
                    drop(durable);
                    durable = Engine::open_existing(&path).map_err(fail)?;
                    prop_assert!(durable.warnings().is_empty(), "step {}: {:?}", step, durable.warnings());
                }
                // A store live without a model trains one when it opens (recording what it
                // moves), as retraining the reference does.
                if reference.model().is_none() && reference.config().matching.enabled {
                    reference.retrain().map_err(fail)?;
                }
            }
        }
        compare(&durable, &reference, step, op)?;
    }
    let check = durable.check().map_err(fail)?;
    prop_assert!(check.is_ok(), "{}", check);
    drop(durable);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn fail(e: omnitwin::Error) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

#[test]
fn a_durable_engine_lives_as_an_in_memory_one_through_any_sequence_of_operations() {
    let cases = env_number("OMNITWIN_LIFECYCLE_CASES", 12) as u32;
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/store/lifecycle.proptest-regressions"
        )))),
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let case = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&prop::collection::vec(op(), 4..18), |ops| {
        run(&ops, case.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

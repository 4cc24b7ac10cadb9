//! The same touchpoints in any order and any batch sizes give identical profiles and ids.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::{Config, Engine, Touchpoint};
use proptest::prelude::*;

/// A small pool of values, so that random touchpoints share identifiers, conflict on limited
/// kinds, and carry different names behind one identifier.
fn touchpoint_strategy(index: usize) -> impl Strategy<Value = Touchpoint> {
    (
        proptest::option::of(0..6u8),
        proptest::option::of(0..5u8),
        proptest::option::of(0..3u8),
        proptest::option::of(0..4u8),
        proptest::option::of(0..5u8),
        proptest::option::of(0..1000i64),
    )
        .prop_map(move |(email, phone, loyalty, device, name, ts)| {
            let names = ["Nguyễn An", "Nguyen An", "Trần Bình", "Lê Cường", "Phạm Dung"];
            Touchpoint {
                email: email.map(|e| format!("user{e}@x.vn").into()),
                phone: phone.map(|p| format!("091234560{p}").into()),
                loyalty_id: loyalty.map(|l| format!("L{l}").into()),
                device_id: device.map(|d| format!("dev{d}").into()),
                full_name: name.map(|n| names[n as usize].into()),
                timestamp: ts,
                ..Touchpoint::new(format!("t{index:03}"))
            }
        })
}

fn touchpoints() -> impl Strategy<Value = Vec<Touchpoint>> {
    (1..40usize).prop_flat_map(|n| (0..n).map(touchpoint_strategy).collect::<Vec<_>>())
}

fn resolve(batches: &[Vec<Touchpoint>]) -> (Vec<(String, String)>, Vec<omnitwin::Profile>) {
    let mut engine = Engine::new(Config::default()).unwrap();
    for batch in batches {
        engine.ingest(batch.clone()).unwrap();
    }
    let mut assignments: Vec<_> = engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    assignments.sort();
    let profiles = engine.profiles().into_iter().cloned().collect();
    (assignments, profiles)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn shuffling_and_batching_change_nothing(tps in touchpoints(), seed in any::<u64>(), cuts in proptest::collection::vec(1..10usize, 0..5)) {
        let expected = resolve(std::slice::from_ref(&tps));
        // A deterministic shuffle from the seed.
        let mut shuffled = tps.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut batches = Vec::new();
        let mut rest = shuffled.as_slice();
        for cut in cuts {
            let at = cut.min(rest.len());
            batches.push(rest[..at].to_vec());
            rest = &rest[at..];
        }
        batches.push(rest.to_vec());
        let got = resolve(&batches);
        prop_assert_eq!(&got.0, &expected.0);
        prop_assert_eq!(&got.1, &expected.1);
    }
}

#[test]
fn thread_count_changes_nothing() {
    let tps: Vec<Touchpoint> = (0..3000)
        .map(|i| Touchpoint {
            email: Some(format!("u{}@x.vn", i % 700).into()),
            phone: Some(format!("0912{:06}", i % 900).into()),
            full_name: Some(["Nguyễn An", "Trần Bình", "Lê Cường"][i % 3].into()),
            ..Touchpoint::new(format!("t{i}"))
        })
        .collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| resolve(std::slice::from_ref(&tps)))
    };
    assert_eq!(run(1), run(4));
}

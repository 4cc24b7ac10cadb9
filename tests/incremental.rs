//! Live resolution: touchpoints ingested one at a time, in any order and batch sizes, end in
//! exactly the profiles (same ids) of one batch with the same model; the change feed tells
//! every step; merged-away ids lead to the survivor.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use std::collections::{BTreeMap, BTreeSet};

use omnitwin::matching::{ComparisonModel, LevelModel, Model, TermFrequencies};
use omnitwin::{ChangeEvent, Config, Engine, IdKind, Identifier, ProfileRef, Touchpoint};
use proptest::prelude::*;

/// A fixed model for the default comparisons, with frozen name frequencies ("an nguyen" is
/// common, so agreeing on it is weaker evidence).
fn model() -> Model {
    let config = Config::default();
    let comparisons = config
        .matching
        .comparisons
        .iter()
        .map(|spec| {
            let n = spec.levels.len();
            let mut levels = vec![LevelModel { label: "null".into(), m: 1.0, u: 1.0 }];
            for i in 0..n {
                let (m, u) = if i == 0 { (0.8, 0.002) } else { (0.15 / n as f64, 0.01) };
                levels.push(LevelModel { label: format!("level {}", i + 1), m, u });
            }
            levels.push(LevelModel { label: "else".into(), m: 0.05, u: 0.98 });
            let term_frequencies = spec.term_frequency.then(|| TermFrequencies {
                total: 40,
                counts: BTreeMap::from([("an nguyen".to_owned(), 12), ("binh tran".to_owned(), 3)]),
            });
            ComparisonModel { name: spec.name().to_owned(), levels, term_frequencies }
        })
        .collect();
    Model { prior: 0.01, comparisons }
}

/// Touchpoints from a small pool of values: they share identifiers, conflict on limited kinds
/// (two customer ids of one source), carry different names behind one phone (shared), and
/// match on name, date of birth and address without a common identifier.
fn touchpoint_strategy(index: usize) -> impl Strategy<Value = Touchpoint> {
    (
        (proptest::option::of(0..6u8), proptest::option::of(0..5u8), proptest::option::of(0..3u8)),
        (proptest::option::of(0..4u8), proptest::option::of(0..5u8), proptest::option::of(0..3u8)),
        (proptest::option::of(0..3u8), proptest::option::of(0..1000i64), 0..2u8),
        (proptest::option::of(0..8u8), 0..4u8, 0..3u8),
    )
        .prop_map(
            move |((email, phone, customer), (name, dob, address), (city, ts, source), (event, channel, sku))| {
                let names = ["Nguyễn An", "An Nguyen", "Trần Bình", "Lê Cường"];
                let addresses = ["12 Lý Thường Kiệt, Hoàn Kiếm", "12 Ly Thuong Kiet Hoan Kiem", "5 Lê Lợi"];
                // Events that move traits: purchases, carts, consent; hours apart, so carts are
                // abandoned and buyers lapse within the range.
                let events = [
                    "purchase",
                    "add_to_cart",
                    "remove_from_cart",
                    "page_view",
                    "opt_in",
                    "opt_out",
                    "email_open",
                    "purchase",
                ];
                let mut attributes = std::collections::BTreeMap::new();
                attributes.insert("sku".into(), format!("S{sku}").into());
                attributes.insert("consent_channel".into(), ["email", "sms", "all"][sku as usize].into());
                Touchpoint {
                    event_type: event.map(|e| events[e as usize].into()),
                    amount: event.filter(|e| *e == 0 || *e == 7).map(|e| f64::from(e) * 1000.0 + f64::from(sku)),
                    channel: Some(["store", "web", "app", "email"][channel as usize].parse().unwrap()),
                    attributes,
                    email: email.map(|e| format!("user{e}@x.vn").into()),
                    phone: phone.map(|p| format!("091234560{p}").into()),
                    customer_id: customer.map(|c| format!("C{c}").into()),
                    source: Some(["shopee", "pos"][source as usize].into()),
                    full_name: name.map(|n| names[n as usize].into()),
                    date_of_birth: dob.map(|d| format!("199{d}-0{}-1{d}", d + 1).into()),
                    address: address.map(|a| addresses[a as usize].into()),
                    city: city.map(|c| ["Hà Nội", "HCM", "Đà Nẵng"][c as usize].into()),
                    timestamp: ts.map(|h| 1_700_000_000_000 + h * 3_600_000),
                    ..Touchpoint::new(format!("t{index:03}"))
                }
            },
        )
}

fn touchpoints() -> impl Strategy<Value = Vec<Touchpoint>> {
    (1..36usize).prop_flat_map(|n| (0..n).map(touchpoint_strategy).collect::<Vec<_>>())
}

/// A config whose profiles carry a user-defined trait and segments (one needing consent).
fn config() -> Config {
    Config::from_json_str(
        r#"{"traits": {"lapsed_after_days": 20, "custom": {"spend_week": {"aggregate": "sum", "field": "amount", "events": ["purchase"], "within_days": 7}}},
            "segments": {"buyers": {"where": "orders >= 1 and rfm.recency_score >= 3"},
                         "carts_email": {"where": "abandoned_cart or traits.spend_week > 0", "channel": "email"}}}"#,
    )
    .unwrap()
}

fn engine() -> Engine {
    let mut engine = Engine::new(config()).unwrap();
    engine.set_model(model()).unwrap();
    engine
}

fn sorted_assignments(engine: &Engine) -> Vec<(String, String)> {
    let mut out: Vec<_> = engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    out.sort();
    out
}

/// The profiles the feed says exist at its end.
fn replay(engine: &Engine) -> BTreeSet<String> {
    replay_with_segments(engine).0
}

/// The profiles the feed says exist at its end, and the (profile, segment) memberships it says
/// they have.
fn replay_with_segments(engine: &Engine) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut live = BTreeSet::new();
    let mut members = BTreeSet::new();
    for (i, change) in engine.changes(0).iter().enumerate() {
        assert_eq!(change.seq, i as u64 + 1, "the feed is numbered from 1 without gaps");
        match &change.event {
            ChangeEvent::Created { profile_id } => {
                assert!(live.insert(profile_id.clone()), "{profile_id} created twice")
            }
            ChangeEvent::Merged { profile_id, into } => {
                assert!(live.remove(profile_id), "{profile_id} merged but not live");
                assert!(live.contains(into), "{profile_id} merged into {into}, not live");
            }
            ChangeEvent::Forgotten { profile_id } => {
                assert!(live.remove(profile_id), "{profile_id} forgotten but not live");
                members.retain(|(p, _)| p != profile_id);
            }
            ChangeEvent::SegmentEntered { profile_id, segment } => {
                assert!(live.contains(profile_id), "{profile_id} entered {segment}, not live");
                assert!(members.insert((profile_id.clone(), segment.clone())), "{profile_id} entered {segment} twice");
            }
            ChangeEvent::SegmentExited { profile_id, segment } => {
                assert!(
                    members.remove(&(profile_id.clone(), segment.clone())),
                    "{profile_id} left {segment}, not in it"
                );
            }
            ChangeEvent::Split { profile_id, into } => {
                assert!(live.contains(profile_id), "{profile_id} split but not live");
                if !into.contains(profile_id) {
                    live.remove(profile_id);
                }
                for id in into {
                    assert!(live.contains(id), "{profile_id} split into {id}, not live");
                }
            }
            other => panic!("a change the test does not know: {other:?}"),
        }
    }
    members.iter().for_each(|(p, s)| assert!(live.contains(p), "{p} is gone but still in {s}"));
    (live, members)
}

/// The touchpoints in an order drawn from `seed` (Fisher–Yates on a linear congruential
/// stream).
fn shuffled(tps: &[Touchpoint], seed: u64) -> Vec<Touchpoint> {
    let mut out = tps.to_vec();
    let mut state = seed;
    for i in (1..out.len()).rev() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.swap(i, (state >> 33) as usize % (i + 1));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn one_at_a_time_in_any_order_equals_one_batch(
        tps in touchpoints(),
        seed in any::<u64>(),
        cuts in proptest::collection::vec(0..6usize, 0..6),
        start in 0..8usize,
    ) {
        let mut batch = engine();
        batch.ingest(tps.clone()).unwrap();
        let expected = sorted_assignments(&batch);
        let scale = batch.rfm_scale();

        let shuffled = shuffled(&tps, seed);
        // A first batch before the engine goes live, then single touchpoints and small batches.
        let mut live = engine();
        let start = start.min(shuffled.len());
        live.ingest(shuffled[..start].to_vec()).unwrap();
        let mut rest = &shuffled[start..];
        let mut cuts = cuts.into_iter().cycle();
        while !rest.is_empty() {
            let size = cuts.next().unwrap_or(0).clamp(1, rest.len());
            if size == 1 {
                let outcome = live.ingest_one(rest[0].clone()).unwrap();
                prop_assert_eq!(&outcome.touchpoint_id, &rest[0].touchpoint_id.to_string());
            } else {
                live.go_live().unwrap();
                live.ingest(rest[..size].to_vec()).unwrap();
            }
            rest = &rest[size..];
        }
        live.go_live().unwrap(); // when everything came in the first batch
        // Scores against one scale (a live engine fixes its own when it goes live).
        live.set_rfm_scale(scale).unwrap();
        // Assignments and profiles read from the live state, before any batch resolution.
        let got = sorted_assignments(&live);
        prop_assert_eq!(&got, &expected);
        for tp in &tps {
            let want = batch.profile_of(&tp.touchpoint_id).unwrap();
            let have = live.profile_of(&tp.touchpoint_id).unwrap();
            prop_assert_eq!(&*have, &*want);
        }
        let final_ids: BTreeSet<String> = expected.iter().map(|(_, p)| p.clone()).collect();
        prop_assert_eq!(replay(&live), final_ids);
        // After a refresh (time-dependent traits move for everyone as `as_of` moves), the
        // feed's memberships are the batch profiles' segments.
        live.refresh_segments().unwrap();
        let want: BTreeSet<(String, String)> = batch
            .profiles()
            .iter()
            .flat_map(|p| p.segments.iter().map(|s| (p.profile_id.clone(), s.clone())))
            .collect();
        prop_assert_eq!(replay_with_segments(&live).1, want);
        // The explanation from the live state equals the batch one.
        if tps.len() >= 2 {
            let (a, b) = (&tps[0].touchpoint_id, &tps[tps.len() - 1].touchpoint_id);
            prop_assert_eq!(live.explain(a, b).unwrap(), batch.explain(a, b).unwrap());
        }
    }

    /// Blocks of at most three touchpoints: arrivals push blocks over the limit (their pairs stop
    /// counting) and the live result still equals one batch.
    #[test]
    fn blocks_going_over_the_size_limit_live_equal_one_batch(tps in touchpoints(), seed in any::<u64>()) {
        let small_blocks = || {
            let mut config = config();
            config.matching.max_block_records = Some(3);
            let mut engine = Engine::new(config).unwrap();
            engine.set_model(model()).unwrap();
            engine
        };
        let mut batch = small_blocks();
        batch.ingest(tps.clone()).unwrap();
        let mut live = small_blocks();
        live.go_live().unwrap();
        for tp in shuffled(&tps, seed) {
            live.ingest_one(tp).unwrap();
        }
        prop_assert_eq!(sorted_assignments(&live), sorted_assignments(&batch));
    }
}

#[test]
fn merges_keep_the_older_id_and_old_ids_lead_to_the_survivor() {
    let mut engine = engine();
    let a = engine
        .ingest_one(Touchpoint { email: Some("an@x.vn".into()), timestamp: Some(10), ..Touchpoint::new("a") })
        .unwrap();
    assert!(matches!(&a.changes[..], [c] if c.event == ChangeEvent::Created { profile_id: a.profile_id.clone() }));
    let b = engine
        .ingest_one(Touchpoint { phone: Some("0912345678".into()), timestamp: Some(20), ..Touchpoint::new("b") })
        .unwrap();
    let c = engine
        .ingest_one(Touchpoint {
            email: Some("AN@x.vn".into()),
            phone: Some("+84 912 345 678".into()),
            timestamp: Some(30),
            ..Touchpoint::new("c")
        })
        .unwrap();
    assert_eq!(c.profile_id, a.profile_id, "the older profile's id survives");
    let merged: Vec<&ChangeEvent> = c.changes.iter().map(|c| &c.event).collect();
    assert_eq!(merged, [&ChangeEvent::Merged { profile_id: b.profile_id.clone(), into: a.profile_id.clone() }]);
    let survivor = engine.profile(&b.profile_id).unwrap();
    assert_eq!(survivor.profile_id, a.profile_id);
    assert_eq!(survivor.touchpoint_count, 3);
    let found = engine.lookup(&Identifier::new(IdKind::Phone, "0912 345 678")).unwrap();
    assert_eq!(found.profile_id, a.profile_id);
    let log = engine.changes_frame(0).unwrap();
    let names: Vec<String> = log.get_column_names().iter().map(|c| c.to_string()).collect();
    assert_eq!(names, ["seq", "change", "profile_id", "into", "segment"]);
    assert_eq!(log.height(), 3);
    // Reading the feed on from where a consumer stopped.
    assert_eq!(engine.changes(2).len(), 1);
    assert_eq!(engine.changes(99).len(), 0);
    // An older touchpoint arriving late anchors the profile: its new id absorbs the old one.
    let d = engine
        .ingest_one(Touchpoint { email: Some("an@x.vn".into()), timestamp: Some(1), ..Touchpoint::new("d") })
        .unwrap();
    assert_ne!(d.profile_id, a.profile_id);
    assert!(d
        .changes
        .iter()
        .any(|c| c.event == ChangeEvent::Merged { profile_id: a.profile_id.clone(), into: d.profile_id.clone() }));
    assert_eq!(engine.profile(&b.profile_id).unwrap().profile_id, d.profile_id, "chains of merges are followed");
}

#[test]
fn a_live_profile_is_built_once_and_shared_until_its_traits_move() {
    let mut engine = engine();
    let a = Touchpoint { email: Some("an@x.vn".into()), timestamp: Some(10), ..Touchpoint::new("a") };
    engine.ingest_one(a).unwrap();
    let email = Identifier::new(IdKind::Email, "An@X.vn");
    let shared = |p: Option<ProfileRef<'_>>| match p {
        Some(ProfileRef::Shared(arc)) => arc,
        other => panic!("a live engine's profile is shared with its state, not {other:?}"),
    };
    let first = shared(engine.lookup(&email));
    let again = shared(engine.lookup(&email));
    assert!(std::sync::Arc::ptr_eq(&first, &again), "the built profile is not copied");
    assert_eq!(*engine.profile_of("a").unwrap(), *first);
    // Someone else's later touchpoint moves `as_of`: a's time-dependent traits are computed again,
    // once, and the result kept.
    engine
        .ingest_one(Touchpoint { email: Some("binh@x.vn".into()), timestamp: Some(50), ..Touchpoint::new("b") })
        .unwrap();
    let moved = shared(engine.lookup(&email));
    assert_eq!(first.traits.as_of, Some(10));
    assert_eq!(moved.traits.as_of, Some(50));
    assert!(!std::sync::Arc::ptr_eq(&first, &moved));
    assert!(std::sync::Arc::ptr_eq(&moved, &shared(engine.lookup(&email))));
    // A copy of one's own outlives the engine's next change.
    let kept = engine.lookup(&email).unwrap().into_owned();
    engine
        .ingest_one(Touchpoint { email: Some("an@x.vn".into()), timestamp: Some(60), ..Touchpoint::new("c") })
        .unwrap();
    assert_eq!(kept.touchpoint_count, 1);
    assert_eq!(engine.lookup(&email).unwrap().touchpoint_count, 2);
}

/// A shop's landline, which many customers give.
const LANDLINE: &str = "0243 826 1234";

/// Touchpoint `t{i}` of someone giving the shop's landline, with their name and email.
fn on_landline(i: usize, name: &str, email: &str) -> Touchpoint {
    Touchpoint {
        phone: Some(LANDLINE.into()),
        full_name: Some(name.into()),
        email: Some(email.into()),
        timestamp: Some(i as i64),
        ..Touchpoint::new(format!("t{i}"))
    }
}

#[test]
fn a_phone_found_shared_splits_the_profile_it_held_together() {
    let mut engine = engine();
    let landline = LANDLINE;
    let people = ["Nguyễn An", "Trần Bình", "Lê Cường", "Phạm Dung"];
    let mut changes = Vec::new();
    for (i, name) in people.iter().enumerate() {
        changes.extend(
            engine
                .ingest_one(Touchpoint {
                    phone: Some(landline.into()),
                    full_name: Some((*name).into()),
                    timestamp: Some(i as i64),
                    ..Touchpoint::new(format!("t{i}"))
                })
                .unwrap()
                .changes,
        );
    }
    assert!(
        changes.iter().any(|c| matches!(&c.event, ChangeEvent::Split { into, .. } if into.len() > 1)),
        "a split is recorded: {changes:?}"
    );
    let ids: BTreeSet<String> = engine.assignments().into_iter().map(|a| a.profile_id).collect();
    assert_eq!(ids.len(), 4, "four people, no longer joined by the shared phone");
    assert!(engine.lookup(&Identifier::new(IdKind::Phone, landline)).is_none(), "a shared phone identifies nobody");
    let err = engine.forget(omnitwin::ForgetTarget::Identifier(Identifier::new(IdKind::Phone, landline))).unwrap_err();
    assert!(err.to_string().contains("names no one person"), "{err}");
    assert_eq!(engine.len(), 4, "nobody was forgotten");
}

/// A phone a hundred touchpoints carry (the live engine keeps what they carry instead of
/// scanning them on every arrival): arrivals bringing nothing new keep it linking; strangers
/// arriving with it find it shared, exactly as one batch of everything does.
#[test]
fn a_phone_with_many_touchpoints_is_found_shared_when_strangers_arrive_with_it() {
    let (landline, tp) = (LANDLINE, on_landline);
    let mut all: Vec<Touchpoint> = (0..100).map(|i| tp(i, "Nguyễn An", "an.nguyen@gmail.com")).collect();
    let strangers = [
        ("Trần Bình", "binh.tran@gmail.com"),
        ("Lê Cường", "cuong.le@gmail.com"),
        ("Phạm Dung", "dung.pham@gmail.com"),
    ];
    all.extend(strangers.iter().enumerate().map(|(k, (name, email))| tp(100 + k, name, email)));
    let mut live = engine();
    live.ingest(all[..70].to_vec()).unwrap();
    for t in &all[70..100] {
        live.ingest_one(t.clone()).unwrap();
    }
    assert_eq!(live.assignments().into_iter().map(|a| a.profile_id).collect::<BTreeSet<_>>().len(), 1);
    assert!(live.lookup(&Identifier::new(IdKind::Phone, landline)).is_some(), "one person's phone links");
    for t in &all[100..] {
        live.ingest_one(t.clone()).unwrap();
    }
    assert!(live.lookup(&Identifier::new(IdKind::Phone, landline)).is_none(), "now shared by four names");
    let mut batch = engine();
    batch.ingest(all.clone()).unwrap();
    assert_eq!(sorted_assignments(&live), sorted_assignments(&batch));
    assert_eq!(live.assignments().into_iter().map(|a| a.profile_id).collect::<BTreeSet<_>>().len(), 4);
    // The finding, with its count of touchpoints, is the one batch finds.
    for (a, b) in [("t0", "t100"), ("t3", "t99"), ("t101", "t102")] {
        let (l, r) = (live.explain(a, b).unwrap(), batch.explain(a, b).unwrap());
        assert_eq!(l, r, "{a} {b}");
    }
    let why = serde_json::to_string(&live.explain("t0", "t100").unwrap()).unwrap();
    assert!(why.contains("its 103 touchpoints"), "{why}");
}

/// An identifier already popular when the engine goes live (what its touchpoints carry is worked
/// out then, not on the first arrival that touches it): the first stranger to arrive with it
/// after one held before it makes three names, and it is found shared as a batch finds it —
/// wherever the held stranger stands among the phone's touchpoints.
#[test]
fn a_phone_popular_before_going_live_is_found_shared_by_the_next_stranger() {
    let (landline, tp) = (LANDLINE, on_landline);
    for held in 0..70 {
        let mut all: Vec<Touchpoint> = (0..70)
            .map(|i| {
                if i == held {
                    tp(i, "Trần Bình", "binh.tran@gmail.com")
                } else {
                    tp(i, "Nguyễn An", "an.nguyen@gmail.com")
                }
            })
            .collect();
        let mut live = engine();
        live.ingest(all.clone()).unwrap();
        live.go_live().unwrap();
        assert!(live.lookup(&Identifier::new(IdKind::Phone, landline)).is_some(), "two names: still linking");
        let stranger = tp(70, "Phạm Dung", "dung.pham@gmail.com");
        live.ingest_one(stranger.clone()).unwrap();
        assert!(live.lookup(&Identifier::new(IdKind::Phone, landline)).is_none(), "now shared by three names");
        all.push(stranger);
        let mut batch = engine();
        batch.ingest(all).unwrap();
        assert_eq!(sorted_assignments(&live), sorted_assignments(&batch));
    }
}

/// Every thread of rayon's shared pool is kept busy while touchpoints arrive one at a time: an
/// arrival that handed work to the pool would wait until the busy threads gave up (a minute),
/// and they would report it. Live updates are small; they run on the caller's thread.
#[test]
fn live_arrivals_run_on_the_calling_thread() {
    use std::sync::{Arc, Barrier, Condvar, Mutex};
    use std::time::Duration;
    // Person p has an email touchpoint (with name and birth date), a phone touchpoint (with an
    // address: nothing to match the first on) and one carrying both: the latter arrive live for
    // the first hundred people and merge their two profiles.
    let surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"];
    let given = ["An", "Bình", "Cường", "Dung", "Em", "Giang", "Hà"];
    let tp = |person: usize, kind: usize| Touchpoint {
        email: (kind != 1).then(|| format!("user{person}@x.vn").into()),
        phone: (kind != 0).then(|| format!("0912{person:06}").into()),
        full_name: (kind != 1).then(|| format!("{} {}", surnames[person % 6], given[person % 7]).into()),
        date_of_birth: (kind != 1)
            .then(|| format!("19{}-0{}-1{}", 60 + person % 40, 1 + person % 9, person % 10).into()),
        address: (kind != 0).then(|| format!("{} Lê Lợi", person % 53).into()),
        timestamp: Some((person * 3 + kind) as i64),
        ..Touchpoint::new(format!("t{person}-{kind}"))
    };
    let held: Vec<Touchpoint> = (0..500)
        .flat_map(|p| (0..3).filter(move |&k| p >= 100 || k < 2).map(move |k| (p, k)))
        .map(|(p, k)| tp(p, k))
        .collect();
    let mut live = engine();
    live.ingest(held.clone()).unwrap();
    live.go_live().unwrap();
    let threads = rayon::current_num_threads();
    let started = Arc::new(Barrier::new(threads + 1));
    let released = Arc::new((Mutex::new(false), Condvar::new()));
    let gave_up = Arc::new(Mutex::new(0));
    for _ in 0..threads {
        let (started, released, gave_up) = (Arc::clone(&started), Arc::clone(&released), Arc::clone(&gave_up));
        rayon::spawn(move || {
            started.wait();
            let (lock, wake) = &*released;
            let (guard, wait) =
                wake.wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(60), |done| !*done).unwrap();
            drop(guard);
            if wait.timed_out() {
                *gave_up.lock().unwrap() += 1;
            }
        });
    }
    started.wait();
    let mut merges = 0;
    for person in 0..100 {
        let outcome = live.ingest_one(tp(person, 2)).unwrap();
        merges += outcome.changes.iter().filter(|c| matches!(c.event, ChangeEvent::Merged { .. })).count();
    }
    let (lock, wake) = &*released;
    *lock.lock().unwrap() = true;
    wake.notify_all();
    // The pool is free again: a batch may use it.
    let mut batch = engine();
    batch.ingest(held.into_iter().chain((0..100).map(|p| tp(p, 2)))).unwrap();
    assert_eq!(*gave_up.lock().unwrap(), 0, "an arrival waited for the shared pool");
    assert_eq!(merges, 100, "each arrival merged its person's two profiles");
    assert_eq!(sorted_assignments(&live), sorted_assignments(&batch));
}

#[test]
fn bad_touchpoints_leave_the_live_engine_unchanged() {
    let mut engine = engine();
    engine.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("a") }).unwrap();
    let before = engine.changes(0).len();
    let err = engine.ingest_one(Touchpoint { email: Some("b@x.vn".into()), ..Touchpoint::new("a") }).unwrap_err();
    assert_eq!(err.kind(), omnitwin::ErrorKind::InvalidInput, "{err}");
    let err = engine.ingest_one(Touchpoint::new(" ")).unwrap_err();
    assert!(err.to_string().contains("touchpoint_id"), "{err}");
    assert_eq!(engine.len(), 1);
    assert_eq!(engine.changes(0).len(), before);
}

#[test]
fn a_large_batch_into_a_live_engine_is_resolved_whole_and_recorded() {
    let mut engine = engine();
    engine
        .ingest_one(Touchpoint { email: Some("u1@x.vn".into()), timestamp: Some(5), ..Touchpoint::new("first") })
        .unwrap();
    let batch: Vec<Touchpoint> = (0..1500)
        .map(|i| Touchpoint {
            email: Some(format!("u{}@x.vn", i % 400).into()),
            timestamp: Some(10 + i),
            ..Touchpoint::new(format!("t{i}"))
        })
        .collect();
    engine.ingest(batch.clone()).unwrap();
    let mut reference = self::engine();
    reference
        .ingest(
            std::iter::once(Touchpoint {
                email: Some("u1@x.vn".into()),
                timestamp: Some(5),
                ..Touchpoint::new("first")
            })
            .chain(batch),
        )
        .unwrap();
    assert_eq!(sorted_assignments(&engine), sorted_assignments(&reference));
    assert_eq!(replay(&engine).len(), 400);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn forgetting_a_person_equals_never_having_ingested_them(tps in touchpoints(), pick in any::<prop::sample::Index>()) {
        let mut live = engine();
        for tp in &tps {
            live.ingest_one(tp.clone()).unwrap();
        }
        let chosen = &tps[pick.index(tps.len())];
        let profile = live.profile_of(&chosen.touchpoint_id).unwrap().into_owned();
        let report = live.forget(omnitwin::ForgetTarget::Profile(profile.profile_id.clone())).unwrap();
        prop_assert_eq!(&report.touchpoints, &profile.touchpoint_ids.iter().map(|t| t.to_string()).collect::<Vec<_>>());
        prop_assert!(live.touchpoint(&chosen.touchpoint_id).is_none());
        prop_assert!(live.profile(&profile.profile_id).is_none());
        // The same as a batch of the others, with the model as it is now (the forgotten
        // values taken out of its name counts).
        let mut batch = Engine::new(config()).unwrap();
        batch.set_model(live.model().unwrap().clone()).unwrap();
        batch.set_rfm_scale(live.rfm_scale()).unwrap();
        batch.ingest(tps.iter().filter(|t| !report.touchpoints.contains(&t.touchpoint_id.to_string())).cloned()).unwrap();
        prop_assert_eq!(sorted_assignments(&live), sorted_assignments(&batch));
        let final_ids: BTreeSet<String> = sorted_assignments(&live).into_iter().map(|(_, p)| p).collect();
        prop_assert_eq!(replay(&live), final_ids);
    }
}

#[test]
fn forgetting_takes_out_of_the_frozen_name_counts_exactly_the_values_they_counted() {
    let named = |i: usize, name: &str| Touchpoint {
        email: Some(format!("p{i}@x.vn").into()),
        full_name: Some(name.into()),
        ..Touchpoint::new(format!("t{i}"))
    };
    // A model without value counts: the engine freezes them from what it holds when it goes
    // live (the batch below), not from later arrivals.
    let mut given = model();
    for c in &mut given.comparisons {
        c.term_frequencies = None;
    }
    let mut engine = Engine::new(config()).unwrap();
    engine.set_model(given).unwrap();
    engine
        .ingest([named(0, "An Nguyen"), named(1, "Nguyễn An"), named(2, "Binh Tran"), named(3, "Binh Tran")])
        .unwrap();
    engine.go_live().unwrap();
    engine.ingest_one(named(4, "Binh Tran")).unwrap();
    let counts = |engine: &Engine| {
        let tf = engine.model().unwrap().comparisons.iter().find_map(|c| c.term_frequencies.clone()).unwrap();
        (tf.total, tf.counts.get("an nguyen").copied(), tf.counts.get("binh tran").copied())
    };
    let frozen = counts(&engine);
    assert_eq!(frozen, (4, Some(2), Some(2)), "counted over the four held when the engine went live");
    // The arrival was never counted: forgetting it leaves the counts as they are.
    engine.forget(omnitwin::ForgetTarget::Identifier(Identifier::new(IdKind::Email, "p4@x.vn"))).unwrap();
    assert_eq!(counts(&engine), frozen, "an uncounted touchpoint's value is not taken out");
    // A counted one is: "binh tran" falls to one (values seen once are not listed).
    engine.forget(omnitwin::ForgetTarget::Identifier(Identifier::new(IdKind::Email, "p2@x.vn"))).unwrap();
    assert_eq!(counts(&engine), (3, Some(2), None));
    engine.forget(omnitwin::ForgetTarget::Identifier(Identifier::new(IdKind::Email, "p0@x.vn"))).unwrap();
    assert_eq!(counts(&engine), (2, None, None));
    assert!(engine.model().unwrap().check().is_ok());
    let err = engine.forget(omnitwin::ForgetTarget::Profile("P0000000000000000".into())).unwrap_err();
    assert_eq!(err.kind(), omnitwin::ErrorKind::NotFound);

    // A model given with its own counts is input: kept as given.
    let mut engine = self::engine();
    engine.ingest_one(named(2, "Binh Tran")).unwrap();
    engine.forget(omnitwin::ForgetTarget::Identifier(Identifier::new(IdKind::Email, "p2@x.vn"))).unwrap();
    assert_eq!(counts(&engine), (40, Some(12), Some(3)));
}

#[test]
fn simulate_reports_a_rule_change_and_apply_records_it() {
    let dir = std::env::temp_dir().join(format!("omnitwin-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cdp.db");
    let _ = std::fs::remove_file(&path);
    let config = Config::from_json_str(r#"{"matching": {"enabled": false}}"#).unwrap();
    let mut engine = Engine::open_or_create(&path, config).unwrap();
    for tp in [
        Touchpoint { phone: Some("0912 345 678".into()), timestamp: Some(1), ..Touchpoint::new("a") },
        Touchpoint {
            phone: Some("+84912345678".into()),
            email: Some("an@x.vn".into()),
            timestamp: Some(2),
            ..Touchpoint::new("b")
        },
        Touchpoint { email: Some("an@x.vn".into()), timestamp: Some(3), ..Touchpoint::new("c") },
        Touchpoint { email: Some("binh@x.vn".into()), timestamp: Some(4), ..Touchpoint::new("d") },
    ] {
        engine.ingest_one(tp).unwrap();
    }
    let before = sorted_assignments(&engine);
    let feed = engine.changes(0).len();
    let stricter =
        Config::from_json_str(r#"{"matching": {"enabled": false}, "identifiers": {"phone": {"enabled": false}}}"#)
            .unwrap();
    let what_if = engine.simulate(stricter.clone()).unwrap();
    assert_eq!((what_if.profiles_before, what_if.profiles_after, what_if.touchpoints_moved), (2, 3, 2));
    let old = engine.profile_of("a").unwrap().profile_id.clone();
    // The profile splits: `a` (the earliest, anchoring the id) keeps it; `b` and `c`, held
    // together by the email, become a new profile.
    let new = match &what_if.changes[..] {
        [ChangeEvent::Created { profile_id: new }, ChangeEvent::Split { profile_id, into }]
            if *profile_id == old && into.contains(new) && into.contains(&old) =>
        {
            new.clone()
        }
        other => panic!("{other:?}"),
    };
    // Nothing changed.
    assert_eq!(sorted_assignments(&engine), before);
    assert_eq!(engine.changes(0).len(), feed);
    // Applying it records exactly what the simulation said, and the store keeps the new config.
    engine.apply_config(stricter.clone()).unwrap();
    let recorded: Vec<ChangeEvent> = engine.changes(feed as u64).iter().map(|c| c.event.clone()).collect();
    assert_eq!(recorded, what_if.changes);
    let after = sorted_assignments(&engine);
    assert_eq!(engine.profile_of("a").unwrap().profile_id, old);
    assert_eq!(engine.profile_of("b").unwrap().profile_id, new);
    drop(engine);
    let reopened = Engine::open_existing(&path).unwrap();
    assert_eq!(reopened.config(), &stricter);
    assert_eq!(sorted_assignments(&reopened), after);
    assert!(Engine::open_or_create(&path, Config::default()).is_err(), "the store has the new config now");
    // A bad config is refused and changes nothing.
    let mut engine = reopened;
    let bad = Config::from_json_str(r#"{"timezone": "ICT"}"#).unwrap();
    assert!(engine.simulate(bad.clone()).is_err());
    assert!(engine.apply_config(bad).is_err());
    assert_eq!(engine.config(), &stricter);
    std::fs::remove_dir_all(&dir).ok();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// History: after arrivals in any order and batch sizes, asking about the time of any
    /// earlier step gives exactly the profiles the engine gave then (ids, touchpoints, traits,
    /// segments), for touchpoints and for every profile id it had handed out by then.
    #[test]
    fn history_shows_what_the_engine_said_then(
        tps in touchpoints(),
        seed in any::<u64>(),
        cuts in proptest::collection::vec(0..4usize, 0..6),
    ) {
        let shuffled = shuffled(&tps, seed);
        let mut live = engine();
        live.go_live().unwrap();
        let mut seen_ids: BTreeSet<String> = BTreeSet::new();
        // Per step: its time, then what the engine said about each touchpoint and each id.
        let mut steps = Vec::new();
        let mut rest = &shuffled[..];
        let mut cuts = cuts.into_iter().cycle();
        while !rest.is_empty() {
            let size = cuts.next().unwrap_or(0).clamp(1, rest.len());
            if size == 1 {
                live.ingest_one(rest[0].clone()).unwrap();
            } else {
                live.ingest(rest[..size].to_vec()).unwrap();
            }
            let at = live.acknowledged_at(&rest[size - 1].touchpoint_id).unwrap();
            rest = &rest[size..];
            seen_ids.extend(live.changes(0).iter().filter_map(|c| match &c.event {
                ChangeEvent::Created { profile_id } => Some(profile_id.clone()),
                _ => None,
            }));
            let by_touchpoint: Vec<_> =
                tps.iter().map(|tp| live.profile_of(&tp.touchpoint_id).map(|p| p.into_owned())).collect();
            let by_id: Vec<_> = seen_ids.iter().map(|id| (id.clone(), live.profile(id).map(|p| p.into_owned()))).collect();
            steps.push((at, by_touchpoint, by_id));
            // The next step is acknowledged at a later millisecond.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let first = steps.first().map(|s| s.0).unwrap();
        prop_assert!(tps.iter().all(|tp| live.profile_of_as_of(&tp.touchpoint_id, first - 1).is_none()));
        for (at, by_touchpoint, by_id) in &steps {
            for (tp, then) in tps.iter().zip(by_touchpoint) {
                let past = live.profile_of_as_of(&tp.touchpoint_id, *at).map(|p| p.into_owned());
                prop_assert_eq!(&past, then, "touchpoint {} at {}", tp.touchpoint_id, at);
            }
            for (id, then) in by_id {
                let past = live.profile_as_of(id, *at).map(|p| p.into_owned());
                prop_assert_eq!(&past, then, "profile {} at {}", id, at);
            }
        }
    }
}

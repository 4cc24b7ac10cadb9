//! Merge protection, rule by rule: blocked values, per-profile limits, shared identifiers,
//! scoped ids, quarantine, and refusals that show in `explain`.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::{Config, Engine, IdKind, Identifier, ProfileStatus, StepStatus, Touchpoint};

fn tp(id: &str) -> Touchpoint {
    Touchpoint::new(id)
}

fn engine(config: &str, touchpoints: Vec<Touchpoint>) -> Engine {
    let mut engine = Engine::new(Config::from_json_str(config).unwrap()).unwrap();
    engine.ingest(touchpoints).unwrap();
    engine
}

fn same(engine: &Engine, a: &str, b: &str) -> bool {
    engine.profile_of(a).unwrap().profile_id == engine.profile_of(b).unwrap().profile_id
}

#[test]
fn blocked_values_never_link() {
    let e = engine(
        r#"{"blocked_values": {"phone": ["0909 000 111"]}}"#,
        vec![
            Touchpoint { email: Some("test@test.com".into()), ..tp("a") },
            Touchpoint { email: Some("TEST@test.com".into()), ..tp("b") },
            Touchpoint { phone: Some("0909000111".into()), ..tp("c") },
            Touchpoint { phone: Some("+84 909 000 111".into()), ..tp("d") },
            Touchpoint { loyalty_id: Some("0".into()), ..tp("e") },
            Touchpoint { loyalty_id: Some("0".into()), ..tp("f") },
        ],
    );
    assert_eq!(e.resolve().profiles, 6);
    assert_eq!(e.resolve().links.refused_blocked_value, 6);
    let why = e.explain("a", "b").unwrap();
    assert!(!why.same_profile);
    assert_eq!(why.path[0].status, StepStatus::Blocked);
    assert!(e.lookup(&Identifier::new(IdKind::Email, "test@test.com")).is_none());
}

#[test]
fn two_customer_ids_of_one_source_never_join() {
    // One email, two accounts of the same e-shop: a family sharing a mailbox, or a duplicate
    // account; either way the accounts stay apart and the email is marked shared.
    let e = engine(
        "{}",
        vec![
            Touchpoint {
                source: Some("eshop".into()),
                customer_id: Some("C1".into()),
                email: Some("fam@x.vn".into()),
                ..tp("a")
            },
            Touchpoint {
                source: Some("eshop".into()),
                customer_id: Some("C2".into()),
                email: Some("fam@x.vn".into()),
                ..tp("b")
            },
            Touchpoint { source: Some("crm".into()), customer_id: Some("C2".into()), ..tp("c") },
        ],
    );
    assert!(!same(&e, "a", "b"));
    assert!(!same(&e, "b", "c"), "customer ids are scoped by source");
    let why = e.explain("a", "b").unwrap();
    assert!(matches!(&why.path[0].status, StepStatus::Shared { reason } if reason.contains("customer_id")), "{why}");
}

#[test]
fn a_link_that_breaks_a_limit_is_refused_and_explained() {
    // Two loyalty cards are joined by a chain: the phone sees one card on each side but only
    // one card per touchpoint (so it is not shared); linking stops at the second card.
    let e = engine(
        r#"{"shared_identifiers": {"max_names": 5, "max_values_per_kind": 5}, "identifiers": {"loyalty_id": {"detect_shared": true}}}"#,
        vec![
            Touchpoint { loyalty_id: Some("L1".into()), email: Some("a@x.vn".into()), ..tp("a1") },
            Touchpoint { email: Some("a@x.vn".into()), device_id: Some("D".into()), ..tp("a2") },
            Touchpoint { device_id: Some("D".into()), loyalty_id: Some("L2".into()), ..tp("b1") },
        ],
    );
    assert!(same(&e, "a1", "a2"));
    assert!(!same(&e, "a2", "b1"));
    assert_eq!(e.resolve().links.refused_limit, 1);
    let why = e.explain("a1", "b1").unwrap();
    let refused = why.path.iter().find(|s| matches!(s.status, StepStatus::Refused { .. })).expect("a refused step");
    assert!(
        matches!(&refused.status, StepStatus::Refused { reason } if reason.contains("loyalty_id:L1") && reason.contains("loyalty_id:L2")),
        "{why}"
    );
}

#[test]
fn a_store_placeholder_phone_is_shared_and_links_no_one() {
    let names = ["Nguyễn An", "Trần Bình", "Lê Cường", "Phạm Dung"];
    let tps = names
        .iter()
        .enumerate()
        .map(|(i, name)| Touchpoint {
            phone: Some("028 3823 4567".into()),
            full_name: Some((*name).into()),
            ..tp(&format!("s{i}"))
        })
        .collect();
    let e = engine("{}", tps);
    assert_eq!(e.resolve().profiles, 4);
    assert_eq!(e.resolve().links.shared_identifiers, 1);
    assert_eq!(e.resolve().shared_identifiers[0].identifier, "phone:+842838234567");
}

#[test]
fn a_phone_with_name_variants_is_not_shared() {
    let names = ["Nguyễn Thị Ánh", "Nguyen Thi Anh", "Anh Nguyen Thi", "NGUYỄN ÁNH", "Nguyen Thi Anhh"];
    let tps = names
        .iter()
        .enumerate()
        .map(|(i, name)| Touchpoint {
            phone: Some("0912345678".into()),
            full_name: Some((*name).into()),
            ..tp(&format!("t{i}"))
        })
        .collect();
    let e = engine(r#"{"survivorship": {"attributes": {"full_name": "most_frequent"}}}"#, tps);
    assert_eq!(e.resolve().profiles, 1);
    // The most frequent spelling, shown with its diacritics.
    assert_eq!(e.profile_of("t0").unwrap().attribute("full_name"), Some("Nguyễn Thị Ánh"));
}

#[test]
fn a_family_tablet_does_not_merge_the_family() {
    let e = engine(
        "{}",
        vec![
            Touchpoint { device_id: Some("tablet-1".into()), loyalty_id: Some("L-MOM".into()), ..tp("m1") },
            Touchpoint { device_id: Some("tablet-1".into()), loyalty_id: Some("L-SON".into()), ..tp("s1") },
            Touchpoint { loyalty_id: Some("L-MOM".into()), email: Some("mom@x.vn".into()), ..tp("m2") },
        ],
    );
    assert!(same(&e, "m1", "m2"));
    assert!(!same(&e, "m1", "s1"));
    let tablet = e.profile_of("m1").unwrap().identifiers_of(&IdKind::DeviceId).next().unwrap().status;
    assert_eq!(tablet, omnitwin::model::IdentifierStatus::Shared);
}

#[test]
fn social_ids_of_different_pages_do_not_conflict() {
    let e = engine(
        "{}",
        vec![
            Touchpoint { social_id: Some("facebook:page_a:111".into()), phone: Some("0912345678".into()), ..tp("fa") },
            Touchpoint { social_id: Some("facebook:page_b:999".into()), phone: Some("0912345678".into()), ..tp("fb") },
            Touchpoint { social_id: Some("facebook:page_a:111".into()), ..tp("fa2") },
        ],
    );
    assert_eq!(e.resolve().profiles, 1);
    let profile = e.profile_of("fa").unwrap();
    let scopes: Vec<&str> = profile.identifiers_of(&IdKind::SocialId).filter_map(|i| i.scope.as_deref()).collect();
    assert_eq!(scopes, ["facebook:page_a", "facebook:page_b"]);
    let found = e.lookup(&Identifier::scoped(IdKind::SocialId, "facebook:page_b", "999")).unwrap();
    assert_eq!(found.profile_id, profile.profile_id);
}

#[test]
fn an_overgrown_cluster_is_quarantined_whole() {
    // A chain of emails through cookies: each cookie sees two emails (under the shared bound),
    // but the chain gathers five emails, over the quarantine bound of three.
    let tps: Vec<Touchpoint> = (0..5)
        .flat_map(|i| {
            [
                Touchpoint {
                    email: Some(format!("p{i}@x.vn").into()),
                    cookie_id: Some(format!("c{i}").into()),
                    ..tp(&format!("a{i}"))
                },
                Touchpoint {
                    email: Some(format!("p{}@x.vn", i + 1).into()),
                    cookie_id: Some(format!("c{i}").into()),
                    ..tp(&format!("b{i}"))
                },
            ]
        })
        .collect();
    let e = engine(r#"{"quarantine": {"max_values_per_kind": 3}}"#, tps);
    let report = e.resolve();
    assert_eq!(report.profiles, 1);
    assert_eq!(report.quarantined_profiles, 1);
    let profile = e.profile_of("a0").unwrap();
    assert_eq!(profile.status, ProfileStatus::Quarantined);
    assert_eq!(profile.touchpoint_count, 10, "kept whole, not truncated");
    assert!(profile.quarantine_reasons[0].contains("email"), "{:?}", profile.quarantine_reasons);
}

#[test]
fn disabled_kinds_link_nothing_and_declared_kinds_link() {
    let mut a = Touchpoint { cookie_id: Some("ck".into()), ..tp("a") };
    a.identifiers.insert("membership_no".into(), "M-1".into());
    let mut b = Touchpoint { cookie_id: Some("ck".into()), ..tp("b") };
    b.identifiers.insert("membership_no".into(), "M-1".into());
    let c = Touchpoint { cookie_id: Some("ck".into()), ..tp("c") };
    let e = engine(
        r#"{"identifiers": {"cookie_id": {"enabled": false}, "membership_no": {"column": "membership_no"}}}"#,
        vec![a, b, c],
    );
    assert!(same(&e, "a", "b"));
    assert!(!same(&e, "a", "c"));
}

#[test]
fn protection_does_not_depend_on_order() {
    let base = vec![
        Touchpoint { loyalty_id: Some("L1".into()), email: Some("a@x.vn".into()), ..tp("a1") },
        Touchpoint { email: Some("a@x.vn".into()), device_id: Some("D".into()), ..tp("a2") },
        Touchpoint { device_id: Some("D".into()), loyalty_id: Some("L2".into()), ..tp("b1") },
        Touchpoint { device_id: Some("D".into()), ..tp("b2") },
    ];
    let assignments = |tps: Vec<Touchpoint>| {
        let e = engine("{}", tps);
        let mut a: Vec<_> = e.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
        a.sort();
        a
    };
    let expected = assignments(base.clone());
    let mut reversed = base.clone();
    reversed.reverse();
    assert_eq!(assignments(reversed), expected);
    let mut rotated = base;
    rotated.rotate_left(1);
    assert_eq!(assignments(rotated), expected);
}

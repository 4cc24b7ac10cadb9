//! Profiles as a user reads them: provenance, observed values, identifiers, DataFrames, lookup.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::model::IdentifierStatus;
use omnitwin::{Config, Engine, IdKind, Identifier, Touchpoint};

fn engine(config: &str) -> Engine {
    let mut engine = Engine::new(Config::from_json_str(config).unwrap()).unwrap();
    let at = |day: i64| Some(1_704_067_200_000 + day * 86_400_000);
    engine
        .ingest([
            Touchpoint {
                source: Some("crm".into()),
                timestamp: at(1),
                email: Some("An.Nguyen@gmail.com".into()),
                full_name: Some("Nguyễn Thị An".into()),
                city: Some("TP.HCM".into()),
                attributes: [("tier".into(), "gold".into())].into(),
                ..Touchpoint::new("crm-1")
            },
            Touchpoint {
                source: Some("pos_hcm01".into()),
                channel: Some("store".parse().unwrap()),
                timestamp: at(5),
                email: Some("annguyen@gmail.com".into()),
                phone: Some("0912.345.678".into()),
                full_name: Some("nguyen thi an".into()),
                city: Some("Hồ Chí Minh".into()),
                ..Touchpoint::new("pos-1")
            },
            Touchpoint {
                source: Some("zalo".into()),
                channel: Some("social".parse().unwrap()),
                timestamp: at(9),
                phone: Some("+84 912 345 678".into()),
                full_name: Some("An Nguyen".into()),
                ..Touchpoint::new("zalo-1")
            },
            Touchpoint { email: Some("binh@yahoo.com".into()), ..Touchpoint::new("other") },
        ])
        .unwrap();
    engine
}

#[test]
fn provenance_and_observed_values() {
    let e = engine("{}");
    let p = e.profile_of("pos-1").unwrap();
    assert_eq!(p.touchpoint_count, 3);
    assert_eq!(p.touchpoint_ids, ["crm-1", "pos-1", "zalo-1"]);
    assert_eq!(p.channels, ["social", "store"]);
    assert_eq!((p.first_seen, p.last_seen), (Some(1_704_153_600_000), Some(1_704_844_800_000)));
    let name = &p.attributes["full_name"];
    assert_eq!(
        (name.value.as_str(), name.touchpoint_id.as_str(), name.source.as_deref()),
        ("An Nguyen", "zalo-1", Some("zalo"))
    );
    assert_eq!(name.rule, "most_recent");
    assert_eq!(name.observed.len(), 2);
    assert_eq!((name.observed[0].value.as_str(), name.observed[0].count), ("Nguyễn Thị An", 2));
    let city = &p.attributes["city"];
    assert_eq!(city.observed.len(), 1, "TP.HCM and Hồ Chí Minh are one city");
    assert_eq!(p.attribute("tier"), Some("gold"));
    let emails: Vec<_> = p.identifiers_of(&IdKind::Email).collect();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].value, "annguyen@gmail.com");
    assert_eq!(emails[0].raw_values, ["An.Nguyen@gmail.com", "annguyen@gmail.com"]);
    assert_eq!(emails[0].status, IdentifierStatus::Linked);
}

#[test]
fn survivorship_rules_from_config() {
    let e = engine(
        r#"{"survivorship": {"default": "first_seen", "attributes": {"city": "source_priority"}, "source_priority": ["pos_hcm01"]}}"#,
    );
    let p = e.profile_of("pos-1").unwrap();
    assert_eq!(p.attribute("full_name"), Some("Nguyễn Thị An"));
    assert_eq!(p.attributes["full_name"].touchpoint_id, "crm-1");
    assert_eq!(p.attributes["city"].touchpoint_id, "pos-1");
}

#[test]
fn lookup_normalizes_like_ingest() {
    let e = engine("{}");
    let by_phone = e.lookup(&Identifier::new(IdKind::Phone, "0912 345 678")).unwrap();
    let by_email = e.lookup(&Identifier::new(IdKind::Email, "A.N.Nguyen+x@googlemail.com")).unwrap();
    assert_eq!(by_phone.profile_id, by_email.profile_id);
    assert!(e.lookup(&Identifier::new(IdKind::Email, "nobody@x.vn")).is_none());
    assert!(e.lookup(&Identifier::new(IdKind::Phone, "not a phone")).is_none());
    assert_eq!(e.profile(&by_phone.profile_id).unwrap().touchpoint_count, 3);
    assert!(e.profile("P0000000000000000").is_none());
}

#[test]
fn profiles_frame_columns_and_chunked_build_agree() {
    let e = engine("{}");
    let chunked = e.profiles_frame().unwrap();
    assert_eq!(chunked.height(), 2);
    for column in [
        "profile_id",
        "status",
        "touchpoint_count",
        "first_seen",
        "channels",
        "email",
        "phone",
        "full_name",
        "full_name_source",
        "full_name_touchpoint_id",
        "tier",
    ] {
        assert!(chunked.column(column).is_ok(), "missing column {column}");
    }
    assert!(chunked.column("email").unwrap().dtype().is_list());
    // Building every profile first must give the same frame as the chunked path.
    assert_eq!(e.profiles().len(), 2);
    let built = e.profiles_frame().unwrap();
    assert!(built.equals_missing(&chunked));
    let flat = e.profiles_frame_flat().unwrap();
    assert_eq!(flat.column("email").unwrap().dtype(), &omnitwin::io::DataType::String);
    let assignments = e.assignments_frame().unwrap();
    assert_eq!(assignments.shape(), (4, 2));
}

#[test]
fn profile_ids_are_stable_across_runs_and_orders() {
    let a = engine("{}");
    let ids_a: Vec<String> = a.profiles().iter().map(|p| p.profile_id.clone()).collect();
    let b = engine("{}");
    let ids_b: Vec<String> = b.profiles().iter().map(|p| p.profile_id.clone()).collect();
    assert_eq!(ids_a, ids_b);
    assert!(ids_a.iter().all(|id| id.len() == 17 && id.starts_with('P')));
}

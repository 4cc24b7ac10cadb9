//! Extreme values from user data: times at the ends of the accepted range (and past them),
//! huge amounts and quantities, fixed and far `as_of` times. Every trait, every segment field,
//! the profiles frame, the report and the HTML views are computed on them. The test profile
//! builds with overflow checks on, so an arithmetic overflow anywhere fails here as a panic; a
//! time outside the range is a typed error naming the row and the column, on every way in.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::normalize::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use omnitwin::{Config, Engine, ErrorKind, OnError, Segment, Touchpoint};

const LAST: i64 = LATEST_TIMESTAMP - 1;

fn config() -> Config {
    Config::from_json_str(
        r#"{"traits": {"custom": {
            "spend": {"aggregate": "sum", "field": "amount", "events": ["purchase"]},
            "spend_recent": {"aggregate": "sum", "field": "amount", "within_days": 4294967295},
            "largest": {"aggregate": "max", "field": "amount"},
            "smallest": {"aggregate": "min", "field": "amount"},
            "first_time": {"aggregate": "min", "field": "timestamp"},
            "events": {"aggregate": "count"},
            "skus": {"aggregate": "distinct", "field": "sku"},
            "last_sku": {"aggregate": "last", "field": "sku"}
        }}}"#,
    )
    .unwrap()
}

fn event(id: &str, at: i64, event: &str, amount: Option<f64>, attributes: &[(&str, &str)]) -> Touchpoint {
    let mut tp = Touchpoint {
        email: Some("edge@x.vn".into()),
        timestamp: Some(at),
        event_type: Some(event.into()),
        amount,
        channel: Some("web".parse().unwrap()),
        date_of_birth: Some("1900-01-01".into()),
        ..Touchpoint::new(id)
    };
    for (k, v) in attributes {
        tp.attributes.insert((*k).into(), (*v).into());
    }
    tp
}

/// One person at both ends of time, with amounts near f64's limits and quantities near
/// i64's, and a second person with one ordinary event.
fn extremes() -> Vec<Touchpoint> {
    vec![
        event("first", EARLIEST_TIMESTAMP, "purchase", Some(f64::MAX), &[("sku", "A"), ("quantity", "1")]),
        event(
            "add-1",
            EARLIEST_TIMESTAMP + 1,
            "add_to_cart",
            None,
            &[("sku", "A"), ("quantity", "9223372036854775807")],
        ),
        event("add-2", EARLIEST_TIMESTAMP + 2, "add_to_cart", None, &[("sku", "A"), ("quantity", "1e300")]),
        event(
            "add-3",
            EARLIEST_TIMESTAMP + 3,
            "add_to_cart",
            None,
            &[("sku", "B"), ("quantity", "9223372036854775807")],
        ),
        event("remove", EARLIEST_TIMESTAMP + 4, "remove_from_cart", None, &[("sku", "B"), ("quantity", "1e300")]),
        event("buy-big", LAST - 1, "purchase", Some(f64::MAX), &[("sku", "C")]),
        event("buy-neg", LAST, "purchase", Some(-f64::MAX), &[("sku", "D")]),
        Touchpoint { email: Some("other@x.vn".into()), timestamp: Some(1_704_067_200_000), ..Touchpoint::new("other") },
    ]
}

/// Every segment field, its `<…>` parts filled in with names the profiles have.
fn every_field() -> Vec<String> {
    Segment::FIELDS
        .iter()
        .map(|f| {
            f.replace("<channel>", "web")
                .replace("traits.<name>", "traits.spend")
                .replace("<purpose>.", "marketing.")
                .replace("attributes.<name>", "attributes.sku")
                .replace("<kind>", "email")
        })
        .collect()
}

fn exercise(engine: &mut Engine) {
    let report = engine.resolve().clone();
    assert_eq!(report.profiles, 2);
    let profiles = engine.profiles().into_iter().cloned().collect::<Vec<_>>();
    let edge = engine.profile_of("first").unwrap().profile_id.clone();
    let p = engine.profile(&edge).unwrap();
    assert_eq!(p.first_seen, Some(EARLIEST_TIMESTAMP));
    assert_eq!(p.last_seen, Some(LAST));
    // Quantities saturate instead of overflowing; a removal of more than is there empties
    // the item.
    let cart: Vec<(&str, i64)> = p.traits.cart.iter().map(|i| (i.sku.as_str(), i.quantity)).collect();
    assert_eq!(cart, vec![("A", i64::MAX)]);
    for field in every_field() {
        for expression in [field.clone(), format!("not {field}")] {
            let segment = Segment::parse(&expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
            engine.segment(&segment).unwrap_or_else(|e| panic!("{expression}: {e}"));
        }
    }
    for numeric in ["days_since_first_seen", "days_since_last_purchase", "hours_since_abandoned_cart", "age", "revenue"]
    {
        let segment = Segment::parse(&format!("{numeric} >= 0 or {numeric} < 0")).unwrap();
        engine.segment(&segment).unwrap();
    }
    engine.profiles_frame().unwrap();
    engine.profiles_frame_flat().unwrap();
    let omnichannel = engine.report();
    omnitwin::html::report(&omnichannel);
    for profile in &profiles {
        engine.profile_html(profile);
    }
    // History at the ends of i64: before everything, after everything.
    assert!(engine.profile_as_of(&edge, i64::MIN).is_none());
    let later = engine.profile_as_of(&edge, i64::MAX).unwrap();
    assert_eq!(later.touchpoint_count, 7);
}

#[test]
fn extreme_values_go_through_every_trait_segment_and_view() {
    let mut engine = Engine::new(config()).unwrap();
    engine.ingest(extremes()).unwrap();
    exercise(&mut engine);

    // The same one at a time into a live engine, and with the config's as_of at both ends.
    let mut live = Engine::new(config()).unwrap();
    live.go_live().unwrap();
    for tp in extremes() {
        live.ingest_one(tp).unwrap();
    }
    exercise(&mut live);
    for as_of in ["1900-01-01T00:00:00Z", "2199-12-31T23:59:59Z"] {
        let mut config = config();
        config.traits.as_of = as_of.into();
        let mut engine = Engine::new(config).unwrap();
        engine.ingest(extremes()).unwrap();
        exercise(&mut engine);
    }
}

#[test]
fn times_outside_the_range_are_refused_on_every_way_in() {
    let check = |err: omnitwin::Error, row: Option<usize>| {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(err.column(), Some("timestamp"), "{err}");
        assert_eq!(err.row(), row, "{err}");
        assert!(err.to_string().contains("1900"), "{err}");
    };
    for at in [i64::MAX, i64::MIN, LATEST_TIMESTAMP, EARLIEST_TIMESTAMP - 1, 1_704_067_200_000_000] {
        // A Rust value, in a batch (row 2) and alone.
        let mut engine = Engine::new(Config::default()).unwrap();
        let batch = vec![Touchpoint::new("ok"), Touchpoint { timestamp: Some(at), ..Touchpoint::new("bad") }];
        check(engine.ingest(batch).unwrap_err(), Some(2));
        check(engine.ingest_one(Touchpoint { timestamp: Some(at), ..Touchpoint::new("bad") }).unwrap_err(), Some(1));
        assert!(engine.is_empty(), "nothing of a refused batch is kept");
        // JSON, as the Python and Node packages hand it over.
        let json = serde_json::json!({"touchpoint_id": "bad", "timestamp": at});
        check(engine.touchpoint_from_json(json).unwrap_err(), Some(1));
        let json = serde_json::json!({"touchpoint_id": "bad", "timestamp": at.to_string()});
        check(engine.touchpoint_from_json(json).unwrap_err(), Some(1));
        // A frame with an integer column, and one with text.
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = [
            serde_json::json!({"touchpoint_id": "ok", "timestamp": "2024-01-01"}),
            serde_json::json!({"touchpoint_id": "bad", "timestamp": at.to_string()}),
        ]
        .into_iter()
        .map(|row| row.as_object().unwrap().clone())
        .collect();
        let frame = omnitwin::io::frame_from_rows(rows).unwrap();
        check(engine.ingest_frame(frame, OnError::Fail).unwrap_err(), Some(2));
        let ints = polars::df!("touchpoint_id" => ["ok", "bad"], "timestamp" => [0i64, at]).unwrap();
        check(engine.ingest_frame(ints.clone(), OnError::Fail).unwrap_err(), Some(2));
        // With skip, the row is reported and the rest taken.
        let report = engine.ingest_frame(ints, OnError::Skip).unwrap();
        assert_eq!((report.accepted, report.rejected.len(), report.rejected[0].row), (1, 1, 2));
        assert!(report.rejected[0].reasons[0].contains("timestamp"), "{:?}", report.rejected);
    }
    // A datetime column past 2199 (a Parquet file's, say) is refused the same way.
    use polars::prelude::{DataType, IntoColumn, NamedFrom, Series, TimeUnit};
    let day = 86_400_000;
    let times = Series::new("timestamp".into(), [LATEST_TIMESTAMP + day])
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap();
    let ids = Series::new("touchpoint_id".into(), ["far"]);
    let far = omnitwin::DataFrame::new(1, vec![ids.into_column(), times.into_column()]).unwrap();
    let mut engine = Engine::new(Config::default()).unwrap();
    check(engine.ingest_frame(far, OnError::Fail).unwrap_err(), Some(1));
}

//! The digital twin on hand-built timelines: every trait, journey stage, cart, consent rule and
//! the segment language, checked on profiles the engine builds.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::model::{JourneyStage, TraitValue};
use omnitwin::{Config, Engine, ErrorKind, Profile, Segment, Touchpoint};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2024-01-01T00:00:00Z.
const T0: i64 = 1_704_067_200_000;

/// A touchpoint of one person (they all share the email), `day` days after T0.
fn tp(id: &str, channel: &str, day: f64, event: &str) -> Touchpoint {
    Touchpoint {
        channel: Some(channel.parse().unwrap()),
        timestamp: Some(T0 + (day * DAY as f64) as i64),
        event_type: Some(event.into()),
        email: Some("an.nguyen@gmail.com".into()),
        ..Touchpoint::new(id)
    }
}

fn with(mut t: Touchpoint, attributes: &[(&str, &str)]) -> Touchpoint {
    for (k, v) in attributes {
        t.attributes.insert((*k).into(), (*v).into());
    }
    t
}

fn buy(id: &str, channel: &str, day: f64, amount: f64) -> Touchpoint {
    Touchpoint { amount: Some(amount), ..tp(id, channel, day, "purchase") }
}

fn config(json: &str) -> Config {
    let config = Config::from_json_str(json).unwrap();
    config.validate().unwrap();
    config
}

/// The one profile of a timeline.
fn profile(config: Config, tps: Vec<Touchpoint>) -> Profile {
    let mut engine = Engine::new(config).unwrap();
    let first = tps[0].touchpoint_id.clone();
    engine.ingest(tps).unwrap();
    assert_eq!(engine.resolve().profiles, 1);
    engine.profile_of(&first).unwrap().into_owned()
}

#[test]
fn orders_channels_and_devices() {
    let p = profile(
        Config::default(),
        vec![
            Touchpoint { device_id: Some("dev-1".into()), ..tp("v1", "web", 0.0, "page_view") },
            Touchpoint { cookie_id: Some("ck-9".into()), ..buy("b1", "web", 1.0, 300_000.0) },
            buy("b2", "store", 10.0, 500_000.0),
            buy("b3", "store", 20.0, 100_000.0),
            Touchpoint { device_id: Some("dev-1".into()), ..tp("v2", "app", 30.0, "login") },
            tp("v3", "web", 31.0, "page_view"),
        ],
    );
    let t = &p.traits;
    assert_eq!(t.as_of, Some(T0 + 31 * DAY), "as_of is the latest touchpoint");
    assert_eq!(t.orders, 3);
    assert_eq!(t.revenue, 900_000.0);
    assert_eq!(t.average_order_value, Some(300_000.0));
    assert_eq!((t.first_purchase, t.last_purchase), (Some(T0 + DAY), Some(T0 + 20 * DAY)));
    assert_eq!(t.purchases_by_channel.get("store"), Some(&2));
    assert_eq!(t.purchases_by_channel.get("web"), Some(&1));
    assert_eq!(t.interactions_by_channel.get("web"), Some(&3));
    assert_eq!(t.preferred_channel.as_deref(), Some("web"));
    assert_eq!(t.preferred_purchase_channel.as_deref(), Some("store"));
    assert_eq!(t.last_channel.as_deref(), Some("web"));
    assert_eq!(t.devices, vec!["cookie:ck-9", "dev-1"]);
    assert!(t.omnichannel_buyer, "bought in a store and online");
    let rfm = t.rfm.as_ref().unwrap();
    assert_eq!((rfm.recency_days, rfm.frequency, rfm.monetary), (11.0, 3, 900_000.0));

    // Ties in the channel count go to the channel seen last.
    let p = profile(Config::default(), vec![tp("a", "web", 0.0, "page_view"), tp("b", "email", 1.0, "email_open")]);
    assert_eq!(p.traits.preferred_channel.as_deref(), Some("email"));
    assert!(!p.traits.omnichannel_buyer);
    assert!(p.traits.rfm.is_none(), "no purchase, no RFM");
}

#[test]
fn rfm_scores_are_quintiles_over_buyers() {
    // Ten buyers: buyer i bought i times, for i × 100k each time, last on day 10 + i.
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut tps = Vec::new();
    for i in 1..=10 {
        for k in 0..i {
            tps.push(Touchpoint {
                email: Some(format!("buyer{i}@x.vn").into()),
                ..buy(&format!("b{i}-{k}"), "web", f64::from(10 + i - k), 100_000.0)
            });
        }
    }
    tps.push(Touchpoint { email: Some("window@x.vn".into()), ..tp("w", "web", 30.0, "page_view") });
    engine.ingest(tps).unwrap();
    let scores = |i: i32| {
        let rfm = engine.profile_of(&format!("b{i}-0")).unwrap().traits.rfm.clone().unwrap();
        (rfm.recency_score, rfm.frequency_score, rfm.monetary_score)
    };
    assert_eq!(scores(10), (5, 5, 5));
    assert_eq!(scores(1), (1, 1, 1));
    assert_eq!(scores(5), (3, 3, 3));
    assert_eq!(engine.rfm_scale().buyers, 10);
    assert!(engine.profile_of("w").unwrap().traits.rfm.is_none());

    // A fixed scale scores against it instead.
    let mut scale = engine.rfm_scale();
    scale.frequency = vec![100.0, 200.0, 300.0, 400.0];
    engine.set_rfm_scale(scale).unwrap();
    assert_eq!(engine.profile_of("b10-0").unwrap().traits.rfm.as_ref().unwrap().frequency_score, 1);
}

#[test]
fn journey_moves_forward_then_lapses() {
    let stages = |p: &Profile| p.traits.journey.transitions.iter().map(|t| t.stage).collect::<Vec<_>>();
    let exposure = profile(Config::default(), vec![tp("e", "email", 0.0, "email_open")]);
    assert_eq!(exposure.traits.journey.stage, JourneyStage::Exposure);

    let timeline = vec![
        tp("e", "social", 0.0, "ad_click"),
        tp("x", "web", 1.0, "page_view"),
        tp("c", "web", 2.0, "add_to_cart"),
        tp("x2", "web", 2.5, "page_view"),
        buy("p1", "web", 3.0, 1.0),
        buy("p2", "store", 40.0, 1.0),
    ];
    let p = profile(Config::default(), timeline.clone());
    use JourneyStage::*;
    assert_eq!(stages(&p), vec![Exposure, Exploration, Evaluation, Purchase, Repeat]);
    assert_eq!(p.traits.journey.stage, Repeat);
    let purchase = &p.traits.journey.transitions[3];
    assert_eq!((purchase.at, purchase.touchpoint_id.as_str()), (Some(T0 + 3 * DAY), "p1"));

    // Five purchases make a loyal buyer (the default); later activity without a purchase
    // within 180 days of the last one makes them lapsed.
    let mut loyal = timeline.clone();
    loyal.extend((3..=5).map(|k| buy(&format!("p{k}"), "app", 40.0 + f64::from(k), 1.0)));
    let p = profile(Config::default(), loyal.clone());
    assert_eq!(p.traits.journey.stage, Loyal);
    loyal.push(tp("late", "email", 45.0 + 200.0, "email_open"));
    let p = profile(Config::default(), loyal);
    assert_eq!(stages(&p), vec![Exposure, Exploration, Evaluation, Purchase, Repeat, Loyal, Lapsed]);
    let lapsed = p.traits.journey.transitions.last().unwrap();
    assert_eq!((lapsed.at, lapsed.touchpoint_id.as_str()), (Some(T0 + 45 * DAY + 180 * DAY), "p5"));

    // The window and the loyalty threshold are settings; a fixed as_of decides lapsing.
    let p = profile(config(r#"{"traits": {"lapsed_after_days": 10, "as_of": "2024-03-01T00:00:00Z"}}"#), timeline);
    assert_eq!(p.traits.journey.stage, Lapsed);
    assert_eq!(p.traits.as_of, Some(T0 + 60 * DAY));
}

#[test]
fn carts_follow_items_across_devices_and_abandonment() {
    let add = |id: &str, channel: &str, day: f64, sku: &str, qty: &str| {
        with(tp(id, channel, day, "add_to_cart"), &[("sku", sku), ("quantity", qty)])
    };
    // Added on the phone app and on the laptop's website; one removed on the web.
    let timeline = vec![
        add("a1", "app", 0.0, "SKU-A", "2"),
        add("a2", "web", 0.1, "SKU-B", "1"),
        add("a3", "web", 0.2, "SKU-C", "1"),
        with(tp("r1", "web", 0.3, "remove_from_cart"), &[("sku", "SKU-B")]),
        tp("v", "web", 5.0, "page_view"),
    ];
    let p = profile(Config::default(), timeline.clone());
    let cart: Vec<(&str, i64, Option<&str>)> =
        p.traits.cart.iter().map(|i| (i.sku.as_str(), i.quantity, i.channel.as_deref())).collect();
    assert_eq!(cart, vec![("SKU-A", 2, Some("app")), ("SKU-C", 1, Some("web"))]);
    // No purchase within 24 hours of the last add: abandoned, with what was in the cart then.
    let abandoned = p.traits.abandoned_cart.as_ref().unwrap();
    assert_eq!(abandoned.touchpoint_id, "a3");
    assert_eq!(abandoned.items.len(), 3);

    // A purchase of one SKU takes it out; within the window, the cart is not abandoned.
    let mut bought = timeline.clone();
    bought.push(with(buy("p", "store", 0.5, 9.0), &[("sku", "SKU-A"), ("quantity", "1")]));
    let p = profile(Config::default(), bought);
    assert!(p.traits.abandoned_cart.is_none());
    assert_eq!(
        p.traits.cart.iter().map(|i| (i.sku.as_str(), i.quantity)).collect::<Vec<_>>(),
        vec![("SKU-A", 1), ("SKU-C", 1)]
    );

    // A purchase naming no SKU empties the cart; one after the window leaves the abandonment
    // (of the latest add_to_cart) on record.
    let mut later = timeline.clone();
    later.push(buy("p", "web", 3.0, 9.0));
    let p = profile(Config::default(), later);
    assert!(p.traits.cart.is_empty());
    assert_eq!(p.traits.abandoned_cart.as_ref().unwrap().touchpoint_id, "a3");

    // The window has not passed yet at as_of: not abandoned (yet).
    let p = profile(config(r#"{"traits": {"as_of": "2024-01-01T12:00:00Z"}}"#), timeline.clone());
    assert!(p.traits.abandoned_cart.is_none());
    let p = profile(config(r#"{"traits": {"abandoned_cart_hours": 2, "as_of": "2024-01-01T12:00:00Z"}}"#), timeline);
    assert_eq!(p.traits.abandoned_cart.unwrap().at, T0 + (0.2 * DAY as f64) as i64);
    assert_eq!(p.traits.as_of, Some(T0 + 12 * HOUR), "the window is judged at the fixed as_of");
}

#[test]
fn user_defined_traits_aggregate_events_in_windows() {
    let config = config(
        r#"{"traits": {"custom": {
            "orders_30d": {"aggregate": "count", "events": ["purchase"], "within_days": 30},
            "spend_30d": {"aggregate": "sum", "field": "amount", "events": ["PURCHASE"], "within_days": 30},
            "smallest": {"aggregate": "min", "field": "amount", "events": ["purchase"]},
            "largest_store": {"aggregate": "max", "field": "amount", "channels": ["store"]},
            "first_source": {"aggregate": "first", "field": "source"},
            "last_size": {"aggregate": "last", "field": "size"},
            "channels_used": {"aggregate": "distinct", "field": "channel"},
            "never": {"aggregate": "max", "field": "amount", "events": ["refund"]}
        }}}"#,
    );
    let p = profile(
        config,
        vec![
            Touchpoint { source: Some("pos_hn01".into()), ..buy("p1", "store", 0.0, 700.0) },
            with(buy("p2", "web", 50.0, 200.0), &[("size", "M")]),
            with(buy("p3", "app", 70.0, 300.0), &[("size", "L")]),
            tp("v", "web", 75.0, "page_view"),
        ],
    );
    let value = |name: &str| p.traits.custom.get(name).cloned().unwrap();
    assert_eq!(value("orders_30d"), Some(TraitValue::Number(2.0)));
    assert_eq!(value("spend_30d"), Some(TraitValue::Number(500.0)));
    assert_eq!(value("smallest"), Some(TraitValue::Number(200.0)));
    assert_eq!(value("largest_store"), Some(TraitValue::Number(700.0)));
    assert_eq!(value("first_source"), Some(TraitValue::Text("pos_hn01".into())));
    assert_eq!(value("last_size"), Some(TraitValue::Text("L".into())));
    assert_eq!(value("channels_used"), Some(TraitValue::Number(3.0)));
    assert_eq!(value("never"), None);

    for (json, field) in [
        (r#"{"traits": {"custom": {"x": {"aggregate": "sum"}}}}"#, "traits.custom.x.field"),
        (r#"{"traits": {"custom": {"x y": {"aggregate": "count"}}}}"#, "traits.custom.x y"),
        (r#"{"traits": {"custom": {"x": {"aggregate": "count", "within_days": 0}}}}"#, "traits.custom.x.within_days"),
        (r#"{"traits": {"as_of": "soon"}}"#, "traits.as_of"),
        (r#"{"traits": {"loyal_after_orders": 2}}"#, "traits.loyal_after_orders"),
        (r#"{"segments": {"vip": {"where": "orders >"}}}"#, "segments.vip.where"),
        (r#"{"segments": {"vip": {"where": "traits.nope > 1"}}}"#, "segments.vip.where"),
    ] {
        let err = Config::from_json_str(json).and_then(|c| c.validate()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{json}");
        assert!(err.to_string().contains(&format!("`{field}`")), "{json}: {err}");
    }
}

#[test]
fn consent_latest_event_wins_with_provenance() {
    let consent = |id: &str, channel: &str, day: f64, event: &str, attrs: &[(&str, &str)]| {
        with(Touchpoint { source: Some("crm".into()), ..tp(id, channel, day, event) }, attrs)
    };
    let p = profile(
        Config::default(),
        vec![
            consent("in", "web", 0.0, "opt_in", &[("consent_channel", "email")]),
            consent("zalo", "social", 1.0, "opt_in", &[("consent_channel", "Zalo")]),
            // Unsubscribed at the till: stop emailing.
            consent("out", "store", 5.0, "unsubscribe", &[("consent_channel", "email")]),
            consent(
                "analytics",
                "web",
                2.0,
                "consent_granted",
                &[("consent_purpose", "analytics"), ("consent_channel", "all")],
            ),
            // An unsubscribe link in an email speaks of email.
            consent("link", "email", 3.0, "unsubscribe", &[("consent_purpose", "personalization")]),
        ],
    );
    assert_eq!(p.consents_to("marketing", "email"), Some(false));
    assert_eq!(p.consents_to("marketing", "zalo"), Some(true));
    assert_eq!(p.consents_to("marketing", "sms"), None);
    assert_eq!(p.consents_to("analytics", "sms"), Some(true), "granted on all channels");
    assert_eq!(p.consents_to("personalization", "email"), Some(false));
    let email = p.consent.iter().find(|c| c.purpose == "marketing" && c.channel == "email").unwrap();
    assert_eq!(
        (email.touchpoint_id.as_str(), email.event_type.as_str(), email.source.as_deref()),
        ("out", "unsubscribe", Some("crm"))
    );

    // At the same instant, a withdrawal wins; a later grant brings consent back; a
    // withdrawal for all channels applies to each.
    let p = profile(
        Config::default(),
        vec![
            consent("g", "web", 1.0, "opt_in", &[("consent_channel", "sms")]),
            consent("w", "web", 1.0, "opt_out", &[("consent_channel", "sms")]),
        ],
    );
    assert_eq!(p.consents_to("marketing", "sms"), Some(false));
    let p = profile(
        Config::default(),
        vec![
            consent("w", "web", 1.0, "opt_out", &[("consent_channel", "sms")]),
            consent("g", "web", 2.0, "opt_in", &[("consent_channel", "sms")]),
            consent("all", "store", 3.0, "opt_out", &[]),
        ],
    );
    assert_eq!(p.consents_to("marketing", "sms"), Some(false));
    assert_eq!(p.consents_to("MARKETING", "Phone"), Some(false));
}

/// Three people: a store-and-web VIP who consented to email, a web buyer who did not, a browser.
fn three_people(config: Config) -> Engine {
    let person = |who: &str, t: Touchpoint| Touchpoint { email: Some(format!("{who}@x.vn").into()), ..t };
    let mut engine = Engine::new(config).unwrap();
    engine
        .ingest([
            person(
                "vip",
                Touchpoint {
                    date_of_birth: Some("1995-05-01".into()),
                    city: Some("Hà Nội".into()),
                    ..buy("v1", "store", 0.0, 2_000_000.0)
                },
            ),
            person("vip", buy("v2", "web", 10.0, 1_000_000.0)),
            person("vip", with(tp("v3", "web", 11.0, "opt_in"), &[("consent_channel", "email")])),
            person(
                "buyer",
                Touchpoint { date_of_birth: Some("1970-01-01".into()), ..buy("b1", "web", 12.0, 100_000.0) },
            ),
            person("browser", with(tp("r1", "web", 2.0, "add_to_cart"), &[("sku", "S1"), ("tier", "gold")])),
        ])
        .unwrap();
    engine
}

#[test]
fn segments_select_profiles_and_respect_consent() {
    let engine = three_people(config(
        r#"{"segments": {
            "vip_email": {"where": "revenue >= 1000000 and channels contains \"store\"", "channel": "email"},
            "buyers_email": {"where": "orders >= 1", "channel": "email"},
            "buyers_service": {"where": "orders >= 1", "channel": "email", "require_consent": false},
            "carts": {"where": "abandoned_cart and cart_skus contains 's1'"}
        }}"#,
    ));
    let id = |tp: &str| engine.profile_of(tp).unwrap().profile_id.clone();
    let (vip, buyer, browser) = (id("v1"), id("b1"), id("r1"));
    let run = |text: &str| {
        let mut got = engine.segment(&Segment::parse(text).unwrap()).unwrap();
        got.sort();
        got
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(run("orders >= 1"), sorted(vec![vip.clone(), buyer.clone()]));
    assert_eq!(run("age between 25 and 35"), vec![vip.clone()]);
    assert_eq!(run("city = 'hà nội' and omnichannel_buyer"), vec![vip.clone()]);
    assert_eq!(run("not orders >= 1"), vec![browser.clone()]);
    assert_eq!(run("stage in ['evaluation', 'exposure']"), vec![browser.clone()]);
    assert_eq!(run("attributes.tier = \"GOLD\""), vec![browser.clone()]);
    assert_eq!(run("rfm.monetary_score >= 4 or purchases.store > 0"), vec![vip.clone()]);
    assert_eq!(run("consent.marketing.email"), vec![vip.clone()]);
    assert_eq!(run("consent.marketing.email is null and orders > 0"), vec![buyer.clone()]);
    assert_eq!(run("city is null"), sorted(vec![buyer.clone(), browser.clone()]));
    assert_eq!(run("identifiers.email contains 'buyer@x.vn'"), vec![buyer.clone()]);
    assert_eq!(run("days_since_last_purchase >= 2"), vec![vip.clone()]);
    // Marketing by email reaches only who consented; the caller can say it is not marketing.
    assert_eq!(engine.segment_members("vip_email").unwrap(), vec![vip.clone()]);
    assert_eq!(engine.segment_members("buyers_email").unwrap(), vec![vip.clone()]);
    assert_eq!(engine.segment_members("buyers_service").unwrap(), sorted(vec![vip.clone(), buyer.clone()]));
    assert_eq!(engine.segment_members("carts").unwrap(), vec![browser.clone()]);
    assert_eq!(
        engine.segment(&Segment::parse("orders >= 1").unwrap().requiring_consent("marketing", "email")).unwrap(),
        vec![vip.clone()]
    );
    // Memberships are on each profile.
    assert_eq!(engine.profile(&vip).unwrap().segments, vec!["buyers_email", "buyers_service", "vip_email"]);
    assert_eq!(engine.profile(&browser).unwrap().segments, vec!["carts"]);
    // The card a notebook shows says it in a line.
    let card = engine.profile_html(&engine.profile(&vip).unwrap());
    assert!(card.contains("journey: <b>repeat</b>") && card.contains("consents to marketing on email"), "{card}");
    assert!(card.contains("segments: buyers_email, buyers_service, vip_email"), "{card}");

    let err = engine.segment_members("nope").unwrap_err();
    assert!(err.to_string().contains("vip_email"), "{err}");
    let err = engine.segment(&Segment::parse("orders > 1 and traits.spend > 0").unwrap()).unwrap_err();
    assert_eq!((err.kind(), err.position()), (ErrorKind::InvalidInput, Some(16)));
    let err = Segment::parse("orders >= 1 and (city = 'x'").unwrap_err();
    assert_eq!(err.position(), Some(28));
    assert!(err.to_string().contains("expected `)`"), "{err}");
}

#[test]
fn live_profiles_carry_traits_as_the_batch_does() {
    let config = config(r#"{"segments": {"buyers": {"where": "orders >= 1"}}}"#);
    let engine = three_people(config.clone());
    let mut live = Engine::new(config).unwrap();
    live.go_live().unwrap();
    live.set_rfm_scale(engine.rfm_scale()).unwrap();
    let batch_tps: Vec<Touchpoint> =
        ["v1", "v2", "v3", "b1", "r1"].iter().map(|id| engine.touchpoint(id).unwrap().clone()).collect();
    for t in batch_tps.into_iter().rev() {
        live.ingest_one(t).unwrap();
    }
    for id in ["v1", "b1", "r1"] {
        let (a, b) = (engine.profile_of(id).unwrap(), live.profile_of(id).unwrap());
        assert_eq!(a.as_ref(), b.as_ref(), "{id}");
    }
}

#[test]
fn the_profiles_frame_has_flat_twin_columns() {
    let engine = three_people(config(
        r#"{"traits": {"custom": {"web_spend": {"aggregate": "sum", "field": "amount", "channels": ["web"]},
                                  "first_channel": {"aggregate": "first", "field": "channel"}}},
            "segments": {"buyers": {"where": "orders >= 1"}}}"#,
    ));
    let df = engine.profiles_frame().unwrap();
    let vip = engine.profile_of("v1").unwrap().profile_id.clone();
    let ids: Vec<Option<&str>> = df.column("profile_id").unwrap().str().unwrap().iter().collect();
    let row = ids.iter().position(|id| *id == Some(vip.as_str())).unwrap();
    let cell = |name: &str| df.column(name).unwrap().get(row).unwrap().to_string();
    assert_eq!(cell("orders"), "2");
    assert_eq!(cell("revenue"), "3e6");
    assert_eq!(cell("journey_stage"), "\"repeat\"");
    assert_eq!(cell("omnichannel_buyer"), "true");
    assert_eq!(cell("trait_web_spend"), "1e6");
    assert_eq!(cell("trait_first_channel"), "\"store\"");
    assert!(cell("segments").contains("buyers"), "{}", cell("segments"));
    assert!(cell("consent_granted").contains("marketing:email"), "{}", cell("consent_granted"));
    // CSV has no lists: the flat frame joins them.
    let flat = engine.profiles_frame_flat().unwrap();
    assert_eq!(flat.column("segments").unwrap().get(row).unwrap().to_string(), "\"buyers\"");
}

#[test]
fn the_feed_records_segment_entries_and_exits() {
    use omnitwin::ChangeEvent::{Merged, SegmentEntered, SegmentExited};
    let mut engine = Engine::new(config(
        r#"{"traits": {"lapsed_after_days": 30},
            "segments": {"buyers": {"where": "orders >= 1"}, "lapsed": {"where": "stage = 'lapsed'"}}}"#,
    ))
    .unwrap();
    let entered = |p: &str, s: &str| SegmentEntered { profile_id: p.into(), segment: s.into() };
    let events =
        |outcome: &omnitwin::IngestOutcome| outcome.changes.iter().map(|c| c.event.clone()).collect::<Vec<_>>();

    let a = engine.ingest_one(Touchpoint { phone: Some("0912345678".into()), ..buy("a", "store", 0.0, 10.0) }).unwrap();
    assert_eq!(events(&a)[1..], [entered(&a.profile_id, "buyers")]);
    // A purchase under another id: a second buyer; then a touchpoint joins them (the older
    // profile survives; the other leaves its segments as it merges away).
    let b = engine.ingest_one(Touchpoint { email: Some("b@x.vn".into()), ..buy("b", "web", 1.0, 10.0) }).unwrap();
    let join = engine
        .ingest_one(Touchpoint {
            email: Some("b@x.vn".into()),
            phone: Some("0912 345 678".into()),
            ..tp("j", "web", 2.0, "page_view")
        })
        .unwrap();
    assert!(events(&join).contains(&Merged { profile_id: b.profile_id.clone(), into: a.profile_id.clone() }));
    assert!(events(&join).contains(&SegmentExited { profile_id: b.profile_id.clone(), segment: "buyers".into() }));
    // Time passes (a later touchpoint of someone else moves as_of): only a refresh re-evaluates
    // profiles nothing touched.
    let later =
        engine.ingest_one(Touchpoint { email: Some("c@x.vn".into()), ..tp("c", "web", 90.0, "page_view") }).unwrap();
    assert!(!events(&later).iter().any(|e| matches!(e, SegmentEntered { segment, .. } if segment == "lapsed")));
    let feed = engine.changes(0).len() as u64;
    assert_eq!(engine.refresh_segments().unwrap(), 1);
    assert_eq!(engine.changes(feed)[0].event, entered(&a.profile_id, "lapsed"));
    assert_eq!(engine.refresh_segments().unwrap(), 0, "nothing moved since");
    let json = serde_json::to_value(&engine.changes(feed)[0]).unwrap();
    assert_eq!(json["change"], "segment_entered");
    assert_eq!(json["segment"], "lapsed");
}

#[test]
fn the_omnichannel_report_adds_up() {
    let engine = three_people(Config::default());
    let r = engine.report();
    assert_eq!(r.profiles, 3);
    let by_count: Vec<(usize, u64)> = r.customers_by_channel_count.iter().map(|c| (c.channels, c.profiles)).collect();
    assert_eq!(by_count, vec![(1, 2), (2, 1)], "the VIP used the store and the web");
    // The VIP's timeline: store → web → web.
    let transitions: Vec<(&str, &str, u64)> =
        r.channel_transitions.iter().map(|t| (t.from.as_str(), t.to.as_str(), t.count)).collect();
    assert_eq!(transitions, vec![("store", "web", 1), ("web", "web", 1)]);
    let funnel =
        |stage: JourneyStage| r.funnel.iter().find(|f| f.stage == stage).map(|f| (f.reached, f.current)).unwrap();
    assert_eq!(funnel(JourneyStage::Purchase), (2, 1));
    assert_eq!(funnel(JourneyStage::Repeat), (1, 1));
    assert_eq!(funnel(JourneyStage::Evaluation), (1, 1));
    let revenue = |rows: &[omnitwin::RevenueRow]| {
        rows.iter().map(|r| (r.channel.clone(), r.revenue, r.orders)).collect::<Vec<_>>()
    };
    assert_eq!(revenue(&r.revenue_by_channel), vec![("store".into(), 2e6, 1), ("web".into(), 1.1e6, 2)]);
    // First touch: the VIP came in at the store, so both their purchases credit it.
    assert_eq!(revenue(&r.revenue_by_first_touch), vec![("store".into(), 3e6, 2), ("web".into(), 1e5, 1)]);
    // Last touch: the web purchase followed a store visit; the first ones had nothing before.
    assert_eq!(revenue(&r.revenue_by_last_touch), vec![("store".into(), 3e6, 2), ("web".into(), 1e5, 1)]);
    assert_eq!((r.identity.touchpoints, r.identity.profiles), (5, 3));
    let page = omnitwin::html::report(&r);
    assert!(page.contains("3,000,000 (2 orders)"), "first-touch revenue is drawn");
}

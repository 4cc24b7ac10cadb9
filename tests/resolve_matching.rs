//! The probabilistic layer of `resolve`: matches join deterministic profiles, never against a
//! per-profile limit (cannot-link) and never through a protected identifier; explanations show
//! matched steps and the pair's score; models are saved, reused and checked.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use omnitwin::matching::{ComparisonModel, LevelModel, Model};
use omnitwin::{Config, Engine, ModelSource, StepStatus, Touchpoint};

/// A fixed model for the default comparisons: the first level is strong evidence, the other
/// levels weaker, "else" evidence against.
fn fixed_model() -> Model {
    let config = Config::default();
    let comparisons = config
        .matching
        .comparisons
        .iter()
        .map(|spec| {
            let n = spec.levels.len();
            let mut levels = vec![LevelModel { label: "null".into(), m: 1.0, u: 1.0 }];
            for (i, _) in spec.levels.iter().enumerate() {
                let (m, u) = if i == 0 { (0.8, 0.0005) } else { (0.15 / n as f64, 0.002) };
                levels.push(LevelModel { label: format!("level {}", i + 1), m, u });
            }
            levels.push(LevelModel { label: "else".into(), m: 0.05, u: 0.99 });
            ComparisonModel { name: spec.name().to_owned(), levels, term_frequencies: None }
        })
        .collect();
    Model { prior: 1e-4, comparisons }
}

/// The default config, but names weighed without term frequencies: in a handful of
/// touchpoints every name is common.
fn config() -> Config {
    let mut config = Config::default();
    config.matching.comparisons.iter_mut().for_each(|c| c.term_frequency = false);
    config
}

fn engine_with(config: Config, touchpoints: Vec<Touchpoint>) -> Engine {
    let mut engine = Engine::new(config).unwrap();
    engine.set_model(fixed_model()).unwrap();
    engine.ingest(touchpoints).unwrap();
    engine
}

fn same(engine: &Engine, a: &str, b: &str) -> bool {
    engine.profile_of(a).unwrap().profile_id == engine.profile_of(b).unwrap().profile_id
}

/// A store purchase with a full phone, and a marketplace order by the same person: masked
/// phone, name written without diacritics, the same date of birth. Plus a stranger.
fn shopper() -> Vec<Touchpoint> {
    vec![
        Touchpoint {
            source: Some("pos_hcm01".into()),
            full_name: Some("Nguyễn Thị Hoa".into()),
            phone: Some("0912 345 678".into()),
            date_of_birth: Some("1990-04-12".into()),
            ..Touchpoint::new("store-1")
        },
        Touchpoint {
            source: Some("shopee".into()),
            full_name: Some("Hoa Nguyen Thi".into()),
            phone: Some("84******678".into()),
            date_of_birth: Some("12/04/1990".into()),
            customer_id: Some("S-9".into()),
            ..Touchpoint::new("shopee-1")
        },
        Touchpoint {
            source: Some("pos_hcm01".into()),
            full_name: Some("Trần Văn Bình".into()),
            phone: Some("0987 111 222".into()),
            ..Touchpoint::new("store-2")
        },
    ]
}

#[test]
fn matches_join_what_identifiers_cannot() {
    let engine = engine_with(config(), shopper());
    let report = engine.resolve();
    assert_eq!(report.profiles, 2);
    let matching = report.matching.as_ref().unwrap();
    assert_eq!((matching.model, matching.matches_made, matching.refused_limit), (ModelSource::Given, 1, 0));
    assert_eq!(report.links.matches_made, 1);
    assert!(same(&engine, "store-1", "shopee-1"));
    assert!(!same(&engine, "store-1", "store-2"));

    let why = engine.explain("store-1", "shopee-1").unwrap();
    assert!(why.same_profile);
    assert_eq!(why.path.len(), 1);
    assert_eq!(why.path[0].identifier, "probabilistic match");
    assert!(matches!(why.path[0].status, StepStatus::Matched { match_probability } if match_probability >= 0.95));
    let score = why.match_score.as_ref().unwrap();
    let level = |name: &str| score.parts.iter().find(|p| p.comparison == name).unwrap().level.clone();
    assert_eq!(level("name_key"), "exact", "folded and sorted, the two spellings are one name");
    assert_eq!(level("phone"), "masked match");
    assert_eq!(level("date_of_birth"), "exact");
    assert_eq!(level("email_local"), "null");
    let total: f64 =
        score.prior_weight + score.parts.iter().map(|p| p.weight + p.term_frequency_adjustment).sum::<f64>();
    assert!((total - score.match_weight).abs() < 1e-9, "the waterfall adds up to the match weight");
    assert!(why.to_string().contains("masked match"), "{why}");

    let far = engine.explain("store-1", "store-2").unwrap();
    assert!(!far.same_profile && far.path.is_empty());
    assert!(far.match_score.unwrap().match_probability < 0.5);
}

#[test]
fn deterministic_only_leaves_them_apart() {
    let mut config = Config::default();
    config.matching.enabled = false;
    let mut engine = Engine::new(config).unwrap();
    engine.ingest(shopper()).unwrap();
    assert_eq!(engine.resolve().profiles, 3);
    assert!(engine.resolve().matching.is_none());
    assert!(engine.model().is_none());
    assert!(engine.explain("store-1", "shopee-1").unwrap().match_score.is_none());
}

#[test]
fn a_match_never_joins_two_customer_ids_of_one_source() {
    // The same person by every comparison, but two Shopee accounts: the account ids of one
    // source are at most one per profile, so the match is refused.
    let mut touchpoints = shopper();
    touchpoints.push(Touchpoint {
        source: Some("shopee".into()),
        full_name: Some("Nguyen Thi Hoa".into()),
        phone: Some("84******678".into()),
        date_of_birth: Some("1990-04-12".into()),
        customer_id: Some("S-10".into()),
        ..Touchpoint::new("shopee-2")
    });
    let engine = engine_with(config(), touchpoints);
    let report = engine.resolve();
    let matching = report.matching.as_ref().unwrap();
    assert!(matching.refused_limit >= 1, "{matching:?}");
    assert!(!same(&engine, "shopee-1", "shopee-2"));
    assert!(same(&engine, "store-1", "shopee-1") != same(&engine, "store-1", "shopee-2"), "the store joins one");
    let why = engine.explain("shopee-1", "shopee-2").unwrap();
    assert!(!why.same_profile);
    assert!(
        why.path.iter().any(|s| matches!(&s.status, StepStatus::Refused { reason } if reason.contains("customer_id"))),
        "{why}"
    );
}

#[test]
fn a_shared_phone_is_no_evidence() {
    // A store landline typed for three different customers is found shared; two of them have
    // the same name and city but nothing else in common: the landline must not join them.
    let landline = "028 3823 4567";
    let visit = |id: &str, name: &str| Touchpoint {
        source: Some("pos_hcm01".into()),
        full_name: Some(name.into()),
        phone: Some(landline.into()),
        city: Some("TP.HCM".into()),
        ..Touchpoint::new(id)
    };
    let touchpoints = vec![
        visit("a", "Lê Văn Nam"),
        visit("b", "Phạm Thị Lan"),
        visit("c", "Võ Minh Tuấn"),
        visit("d", "Lê Văn Nam"),
        Touchpoint { address: Some("12 Lê Lợi, Q.1, TP.HCM".into()), ..visit("e", "Lê Văn Nam") },
    ];
    let engine = engine_with(config(), touchpoints);
    let report = engine.resolve();
    assert!(report.shared_identifiers.iter().any(|s| s.identifier == "phone:+842838234567"), "{report:?}");
    let why = engine.explain("a", "d").unwrap();
    let score = why.match_score.unwrap();
    let phone = score.parts.iter().find(|p| p.comparison == "phone").unwrap();
    assert_eq!((phone.level.as_str(), phone.weight), ("null", 0.0));
    assert!(!same(&engine, "a", "b"));
}

#[test]
fn models_are_saved_reused_and_checked() {
    let data = synthetic_sample();
    let mut trained = Engine::new(Config::default()).unwrap();
    trained.ingest(data.clone()).unwrap();
    let report = trained.resolve().clone();
    let matching = report.matching.as_ref().unwrap();
    assert_eq!(matching.model, ModelSource::Trained);
    assert!(matching.training.as_ref().unwrap().candidate_pairs.iter().sum::<u64>() > 0);
    assert!(matching.matches_made > 0, "{matching:?}");
    let json = trained.model().unwrap().to_json();

    let mut reused = Engine::new(Config::default()).unwrap();
    reused.set_model(Model::from_json(&json).unwrap()).unwrap();
    reused.ingest(data).unwrap();
    assert_eq!(reused.assignments(), trained.assignments(), "the saved model gives the same profiles");
    assert_eq!(reused.resolve().matching.as_ref().unwrap().model, ModelSource::Given);

    let mut short = Model::from_json(&json).unwrap();
    short.comparisons.pop();
    let err = Engine::new(Config::default()).unwrap().set_model(short).unwrap_err();
    assert!(err.to_string().contains("model"), "{err}");
}

#[test]
fn unknown_matching_columns_are_config_errors() {
    let err =
        Config::from_json_str(r#"{"matching": {"blocking_rules": [["surname"]]}}"#).unwrap().validate().unwrap_err();
    assert!(err.to_string().contains("unknown column `surname`"), "{err}");
    let ok = Config::from_json_str(r#"{"matching": {"blocking_rules": [["attributes.tier", "city"]]}}"#).unwrap();
    assert!(ok.validate().is_ok());
    let err = Config::from_json_str(r#"{"matching": {"threshold": 1.5}}"#).unwrap().validate().unwrap_err();
    assert!(err.to_string().contains("matching.threshold"), "{err}");
    let err =
        Config::from_json_str(r#"{"matching": {"blocking_rules": [["city[:x]"]]}}"#).unwrap().validate().unwrap_err();
    assert!(err.to_string().contains("matching.blocking_rules"), "{err}");
}

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

fn synthetic_sample() -> Vec<Touchpoint> {
    synthetic::generate(600, 5).touchpoints
}

#[test]
fn inputs_matching_cannot_use_still_resolve() {
    // Nothing to compare (only cookies): training finds no candidates, nothing is joined, no
    // panic; one touchpoint: matching is skipped with a reason.
    let cookies =
        (0..5).map(|i| Touchpoint { cookie_id: Some(format!("ck-{i}").into()), ..Touchpoint::new(format!("t{i}")) });
    let mut engine = Engine::new(Config::default()).unwrap();
    engine.ingest(cookies).unwrap();
    let report = engine.resolve();
    assert_eq!(report.profiles, 5);
    let matching = report.matching.as_ref().unwrap();
    assert_eq!((matching.matches_made, matching.skipped.as_deref()), (0, None), "{matching:?}");
    assert!(engine.explain("t0", "t1").unwrap().match_score.is_some());

    let mut single = Engine::new(Config::default()).unwrap();
    single.ingest([Touchpoint { full_name: Some("An".into()), ..Touchpoint::new("only") }]).unwrap();
    let matching = single.resolve().matching.clone().unwrap();
    assert_eq!(matching.skipped.as_deref(), Some("fewer than two touchpoints"));
    assert!(single.model().is_none());
    assert!(single.explain("only", "only").unwrap().same_profile);

    let empty = Engine::new(Config::default()).unwrap();
    assert_eq!(empty.resolve().profiles, 0);
}

/// A store's own address typed for every walk-in customer: one address on 1,200 touchpoints of
/// 600 people whose phones all end in the same three digits. The phone_tail + address block
/// (720k pairs) is left out and reported instead of compared; everything else runs as usual.
#[test]
fn a_key_hundreds_share_is_left_out_and_reported() {
    let touchpoints: Vec<Touchpoint> = (0..1200)
        .map(|i| Touchpoint {
            full_name: Some(format!("Khach {}", i % 600).into()),
            phone: Some(format!("09{:05}123", i % 600).into()),
            address: Some("12 Le Loi, Quan 1".into()),
            ..Touchpoint::new(format!("pos-{i}"))
        })
        .collect();
    let mut engine = Engine::new(Config::default()).unwrap();
    engine.ingest(touchpoints).unwrap();
    let report = engine.resolve().clone();
    let matching = report.matching.as_ref().expect("matching ran");
    let rules = &Config::default().matching.blocking_rules;
    let tail_address = rules.iter().position(|r| r == &["phone_tail", "address"]).unwrap();
    for (rule, &oversize) in matching.oversize_blocks.iter().enumerate() {
        let want = if rule == tail_address { (1, 1200) } else { (0, 0) };
        assert_eq!(oversize, want, "rule {:?}", rules[rule]);
    }
    assert_eq!(report.profiles, 600, "each person's two touchpoints join through their phone, and no one else");
}

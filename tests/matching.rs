//! Probabilistic linkage end to end on generated person records with known duplicates:
//! accuracy without labels, blocking completeness, explanations, model reuse, linking tables.
#![allow(clippy::unwrap_used)]

use omnitwin::matching::{LinkType, Linker, Model, Settings};
use omnitwin::DataFrame;
use polars::prelude::*;

const GIVEN: [&str; 12] =
    ["an", "binh", "chau", "dung", "giang", "hoa", "khanh", "linh", "minh", "nga", "phuong", "quang"];
const SURNAMES: [&str; 8] = ["nguyen", "tran", "le", "pham", "hoang", "vu", "dang", "bui"];

/// A tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One typing slip: a letter dropped or doubled.
fn typo(rng: &mut Rng, word: &str) -> String {
    let at = rng.below(word.len());
    if rng.below(2) == 0 && word.len() > 3 {
        format!("{}{}", &word[..at], &word[at + 1..])
    } else {
        format!("{}{}", &word[..=at], &word[at..])
    }
}

/// One generated record.
#[derive(Clone)]
struct Row {
    id: String,
    given: String,
    surname: String,
    dob: Option<String>,
    phone: String,
}

/// `people` people with 1–3 records each; ids are `p<N>-<k>`.
fn people(people: usize, seed: u64) -> Vec<Row> {
    let mut rng = Rng(seed);
    let mut rows = Vec::new();
    for p in 0..people {
        let g = GIVEN[rng.below(GIVEN.len())];
        let s = SURNAMES[rng.below(SURNAMES.len())];
        let d = format!("19{:02}-{:02}-{:02}", 40 + rng.below(60), 1 + rng.below(12), 1 + rng.below(28));
        let ph = format!("09{:08}", rng.next() % 100_000_000);
        for k in 0..1 + rng.below(3) {
            let slip = k > 0 && rng.below(3) == 0;
            rows.push(Row {
                id: format!("p{p}-{k}"),
                given: if slip { typo(&mut rng, g) } else { g.to_owned() },
                surname: s.to_owned(),
                dob: if k > 0 && rng.below(5) == 0 { None } else { Some(d.clone()) },
                phone: if k > 0 && rng.below(4) == 0 { typo(&mut rng, &ph) } else { ph.clone() },
            });
        }
    }
    rows
}

/// The rows as a table.
fn frame(rows: &[Row]) -> DataFrame {
    df!(
        "unique_id" => rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        "given_name" => rows.iter().map(|r| r.given.clone()).collect::<Vec<_>>(),
        "surname" => rows.iter().map(|r| r.surname.clone()).collect::<Vec<_>>(),
        "dob" => rows.iter().map(|r| r.dob.clone()).collect::<Vec<_>>(),
        "phone" => rows.iter().map(|r| r.phone.clone()).collect::<Vec<_>>()
    )
    .unwrap()
}

fn settings(link_type: LinkType) -> Settings {
    let mut s = Settings::from_json(
        r#"{
        "comparisons": [
            {"column": "given_name", "levels": ["exact", {"jaro_winkler": 0.85}], "term_frequency": true},
            {"column": "surname", "levels": ["exact", {"jaro_winkler": 0.9}]},
            {"column": "dob", "levels": ["exact", "day_month_swapped", {"within_years": 1}]},
            {"column": "phone", "levels": ["exact", {"levenshtein": 1}]}
        ],
        "blocking_rules": [["surname", "dob"], ["phone[:6]"], ["given_name", "surname"]],
        "training": {"u_sample_pairs": 50000}
    }"#,
    )
    .unwrap();
    s.link_type = link_type;
    s
}

fn person(id: &str) -> &str {
    id.split('-').next().unwrap()
}

/// Pairwise precision and recall of clusters against the `p<N>` truth.
fn precision_recall(clusters: &[(omnitwin::model::Text, omnitwin::model::Text)]) -> (f64, f64) {
    let (mut tp, mut predicted, mut truth) = (0usize, 0usize, 0usize);
    for (i, (a, ca)) in clusters.iter().enumerate() {
        for (b, cb) in &clusters[i + 1..] {
            let same_cluster = ca == cb;
            let same_person = person(a) == person(b);
            predicted += usize::from(same_cluster);
            truth += usize::from(same_person);
            tp += usize::from(same_cluster && same_person);
        }
    }
    (tp as f64 / predicted.max(1) as f64, tp as f64 / truth.max(1) as f64)
}

#[test]
fn dedupe_without_labels_is_accurate() {
    let mut linker = Linker::new(settings(LinkType::DedupeOnly), &[frame(&people(400, 7))]).unwrap();
    let report = linker.train().unwrap();
    assert!(report.untrained.is_empty(), "{:?}", report.untrained);
    let pairs = linker.predict().unwrap();
    let (precision, recall) = precision_recall(&linker.cluster(&pairs).unwrap());
    assert!(precision >= 0.95, "precision {precision}");
    assert!(recall >= 0.9, "recall {recall}");
}

#[test]
fn blocking_keeps_every_true_pair_that_agrees_on_a_rule() {
    let rows = people(200, 11);
    let mut linker = Linker::new(settings(LinkType::DedupeOnly), &[frame(&rows)]).unwrap();
    assert_eq!(linker.candidate_pairs().len(), 3);
    linker.train().unwrap();
    let mut checked = 0;
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            if person(&a.id) == person(&b.id) && a.phone[..6] == b.phone[..6] {
                let e = linker.explain(&a.id, &b.id).unwrap();
                assert!(e.blocking_rule.is_some(), "{} / {} is not a candidate", a.id, b.id);
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn explanations_add_up() {
    let mut linker = Linker::new(settings(LinkType::DedupeOnly), &[frame(&people(100, 3))]).unwrap();
    linker.train().unwrap();
    let e = linker.explain("p0-0", "p1-0").unwrap();
    let sum: f64 = e.prior_weight + e.parts.iter().map(|p| p.weight + p.term_frequency_adjustment).sum::<f64>();
    assert!((sum - e.match_weight).abs() < 1e-9);
    assert_eq!(e.parts.len(), 4);
    assert_eq!(e.parts[1].comparison, "surname");
    assert!(linker.explain("p0-0", "nobody").is_err());
}

#[test]
fn a_saved_model_gives_the_same_result() {
    let df = frame(&people(150, 5));
    let mut trained = Linker::new(settings(LinkType::DedupeOnly), std::slice::from_ref(&df)).unwrap();
    trained.train().unwrap();
    let json = trained.model().unwrap().to_json();
    let mut reused = Linker::new(settings(LinkType::DedupeOnly), &[df]).unwrap();
    assert!(reused.predict().is_err(), "no model yet");
    reused.set_model(Model::from_json(&json).unwrap()).unwrap();
    assert_eq!(trained.predict().unwrap(), reused.predict().unwrap());
}

#[test]
fn link_only_joins_across_tables_only() {
    let all = people(150, 9);
    let (left, right): (Vec<Row>, Vec<Row>) = all.into_iter().partition(|r| r.id.ends_with("-0"));
    let mut linker = Linker::new(settings(LinkType::LinkOnly), &[frame(&left), frame(&right)]).unwrap();
    linker.train().unwrap();
    let pairs = linker.predict().unwrap();
    assert!(!pairs.is_empty());
    let in_left = |id: &str| left.iter().any(|r| r.id == id);
    for p in &pairs {
        assert_ne!(in_left(&p.left), in_left(&p.right), "{p:?}");
    }
    assert!(Linker::new(settings(LinkType::LinkOnly), &[frame(&left)]).is_err(), "linking needs two tables");
}

#[test]
fn bad_settings_and_inputs_are_named() {
    let err = Settings::from_json(r#"{"comparisons": [], "blocking_rules": [["a"]]}"#).unwrap_err();
    assert_eq!(err.kind(), omnitwin::ErrorKind::Config);
    let err = Settings::from_json(
        r#"{"comparisons": [{"column": "a", "levels": [{"jaro_winkler": 2}]}], "blocking_rules": [["a"]]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("comparisons[0].levels[0]"), "{err}");
    let df = df!("unique_id" => ["1", "1"], "given_name" => ["a", "b"], "surname" => ["x", "y"], "dob" => ["", ""], "phone" => ["1", "2"])
        .unwrap();
    let err = Linker::new(settings(LinkType::DedupeOnly), &[df]).unwrap_err();
    assert_eq!((err.row(), err.column()), (Some(2), Some("unique_id")));
    let df = df!("unique_id" => ["1"], "given_name" => ["a"]).unwrap();
    assert!(Linker::new(settings(LinkType::DedupeOnly), &[df])
        .unwrap_err()
        .to_string()
        .contains("no column `surname`"));
}

#[test]
fn training_from_labels_works_as_well() {
    let rows = people(400, 21);
    let labels: Vec<(&str, &str)> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            rows[i + 1..].iter().filter(|b| person(&b.id) == person(&a.id)).map(|b| (a.id.as_str(), b.id.as_str()))
        })
        .take(200)
        .collect();
    let mut linker = Linker::new(settings(LinkType::DedupeOnly), &[frame(&rows)]).unwrap();
    let report = linker.train_from_labels(&labels).unwrap();
    // 400 records: u is counted over every pair, for every comparison, not sampled.
    assert_eq!((report.u_counted.len(), report.u_sample_pairs), (linker.model().unwrap().comparisons.len(), 0));
    let (precision, recall) = precision_recall(&linker.cluster(&linker.predict().unwrap()).unwrap());
    assert!(precision >= 0.95 && recall >= 0.9, "precision {precision}, recall {recall}");
    assert!(linker.train_from_labels(&[]).is_err());
    assert_eq!(linker.train_from_labels(&[("p0-0", "nobody")]).unwrap_err().kind(), omnitwin::ErrorKind::NotFound);
}

#[test]
fn explain_shows_the_chain_of_a_transitive_link() {
    let df = df!("unique_id" => ["a", "b", "c", "d"], "name" => ["x", "x", "y", "z"], "phone" => ["1", "2", "2", "9"])
        .unwrap();
    let settings = Settings::from_json(
        r#"{"comparisons": [{"column": "name", "levels": ["exact"]}, {"column": "phone", "levels": ["exact"]}],
            "blocking_rules": [["name"], ["phone"]]}"#,
    )
    .unwrap();
    let level = |label: &str, m: f64, u: f64| omnitwin::matching::LevelModel { label: label.into(), m, u };
    let comparison = |name: &str| omnitwin::matching::ComparisonModel {
        name: name.into(),
        levels: vec![level("null", 1.0, 1.0), level("exact", 0.9, 0.01), level("else", 0.2, 0.8)],
        term_frequencies: None,
    };
    let mut linker = Linker::new(settings, &[df]).unwrap();
    linker.set_model(Model { prior: 0.5, comparisons: vec![comparison("name"), comparison("phone")] }).unwrap();
    let direct = linker.explain("a", "b").unwrap();
    assert!(direct.linked && direct.chain.is_empty());
    let through = linker.explain("a", "c").unwrap();
    assert_eq!(through.blocking_rule, None, "a and c share no key");
    assert!(!through.linked);
    let steps: Vec<(&str, &str)> = through.chain.iter().map(|l| (l.left.as_str(), l.right.as_str())).collect();
    assert_eq!(steps, [("a", "b"), ("b", "c")]);
    assert!(linker.explain("a", "d").unwrap().chain.is_empty(), "d is joined to no one");
    let clusters = linker.cluster(&linker.predict().unwrap()).unwrap();
    assert_eq!(clusters.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(), ["a", "a", "a", "d"]);
}

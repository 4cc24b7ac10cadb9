//! End to end on generated omnichannel data with ground truth: precision must stay high
//! through every hard case, and every touchpoint is assigned exactly once.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

use std::collections::HashSet;

use omnitwin::{Config, Engine};

/// Resolves the generated data under `config`; returns the engine and pairwise scores.
fn scores(data: &synthetic::Synthetic, config: Config) -> (Engine, f64, f64, f64) {
    let mut engine = Engine::new(config).unwrap();
    engine.ingest(data.touchpoints.clone()).unwrap();
    let assignments = engine.assignments();
    assert_eq!(assignments.len(), data.touchpoints.len());
    let ids: HashSet<&str> = assignments.iter().map(|a| a.touchpoint_id.as_str()).collect();
    assert_eq!(ids.len(), data.touchpoints.len(), "every touchpoint exactly once");
    let predicted: Vec<String> = assignments.iter().map(|a| a.profile_id.clone()).collect();
    let (precision, recall, f1) = synthetic::pairwise_scores(&predicted, &data.person_of);
    (engine, precision, recall, f1)
}

#[test]
fn precision_and_recall_on_generated_data() {
    let data = synthetic::generate(5000, 7);
    let mut deterministic = Config::default();
    deterministic.matching.enabled = false;
    let (engine, precision, recall, f1) = scores(&data, deterministic);
    let report = engine.resolve();
    println!(
        "deterministic only: {} touchpoints of 5000 people → {} profiles; pairwise precision {precision:.4}, recall {recall:.4}, F1 {f1:.4}",
        report.touchpoints, report.profiles
    );
    // Deterministic linking only joins touchpoints that share a strong identifier: precision is
    // what it must get right; recall is bounded by the data (masked marketplace phones, chats
    // with no phone).
    assert!(precision >= 0.99, "precision {precision}");
    assert!(recall >= 0.30, "recall {recall}");
    // The store landlines typed for customers who decline are found shared.
    assert!(report.shared_identifiers.iter().filter(|s| s.identifier.starts_with("phone:+842")).count() >= 3);

    // With probabilistic matching (the default), masked phones, names and dates of birth join
    // what identifiers could not, and precision holds.
    let (engine, with_precision, with_recall, f1) = scores(&data, Config::default());
    let report = engine.resolve();
    println!(
        "with matching: {} profiles; pairwise precision {with_precision:.4}, recall {with_recall:.4}, F1 {f1:.4}; {:?}",
        report.profiles, report.matching
    );
    assert!(with_precision >= 0.99, "precision {with_precision}");
    assert!(with_recall >= recall + 0.08, "recall {with_recall} against {recall} without matching");
}

#[test]
fn hard_cases_resolve_as_expected() {
    let data = synthetic::generate(2000, 11);
    let mut engine = Engine::new(Config::default()).unwrap();
    engine.ingest(data.touchpoints.clone()).unwrap();
    engine.resolve();
    // Old 11-digit numbers and their 2018 replacements land in one profile.
    let renumbered = data
        .touchpoints
        .iter()
        .zip(&data.person_of)
        .filter(|(tp, _)| tp.phone.as_deref().is_some_and(|p| p.starts_with("01") && p.len() == 11))
        .map(|(_, person)| *person)
        .next()
        .expect("the generator writes old numbers");
    let profiles: HashSet<String> = data
        .touchpoints
        .iter()
        .zip(&data.person_of)
        .filter(|(tp, p)| {
            **p == renumbered && tp.phone.as_deref().is_some_and(|ph| !ph.contains('*') && !ph.starts_with("02"))
        })
        .map(|(tp, _)| engine.profile_of(&tp.touchpoint_id).unwrap().profile_id.clone())
        .collect();
    assert_eq!(profiles.len(), 1, "person {renumbered}'s phone spellings are one number");
}

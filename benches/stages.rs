//! Where resolve time goes: wall time per stage on generated touchpoints, and the whole path's
//! throughput. The deterministic path by default; with `matching`, probabilistic matching too
//! (training on the input, scoring, merging).
//!
//! `cargo bench --bench stages -- [PEOPLE] [matching]` (default 310000 people ≈ 1M touchpoints).

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

// The same allocator as the command-line tool, so that figures match what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Mutex;
use std::time::Instant;

use omnitwin::progress::Progress;
use omnitwin::{Config, Engine};

/// Records when each stage starts.
struct StageClock {
    start: Instant,
    marks: Mutex<Vec<(String, f64)>>,
}

impl Progress for StageClock {
    fn stage(&self, name: &str, _total: Option<u64>) {
        let mut marks = self.marks.lock().expect("no panics while holding the lock");
        marks.push((name.to_owned(), self.start.elapsed().as_secs_f64()));
    }
}

fn main() {
    let people: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(310_000);
    let data = synthetic::generate(people, 42);
    let n = data.touchpoints.len();
    let matching = std::env::args().any(|a| a == "matching");
    let mut config = Config::default();
    config.matching.enabled = matching;
    let mut engine = Engine::new(config).expect("the default config is valid");
    engine.ingest(data.touchpoints).expect("generated touchpoints are valid");
    let clock = StageClock { start: Instant::now(), marks: Mutex::new(Vec::new()) };
    let report = engine.resolve_with_progress(&clock).clone();
    let profiles = report.profiles;
    let assigned = clock.start.elapsed().as_secs_f64();
    clock.stage("(assigned)", None);
    engine.build_profiles_with_progress(&clock);
    clock.stage("(profiles built)", None);
    let marks = clock.marks.into_inner().expect("no panics while holding the lock");
    println!("{n} touchpoints → {profiles} profiles on {} threads", rayon::current_num_threads());
    for pair in marks.windows(2) {
        println!("  {:<14} {:>8.3} s", pair[0].0, pair[1].1 - pair[0].1);
    }
    let path = if matching { "with matching (train + score + merge)" } else { "deterministic path" };
    println!("{path} (normalize + link + assign): {assigned:.3} s = {:.0} touchpoints/s", n as f64 / assigned);
    if let Some(m) = &report.matching {
        let candidates: u64 = m.training.as_ref().map_or(0, |t| t.candidate_pairs.iter().sum());
        println!(
            "matching: {candidates} candidate pairs, {} above the threshold, {} profiles joined, {} refused by limits",
            m.pairs_above_threshold, m.matches_made, m.refused_limit
        );
    }
}

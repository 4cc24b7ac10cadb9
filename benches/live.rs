//! Live resolution latency: an engine holding the generated touchpoints of PEOPLE people
//! (310,000 ≈ 1M touchpoints) minus a held-back share goes live (batch resolve, model trained
//! and fixed), then the held-back touchpoints arrive one at a time through `ingest_one`.
//! Prints the time to go live, `ingest_one` p50/p90/p99/max, the slowest calls' component
//! sizes, `lookup` p50/p99, and checks the end state against one batch with the same model.
//!
//! With `durable`, the engine is a store on disk (`Engine::open`): the held touchpoints are
//! loaded in one batch, the first half of the arrivals come through `ingest_one` (each committed
//! before it returns), the second half in batches of 1,000 (sustained durable ingest); then the
//! store is reopened (timed) and its size per touchpoint printed. With `batched` too, all the
//! arrivals but one come in batches of 1,000 (e.g. `310000 150000 durable batched`: 150
//! batches into an 856,372-touchpoint store); `batch=N` sets another batch size.
//!
//! `cargo bench --bench live -- [PEOPLE] [ARRIVALS] [deterministic] [durable [batched]] [batch=N]`
//! (defaults 310000, 20000).

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use omnitwin::{Config, Engine, IdKind, Identifier, Touchpoint};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len().max(1) as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

fn main() {
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let people = numbers.first().copied().unwrap_or(310_000);
    let arrivals = numbers.get(1).copied().unwrap_or(20_000);
    let deterministic = std::env::args().any(|a| a == "deterministic");
    let data = synthetic::generate(people, 42);
    let mut all: Vec<Touchpoint> = data.touchpoints;
    // Hold back an evenly spread sample: they arrive later, in their own order.
    let step = (all.len() / arrivals.max(1)).max(1);
    let mut later = Vec::with_capacity(arrivals);
    let mut held = Vec::with_capacity(all.len());
    for (i, tp) in all.drain(..).enumerate() {
        if i % step == step - 1 && later.len() < arrivals {
            later.push(tp);
        } else {
            held.push(tp);
        }
    }
    let mut config = Config::default();
    config.matching.enabled = !deterministic;
    let durable = std::env::args().any(|a| a == "durable");
    let store = std::env::temp_dir().join(format!("omnitwin-live-bench-{}.db", std::process::id()));
    let mut engine = if durable {
        Engine::open_or_create(&store, config.clone()).expect("the store opens")
    } else {
        Engine::new(config.clone()).expect("the default config is valid")
    };
    let start = Instant::now();
    engine.ingest(held.clone()).expect("generated touchpoints are valid");
    engine.go_live().expect("the engine goes live");
    println!(
        "went live on {} touchpoints in {:.2} s (batch resolve, model, live index)",
        held.len(),
        start.elapsed().as_secs_f64()
    );

    let mut times = Vec::with_capacity(later.len());
    let mut slow: Vec<(f64, String, usize)> = Vec::new();
    let started = Instant::now();
    let batched = durable && std::env::args().any(|a| a == "batched");
    let batch_size: usize =
        std::env::args().find_map(|a| a.strip_prefix("batch=").and_then(|n| n.parse().ok())).unwrap_or(1000).max(1);
    let one_at_a_time = match (durable, batched) {
        (true, true) => later.len().min(1),
        (true, false) => later.len() / 2,
        (false, _) => later.len(),
    };
    for tp in later[..one_at_a_time].iter().cloned() {
        let t = Instant::now();
        let outcome = engine.ingest_one(tp).expect("a new touchpoint is accepted");
        let us = t.elapsed().as_secs_f64() * 1e6;
        times.push(us);
        if us > 2_000.0 && slow.len() < 5 {
            slow.push((us, outcome.touchpoint_id, outcome.changes.len()));
        }
    }
    let total = started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    println!(
        "ingest_one x {}: p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs ({:.0} touchpoints/s)",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(0.0),
        times.len() as f64 / total
    );
    for (us, id, changes) in &slow {
        println!("  slow: {id} {us:.0} µs, {changes} changes");
    }
    if durable {
        let rest = &later[one_at_a_time..];
        let t = Instant::now();
        for chunk in rest.chunks(batch_size) {
            engine.ingest(chunk.to_vec()).expect("valid");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "durable ingest in batches of {batch_size}: {} touchpoints in {secs:.2} s ({:.0}/s)",
            rest.len(),
            rest.len() as f64 / secs
        );
    }

    for pass in ["first (builds the profile)", "again (built)"] {
        let mut lookups = Vec::with_capacity(later.len());
        for tp in later.iter().filter(|t| t.email.is_some()).take(20_000) {
            let identifier = Identifier::new(IdKind::Email, tp.email.as_deref().unwrap_or_default());
            let t = Instant::now();
            let found = engine.lookup(&identifier).map(|p| p.touchpoint_count);
            lookups.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(found);
        }
        lookups.sort_by(f64::total_cmp);
        if !lookups.is_empty() {
            println!(
                "lookup by email, {pass}, x {}: p50 {:.1} µs, p99 {:.1} µs",
                lookups.len(),
                percentile(&lookups, 0.5),
                percentile(&lookups, 0.99)
            );
        }
    }

    // History: the engine as it went live (before the first arrival) and halfway through the
    // arrivals; the first question about a time resolves what was held then, later ones about
    // the same time reuse it.
    if let (Some(first), Some(middle)) = (later.first(), later.get(one_at_a_time / 2)) {
        let went_live = engine.acknowledged_at(&first.touchpoint_id).expect("held") - 1;
        let halfway = engine.acknowledged_at(&middle.touchpoint_id).expect("held");
        for (name, at) in [("as it went live", went_live), ("halfway through the arrivals", halfway)] {
            let t = Instant::now();
            let first_answer = engine.profile_of_as_of(&held[0].touchpoint_id, at).map(|p| p.touchpoint_count);
            let resolve = t.elapsed().as_secs_f64();
            std::hint::black_box(first_answer);
            let mut asked = Vec::with_capacity(1000);
            for tp in held.iter().step_by((held.len() / 1000).max(1)).take(1000) {
                let t = Instant::now();
                std::hint::black_box(engine.profile_of_as_of(&tp.touchpoint_id, at).map(|p| p.touchpoint_count));
                asked.push(t.elapsed().as_secs_f64() * 1e6);
            }
            asked.sort_by(f64::total_cmp);
            println!(
                "history ({name}): first question {resolve:.2} s (resolves what was held then), then x {}: p50 {:.1} µs, p99 {:.1} µs",
                asked.len(),
                percentile(&asked, 0.5),
                percentile(&asked, 0.99)
            );
        }
    }

    if durable {
        let held_now = engine.len();
        drop(engine);
        let bytes: u64 = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", store.display())).ok())
            .map(|m| m.len())
            .sum();
        let t = Instant::now();
        engine = Engine::open_or_create(&store, config.clone()).expect("the store reopens");
        println!(
            "reopen {:.2} s; store {:.1} MiB = {:.0} bytes per touchpoint",
            t.elapsed().as_secs_f64(),
            bytes as f64 / 1048576.0,
            bytes as f64 / held_now as f64
        );
    }
    // The live state equals one batch of everything with the same model.
    let mut batch = Engine::new(config).expect("valid");
    if let Some(model) = engine.model() {
        batch.set_model(model.clone()).expect("the model fits");
    }
    batch.ingest(held.into_iter().chain(later)).expect("valid");
    let mut live: Vec<_> = engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    let mut whole: Vec<_> = batch.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    live.sort();
    whole.sort();
    let differ = live.iter().zip(&whole).filter(|(a, b)| a != b).count();
    println!("live == one batch with the same model: {} ({differ} touchpoints differ)", differ == 0);
    if durable {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
        }
    }
}

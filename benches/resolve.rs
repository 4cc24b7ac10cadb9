//! Resolve throughput on generated omnichannel touchpoints (criterion).
//!
//! `cargo bench --bench resolve` prints, for 100k and 1M touchpoints:
//! - `assign`: the deterministic resolve path after parsing: normalize, link with merge
//!   protection, and assign stable profile ids (matching off);
//! - `assign_with_matching` (100k only): the same with probabilistic matching, the model trained
//!   on the input;
//! - `profiles`: building every profile (survivorship and provenance over every attribute).
//!
//! Criterion reports time per run and touchpoints per second (`thrpt`).

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

// The same allocator as the command-line tool, so that figures match what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use omnitwin::{Config, Engine, Touchpoint};

fn engine_with(touchpoints: &[Touchpoint]) -> Engine {
    engine_matching(touchpoints, false)
}

fn engine_matching(touchpoints: &[Touchpoint], matching: bool) -> Engine {
    let mut config = Config::default();
    config.matching.enabled = matching;
    let mut engine = Engine::new(config).expect("the default config is valid");
    engine.ingest(touchpoints.to_vec()).expect("generated touchpoints are valid");
    engine
}

fn bench_resolve(c: &mut Criterion) {
    for people in [31_000usize, 310_000] {
        let data = synthetic::generate(people, 42);
        let n = data.touchpoints.len();
        let label = if n >= 1_000_000 { format!("{:.1}M", n as f64 / 1e6) } else { format!("{}k", n / 1000) };
        let mut group = c.benchmark_group(format!("resolve_{label}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function("assign", |b| {
            b.iter_batched_ref(
                || engine_with(&data.touchpoints),
                |engine| engine.resolve().profiles,
                BatchSize::PerIteration,
            )
        });
        if n < 1_000_000 {
            group.bench_function("assign_with_matching", |b| {
                b.iter_batched_ref(
                    || engine_matching(&data.touchpoints, true),
                    |engine| engine.resolve().profiles,
                    BatchSize::PerIteration,
                )
            });
        }
        group.bench_function("profiles", |b| {
            b.iter_batched_ref(
                || {
                    let engine = engine_with(&data.touchpoints);
                    engine.resolve();
                    engine
                },
                |engine| engine.build_profiles_with_progress(&omnitwin::progress::NoProgress),
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench_resolve);
criterion_main!(benches);

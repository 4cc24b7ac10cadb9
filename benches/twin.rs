//! The digital twin at scale: traits, consent and 20 segments on every profile of the
//! generated touchpoints of PEOPLE people (1,000,000 people ≈ 3.2M touchpoints ≈ 1M
//! profiles), deterministic linking (matching is timed in `resolve`).
//!
//! Prints, each as a figure: resolving; building every profile without segments (traits and
//! consent are always computed); building them with 20 segments and 4 user-defined traits;
//! evaluating 20 ad-hoc segments over the built profiles (`Engine::segment`); the members of
//! each; and the process's peak resident memory.
//!
//! `cargo bench --bench twin -- [PEOPLE]` (default 1000000).

#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use omnitwin::{Config, Engine, Segment, Touchpoint};

/// 20 segments a marketing team writes: RFM cells, channel mixes, journey stages, carts,
/// consent, ages, user-defined traits.
const SEGMENTS: [&str; 20] = [
    "rfm.recency_score >= 4 and rfm.frequency_score >= 4",
    "rfm.recency_score <= 2 and rfm.monetary_score >= 4",
    "rfm.frequency_score = 1 and rfm.recency_score = 5",
    "orders >= 3",
    "revenue > 5000000",
    "channels contains 'store' and channels contains 'web'",
    "omnichannel_buyer",
    "preferred_channel = 'marketplace'",
    "preferred_purchase_channel in ['web', 'app']",
    "stage = 'lapsed'",
    "stage in ['exploration', 'evaluation']",
    "abandoned_cart and hours_since_abandoned_cart < 720",
    "cart_items > 0",
    "cross_device",
    "age between 25 and 35",
    "city = 'TP.HCM' or city = 'Hà Nội'",
    "consent.marketing.email is null",
    "not consent.marketing.email and orders > 0",
    "traits.spend_90d > 1000000",
    "traits.store_visits >= 2 and days_since_last_seen < 60",
];

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn config(with_segments: bool) -> Config {
    let mut config = Config::default();
    config.matching.enabled = false;
    if with_segments {
        let segments: serde_json::Map<String, serde_json::Value> =
            SEGMENTS.iter().enumerate().map(|(i, s)| (format!("s{i:02}"), serde_json::json!({ "where": s }))).collect();
        let twin: Config = serde_json::from_value(serde_json::json!({
            "traits": {"custom": {
                "spend_90d": {"aggregate": "sum", "field": "amount", "events": ["purchase"], "within_days": 90},
                "store_visits": {"aggregate": "count", "channels": ["store"]},
                "last_sku": {"aggregate": "last", "field": "sku"},
                "sources_used": {"aggregate": "distinct", "field": "source"}
            }},
            "segments": segments,
        }))
        .expect("the bench's config is valid");
        config.traits = twin.traits;
        config.segments = twin.segments;
    }
    config
}

fn main() {
    let people = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mut touchpoints: Vec<Touchpoint> = synthetic::generate(people, 7).touchpoints;
    // Cart items and some unsubscribes, so carts and consent have something to read.
    for (i, tp) in touchpoints.iter_mut().enumerate() {
        match tp.event_type.as_deref() {
            Some("add_to_cart") => {
                tp.attributes.insert("sku".into(), format!("SKU-{}", i % 97).into());
            }
            Some("email_click") if i % 7 == 0 => tp.event_type = Some("unsubscribe".into()),
            _ => {}
        }
    }
    println!("{} touchpoints of {people} people", touchpoints.len());

    for with_segments in [false, true] {
        let mut engine = Engine::new(config(with_segments)).expect("valid config");
        engine.ingest(touchpoints.clone()).expect("generated touchpoints are valid");
        let start = Instant::now();
        let report = engine.resolve().clone();
        let resolved = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let built = engine.build_profiles_with_progress(&omnitwin::progress::NoProgress);
        let build = start.elapsed().as_secs_f64();
        let label = if with_segments { "20 segments + 4 user-defined traits" } else { "no segments" };
        println!(
            "{label}: resolved {} profiles in {resolved:.2} s; built {built} profiles (traits, consent{}) in {build:.2} s ({:.2} µs per profile)",
            report.profiles,
            if with_segments { ", memberships" } else { "" },
            build * 1e6 / built as f64,
        );
        if with_segments {
            let parsed: Vec<Segment> = SEGMENTS.iter().map(|s| Segment::parse(s).expect("valid segment")).collect();
            let start = Instant::now();
            let members: Vec<usize> = parsed.iter().map(|s| engine.segment(s).expect("known traits").len()).collect();
            let evaluated = start.elapsed().as_secs_f64();
            println!(
                "20 ad-hoc segments over {built} built profiles: {evaluated:.2} s ({:.1} ns per profile and segment)",
                evaluated * 1e9 / (built as f64 * 20.0)
            );
            for (text, n) in SEGMENTS.iter().zip(&members) {
                println!("  {n:>8}  {text}");
            }
            let start = Instant::now();
            let frame = engine.profiles_frame().expect("the frame builds");
            println!(
                "profiles frame: {} rows × {} columns in {:.2} s",
                frame.height(),
                frame.width(),
                start.elapsed().as_secs_f64()
            );
        }
        println!("peak resident memory so far: {:.0} MiB", peak_rss_mib());
    }
}

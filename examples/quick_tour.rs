//! A quick tour of the Rust API on the bundled sample:
//!
//! ```text
//! cargo run --release --example quick_tour
//! ```
//!
//! Reads `examples/data/touchpoints.csv`, resolves it, prints the report, the largest profile
//! with the provenance of its name, a lookup by phone, and why two touchpoints were joined.

use std::path::Path;

use omnitwin::io::read_frame;
use omnitwin::{Config, Engine, IdKind, Identifier, OnError};

fn main() -> omnitwin::Result<()> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/touchpoints.csv");
    let config = Config { timezone: "+07:00".into(), ..Config::default() };
    let mut engine = Engine::new(config)?;
    let (frame, _) = read_frame(&sample, None, OnError::Fail)?;
    engine.ingest_frame(frame, OnError::Fail)?;

    let report = engine.resolve();
    println!(
        "{} touchpoints → {} profiles; {} links made; refused: {} blocked, {} shared, {} over a limit",
        report.touchpoints,
        report.profiles,
        report.links.links_made,
        report.links.refused_blocked_value,
        report.links.refused_shared_identifier,
        report.links.refused_limit
    );
    for shared in report.shared_identifiers.iter().take(3) {
        println!("  not linked: {} — {}", shared.identifier, shared.reason);
    }

    let largest = engine
        .profiles()
        .into_iter()
        .max_by_key(|p| (p.touchpoint_count, std::cmp::Reverse(p.profile_id.clone())))
        .expect("the sample has profiles");
    println!(
        "\nlargest profile {}: {} touchpoints on {:?}",
        largest.profile_id, largest.touchpoint_count, largest.channels
    );
    if let Some(name) = largest.attributes.get("full_name") {
        println!(
            "  full_name = {:?} ({} from {:?}, touchpoint {})",
            name.value, name.rule, name.source, name.touchpoint_id
        );
        for seen in &name.observed {
            println!("    seen {:?} ×{} from {:?}", seen.value, seen.count, seen.sources);
        }
    }
    for id in &largest.identifiers {
        println!(
            "  {} {} ({:?}, {} touchpoints, spelled {:?})",
            id.kind, id.value, id.status, id.touchpoint_count, id.raw_values
        );
    }

    if let Some(phone) = largest.identifiers_of(&IdKind::Phone).next() {
        let raw = phone.raw_values[0].to_string();
        let found = engine.lookup(&Identifier::new(IdKind::Phone, raw.as_str())).map(|p| p.profile_id.clone());
        println!("\nlookup(phone {raw:?}) → {found:?}");
    }
    let (first, last) = (&largest.touchpoint_ids[0], &largest.touchpoint_ids[largest.touchpoint_ids.len() - 1]);
    println!("\n{}", engine.explain(first, last)?);
    Ok(())
}

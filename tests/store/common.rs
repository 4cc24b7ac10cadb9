//! Helpers shared by the store tests.

use std::path::PathBuf;

use omnitwin::Engine;

#[path = "../../examples/synthetic/mod.rs"]
pub mod synthetic;

pub use synthetic::Rng;

/// A count from the environment (for longer soaks), or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A fresh directory for one test's stores (removed by the test when it passes).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("omnitwin-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every touchpoint with its profile, sorted by touchpoint id.
pub fn sorted_assignments(engine: &Engine) -> Vec<(String, String)> {
    let mut out: Vec<_> = engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
    out.sort();
    out
}

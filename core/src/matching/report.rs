//! What probabilistic matching did in a resolve, as data for the report.

use serde::{Deserialize, Serialize};

use super::TrainingReport;

/// Where the model of a resolve came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// Trained without labels on the touchpoints being resolved.
    Trained,
    /// Given with [`crate::Engine::set_model`] (`--model` on the command line).
    Given,
}

/// What probabilistic matching did in a resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingReport {
    /// Where the model came from.
    pub model: ModelSource,
    /// What training found, when the model was trained here.
    pub training: Option<TrainingReport>,
    /// The threshold a pair's match probability must reach.
    pub threshold: f64,
    /// Candidate pairs in different deterministic profiles that reached the threshold.
    pub pairs_above_threshold: usize,
    /// Profiles joined by those pairs.
    pub matches_made: usize,
    /// Pairs refused because the joined profile would break a per-profile limit.
    pub refused_limit: usize,
    /// Why matching did not run, when it did not (the deterministic result stands).
    pub skipped: Option<String>,
    /// Per blocking rule, the blocks left out for holding more than `max_block_records`
    /// touchpoints, as `[blocks, touchpoints in them]`.
    #[serde(default)]
    pub oversize_blocks: Vec<(usize, usize)>,
}

//! What a resolve produced, as data: counts, links made and refused, shared identifiers and
//! quarantined profiles by name, and what matching did.

use serde::{Deserialize, Serialize};

use crate::graph::LinkStats;
use crate::matching::MatchingReport;

/// An identifier found shared, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedIdentifierReport {
    /// The identifier (`phone:+84909000000`).
    pub identifier: String,
    /// Why it counts as shared.
    pub reason: String,
    /// How many touchpoints carry it.
    pub touchpoints: usize,
}

/// A quarantined profile, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineReport {
    /// The profile.
    pub profile_id: String,
    /// How many touchpoints it holds.
    pub touchpoints: usize,
    /// Why it is quarantined.
    pub reasons: Vec<String>,
}

/// What a resolve produced: counts of touchpoints, profiles, links made and links refused by
/// reason, and the worst offenders by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveReport {
    /// Touchpoints resolved.
    pub touchpoints: usize,
    /// Profiles produced.
    pub profiles: usize,
    /// Profiles with more than one touchpoint.
    pub merged_profiles: usize,
    /// The most touchpoints in one profile.
    pub largest_profile: usize,
    /// Profiles quarantined.
    pub quarantined_profiles: usize,
    /// What linking did.
    pub links: LinkStats,
    /// Shared identifiers, most touchpoints first (at most 50).
    pub shared_identifiers: Vec<SharedIdentifierReport>,
    /// Quarantined profiles, largest first (at most 50).
    pub quarantined: Vec<QuarantineReport>,
    /// What probabilistic matching did; `None` when it is off (`matching.enabled = false`).
    pub matching: Option<MatchingReport>,
}

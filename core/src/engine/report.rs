//! What ingesting and resolving did, as data: counts for a report, rows rejected and why.

use serde::{Deserialize, Serialize};

use crate::graph::LinkStats;

/// What to do with a row that cannot be accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Stop at the first bad row with a typed error; nothing is ingested.
    #[default]
    Fail,
    /// Skip bad rows, ingest the rest, and report each skipped row with its reasons.
    Skip,
}

/// A row that was not ingested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// 1-based data row (for files that failed UTF-8 decoding: the 1-based line).
    pub row: usize,
    /// The row's touchpoint id, when it has one.
    pub touchpoint_id: Option<String>,
    /// What was wrong, one message per problem (each naming its column).
    pub reasons: Vec<String>,
}

/// The outcome of one ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Touchpoints added.
    pub accepted: usize,
    /// Rows skipped (only with [`OnError::Skip`]).
    pub rejected: Vec<RejectedRow>,
}

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
    pub matching: Option<super::MatchingReport>,
}

/// How many examples of each kind the report lists.
pub(crate) const REPORT_EXAMPLES: usize = 50;

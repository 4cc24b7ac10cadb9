//! What an ingest did with its rows: how bad rows are handled, which were rejected and why.

use serde::{Deserialize, Serialize};

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

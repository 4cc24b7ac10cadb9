//! The identity graph: touchpoints linked through shared strong identifiers, with merge
//! protection (blocked values, shared identifiers, per-profile limits, quarantine).

mod blocklist;
mod components;
mod csr;
mod intern;
mod link;
mod merge;
mod names;
mod protection;
mod union_find;

pub(crate) use blocklist::Blocklist;
pub(crate) use components::Components;
pub(crate) use csr::Csr;
pub(crate) use intern::Interner;
pub use link::LinkStats;
pub(crate) use link::{Graph, PreparedBy};
pub(crate) use merge::MergeOutcome;
pub(crate) use names::NameGroups;
pub use protection::SharedFinding;
pub(crate) use protection::{finding_from, person_value, shared_finding, Identities, Known};

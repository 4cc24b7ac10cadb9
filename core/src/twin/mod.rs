//! The digital twin: profiles assembled from linked touchpoints, with survivorship and
//! provenance for every attribute and stable ids.

mod attributes;
mod build;
mod profile_id;
mod survivorship;

pub(crate) use attributes::STANDARD_ATTRIBUTES;
pub(crate) use build::{build_profiles, build_some_profiles, profile_ids};
pub(crate) use profile_id::{format_profile_id, profile_hash};

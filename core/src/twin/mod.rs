//! The digital twin: profiles assembled from linked touchpoints, with survivorship and
//! provenance for every attribute and stable ids.

mod attributes;
mod build;
mod consent;
mod evaluate;
mod field;
mod profile_id;
mod report;
mod resolve_report;
mod rfm;
mod segment;
mod settings;
mod survivorship;
mod traits;

pub(crate) use attributes::STANDARD_ATTRIBUTES;
pub(crate) use build::{build_profiles, build_some_profiles, profile_ids, rfm_scale};
pub(crate) use profile_id::{format_profile_id, profile_hash};
pub(crate) use report::build as build_report;
pub use report::{ChannelCountRow, ChannelTransition, FunnelRow, OmnichannelReport, RevenueRow};
pub use resolve_report::{QuarantineReport, ResolveReport, SharedIdentifierReport};
pub use rfm::RfmScale;
pub use segment::Segment;
pub(crate) use settings::{compile as compile_settings, TwinRules};
pub use settings::{Aggregate, CartFields, ConsentSettings, CustomTrait, EventClasses, SegmentSettings, TraitSettings};
pub(crate) use traits::{buyer_values, in_time_order, TwinContext};

use crate::model::{Profile, Touchpoint};

/// Fills a profile's traits, consent and segment memberships from its touchpoints.
pub(crate) fn enrich(profile: &mut Profile, tps: &[&Touchpoint], twin: &TwinRules, ctx: &TwinContext) {
    profile.traits = traits::compute(tps, twin, ctx);
    profile.consent = consent::compute(tps, twin);
    profile.segments = memberships(profile, twin);
}

/// The configured segments a profile (with its traits) belongs to, by name.
pub(crate) fn memberships(profile: &Profile, twin: &TwinRules) -> Vec<String> {
    twin.segments.iter().filter(|s| s.expression.matches(profile)).map(|s| s.name.clone()).collect()
}

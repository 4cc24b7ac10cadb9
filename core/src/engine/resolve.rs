//! Resolving everything held: deterministic linking, matching, quarantine, profile ids, the
//! resolve report, and the profiles built from it.

use std::sync::OnceLock;

use super::{matching, Engine, Resolution, Whole};
use crate::config::Rules;
use crate::error::Result;
use crate::graph::Graph;
use crate::model::{Profile, Text, Touchpoint};
use crate::prepare::SCOPE_SEPARATOR;
use crate::progress::{NoProgress, Progress};
use crate::twin::{QuarantineReport, ResolveReport, SharedIdentifierReport};

/// How many examples of each kind the report lists.
const REPORT_EXAMPLES: usize = 50;

impl Engine {
    /// Resolves everything ingested (if not already resolved) and returns the report.
    pub fn resolve(&self) -> &ResolveReport {
        &self.resolved(&NoProgress).report
    }

    /// [`Engine::resolve`], reporting progress.
    pub fn resolve_with_progress(&self, progress: &dyn Progress) -> &ResolveReport {
        &self.resolved(progress).report
    }

    pub(super) fn resolved(&self, progress: &dyn Progress) -> &Resolution {
        self.resolution.get_or_init(|| self.compute(progress))
    }

    pub(super) fn compute(&self, progress: &dyn Progress) -> Resolution {
        if self.matching_paused {
            let mut rules = self.rules.clone();
            rules.config.matching.enabled = false;
            return compute(&self.touchpoints, &rules, None, None, progress);
        }
        compute(&self.touchpoints, &self.rules, self.model.as_ref(), None, progress)
    }

    /// Every cluster's profile, built on first need.
    pub(super) fn built_profiles(&self, progress: &dyn Progress) -> &[Profile] {
        let r = self.resolved(progress);
        r.profiles.get_or_init(|| {
            let ctx = self.twin_context(r);
            crate::twin::build_profiles(&self.touchpoints, &r.graph, &self.rules, &r.profile_ids, ctx, progress)
        })
    }

    /// The `as_of` time of traits: the config's, else the latest touchpoint timestamp held.
    pub(super) fn as_of(&self) -> Option<i64> {
        self.rules.twin.as_of.or(self.latest)
    }

    /// What a resolution's traits are computed with: `as_of` and the RFM scale (the one set or
    /// fixed, else computed over the resolution's buyers).
    pub(super) fn twin_context<'r>(&self, r: &'r Resolution) -> &'r crate::twin::TwinContext {
        r.twin.get_or_init(|| crate::twin::TwinContext {
            as_of: self.as_of(),
            scale: self.rfm_scale.clone().unwrap_or_else(|| {
                std::sync::Arc::new(crate::twin::rfm_scale(&self.touchpoints, &r.graph, &self.rules))
            }),
        })
    }

    /// The context of a live engine's traits: `as_of` now and the fixed scale.
    pub(super) fn live_context(&self) -> crate::twin::TwinContext {
        crate::twin::TwinContext { as_of: self.as_of(), scale: self.rfm_scale.clone().unwrap_or_default() }
    }

    /// The RFM scale scores are given against: the one set or fixed when the engine went live,
    /// else the one computed over the current profiles' buyers.
    pub fn rfm_scale(&self) -> crate::twin::RfmScale {
        match &self.rfm_scale {
            Some(scale) => scale.as_ref().clone(),
            None => self.twin_context(self.resolved(&NoProgress)).scale.as_ref().clone(),
        }
    }

    /// Fixes the RFM scale scores are given against (say, last quarter's, so this quarter's
    /// scores compare), instead of computing it from the profiles held.
    pub fn set_rfm_scale(&mut self, scale: crate::twin::RfmScale) -> Result<()> {
        self.writable()?;
        scale.check()?;
        let scale = std::sync::Arc::new(scale);
        if let Some(store) = &self.store {
            store.set_meta(&[("rfm_scale", Some(serde_json::to_string(scale.as_ref())?))])?;
        }
        self.persisted.rfm_scale = Some(std::sync::Arc::clone(&scale));
        self.rfm_scale = Some(scale);
        self.history.clear();
        if let Some(r) = self.resolution.get_mut() {
            r.twin = OnceLock::new();
            r.profiles = OnceLock::new();
        }
        if let Some(live) = &self.live {
            live.forget_built();
        }
        Ok(())
    }

    /// Builds the profiles now (they are otherwise built on first need), reporting progress.
    pub fn build_profiles_with_progress(&self, progress: &dyn Progress) -> usize {
        self.built_profiles(progress).len()
    }
}

/// Resolves `touchpoints`: deterministic linking, probabilistic matching, quarantine, profile ids.
pub(super) fn compute(
    touchpoints: &[Touchpoint],
    rules: &Rules,
    model: Option<&std::sync::Arc<crate::matching::Model>>,
    whole: Option<&Whole<'_>>,
    progress: &dyn Progress,
) -> Resolution {
    let prepared = whole.and_then(|w| w.prepared);
    let mut graph = Graph::build(touchpoints, prepared, rules, whole.map(|w| &w.known), progress);
    // A part of a live store is scored with the store's model, never one trained on the part.
    let crossing: Option<Vec<(u32, u32, f64)>> = whole.and_then(|w| w.candidates).map(|pairs| {
        let cluster_of = &graph.cluster_of;
        pairs.iter().copied().filter(|&(a, b, _)| cluster_of[a as usize] != cluster_of[b as usize]).collect()
    });
    let may_join = crossing.as_ref().is_none_or(|pairs| !pairs.is_empty());
    let (matches, matching_report) =
        if rules.config.matching.enabled && (whole.is_none() || model.is_some()) && may_join {
            let oversize = whole.map(|w| w.oversize);
            let (matches, report) =
                matching::run(touchpoints, &mut graph, rules, model, oversize, crossing.as_deref(), progress);
            (matches, Some(report))
        } else {
            (None, None)
        };
    progress.stage("quarantine", None);
    graph.find_quarantined(rules);
    let profile_ids = crate::twin::profile_ids(touchpoints, &graph);
    let mut report = report_for(touchpoints.len(), rules, &graph, &profile_ids);
    report.matching = matching_report;
    Resolution {
        graph,
        profile_ids,
        by_id: OnceLock::new(),
        report,
        profiles: OnceLock::new(),
        matches,
        twin: OnceLock::new(),
    }
}

/// The report of a resolution.
pub(super) fn report_for(touchpoints: usize, rules: &Rules, graph: &Graph, profile_ids: &[Text]) -> ResolveReport {
    let mut shared: Vec<SharedIdentifierReport> = graph
        .shared
        .iter()
        .map(|(&id, finding)| SharedIdentifierReport {
            identifier: describe_identifier(rules, graph, id),
            reason: finding.to_string(),
            touchpoints: finding.touchpoints,
        })
        .collect();
    shared.sort_by(|a, b| b.touchpoints.cmp(&a.touchpoints).then_with(|| a.identifier.cmp(&b.identifier)));
    shared.truncate(REPORT_EXAMPLES);
    let mut quarantined: Vec<QuarantineReport> = graph
        .quarantined
        .iter()
        .map(|(&c, reasons)| QuarantineReport {
            profile_id: profile_ids[c as usize].to_string(),
            touchpoints: graph.clusters.get(c as usize).len(),
            reasons: reasons.clone(),
        })
        .collect();
    let quarantined_profiles = quarantined.len();
    quarantined.sort_by(|a, b| b.touchpoints.cmp(&a.touchpoints).then_with(|| a.profile_id.cmp(&b.profile_id)));
    quarantined.truncate(REPORT_EXAMPLES);
    let sizes = (0..graph.clusters.len()).map(|c| graph.clusters.get(c).len());
    ResolveReport {
        touchpoints,
        profiles: profile_ids.len(),
        merged_profiles: sizes.clone().filter(|&n| n > 1).count(),
        largest_profile: sizes.max().unwrap_or(0),
        quarantined_profiles,
        links: graph.stats.clone(),
        shared_identifiers: shared,
        quarantined,
        matching: None,
    }
}

/// `kind:value` or `kind[scope]:value` for an interned identifier.
pub(super) fn describe_identifier(rules: &Rules, graph: &Graph, id: u32) -> String {
    let (kind, key) = graph.interner.key(id);
    let kind = &rules.kinds[kind as usize].kind;
    match key.split_once(SCOPE_SEPARATOR) {
        Some((scope, value)) => format!("{kind}[{scope}]:{value}"),
        None => format!("{kind}:{key}"),
    }
}

/// Why a link was refused: the limit it would break and the values in conflict.
pub(super) fn describe_refusal(rules: &Rules, graph: &Graph, slot: u32, existing: u32, incoming: u32) -> String {
    let kind = &rules.kinds[graph.slot_kind[slot as usize] as usize];
    format!(
        "refused: the link would give one profile both {} and {} (at most {} {} per profile)",
        describe_identifier(rules, graph, existing),
        describe_identifier(rules, graph, incoming),
        kind.max_per_profile.unwrap_or(1),
        kind.kind
    )
}

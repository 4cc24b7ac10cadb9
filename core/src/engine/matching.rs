//! The probabilistic layer of `resolve`: touchpoints compared and scored under a model
//! (trained on them, or given), and the pairs that reach the threshold joining the profiles
//! deterministic linking made, strongest first, never against a per-profile limit.

use rayon::prelude::*;

use crate::config::Rules;
use crate::error::Result;
use crate::graph::{Graph, MergeOutcome};
use crate::matching::{probability, touchpoint_records, Linker, MatchingReport, Model, ModelSource};
use crate::model::Touchpoint;
use crate::progress::Progress;

/// One scored pair of touchpoints across deterministic profiles, and what became of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchLink {
    /// The touchpoints (indices).
    pub a: u32,
    pub b: u32,
    pub weight: f64,
    pub outcome: MergeOutcome,
}

/// The matching state a resolution keeps for explanations.
#[derive(Debug)]
pub(crate) struct Matches {
    /// The records and their comparisons (`None` when the pairs came scored already).
    pub linker: Option<Linker>,
    /// Per touchpoint: its record in the linker (empty without one).
    pub record_of: Vec<u32>,
    /// The scored pairs, in the order they were applied.
    pub links: Vec<MatchLink>,
}

/// Runs matching over the graph's touchpoints and merges what it finds into `graph`. With
/// `candidates` (the pairs of touchpoints across deterministic profiles that blocking makes and
/// that reach the threshold under the given model, with their weights) and a given model, those
/// are the links; otherwise blocking finds and scores the candidates.
pub(crate) fn run(
    touchpoints: &[Touchpoint],
    graph: &mut Graph,
    rules: &Rules,
    given: Option<&std::sync::Arc<Model>>,
    oversize: Option<&[rustc_hash::FxHashSet<u64>]>,
    candidates: Option<&[(u32, u32, f64)]>,
    progress: &dyn Progress,
) -> (Option<Matches>, MatchingReport) {
    let matching = &rules.config.matching;
    let mut report = MatchingReport {
        model: if given.is_some() { ModelSource::Given } else { ModelSource::Trained },
        training: None,
        threshold: matching.threshold,
        pairs_above_threshold: 0,
        matches_made: 0,
        refused_limit: 0,
        skipped: None,
        oversize_blocks: Vec::new(),
    };
    if touchpoints.len() < 2 {
        report.skipped = Some("fewer than two touchpoints".into());
        return (None, report);
    }
    match score(touchpoints, graph, rules, given, oversize, candidates, progress, &mut report) {
        Ok(matches) => {
            progress.stage("merging", None);
            let order: Vec<(u32, u32)> = matches.links.iter().map(|l| (l.a, l.b)).collect();
            let outcomes = graph.merge_matches(rules, &order);
            let mut matches = matches;
            for (link, outcome) in matches.links.iter_mut().zip(outcomes) {
                link.outcome = outcome;
            }
            report.pairs_above_threshold = matches.links.len();
            report.matches_made = matches.links.iter().filter(|l| l.outcome == MergeOutcome::Joined).count();
            report.refused_limit =
                matches.links.iter().filter(|l| matches!(l.outcome, MergeOutcome::Refused(_))).count();
            (Some(matches), report)
        }
        Err(e) => {
            report.skipped = Some(e.to_string());
            (None, report)
        }
    }
}

/// Builds the records, trains (or takes) the model and scores the candidate pairs that cross
/// deterministic profiles (or takes those given, scored already, with a given model); the links
/// come back strongest first, ties broken by the records' data-only order.
#[allow(clippy::too_many_arguments)]
fn score(
    touchpoints: &[Touchpoint],
    graph: &Graph,
    rules: &Rules,
    given: Option<&std::sync::Arc<Model>>,
    oversize: Option<&[rustc_hash::FxHashSet<u64>]>,
    candidates: Option<&[(u32, u32, f64)]>,
    progress: &dyn Progress,
    report: &mut MatchingReport,
) -> Result<Matches> {
    progress.stage("matching", None);
    if let (Some(pairs), Some(_)) = (candidates, given) {
        return Ok(Matches { linker: None, record_of: Vec::new(), links: given_links(touchpoints, pairs) });
    }
    let columns = rules.matching.columns();
    let (records, touchpoint_of) = touchpoint_records(touchpoints, None, graph, rules, columns)?;
    let mut linker = Linker::from_records(&rules.matching, records, oversize)?;
    report.oversize_blocks = linker.oversize_blocks();
    match given {
        Some(model) => linker.set_shared_model(std::sync::Arc::clone(model))?,
        None => {
            progress.stage("training", None);
            report.training = Some(linker.train()?);
        }
    }
    progress.stage("scoring", None);
    let cluster_of = &graph.cluster_of;
    let apart = |a: u32, b: u32| {
        cluster_of[touchpoint_of[a as usize] as usize] != cluster_of[touchpoint_of[b as usize] as usize]
    };
    let mut scored: Vec<(u32, u32, f64)> =
        linker.scored_links(apart)?.into_iter().map(|(a, b, weight, _)| (a, b, weight)).collect();
    scored.par_sort_unstable_by(|x, y| y.2.total_cmp(&x.2).then_with(|| (x.0, x.1).cmp(&(y.0, y.1))));
    let links = scored
        .into_iter()
        .map(|(a, b, weight)| MatchLink {
            a: touchpoint_of[a as usize],
            b: touchpoint_of[b as usize],
            weight,
            outcome: MergeOutcome::AlreadyJoined,
        })
        .collect();
    let mut record_of = vec![0u32; touchpoints.len()];
    for (record, &tp) in touchpoint_of.iter().enumerate() {
        record_of[tp as usize] = record as u32;
    }
    Ok(Matches { linker: Some(linker), record_of, links })
}

/// Pairs scored already as links, in the order scoring the records would give them: strongest
/// first, ties broken by the records' data-only order (by touchpoint id hash, then id), each
/// pair's touchpoints in that order.
fn given_links(touchpoints: &[Touchpoint], pairs: &[(u32, u32, f64)]) -> Vec<MatchLink> {
    let key = |tp: u32| {
        let id = &touchpoints[tp as usize].touchpoint_id;
        (crate::prepare::hash_of(0, id), id)
    };
    let mut keyed: Vec<_> = pairs
        .iter()
        .map(|&(a, b, weight)| {
            let (ka, kb) = (key(a), key(b));
            let (a, b, order) = if ka <= kb { (a, b, (ka, kb)) } else { (b, a, (kb, ka)) };
            (MatchLink { a, b, weight, outcome: MergeOutcome::AlreadyJoined }, order)
        })
        .collect();
    keyed.sort_by(|(x, kx), (y, ky)| y.weight.total_cmp(&x.weight).then_with(|| kx.cmp(ky)));
    keyed.into_iter().map(|(link, _)| link).collect()
}

impl MatchLink {
    /// The link's match probability.
    pub(crate) fn probability(&self) -> f64 {
        probability(self.weight)
    }
}

//! Explanations: why two touchpoints are, or are not, in one profile.

use std::collections::VecDeque;
use std::fmt;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{describe_identifier, describe_refusal, Resolution};
use crate::config::Rules;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::model::Touchpoint;
use crate::progress::NoProgress;

/// How one step of a path between two touchpoints fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepStatus {
    /// The identifier linked the two touchpoints.
    Linked,
    /// Probabilistic matching joined the two touchpoints.
    Matched {
        /// The pair's match probability.
        match_probability: f64,
    },
    /// The identifier is on the blocked-values list.
    Blocked,
    /// The identifier is shared by different people.
    Shared {
        /// Why it counts as shared.
        reason: String,
    },
    /// The link was refused because it would break a per-profile limit.
    Refused {
        /// Which limit, and the values in conflict.
        reason: String,
    },
}

/// One step: `from` and `to` both carry `identifier`, or were matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkStep {
    /// A touchpoint id.
    pub from: String,
    /// The identifier both carry (`email:an@gmail.com`), or `probabilistic match`.
    pub identifier: String,
    /// The next touchpoint id.
    pub to: String,
    /// Whether this step joined them.
    pub status: StepStatus,
}

/// Why two touchpoints are, or are not, in one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The first touchpoint.
    pub touchpoint_a: String,
    /// The second touchpoint.
    pub touchpoint_b: String,
    /// The first touchpoint's profile.
    pub profile_a: String,
    /// The second touchpoint's profile.
    pub profile_b: String,
    /// Whether they are in one profile.
    pub same_profile: bool,
    /// When in one profile: the chain of links that joins them. Otherwise: the shortest chain of
    /// shared identifiers that would have joined them, with what stopped each blocked step
    /// (empty when they have no identifier path at all).
    pub path: Vec<LinkStep>,
    /// One sentence saying the outcome.
    pub summary: String,
    /// When matching ran: how the two touchpoints score against each other under the model,
    /// comparison by comparison (the data of a waterfall chart).
    pub match_score: Option<crate::matching::PairExplanation>,
}

impl fmt::Display for StepStatus {
    /// How the step fared, in words (`linked`, `not linked: blocked value`, …).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepStatus::Linked => write!(f, "linked"),
            StepStatus::Matched { match_probability } => write!(f, "matched (probability {match_probability:.4})"),
            StepStatus::Blocked => write!(f, "not linked: blocked value"),
            StepStatus::Shared { reason } | StepStatus::Refused { reason } => write!(f, "not linked: {reason}"),
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary)?;
        for step in &self.path {
            writeln!(f, "  {} —[{}]→ {}   {}", step.from, step.identifier, step.to, step.status)?;
        }
        if let Some(score) = &self.match_score {
            writeln!(
                f,
                "  match score {:.2} (probability {:.4}, threshold {}): prior {:.2}",
                score.match_weight, score.match_probability, score.threshold, score.prior_weight
            )?;
            for part in &score.parts {
                writeln!(
                    f,
                    "    {:<14} {:<24} {:+.2}",
                    part.comparison,
                    part.level,
                    part.weight + part.term_frequency_adjustment
                )?;
            }
        }
        Ok(())
    }
}

/// The status of the edge between identifier `id` and touchpoint `tp`.
fn edge_status(graph: &Graph, id: u32, tp: u32, describe_refusal: &dyn Fn(u32, u32) -> String) -> StepStatus {
    if graph.blocked[id as usize] {
        StepStatus::Blocked
    } else if let Some(finding) = graph.shared.get(&id) {
        StepStatus::Shared { reason: finding.to_string() }
    } else if graph.refused.contains_key(&(id, tp)) {
        StepStatus::Refused { reason: describe_refusal(id, tp) }
    } else {
        StepStatus::Linked
    }
}

/// A probabilistic match between two touchpoints, for explanations.
#[derive(Debug, Clone)]
pub(crate) struct MatchEdge {
    pub a: u32,
    pub b: u32,
    pub probability: f64,
    /// Why it was refused, when it was.
    pub refused: Option<String>,
}

/// How a path reaches a touchpoint: through an identifier, or a match (its index).
#[derive(Debug, Clone, Copy)]
enum Via {
    Identifier(u32),
    Match(usize),
}

/// The shortest path from `a` to `b` through identifiers in the bipartite touchpoint–identifier
/// graph and through matches; with `linked_only`, only over edges that linked. Returns
/// `(touchpoint, via, touchpoint)` steps from `a`.
fn shortest_path(
    graph: &Graph,
    matches: &[MatchEdge],
    a: u32,
    b: u32,
    linked_only: bool,
) -> Option<Vec<(u32, Via, u32)>> {
    let edge_ok = |id: u32, tp: u32| !linked_only || (graph.links(id) && !graph.refused.contains_key(&(id, tp)));
    let mut matched: FxHashMap<u32, Vec<(u32, usize)>> = FxHashMap::default();
    for (i, m) in matches.iter().enumerate() {
        if !linked_only || m.refused.is_none() {
            matched.entry(m.a).or_default().push((m.b, i));
            matched.entry(m.b).or_default().push((m.a, i));
        }
    }
    let mut came_from: FxHashMap<u32, (u32, Via)> = FxHashMap::default();
    let mut seen_ids = rustc_hash::FxHashSet::default();
    let mut queue = VecDeque::from([a]);
    came_from.insert(a, (u32::MAX, Via::Identifier(u32::MAX)));
    while let Some(tp) = queue.pop_front() {
        if tp == b {
            let mut steps = Vec::new();
            let mut at = b;
            while at != a {
                let (prev, via) = came_from[&at];
                steps.push((prev, via, at));
                at = prev;
            }
            steps.reverse();
            return Some(steps);
        }
        for &id in graph.tp_ids.get(tp as usize) {
            if !edge_ok(id, tp) || !seen_ids.insert(id) {
                continue;
            }
            for &next in graph.members.get(id as usize) {
                if edge_ok(id, next) && !came_from.contains_key(&next) {
                    came_from.insert(next, (tp, Via::Identifier(id)));
                    queue.push_back(next);
                }
            }
        }
        for &(next, i) in matched.get(&tp).map_or(&[][..], Vec::as_slice) {
            if let std::collections::hash_map::Entry::Vacant(entry) = came_from.entry(next) {
                entry.insert((tp, Via::Match(i)));
                queue.push_back(next);
            }
        }
    }
    None
}

/// Builds the explanation for touchpoints `a` and `b` (indices).
#[allow(clippy::too_many_arguments)] // the pieces of one resolution, borrowed
pub(crate) fn explain(
    graph: &Graph,
    matches: &[MatchEdge],
    match_score: Option<crate::matching::PairExplanation>,
    touchpoints: &[Touchpoint],
    profile_id_of: &dyn Fn(u32) -> String,
    describe_identifier: &dyn Fn(u32) -> String,
    describe_refusal: &dyn Fn(u32, u32) -> String,
    a: u32,
    b: u32,
) -> Explanation {
    let same_profile = graph.cluster_of[a as usize] == graph.cluster_of[b as usize];
    let raw = shortest_path(graph, matches, a, b, same_profile).unwrap_or_default();
    let id_of = |tp: u32| touchpoints[tp as usize].touchpoint_id.to_string();
    let path: Vec<LinkStep> = raw
        .iter()
        .map(|&(from, via, to)| match via {
            Via::Identifier(id) => {
                let status = match edge_status(graph, id, from, describe_refusal) {
                    StepStatus::Linked => edge_status(graph, id, to, describe_refusal),
                    other => other,
                };
                LinkStep { from: id_of(from), identifier: describe_identifier(id), to: id_of(to), status }
            }
            Via::Match(i) => {
                let m = &matches[i];
                let status = match &m.refused {
                    None => StepStatus::Matched { match_probability: m.probability },
                    Some(reason) => StepStatus::Refused { reason: reason.clone() },
                };
                LinkStep { from: id_of(from), identifier: "probabilistic match".into(), to: id_of(to), status }
            }
        })
        .collect();
    let (ta, tb) = (id_of(a), id_of(b));
    let summary = if a == b {
        format!("{ta} and {tb} are the same touchpoint")
    } else if same_profile {
        format!("{ta} and {tb} are in one profile, joined through {} link(s)", path.len())
    } else if path.is_empty() {
        format!("{ta} and {tb} are in different profiles: no chain of shared identifiers or matches connects them")
    } else {
        let stopped =
            path.iter().filter(|s| !matches!(s.status, StepStatus::Linked | StepStatus::Matched { .. })).count();
        format!(
            "{ta} and {tb} are in different profiles: the shortest chain of shared identifiers and matches between them has {} link(s), {stopped} of them not made by merge protection",
            path.len()
        )
    };
    Explanation {
        touchpoint_a: ta,
        touchpoint_b: tb,
        profile_a: profile_id_of(a),
        profile_b: profile_id_of(b),
        same_profile,
        path,
        summary,
        match_score,
    }
}

impl super::Engine {
    /// Why two touchpoints are, or are not, in one profile.
    pub fn explain(&self, touchpoint_a: &str, touchpoint_b: &str) -> Result<Explanation> {
        let a = *self.index.get(touchpoint_a).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_a.into()))?;
        let b = *self.index.get(touchpoint_b).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_b.into()))?;
        if let Some(part) = self.live_part(&[a, b]) {
            let (la, lb) = (part.local(a), part.local(b));
            return Ok(explain_in(&self.rules, &part.touchpoints, &part.resolution, la, lb));
        }
        Ok(explain_in(&self.rules, &self.touchpoints, self.resolved(&NoProgress), a, b))
    }
}

/// Why touchpoints `a` and `b` (indices into `touchpoints`) are, or are not, in one profile of
/// resolution `r`.
fn explain_in(rules: &Rules, touchpoints: &[Touchpoint], r: &Resolution, a: u32, b: u32) -> Explanation {
    let profile_id_of = |tp: u32| r.profile_ids[r.graph.cluster_of[tp as usize] as usize].to_string();
    let describe_id = |id: u32| describe_identifier(rules, &r.graph, id);
    let describe_limit =
        |slot: u32, existing: u32, incoming: u32| describe_refusal(rules, &r.graph, slot, existing, incoming);
    let describe_refused = |id: u32, tp: u32| match r.graph.refused.get(&(id, tp)) {
        Some(refusal) => describe_limit(refusal.slot, refusal.existing, refusal.incoming),
        None => String::new(),
    };
    let (edges, match_score) = match &r.matches {
        Some(matches) => {
            let edges: Vec<MatchEdge> = matches
                .links
                .iter()
                .filter(|l| l.outcome != crate::graph::MergeOutcome::AlreadyJoined)
                .map(|l| MatchEdge {
                    a: l.a,
                    b: l.b,
                    probability: l.probability(),
                    refused: match l.outcome {
                        crate::graph::MergeOutcome::Refused(c) => Some(describe_limit(c.slot, c.existing, c.incoming)),
                        _ => None,
                    },
                })
                .collect();
            let score = match (&matches.linker, matches.record_of.get(a as usize), matches.record_of.get(b as usize)) {
                (Some(linker), Some(&ra), Some(&rb)) if a != b => linker.explain_records(ra, rb).ok(),
                _ => None,
            };
            (edges, score)
        }
        None => (Vec::new(), None),
    };
    explain(&r.graph, &edges, match_score, touchpoints, &profile_id_of, &describe_id, &describe_refused, a, b)
}

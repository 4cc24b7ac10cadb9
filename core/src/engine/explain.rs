//! Explanations: why two touchpoints are, or are not, in one profile.

use std::collections::VecDeque;
use std::fmt;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::graph::Graph;
use crate::model::Touchpoint;

/// How one step of a path between two touchpoints fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepStatus {
    /// The identifier linked the two touchpoints.
    Linked,
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

/// One step: `from` and `to` both carry `identifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStep {
    /// A touchpoint id.
    pub from: String,
    /// The identifier both carry (`email:an@gmail.com`).
    pub identifier: String,
    /// The next touchpoint id.
    pub to: String,
    /// Whether this step joined them.
    pub status: StepStatus,
}

/// Why two touchpoints are, or are not, in one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary)?;
        for step in &self.path {
            let status = match &step.status {
                StepStatus::Linked => "linked".to_owned(),
                StepStatus::Blocked => "not linked: blocked value".to_owned(),
                StepStatus::Shared { reason } => format!("not linked: {reason}"),
                StepStatus::Refused { reason } => format!("not linked: {reason}"),
            };
            writeln!(f, "  {} —[{}]→ {}   {}", step.from, step.identifier, step.to, status)?;
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

/// The shortest path from `a` to `b` through identifiers in the bipartite touchpoint–identifier
/// graph; with `linked_only`, only over edges that linked. Returns `(touchpoint, identifier)`
/// steps from `a`.
fn shortest_path(graph: &Graph, a: u32, b: u32, linked_only: bool) -> Option<Vec<(u32, u32, u32)>> {
    let edge_ok = |id: u32, tp: u32| !linked_only || (graph.links(id) && !graph.refused.contains_key(&(id, tp)));
    let mut came_from: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
    let mut seen_ids = rustc_hash::FxHashSet::default();
    let mut queue = VecDeque::from([a]);
    came_from.insert(a, (u32::MAX, u32::MAX));
    while let Some(tp) = queue.pop_front() {
        if tp == b {
            let mut steps = Vec::new();
            let mut at = b;
            while at != a {
                let (prev, id) = came_from[&at];
                steps.push((prev, id, at));
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
                    came_from.insert(next, (tp, id));
                    queue.push_back(next);
                }
            }
        }
    }
    None
}

/// Builds the explanation for touchpoints `a` and `b` (indices).
pub(crate) fn explain(
    graph: &Graph,
    touchpoints: &[Touchpoint],
    profile_id_of: &dyn Fn(u32) -> String,
    describe_identifier: &dyn Fn(u32) -> String,
    describe_refusal: &dyn Fn(u32, u32) -> String,
    a: u32,
    b: u32,
) -> Explanation {
    let same_profile = graph.cluster_of[a as usize] == graph.cluster_of[b as usize];
    let raw = shortest_path(graph, a, b, same_profile).unwrap_or_default();
    let id_of = |tp: u32| touchpoints[tp as usize].touchpoint_id.to_string();
    let path: Vec<LinkStep> = raw
        .iter()
        .map(|&(from, id, to)| {
            let status = match edge_status(graph, id, from, describe_refusal) {
                StepStatus::Linked => edge_status(graph, id, to, describe_refusal),
                other => other,
            };
            LinkStep { from: id_of(from), identifier: describe_identifier(id), to: id_of(to), status }
        })
        .collect();
    let (ta, tb) = (id_of(a), id_of(b));
    let summary = if a == b {
        format!("{ta} and {tb} are the same touchpoint")
    } else if same_profile {
        format!("{ta} and {tb} are in one profile, joined through {} link(s)", path.len())
    } else if path.is_empty() {
        format!("{ta} and {tb} are in different profiles: no chain of shared identifiers connects them")
    } else {
        let stopped = path.iter().filter(|s| s.status != StepStatus::Linked).count();
        format!(
            "{ta} and {tb} are in different profiles: the shortest chain of shared identifiers between them has {} link(s), {stopped} of them not made by merge protection",
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
    }
}

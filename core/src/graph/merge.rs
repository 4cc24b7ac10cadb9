//! Probabilistic matches joining the clusters of the identity graph, strongest first, each
//! refused when the joined profile would break a per-profile limit (cannot-link).

use super::link::Refusal;
use super::union_find::{Limited, UnionFind};
use super::Graph;
use crate::config::Rules;

/// What became of one probabilistic match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergeOutcome {
    /// It joined two profiles.
    Joined,
    /// Its touchpoints were in one profile already (through other links).
    AlreadyJoined,
    /// It would have broken a per-profile limit.
    Refused(Refusal),
}

impl Graph {
    /// Applies matches `(touchpoint, touchpoint)` in the order given (the caller orders them by
    /// data alone, strongest first) and renumbers the clusters. A match whose two profiles hold
    /// different values of a limited kind beyond its limit is refused, whatever joined them.
    pub(crate) fn merge_matches(&mut self, rules: &Rules, matches: &[(u32, u32)]) -> Vec<MergeOutcome> {
        let clusters = self.clusters.len();
        // Each cluster's values of limited kinds.
        let mut values: Vec<(u32, u32, u32)> = Vec::new();
        for (tp, &cluster) in self.cluster_of.iter().enumerate() {
            for &id in self.tp_ids.get(tp) {
                let slot = self.slot_of[id as usize];
                if self.links(id) && self.limit_of(rules, slot) != u32::MAX {
                    values.push((cluster, slot, id));
                }
            }
        }
        values.sort_unstable();
        values.dedup();
        let limited: Vec<(u32, Limited)> = values
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run.iter().map(|&(_, slot, id)| (slot, id)).collect()))
            .collect();
        drop(values);
        let slot_limits: Vec<u32> = (0..self.slot_kind.len() as u32).map(|slot| self.limit_of(rules, slot)).collect();
        let mut uf = UnionFind::new(clusters, limited);
        let outcomes: Vec<MergeOutcome> = matches
            .iter()
            .map(|&(a, b)| {
                let ra = uf.find(self.cluster_of[a as usize]);
                let rb = uf.find(self.cluster_of[b as usize]);
                if ra == rb {
                    return MergeOutcome::AlreadyJoined;
                }
                match uf.union_roots(ra, rb, |slot| slot_limits[slot as usize]) {
                    Ok(_) => MergeOutcome::Joined,
                    Err(c) => {
                        MergeOutcome::Refused(Refusal { slot: c.slot, existing: c.existing, incoming: c.incoming })
                    }
                }
            })
            .collect();
        let joined = outcomes.iter().filter(|o| **o == MergeOutcome::Joined).count();
        self.stats.matches_made += joined;
        self.stats.refused_match_limit += outcomes.iter().filter(|o| matches!(o, MergeOutcome::Refused(_))).count();
        if joined > 0 {
            // Roots are old cluster numbers; renumber as linking numbers them.
            let old = std::mem::take(&mut self.cluster_of);
            self.set_clusters(clusters, |tp| uf.find(old[tp as usize]));
        }
        outcomes
    }
}

//! Linking: touchpoints joined through their strong identifiers, in an order that depends only
//! on the data (never on input order or thread count), with every refusal recorded.

use std::cmp::Reverse;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::components::Components;
use super::intern::Interner;
use super::protection::{first_overfull_slot, name_groups, shared_finding, Identities, Known};
use super::union_find::{Limited, UnionFind};
use super::{Csr, SharedFinding};
use crate::config::Rules;
use crate::model::{Text, Touchpoint};
use crate::parallel::CHEAP;
use crate::prepare::{prepare, split_key, Prepared};
use crate::progress::Progress;

/// How many touchpoints are prepared in parallel before their identifiers are interned.
const CHUNK: usize = 1 << 15;

/// Touchpoint `i` of a graph's input, prepared elsewhere (see [`Graph::build`]).
pub(crate) type PreparedBy<'a> = dyn Fn(usize) -> Prepared + 'a;

/// Where an identifier comes in the linking order: its kind (strongest first), its number of
/// touchpoints (more first) and its key's hash.
type OrderKey = (u16, Reverse<u32>, u64);

/// A link from an identifier to a touchpoint that was refused because the touchpoint's profile
/// and the identifier's profile would together break a per-profile limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The limited slot (kind and scope) that would be broken.
    pub slot: u32,
    /// The value the identifier's profile already has there.
    pub existing: u32,
    /// The different value the touchpoint's profile has there.
    pub incoming: u32,
}

/// Counts of what linking did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Distinct identifiers seen.
    pub identifiers: usize,
    /// Unions of two profiles through an identifier.
    pub links_made: usize,
    /// Touchpoint links not made because the identifier is on the blocked-values list.
    pub refused_blocked_value: usize,
    /// Touchpoint links not made because the identifier is shared by different people.
    pub refused_shared_identifier: usize,
    /// Touchpoint links refused because they would break a per-profile limit.
    pub refused_limit: usize,
    /// Identifiers found shared.
    pub shared_identifiers: usize,
    /// Identifiers on the blocked-values list.
    pub blocked_identifiers: usize,
    /// Raw identifier values that were not valid for their kind, by kind.
    pub invalid_values: std::collections::BTreeMap<String, usize>,
    /// Masked phone numbers (kept as weak evidence, never linked).
    pub masked_phones: usize,
    /// Unions of two profiles through a probabilistic match.
    pub matches_made: usize,
    /// Probabilistic matches refused because they would break a per-profile limit (two
    /// customer ids of one source, two loyalty cards).
    pub refused_match_limit: usize,
}

impl Identities for Graph {
    fn members(&self, id: u32) -> &[u32] {
        self.members.get(id as usize)
    }
    fn ids_of(&self, tp: u32) -> &[u32] {
        self.tp_ids.get(tp as usize)
    }
    fn name_of(&self, tp: u32) -> Option<&str> {
        self.tp_name[tp as usize].as_deref()
    }
    fn kind_of(&self, id: u32) -> u16 {
        self.interner.key(id).0
    }
    fn key_of(&self, id: u32) -> &str {
        self.interner.key(id).1
    }
    fn slot_of(&self, id: u32) -> u32 {
        self.slot_of[id as usize]
    }
    fn slot_kind(&self, slot: u32) -> u16 {
        self.slot_kind[slot as usize]
    }
    fn blocked(&self, id: u32) -> bool {
        self.blocked[id as usize]
    }
    fn links(&self, id: u32) -> bool {
        Graph::links(self, id)
    }
}

/// The identity graph of a set of touchpoints after linking.
#[derive(Debug)]
pub(crate) struct Graph {
    pub interner: Interner,
    /// Per identifier: whether it is on the blocklist.
    pub blocked: Vec<bool>,
    /// Per identifier: its slot (kind and scope), for limits and shared detection.
    pub slot_of: Vec<u32>,
    /// Per slot: its kind index.
    pub slot_kind: Vec<u16>,
    /// Per touchpoint: its identifiers.
    pub tp_ids: Csr,
    /// Per identifier: its touchpoints, sorted by touchpoint id hash (then id).
    pub members: Csr,
    /// Per touchpoint: its name key (sorted folded words), if it has a name.
    pub tp_name: Vec<Option<Text>>,
    pub shared: FxHashMap<u32, SharedFinding>,
    /// Per identifier: whether it links at all (neither blocked nor shared).
    pub linking: Vec<bool>,
    /// Refused `(identifier, touchpoint)` links.
    pub refused: FxHashMap<(u32, u32), Refusal>,
    /// Per touchpoint: its cluster.
    pub cluster_of: Vec<u32>,
    /// Per cluster: its touchpoints, in input order.
    pub clusters: Csr,
    /// Quarantined clusters and why.
    pub quarantined: FxHashMap<u32, Vec<String>>,
    pub stats: LinkStats,
}

impl Graph {
    /// Links `touchpoints` under `rules`. Quarantine is left to [`Graph::find_quarantined`], once
    /// probabilistic matches have joined what they join.
    /// With `prepared`, touchpoint `i` is taken as `prepared(i)` gives it instead of being
    /// prepared again (the live engine gives what it holds).
    pub(crate) fn build(
        touchpoints: &[Touchpoint],
        prepared: Option<&PreparedBy<'_>>,
        rules: &Rules,
        known: Option<&Known<'_>>,
        progress: &dyn Progress,
    ) -> Graph {
        let (mut graph, id_hashes) = Graph::intern_all(touchpoints, prepared, rules, progress);
        progress.stage("indexing", None);
        graph.sort_members(touchpoints, &id_hashes);
        drop(id_hashes);
        progress.stage("protecting", None);
        graph.find_shared(rules, known);
        progress.stage("linking", None);
        graph.link(rules);
        graph
    }

    /// Prepares every touchpoint (in parallel, a chunk at a time to bound memory) and interns
    /// its identifiers and name.
    /// Also returns each touchpoint's id hash.
    fn intern_all(
        touchpoints: &[Touchpoint],
        prepared: Option<&PreparedBy<'_>>,
        rules: &Rules,
        progress: &dyn Progress,
    ) -> (Graph, Vec<u64>) {
        progress.stage("normalizing", Some(touchpoints.len() as u64));
        let mut interner = Interner::with_capacity(touchpoints.len().min(CHUNK) * 2);
        let mut blocked = Vec::with_capacity(touchpoints.len());
        let mut slot_of = Vec::with_capacity(touchpoints.len());
        // Slots of unscoped kinds by kind index; scoped kinds' slots by kind and scope.
        let mut unscoped_slot = vec![u32::MAX; rules.kinds.len()];
        let mut scoped_slots: FxHashMap<(u16, Text), u32> = FxHashMap::default();
        let mut slot_kind = Vec::new();
        let mut tp_ids = Csr::with_capacity(touchpoints.len(), touchpoints.len() * 2);
        let mut tp_name = Vec::with_capacity(touchpoints.len());
        let mut id_hashes = Vec::with_capacity(touchpoints.len());
        let mut invalid = vec![0usize; rules.kinds.len()];
        let mut stats = LinkStats::default();
        // Interning is sequential: it runs on one thread while the next chunk is prepared on
        // the others (a two-stage pipeline), so neither waits for the other.
        let mut absorb = |prepared: &mut Vec<Prepared>| {
            let count = prepared.len();
            for p in prepared.drain(..) {
                let mut ids = smallvec::SmallVec::<[u32; 8]>::new();
                for id in p.ids {
                    let kind = id.kind;
                    let (index, new) = interner.intern_hashed(kind, id.key, id.hash);
                    if new {
                        blocked.push(id.blocked);
                        let new_slot = |slot_kind: &mut Vec<u16>| {
                            slot_kind.push(kind);
                            (slot_kind.len() - 1) as u32
                        };
                        let slot = match split_key(interner.key(index).1).0 {
                            None => {
                                let known = &mut unscoped_slot[kind as usize];
                                if *known == u32::MAX {
                                    *known = new_slot(&mut slot_kind);
                                }
                                *known
                            }
                            Some(scope) => {
                                *scoped_slots.entry((kind, scope.into())).or_insert_with(|| new_slot(&mut slot_kind))
                            }
                        };
                        slot_of.push(slot);
                    }
                    ids.push(index);
                }
                tp_ids.push_list(ids);
                id_hashes.push(p.id_hash);
                tp_name.push(p.name_key);
                for kind in p.issues.invalid {
                    invalid[kind as usize] += 1;
                }
                stats.masked_phones += usize::from(p.issues.masked_phone);
            }
            if tp_name.len() == count && count < touchpoints.len() {
                // After the first chunk: size the interner by its share of new identifiers (later
                // chunks repeat more), so that it rarely grows again.
                let expected = interner.len() * touchpoints.len() / count.max(1) * 11 / 10;
                interner.reserve(expected.saturating_sub(interner.len()));
            }
            progress.advance(count as u64);
        };
        if let Some(prepared) = prepared {
            let mut given: Vec<Prepared> = (0..touchpoints.len()).map(prepared).collect();
            absorb(&mut given);
        } else {
            // Two buffers take turns: one is interned while the next chunk is prepared into the
            // other, and both keep their allocation from chunk to chunk.
            let mut chunks = touchpoints.chunks(CHUNK);
            let mut pending: Vec<Prepared> = Vec::new();
            let mut spare: Vec<Prepared> = Vec::new();
            loop {
                let next = chunks.next();
                if pending.is_empty() && next.is_none() {
                    break;
                }
                crate::parallel::join(
                    touchpoints.len() > CHUNK,
                    || absorb(&mut pending),
                    || {
                        if let Some(chunk) = next {
                            chunk
                                .par_iter()
                                .with_min_len(CHEAP)
                                .map(|tp| prepare(tp, rules))
                                .collect_into_vec(&mut spare);
                        }
                    },
                );
                std::mem::swap(&mut pending, &mut spare);
            }
        }
        for (kind, count) in invalid.into_iter().enumerate().filter(|(_, count)| *count > 0) {
            stats.invalid_values.insert(rules.kinds[kind].kind.to_string(), count);
        }
        // Slots numbered by kind then scope, not by first sight: what is reported first (the
        // slot a link breaks) must not depend on input order.
        let mut order: Vec<(u16, Option<&str>, u32)> = unscoped_slot
            .iter()
            .enumerate()
            .filter(|(_, &slot)| slot != u32::MAX)
            .map(|(kind, &slot)| (kind as u16, None, slot))
            .chain(scoped_slots.iter().map(|((kind, scope), &slot)| (*kind, Some(scope.as_str()), slot)))
            .collect();
        order.sort_unstable();
        let mut renumbered = vec![0u32; order.len()];
        for (new, &(_, _, old)) in order.iter().enumerate() {
            renumbered[old as usize] = new as u32;
        }
        slot_of.iter_mut().for_each(|slot| *slot = renumbered[*slot as usize]);
        let slot_kind: Vec<u16> = order.iter().map(|&(kind, _, _)| kind).collect();
        stats.identifiers = interner.len();
        stats.blocked_identifiers = blocked.iter().filter(|b| **b).count();
        let graph = Graph {
            interner,
            blocked,
            slot_of,
            slot_kind,
            tp_ids,
            members: Csr::new(),
            tp_name,
            shared: FxHashMap::default(),
            linking: Vec::new(),
            refused: FxHashMap::default(),
            cluster_of: Vec::new(),
            clusters: Csr::new(),
            quarantined: FxHashMap::default(),
            stats,
        };
        (graph, id_hashes)
    }

    /// Builds identifier → touchpoints lists, each in an order fixed by the data: by the hash of
    /// the touchpoint id, the id itself only on a hash tie.
    fn sort_members(&mut self, touchpoints: &[Touchpoint], id_hashes: &[u64]) {
        let pairs = (0..self.tp_ids.len()).flat_map(|tp| self.tp_ids.get(tp).iter().map(move |&id| (id, tp as u32)));
        self.members = Csr::group(self.interner.len(), pairs);
        self.members.lists_mut().into_par_iter().with_min_len(CHEAP).filter(|list| list.len() > 1).for_each(|list| {
            list.sort_unstable_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                id_hashes[a]
                    .cmp(&id_hashes[b])
                    .then_with(|| touchpoints[a].touchpoint_id.cmp(&touchpoints[b].touchpoint_id))
            });
        });
        for (id, blocked) in self.blocked.iter().enumerate() {
            if *blocked {
                self.stats.refused_blocked_value += self.members.get(id).len();
            }
        }
    }

    /// Marks identifiers whose touchpoints disagree beyond the configured bounds as shared,
    /// or, for identifiers whose status `known` gives, takes that status.
    fn find_shared(&mut self, rules: &Rules, known: Option<&Known<'_>>) {
        let this = &*self;
        let found: Vec<(u32, SharedFinding)> = (0..this.interner.len() as u32)
            .into_par_iter()
            .with_min_len(CHEAP)
            .filter(|&id| !this.blocked[id as usize])
            .filter_map(|id| {
                let (kind, key) = this.interner.key(id);
                if let Some(status) = known.and_then(|k| (k.shared)(kind, key)) {
                    return status.map(|f| (id, f));
                }
                let detect = rules.kinds[kind as usize].detect_shared && this.members.get(id as usize).len() > 1;
                detect.then(|| shared_finding(this, rules, id).map(|f| (id, f))).flatten()
            })
            .collect();
        for (id, finding) in found {
            self.stats.refused_shared_identifier += finding.touchpoints;
            self.shared.insert(id, finding);
        }
        self.stats.shared_identifiers = self.shared.len();
        self.linking = self.blocked.iter().map(|blocked| !blocked).collect();
        for &id in self.shared.keys() {
            self.linking[id as usize] = false;
        }
    }

    /// The name key of a touchpoint.
    pub(crate) fn name_of(&self, tp: u32) -> Option<&str> {
        self.tp_name[tp as usize].as_deref()
    }

    /// Whether an identifier links at all (not blocked, not shared).
    pub(crate) fn links(&self, id: u32) -> bool {
        self.linking[id as usize]
    }

    /// Joins touchpoints through linking identifiers.
    ///
    /// Only a component that holds more values of a limited kind than the limit allows can see
    /// a union refused; everywhere else the clusters are the plain connected components. So the
    /// components are found first, in parallel and without limits, and only the conflicted ones
    /// are linked again in the data-only order (strongest kind first, then identifiers with more
    /// touchpoints, then by the hash of the value), with limits. Components are independent, so
    /// this gives exactly what linking everything in that order would.
    fn link(&mut self, rules: &Rules) {
        let n = self.tp_ids.len();
        let linking_ids = || {
            (0..self.interner.len() as u32)
                .into_par_iter()
                .with_min_len(CHEAP)
                .filter(|&id| self.links(id) && self.members.get(id as usize).len() > 1)
        };
        let components = Components::new(n);
        linking_ids().for_each(|id| {
            let members = self.members.get(id as usize);
            for &tp in &members[1..] {
                components.union(members[0], tp);
            }
        });
        let component: Vec<u32> =
            (0..n as u32).into_par_iter().with_min_len(CHEAP).map(|tp| components.find(tp)).collect();
        drop(components);
        // The touchpoints that hold values of limited kinds, with those values.
        let limited: Vec<(u32, Limited)> = (0..n as u32)
            .into_par_iter()
            .with_min_len(CHEAP)
            .filter_map(|tp| {
                let mut values: Limited = self
                    .tp_ids
                    .get(tp as usize)
                    .iter()
                    .filter(|&&id| self.links(id) && self.limit_of(rules, self.slot_of[id as usize]) != u32::MAX)
                    .map(|&id| (self.slot_of[id as usize], id))
                    .collect();
                values.sort_unstable();
                (!values.is_empty()).then_some((tp, values))
            })
            .collect();
        let slot_limits: Vec<u32> = (0..self.slot_kind.len() as u32).map(|slot| self.limit_of(rules, slot)).collect();
        // Components (by root) holding more distinct values of a slot than its limit.
        let mut values: Vec<(u32, u32, u32)> = limited
            .par_iter()
            .with_min_len(CHEAP)
            .flat_map_iter(|(tp, values)| values.iter().map(|&(slot, id)| (component[*tp as usize], slot, id)))
            .collect();
        values.par_sort_unstable();
        values.dedup();
        let mut conflicted = vec![false; n];
        for run in values.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            if run.len() > slot_limits[run[0].1 as usize] as usize {
                conflicted[run[0].0 as usize] = true;
            }
        }
        drop(values);
        let in_conflict = |tp: u32| conflicted[component[tp as usize] as usize];
        // Sorted by (kind, more touchpoints first, key hash), the key itself only on a tie of
        // all three: as data-only as sorting by the key, without comparing strings.
        let mut keyed: Vec<(OrderKey, u32)> = linking_ids()
            .filter(|&id| in_conflict(self.members.get(id as usize)[0]))
            .map(|id| {
                let degree = self.members.get(id as usize).len() as u32;
                ((self.interner.key(id).0, Reverse(degree), self.interner.hash(id)), id)
            })
            .collect();
        keyed.par_sort_unstable_by(|(key_a, a), (key_b, b)| {
            key_a.cmp(key_b).then_with(|| self.interner.key(*a).1.cmp(self.interner.key(*b).1))
        });
        let limited: Vec<(u32, Limited)> = limited.into_iter().filter(|(tp, _)| in_conflict(*tp)).collect();
        // Without a conflicted component nothing below asks the limited union-find anything.
        let needed = !keyed.is_empty() || !limited.is_empty();
        let mut uf = UnionFind::new(if needed { n } else { 0 }, limited);
        for (_, id) in keyed {
            let members = self.members.get(id as usize);
            let mut root = uf.find(members[0]);
            for &tp in &members[1..] {
                let other = uf.find(tp);
                if other == root {
                    continue;
                }
                match uf.union_roots(root, other, |slot| slot_limits[slot as usize]) {
                    Ok(joined) => {
                        root = joined;
                        self.stats.links_made += 1;
                    }
                    Err(conflict) => {
                        self.stats.refused_limit += 1;
                        self.refused.insert(
                            (id, tp),
                            Refusal { slot: conflict.slot, existing: conflict.existing, incoming: conflict.incoming },
                        );
                    }
                }
            }
        }
        // Elsewhere every component is one cluster, joined by (size - 1) links.
        let (free_touchpoints, free_components) = (0..n as u32)
            .into_par_iter()
            .with_min_len(CHEAP)
            .filter(|&tp| !in_conflict(tp))
            .map(|tp| (1, usize::from(component[tp as usize] == tp)))
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        self.stats.links_made += free_touchpoints - free_components;
        // Roots are touchpoint indices.
        self.set_clusters(n, |tp| if in_conflict(tp) { uf.find(tp) } else { component[tp as usize] });
    }

    /// Numbers the clusters by their first touchpoint in input order, from each touchpoint's
    /// root (a value below `roots`), and groups the touchpoints per cluster.
    pub(super) fn set_clusters(&mut self, roots: usize, mut root_of: impl FnMut(u32) -> u32) {
        let mut cluster_index = vec![u32::MAX; roots];
        let mut clusters = 0u32;
        self.cluster_of = (0..self.tp_ids.len() as u32)
            .map(|tp| {
                let slot = &mut cluster_index[root_of(tp) as usize];
                if *slot == u32::MAX {
                    *slot = clusters;
                    clusters += 1;
                }
                *slot
            })
            .collect();
        let pairs = self.cluster_of.iter().enumerate().map(|(tp, &c)| (c, tp as u32));
        self.clusters = Csr::group(clusters as usize, pairs);
    }

    /// A slot's per-profile limit, or `u32::MAX` when it has none.
    pub(super) fn limit_of(&self, rules: &Rules, slot: u32) -> u32 {
        rules.kinds[self.slot_kind[slot as usize] as usize].max_per_profile.unwrap_or(u32::MAX)
    }

    /// Flags clusters that break the quarantine bounds.
    pub(crate) fn find_quarantined(&mut self, rules: &Rules) {
        let bounds = &rules.config.quarantine;
        let this = &*self;
        // A cluster of n touchpoints holds at most n values of a kind and n names: only clusters
        // larger than the smaller bound can break one.
        let smallest_bound = bounds.max_values_per_kind.min(bounds.max_names);
        let found: Vec<(u32, Vec<String>)> = (0..this.clusters.len() as u32)
            .into_par_iter()
            .with_min_len(CHEAP)
            .filter(|&c| this.clusters.get(c as usize).len() > smallest_bound)
            .filter_map(|c| {
                let tps = this.clusters.get(c as usize);
                let mut reasons = Vec::new();
                let pairs: Vec<(u32, u32)> = tps
                    .iter()
                    .flat_map(|&tp| this.tp_ids.get(tp as usize))
                    .filter(|&&id| {
                        let kind = this.interner.key(id).0 as usize;
                        this.links(id) && rules.kinds[kind].person_level
                    })
                    .map(|&id| (u32::from(this.interner.key(id).0), id))
                    .collect();
                if let Some((kind, count)) = first_overfull_slot(pairs, |_| bounds.max_values_per_kind) {
                    reasons.push(format!(
                        "{count} different {} values (the bound is {})",
                        rules.kinds[kind as usize].kind, bounds.max_values_per_kind
                    ));
                }
                let names: Vec<&str> = tps.iter().filter_map(|&tp| this.name_of(tp)).collect();
                let groups = name_groups(names, bounds.max_names);
                if groups > bounds.max_names {
                    reasons.push(format!("at least {groups} different names (the bound is {})", bounds.max_names));
                }
                (!reasons.is_empty()).then_some((c, reasons))
            })
            .collect();
        self.quarantined = found.into_iter().collect();
    }
}

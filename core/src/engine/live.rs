//! Live resolution: the engine's state kept current one touchpoint at a time.
//!
//! A batch resolution decides each part of the touchpoints from that part alone: linking acts
//! within the connected components of linking identifiers and above-threshold matches, in an
//! order fixed by the data; matching scores a pair from the two records and the frozen model.
//! So when a touchpoint arrives, only the component it joins can change. The live state keeps
//! what finding that component needs (identifiers and their touchpoints, shared status, the
//! blocks of every blocking rule, the pairs above the threshold) and resolves that component
//! again with the batch code, telling it what only the whole knows (the shared status of
//! identifiers reaching outside it, the oversize blocks). The result is exactly what a batch
//! of all the touchpoints gives with the same model, whatever the order and batch sizes.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::{compute, Resolution, Whole};
use crate::config::Rules;
use crate::error::Result;
use crate::graph::{finding_from, person_value, shared_finding, Identities, Known, SharedFinding};
use crate::matching::{touchpoint_records, Linker, Model};
use crate::model::{Change, ChangeEvent, Text, Touchpoint};
use crate::prepare::{prepare, split_key, Prepared, PreparedId};
use crate::progress::NoProgress;

/// What ingesting one touchpoint did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// The touchpoint.
    pub touchpoint_id: String,
    /// The profile it is in now.
    pub profile_id: String,
    /// The changes it caused (also in the change feed).
    pub changes: Vec<Change>,
    /// Links of this touchpoint refused by merge protection, and why.
    pub refused: Vec<String>,
}

/// The matching side of the live state.
#[derive(Debug)]
struct LiveMatching {
    /// Per touchpoint: its key hash under each blocking rule (0 without a key).
    keys: Vec<SmallVec<[u64; 8]>>,
    /// Per rule: touchpoints by key hash.
    blocks: Vec<FxHashMap<u64, Vec<u32>>>,
    /// Per rule: the keys whose blocks hold more than `max_block_records` touchpoints.
    oversize: Vec<FxHashSet<u64>>,
    /// Per touchpoint: the candidate pairs it forms that reach the threshold, with their
    /// weights, as last scored (a touchpoint scored again loses its old pairs). A pair of a
    /// block that went over the size limit stays, its block left out when a part reads it.
    edges: Vec<SmallVec<[Edge; 1]>>,
}

/// A pair reaching the threshold, seen from one of its touchpoints.
#[derive(Debug, Clone, Copy)]
struct Edge {
    /// The other touchpoint.
    other: u32,
    /// Bit `r` set when the two had one key under blocking rule `r` when scored (compared
    /// exactly); rules from the 33rd on are compared by key hash when read.
    rules: u32,
    /// The pair's match weight under the live model.
    weight: f64,
}

/// Blocking rules an [`Edge`] records exactly.
const EDGE_RULES: usize = 32;

impl LiveMatching {
    /// Whether the touchpoints of an edge of `tp` share a block not over the size limit: the
    /// block of a rule whose key they had in common when scored, the key still `tp`'s.
    fn open_block(&self, tp: u32, edge: &Edge) -> bool {
        let (keys, theirs) = (&self.keys[tp as usize], &self.keys[edge.other as usize]);
        keys.iter().enumerate().any(|(rule, &key)| {
            let shared = if rule < EDGE_RULES { edge.rules & (1 << rule) != 0 } else { theirs.get(rule) == Some(&key) };
            shared && key != 0 && !self.oversize[rule].contains(&key)
        })
    }

    /// Records a scored pair on both its touchpoints.
    fn link(&mut self, a: u32, b: u32, rules: u32, weight: f64) {
        self.edges[a as usize].push(Edge { other: b, rules, weight });
        self.edges[b as usize].push(Edge { other: a, rules, weight });
    }

    /// Takes out every pair of `tp`; returns the touchpoints it was paired with.
    fn unlink(&mut self, tp: u32, partners: &mut Vec<u32>) {
        for edge in std::mem::take(&mut self.edges[tp as usize]) {
            self.edges[edge.other as usize].retain(|e| e.other != tp);
            partners.push(edge.other);
        }
    }
}

/// The rules (the first [`EDGE_RULES`]) under which records `a` and `b` of `linker`, with key
/// hashes `keys_a` and `keys_b`, have one key, compared exactly.
fn shared_rules(linker: &Linker, keys_a: &[u64], keys_b: &[u64], a: u32, b: u32) -> u32 {
    let mut rules = 0u32;
    for (rule, (&x, &y)) in keys_a.iter().zip(keys_b).enumerate().take(EDGE_RULES) {
        if x != 0 && x == y && linker.share_key(rule, a, b) {
            rules |= 1 << rule;
        }
    }
    rules
}

/// The distinct name keys and person-level identifiers an identifier's touchpoints carry, kept
/// in order: all its shared finding is decided from besides their number. Kept up to date as
/// touchpoints join, they spare a popular identifier (a shop's phone) a scan of every one of its
/// touchpoints on each arrival.
#[derive(Debug, Default)]
struct Carried {
    names: std::collections::BTreeSet<Text>,
    values: std::collections::BTreeSet<(u16, Text, u32, u32)>,
}

/// Identifiers with at least this many touchpoints keep what they carry ([`Carried`]).
const CARRIED_FROM: usize = 64;

/// A batch's touchpoints are normalized on several threads in pieces of at least this many
/// (one takes a few microseconds; handing a piece to another thread about as long).
const PREPARED_APART: usize = 64;

/// The live state of an engine.
#[derive(Debug)]
pub(crate) struct Live {
    ids: crate::graph::Interner,
    blocked: Vec<bool>,
    slot_of: Vec<u32>,
    slot_kind: Vec<u16>,
    slots: FxHashMap<(u16, Option<Text>), u32>,
    members: Vec<Vec<u32>>,
    /// Per identifier: its shared finding, `None` when it links (or is blocked).
    shared: Vec<Option<SharedFinding>>,
    /// For identifiers with many touchpoints, once their finding was decided: what those
    /// touchpoints carry (see [`Carried`]).
    carried: FxHashMap<u32, Carried>,
    tp_ids: Vec<SmallVec<[u32; 4]>>,
    tp_name: Vec<Option<Text>>,
    matching: Option<LiveMatching>,
    /// Per touchpoint: its profile.
    pub profile_of: Vec<Text>,
    /// Per profile: its touchpoints.
    profiles: FxHashMap<Text, Vec<u32>>,
    /// Profiles merged away, and the profile each went into.
    merged_into: FxHashMap<Text, Text>,
    changes: Vec<Change>,
    /// The configured segments each profile is in, as the feed last said.
    pub(crate) segments: FxHashMap<Text, Vec<String>>,
    /// Profiles built since their component last changed, by id.
    built: std::sync::Mutex<FxHashMap<Text, Arc<crate::model::Profile>>>,
}

impl Identities for Live {
    fn members(&self, id: u32) -> &[u32] {
        &self.members[id as usize]
    }
    fn ids_of(&self, tp: u32) -> &[u32] {
        &self.tp_ids[tp as usize]
    }
    fn name_of(&self, tp: u32) -> Option<&str> {
        self.tp_name[tp as usize].as_deref()
    }
    fn kind_of(&self, id: u32) -> u16 {
        self.ids.key(id).0
    }
    fn key_of(&self, id: u32) -> &str {
        self.ids.key(id).1
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
        Live::links(self, id)
    }
}

/// A part of the touchpoints resolved on its own: the touchpoints (by index in the engine,
/// sorted), copies of them, and their resolution.
pub(crate) struct Part {
    pub tps: Vec<u32>,
    pub touchpoints: Vec<Touchpoint>,
    pub resolution: Resolution,
}

impl Part {
    /// The index within the part of engine touchpoint `tp` (which must be in it).
    pub fn local(&self, tp: u32) -> u32 {
        self.tps.binary_search(&tp).expect("the touchpoint is in the part") as u32
    }
}

impl Live {
    /// The live state of a batch resolution of `touchpoints` under `model` (the one the
    /// resolution used, with its term frequencies frozen). The feed starts with every profile
    /// created.
    pub(crate) fn new(
        touchpoints: &[Touchpoint],
        rules: &Rules,
        r: &Resolution,
        model: Option<&Arc<Model>>,
    ) -> Result<Live> {
        let graph = &r.graph;
        let mut live = Live {
            ids: graph.interner.clone(),
            blocked: graph.blocked.clone(),
            slot_of: graph.slot_of.clone(),
            slot_kind: graph.slot_kind.clone(),
            slots: FxHashMap::default(),
            members: (0..graph.members.len()).map(|id| graph.members.get(id).to_vec()).collect(),
            shared: (0..graph.interner.len() as u32).map(|id| graph.shared.get(&id).cloned()).collect(),
            carried: FxHashMap::default(),
            tp_ids: (0..graph.tp_ids.len()).map(|tp| graph.tp_ids.get(tp).iter().copied().collect()).collect(),
            tp_name: graph.tp_name.clone(),
            matching: None,
            profile_of: graph.cluster_of.iter().map(|&c| r.profile_ids[c as usize].clone()).collect(),
            profiles: FxHashMap::default(),
            merged_into: FxHashMap::default(),
            changes: Vec::new(),
            segments: FxHashMap::default(),
            built: std::sync::Mutex::default(),
        };
        // Room to grow before the first arrivals have to move millions of entries (the
        // identifiers' and the touchpoints' vectors grow by half, see `room_for_one`).
        let more = live.ids.len() / 2 + 64;
        live.ids.reserve(more);
        live.blocked.reserve_exact(more);
        live.slot_of.reserve_exact(more);
        live.members.reserve_exact(more);
        live.shared.reserve_exact(more);
        let more = touchpoints.len() / 2 + 64;
        live.tp_ids.reserve_exact(more);
        live.tp_name.reserve_exact(more);
        live.profile_of.reserve_exact(more);
        for id in 0..live.ids.len() as u32 {
            let (kind, key) = live.ids.key(id);
            live.slots.insert((kind, split_key(key).0.map(Text::from)), live.slot_of[id as usize]);
        }
        for (tp, id) in live.profile_of.iter().enumerate() {
            live.profiles.entry(id.clone()).or_default().push(tp as u32);
        }
        live.profiles.reserve(live.profiles.len() / 2);
        let mut created: Vec<&Text> = live.profiles.keys().collect();
        created.sort_unstable();
        let created: Vec<ChangeEvent> =
            created.into_iter().map(|id| ChangeEvent::Created { profile_id: id.to_string() }).collect();
        live.record(created);
        live.carry_all(rules);
        if let (true, Some(model)) = (rules.config.matching.enabled, model) {
            live.matching = Some(live.matching_state(touchpoints, rules, r, model)?);
        }
        Ok(live)
    }

    /// The matching state: every touchpoint's block keys and every pair reaching the threshold.
    fn matching_state(
        &self,
        touchpoints: &[Touchpoint],
        rules: &Rules,
        r: &Resolution,
        model: &Arc<Model>,
    ) -> Result<LiveMatching> {
        let settings = rules.config.matching.settings();
        let rule_count = settings.blocking_rules.len();
        let n = touchpoints.len();
        let mut state = LiveMatching {
            keys: vec![SmallVec::new(); n],
            blocks: vec![FxHashMap::default(); rule_count],
            oversize: vec![FxHashSet::default(); rule_count],
            edges: vec![SmallVec::new(); n],
        };
        // Room for arrivals, as for the other per-touchpoint vectors.
        state.keys.reserve_exact(n / 2 + 64);
        state.edges.reserve_exact(n / 2 + 64);
        if n == 0 {
            return Ok(state);
        }
        let built;
        let (linker, record_of): (&Linker, Vec<u32>) =
            match r.matches.as_ref().and_then(|m| Some((m.linker.as_ref()?, m))) {
                Some((linker, m)) => (linker, m.record_of.clone()),
                None => {
                    built = derive(touchpoints, None, &r.graph, rules, None, Some(model))?;
                    let mut record_of = vec![0u32; n];
                    for (record, &tp) in built.1.iter().enumerate() {
                        record_of[tp as usize] = record as u32;
                    }
                    (&built.0, record_of)
                }
            };
        let mut touchpoint_of = vec![0u32; n];
        for (tp, &record) in record_of.iter().enumerate() {
            touchpoint_of[record as usize] = tp as u32;
            state.keys[tp] = linker.block_keys(record);
        }
        for (tp, keys) in state.keys.iter().enumerate() {
            for (rule, &key) in keys.iter().enumerate().filter(|(_, &k)| k != 0) {
                state.blocks[rule].entry(key).or_default().push(tp as u32);
            }
        }
        for blocks in &mut state.blocks {
            // Growing a map of a million blocks rehashes all of them on one arrival.
            blocks.reserve(blocks.len() / 2);
        }
        if let Some(max) = settings.max_block_records {
            for (blocks, oversize) in state.blocks.iter().zip(&mut state.oversize) {
                oversize.extend(blocks.iter().filter(|(_, b)| b.len() > max).map(|(&k, _)| k));
            }
        }
        for (ra, rb, weight, _) in linker.scored_links(|_, _| true)? {
            let (a, b) = (touchpoint_of[ra as usize], touchpoint_of[rb as usize]);
            let rules = shared_rules(linker, &state.keys[a as usize], &state.keys[b as usize], ra, rb);
            state.link(a, b, rules, weight);
        }
        Ok(state)
    }

    /// What the whole store knows that a part needs: shared status by identifier, oversize
    /// blocks.
    fn known_status(&self, kind: u16, key: &str) -> Option<Option<SharedFinding>> {
        self.ids.get(kind, key).map(|id| self.shared[id as usize].clone())
    }

    fn oversize(&self) -> &[FxHashSet<u64>] {
        self.matching.as_ref().map_or(&[], |m| &m.oversize)
    }

    /// Resolves the touchpoints `tps` (a union of components, sorted) on their own. Unless
    /// `explained` (the resolution then keeps the matching state explanations read, from
    /// blocking and scoring the part's records), matching takes the pairs the live state scored
    /// reaching the threshold in blocks not over the size limit that lie across the
    /// deterministic clusters, with their weights, and is skipped when there are none.
    pub(crate) fn resolve_part(
        &self,
        tps: Vec<u32>,
        touchpoints: &[Touchpoint],
        rules: &Rules,
        model: Option<&Arc<Model>>,
        explained: bool,
    ) -> Part {
        let copies: Vec<Touchpoint> = tps.iter().map(|&tp| touchpoints[tp as usize].clone()).collect();
        let status = |kind: u16, key: &str| self.known_status(kind, key);
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        if let Some(m) = &self.matching {
            for (i, &tp) in tps.iter().enumerate() {
                for edge in &m.edges[tp as usize] {
                    if let Ok(j) = tps.binary_search(&edge.other) {
                        if i < j && m.open_block(tp, edge) {
                            pairs.push((i as u32, j as u32, edge.weight));
                        }
                    }
                }
            }
        }
        // The part's touchpoints as prepared when they arrived: their identifiers as interned
        // here (each once), their name keys.
        let prepared = |i: usize| {
            let tp = tps[i] as usize;
            let ids = self.tp_ids[tp]
                .iter()
                .map(|&id| {
                    let (kind, key) = self.ids.key(id);
                    PreparedId {
                        kind,
                        key: Text::from(key),
                        blocked: self.blocked[id as usize],
                        hash: self.ids.hash(id),
                    }
                })
                .collect();
            let id_hash = crate::prepare::hash_of(0, &touchpoints[tp].touchpoint_id);
            Prepared { ids, name_key: self.tp_name[tp].clone(), id_hash, ..Prepared::default() }
        };
        let whole = Whole {
            known: Known { shared: &status },
            oversize: self.oversize(),
            candidates: (!explained).then_some(&pairs[..]),
            prepared: (!explained).then_some(&prepared as &crate::graph::PreparedBy<'_>),
        };
        let model = if self.matching.is_some() { model } else { None };
        let resolution = compute(&copies, rules, model, Some(&whole), &NoProgress);
        Part { tps, touchpoints: copies, resolution }
    }

    /// Every touchpoint connected to `seeds` through linking identifiers and pairs above the
    /// threshold: a union of whole components, sorted.
    pub(crate) fn component(&self, seeds: &[u32]) -> Vec<u32> {
        self.reach(seeds, false)
    }

    /// [`Live::component`] widened through shared and blocked identifiers too: every chain an
    /// explanation may show.
    pub(crate) fn neighbourhood(&self, seeds: &[u32]) -> Vec<u32> {
        self.reach(seeds, true)
    }

    fn reach(&self, seeds: &[u32], every_identifier: bool) -> Vec<u32> {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        let mut seen_ids: FxHashSet<u32> = FxHashSet::default();
        let mut stack: Vec<u32> = seeds.to_vec();
        while let Some(tp) = stack.pop() {
            if !seen.insert(tp) {
                continue;
            }
            for &id in &self.tp_ids[tp as usize] {
                if (every_identifier || self.links(id)) && seen_ids.insert(id) {
                    stack.extend(self.members[id as usize].iter().filter(|m| !seen.contains(m)));
                }
            }
            if let Some(m) = &self.matching {
                stack.extend(m.edges[tp as usize].iter().map(|e| e.other).filter(|t| !seen.contains(t)));
            }
        }
        let mut out: Vec<u32> = seen.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Whether an identifier links (neither blocked nor shared).
    fn links(&self, id: u32) -> bool {
        !self.blocked[id as usize] && self.shared[id as usize].is_none()
    }

    /// Adds touchpoint `tp` (the last of `touchpoints`) and resolves what it touches again.
    pub(crate) fn add(
        &mut self,
        tp: u32,
        touchpoints: &[Touchpoint],
        rules: &Rules,
        model: Option<&Arc<Model>>,
    ) -> Result<IngestOutcome> {
        debug_assert_eq!(tp as usize + 1, touchpoints.len());
        let first = self.changes.len();
        let part = self.add_from(tp, touchpoints, rules, model)?;
        let refused = refusals(rules, &part, part.local(tp));
        Ok(IngestOutcome {
            touchpoint_id: touchpoints[tp as usize].touchpoint_id.to_string(),
            profile_id: self.profile_of[tp as usize].to_string(),
            changes: self.changes[first..].to_vec(),
            refused,
        })
    }

    /// Adds the touchpoints from `first` to the end of `touchpoints` at once: everything they
    /// touch is resolved again in one go, and the feed records the net changes of the batch.
    pub(crate) fn add_batch(
        &mut self,
        first: u32,
        touchpoints: &[Touchpoint],
        rules: &Rules,
        model: Option<&Arc<Model>>,
    ) -> Result<()> {
        self.add_from(first, touchpoints, rules, model).map(drop)
    }

    fn add_from(
        &mut self,
        first: u32,
        touchpoints: &[Touchpoint],
        rules: &Rules,
        model: Option<&Arc<Model>>,
    ) -> Result<Part> {
        use rayon::prelude::*;
        let new_tps: Vec<u32> = (first..touchpoints.len() as u32).collect();
        // Normalizing is the touchpoints' own business: a batch's are normalized in parallel.
        let all_prepared: Vec<Prepared> = new_tps
            .par_iter()
            .with_min_len(PREPARED_APART)
            .map(|&tp| prepare(&touchpoints[tp as usize], rules))
            .collect();
        // Each touched identifier's status before the batch.
        let mut before: FxHashMap<u32, bool> = FxHashMap::default();
        for (&tp, prepared) in new_tps.iter().zip(all_prepared) {
            let mut ids: SmallVec<[u32; 4]> = SmallVec::new();
            for p in prepared.ids {
                let scope: Option<Text> = split_key(&p.key).0.map(Text::from);
                let kind = p.kind;
                let (id, new) = self.ids.intern_hashed(kind, p.key, p.hash);
                if new {
                    room_for_one(&mut self.blocked);
                    room_for_one(&mut self.slot_of);
                    room_for_one(&mut self.members);
                    room_for_one(&mut self.shared);
                    self.blocked.push(p.blocked);
                    let next = self.slot_kind.len() as u32;
                    let slot = *self.slots.entry((kind, scope)).or_insert(next);
                    if slot == next {
                        self.slot_kind.push(kind);
                    }
                    self.slot_of.push(slot);
                    self.members.push(Vec::new());
                    self.shared.push(None);
                }
                if !ids.contains(&id) {
                    ids.push(id);
                    before.entry(id).or_insert_with(|| self.shared[id as usize].is_some());
                    self.members[id as usize].push(tp);
                }
            }
            room_for_one(&mut self.tp_ids);
            room_for_one(&mut self.tp_name);
            room_for_one(&mut self.profile_of);
            self.tp_ids.push(ids);
            self.tp_name.push(prepared.name_key);
        }
        // The touched identifiers have more touchpoints: are they shared now?
        let mut seeds = new_tps.clone();
        let mut touched: Vec<(u32, bool)> = before.into_iter().collect();
        touched.sort_unstable();
        for (id, was_shared) in touched {
            let kind = self.ids.key(id).0 as usize;
            let detect =
                !self.blocked[id as usize] && rules.kinds[kind].detect_shared && self.members[id as usize].len() > 1;
            let finding = if detect { self.decide_shared(rules, id, first) } else { None };
            if finding.is_some() != was_shared {
                seeds.extend(self.members[id as usize].iter().copied().filter(|&m| m < first));
            }
            self.shared[id as usize] = finding;
        }
        if let Some(mut m) = self.matching.take() {
            // A flipped identifier changes its touchpoints' matching values (a shared phone is
            // no evidence): they are keyed and scored again, with the new touchpoints.
            let mut rekey: Vec<u32> = seeds.clone();
            rekey.sort_unstable();
            rekey.dedup();
            let found = self.rekey(&mut m, &rekey, touchpoints, rules, model);
            self.matching = Some(m);
            seeds.extend(found?);
        }
        let part = self.resolve_part(self.component(&seeds), touchpoints, rules, model, false);
        let events = self.apply(&part, first);
        self.record(events);
        Ok(part)
    }

    /// Identifier `id`'s shared finding now that touchpoints from `first` on joined it: decided
    /// from what its touchpoints carry, kept ([`Carried`]) once it has many.
    fn decide_shared(&mut self, rules: &Rules, id: u32, first: u32) -> Option<SharedFinding> {
        if self.members[id as usize].len() < CARRIED_FROM {
            return shared_finding(self, rules, id);
        }
        let kept = self.carried.remove(&id);
        let members = &self.members[id as usize];
        // Touchpoints join in order: without a kept record, every one is new to it.
        let new =
            if kept.is_some() { members.len() - members.iter().rev().take_while(|&&m| m >= first).count() } else { 0 };
        let mut carried = kept.unwrap_or_default();
        self.carry(rules, &members[new..], &mut carried);
        let finding = finding_from(
            self,
            rules,
            members.len(),
            (carried.names.len(), carried.names.iter().map(Text::as_str)),
            carried.values.iter().map(|(kind, scope, slot, other)| (*kind, scope.as_str(), *slot, *other)),
        );
        self.carried.insert(id, carried);
        finding
    }

    /// Adds what touchpoints `tps` carry (their name keys, their person-level identifiers) to
    /// an identifier's [`Carried`].
    fn carry(&self, rules: &Rules, tps: &[u32], carried: &mut Carried) {
        for &tp in tps {
            if let Some(name) = &self.tp_name[tp as usize] {
                carried.names.insert(name.clone());
            }
            for &other in &self.tp_ids[tp as usize] {
                if let Some((kind, scope, slot, other)) = person_value(self, rules, other) {
                    carried.values.insert((kind, Text::from(scope), slot, other));
                }
            }
        }
    }

    /// What the touchpoints of every identifier with [`CARRIED_FROM`] touchpoints or more carry,
    /// whose shared status arrivals decide: worked out once while going live, in parallel, not
    /// on the call of the first arrival that touches the identifier (a popular one's thousands
    /// of touchpoints took that arrival 16–20 ms).
    fn carry_all(&mut self, rules: &Rules) {
        use rayon::prelude::*;
        let popular: Vec<u32> = (0..self.members.len() as u32)
            .filter(|&id| {
                let kind = self.ids.key(id).0 as usize;
                self.members[id as usize].len() >= CARRIED_FROM
                    && !self.blocked[id as usize]
                    && rules.kinds[kind].detect_shared
            })
            .collect();
        let carried: Vec<(u32, Carried)> = popular
            .into_par_iter()
            .map(|id| {
                let mut carried = Carried::default();
                self.carry(rules, &self.members[id as usize], &mut carried);
                (id, carried)
            })
            .collect();
        self.carried.extend(carried);
    }

    /// Recomputes the block keys of touchpoints `tps` (sorted, new ones included) and scores them
    /// against their blocks, replacing their pairs; returns the touchpoints whose pairs changed
    /// otherwise (blocks that went over the size limit, or came back under it, and the partners
    /// of the replaced pairs).
    fn rekey(
        &self,
        m: &mut LiveMatching,
        tps: &[u32],
        touchpoints: &[Touchpoint],
        rules: &Rules,
        model: Option<&Arc<Model>>,
    ) -> Result<Vec<u32>> {
        let max = rules.config.matching.max_block_records.unwrap_or(usize::MAX);
        let n = touchpoints.len();
        room_for_one(&mut m.keys);
        room_for_one(&mut m.edges);
        m.keys.resize(n, SmallVec::new());
        m.edges.resize(n, SmallVec::new());
        let (mut records, mut global) =
            touchpoint_records(touchpoints, Some(tps), self, rules, rules.matching.columns())?;
        let mut seeds: Vec<u32> = Vec::new();
        let mut rescore: Vec<u32> = tps.to_vec();
        let keys_of = rules.matching.block_keys_of(&records);
        for (record, &tp) in global.iter().enumerate() {
            let new_keys = keys_of(record as u32);
            let old_keys = std::mem::replace(&mut m.keys[tp as usize], new_keys.clone());
            for rule in 0..new_keys.len() {
                let (old, new) = (old_keys.get(rule).copied().unwrap_or(0), new_keys[rule]);
                if old == new {
                    continue;
                }
                if old != 0 {
                    if let Some(block) = m.blocks[rule].get_mut(&old) {
                        block.retain(|&t| t != tp);
                        if block.len() <= max && m.oversize[rule].remove(&old) {
                            // Back under the limit: its pairs count again.
                            seeds.extend_from_slice(block);
                            rescore.extend_from_slice(block);
                        }
                    }
                }
                if new != 0 {
                    let block = m.blocks[rule].entry(new).or_default();
                    block.push(tp);
                    if block.len() > max && m.oversize[rule].insert(new) {
                        // Over the limit: its pairs no longer count.
                        seeds.extend_from_slice(block);
                    }
                }
            }
        }
        drop(keys_of);
        let Some(model) = model else { return Ok(seeds) };
        rescore.sort_unstable();
        rescore.dedup();
        // The rescored touchpoints' old pairs go (their partners are resolved again: a pair
        // that no longer reaches the threshold may have held them together); those that reach
        // it now come back below, with their weights.
        for &tp in &rescore {
            m.unlink(tp, &mut seeds);
        }
        let mut candidates: Vec<u32> = rescore.clone();
        for &tp in &rescore {
            for (rule, &key) in m.keys[tp as usize].iter().enumerate() {
                if key != 0 && !m.oversize[rule].contains(&key) {
                    candidates.extend_from_slice(&m.blocks[rule][&key]);
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        if candidates.len() < 2 {
            return Ok(seeds);
        }
        // Only pairs with a rescored touchpoint are scored: those sharing one of its blocks,
        // its key compared exactly (blocks are kept by key hash).
        // The rekeyed touchpoints' records are those derived above; the others' are added.
        let others: Vec<u32> = candidates.iter().copied().filter(|tp| tps.binary_search(tp).is_err()).collect();
        if !others.is_empty() {
            let (more, more_global) =
                touchpoint_records(touchpoints, Some(&others), self, rules, rules.matching.columns())?;
            records.append(more);
            global.extend(more_global);
        }
        let linker = Linker::for_pairs(&rules.matching, records, model)?;
        let mut record_of: Vec<(u32, u32)> = global.iter().enumerate().map(|(r, &tp)| (tp, r as u32)).collect();
        record_of.sort_unstable();
        let record = |tp: u32| record_of[record_of.partition_point(|&(t, _)| t < tp)].1;
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for &tp in &rescore {
            let a = record(tp);
            for (rule, &key) in m.keys[tp as usize].iter().enumerate() {
                if key == 0 || m.oversize[rule].contains(&key) {
                    continue;
                }
                for &other in m.blocks[rule][&key].iter().filter(|&&other| other != tp) {
                    let b = record(other);
                    if linker.share_key(rule, a, b) {
                        pairs.push((a.min(b), a.max(b)));
                    }
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        for (a, b, weight) in linker.scored_pairs(&pairs)? {
            let (ta, tb) = (global[a as usize], global[b as usize]);
            let rules = shared_rules(&linker, &m.keys[ta as usize], &m.keys[tb as usize], a, b);
            m.link(ta, tb, rules, weight);
        }
        Ok(seeds)
    }

    /// Takes the part's new profiles: updates every touchpoint's profile and returns the
    /// changes (new profiles first, then merges, then splits).
    fn apply(&mut self, part: &Part, first_new: u32) -> Vec<ChangeEvent> {
        let r = &part.resolution;
        let new_of = |i: usize| &r.profile_ids[r.graph.cluster_of[i] as usize];
        let events = diff(part.tps.iter().enumerate().map(|(i, &tp)| {
            let old = (tp < first_new).then(|| &self.profile_of[tp as usize]);
            (old, new_of(i))
        }));
        // Each old profile once (a batch's part holds many touchpoints of one profile).
        let mut olds: Vec<&Text> =
            part.tps.iter().filter(|&&tp| tp < first_new).map(|&tp| &self.profile_of[tp as usize]).collect();
        olds.sort_unstable();
        olds.dedup();
        let built = self.built.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        for &old in &olds {
            built.remove(old);
            self.profiles.remove(old);
        }
        for id in &r.profile_ids {
            built.remove(id);
        }
        self.note_merges(&events);
        // The part's touchpoints by new profile (in part order within one): each profile's
        // entries are looked up once, not once per touchpoint.
        let mut by_profile: Vec<u32> = (0..part.tps.len() as u32).collect();
        by_profile.sort_by_key(|&i| r.graph.cluster_of[i as usize]);
        for run in by_profile.chunk_by(|&a, &b| r.graph.cluster_of[a as usize] == r.graph.cluster_of[b as usize]) {
            let id = new_of(run[0] as usize);
            self.merged_into.remove(id);
            self.profiles.entry(id.clone()).or_default().extend(run.iter().map(|&i| part.tps[i as usize]));
        }
        for (i, &tp) in part.tps.iter().enumerate() {
            let id = new_of(i).clone();
            if tp as usize == self.profile_of.len() {
                self.profile_of.push(id);
            } else {
                self.profile_of[tp as usize] = id;
            }
        }
        events
    }

    /// Remembers where merged-away profiles went.
    fn note_merges(&mut self, events: &[ChangeEvent]) {
        for event in events {
            if let ChangeEvent::Merged { profile_id, into } = event {
                self.merged_into.insert(profile_id.as_str().into(), into.as_str().into());
            }
        }
    }

    /// Appends events to the feed, noting where merged-away ids lead.
    pub(crate) fn note_and_record(&mut self, events: Vec<ChangeEvent>) {
        self.note_merges(&events);
        self.record(events);
    }

    /// Appends events to the feed (a forgotten profile's memberships go with it).
    pub(crate) fn record(&mut self, events: Vec<ChangeEvent>) {
        for event in events {
            match &event {
                ChangeEvent::Forgotten { profile_id } => {
                    self.segments.remove(profile_id.as_str());
                }
                ChangeEvent::SegmentEntered { profile_id, segment } => {
                    self.segments.entry(profile_id.as_str().into()).or_default().push(segment.clone());
                }
                ChangeEvent::SegmentExited { profile_id, segment } => {
                    if let Some(held) = self.segments.get_mut(profile_id.as_str()) {
                        held.retain(|s| s != segment);
                        if held.is_empty() {
                            self.segments.remove(profile_id.as_str());
                        }
                    }
                }
                _ => {}
            }
            let seq = self.changes.len() as u64 + 1;
            self.changes.push(Change { seq, event });
        }
    }

    /// Replaces the feed with one read back from a store (the state was rebuilt from the
    /// stored touchpoints, so it is where that feed ends), and where merged ids lead.
    pub(crate) fn restore_feed(&mut self, changes: Vec<Change>) {
        self.merged_into = merges_in(&changes);
        let profiles = &self.profiles;
        self.merged_into.retain(|id, _| !profiles.contains_key(id));
        // Memberships as the stored feed leaves them.
        self.changes = Vec::new();
        self.segments.clear();
        self.record(changes.iter().map(|c| c.event.clone()).collect());
        self.changes = changes;
    }

    /// The feed after position `since`.
    pub(crate) fn changes(&self, since: u64) -> &[Change] {
        &self.changes[(since as usize).min(self.changes.len())..]
    }

    /// A profile built before and not changed since.
    pub(crate) fn built_profile(&self, profile_id: &str) -> Option<Arc<crate::model::Profile>> {
        self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(profile_id).cloned()
    }

    /// Drops every built profile (their traits were computed with another RFM scale).
    pub(crate) fn forget_built(&self) {
        self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Keeps a built profile until its component changes.
    pub(crate) fn keep_built(&self, profile: Arc<crate::model::Profile>) {
        let mut built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        built.insert(profile.profile_id.as_str().into(), profile);
    }

    /// The current id of a profile id: itself when it is a profile, else the profile it was
    /// merged into (followed to the survivor).
    pub(crate) fn current_id(&self, profile_id: &str) -> Option<Text> {
        follow_merges(&self.merged_into, profile_id, |id| self.profiles.contains_key(id))
    }

    /// A profile's touchpoints, sorted.
    pub(crate) fn profile_touchpoints(&self, profile_id: &str) -> Option<Vec<u32>> {
        let mut tps = self.profiles.get(profile_id)?.clone();
        tps.sort_unstable();
        Some(tps)
    }

    /// Whether an identifier links (`None` when nobody carries it).
    pub(crate) fn identifier_links(&self, kind: u16, key: &str) -> Option<bool> {
        self.ids.get(kind, key).map(|id| self.links(id))
    }

    /// Every touchpoint carrying an identifier (linking or not).
    pub(crate) fn identifier_members(&self, kind: u16, key: &str) -> &[u32] {
        self.ids.get(kind, key).map_or(&[], |id| &self.members[id as usize])
    }

    /// Per comparison of the matching settings, the values touchpoints `tps` have in its
    /// column (`None` for comparisons without term frequencies); `None` without matching.
    #[allow(clippy::type_complexity)]
    pub(crate) fn derived_values(
        &self,
        tps: &[u32],
        touchpoints: &[Touchpoint],
        rules: &Rules,
    ) -> Result<Option<Vec<Option<Vec<Option<Text>>>>>> {
        if self.matching.is_none() || tps.is_empty() {
            return Ok(None);
        }
        let (linker, _) = derive(touchpoints, Some(tps), self, rules, None, None)?;
        Ok(Some(linker.term_frequency_values()))
    }

    /// Before the rest is resolved again without them: records that these profiles are
    /// forgotten, and takes each remaining touchpoint's profile (`profile_of`, in the new
    /// numbering) so that the changes can be told.
    pub(crate) fn forget_profiles(&mut self, forgotten: &[Text], profile_of: Vec<Text>) {
        for id in forgotten {
            self.profiles.remove(id);
        }
        self.merged_into.retain(|_, into| !forgotten.contains(into));
        self.profile_of = profile_of;
        self.record(forgotten.iter().map(|id| ChangeEvent::Forgotten { profile_id: id.to_string() }).collect());
    }

    /// The touchpoint that anchors an identifier (its first in data order), when it links.
    pub(crate) fn identifier_owner(&self, kind: u16, key: &str, touchpoints: &[Touchpoint]) -> Option<u32> {
        let id = self.ids.get(kind, key)?;
        if !self.links(id) {
            return None;
        }
        self.members[id as usize].iter().copied().min_by(|&a, &b| {
            let (a, b) = (&touchpoints[a as usize].touchpoint_id, &touchpoints[b as usize].touchpoint_id);
            (crate::prepare::hash_of(0, a), a).cmp(&(crate::prepare::hash_of(0, b), b))
        })
    }

    /// Replaces the state with one built from a new batch resolution, recording how every
    /// profile changed (for a new model or a large batch).
    pub(crate) fn rebase(&mut self, mut next: Live) {
        next.changes = std::mem::take(&mut self.changes);
        next.merged_into = std::mem::take(&mut self.merged_into);
        next.segments = std::mem::take(&mut self.segments);
        let events = diff(next.profile_of.iter().enumerate().map(|(tp, new)| (self.profile_of.get(tp), new)));
        next.note_merges(&events);
        let live_ids: Vec<Text> = next.profiles.keys().cloned().collect();
        for id in live_ids {
            next.merged_into.remove(&id);
        }
        next.record(events);
        *self = next;
    }
}

/// Where the feed says merged-away profiles went (the last merge of each id; forgotten
/// survivors and ids created again dropped).
pub(crate) fn merges_in(changes: &[Change]) -> FxHashMap<Text, Text> {
    let mut merged_into: FxHashMap<Text, Text> = FxHashMap::default();
    for change in changes {
        match &change.event {
            ChangeEvent::Merged { profile_id, into } => {
                merged_into.insert(profile_id.as_str().into(), into.as_str().into());
            }
            ChangeEvent::Forgotten { profile_id } => {
                merged_into.retain(|_, into| into.as_str() != profile_id.as_str());
            }
            ChangeEvent::Created { profile_id } => {
                merged_into.remove(profile_id.as_str());
            }
            ChangeEvent::Split { .. } | ChangeEvent::SegmentEntered { .. } | ChangeEvent::SegmentExited { .. } => {}
        }
    }
    merged_into
}

/// The profile an id leads to: itself while it `exists`, else where it was merged, followed
/// to a profile that exists (`None` when the chain ends first).
pub(crate) fn follow_merges(
    merged_into: &FxHashMap<Text, Text>,
    profile_id: &str,
    exists: impl Fn(&str) -> bool,
) -> Option<Text> {
    let mut id: Text = profile_id.into();
    for _ in 0..=merged_into.len() {
        if exists(&id) {
            return Some(id);
        }
        id = merged_into.get(&id)?.clone();
    }
    None
}

/// Makes room for one more element, growing a full vector by half (as the engine's touchpoint
/// store grows). Each growth copies the whole vector, a pause of milliseconds at millions of
/// touchpoints whatever the step; by half, a growing vector copies each element about three
/// times over its life (by an eighth, nine times: one growth of the 1M touchpoint store took
/// 11.5% of a 4 s window of sustained batches), and the room not yet used is only address
/// space, not memory, until touched.
fn room_for_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(64));
    }
}

/// The changes between two assignments, given as each touchpoint's profile before (`None` for
/// a new touchpoint) and after: new profiles first, then merges, then splits, each sorted.
pub(super) fn diff<'a>(assignments: impl Iterator<Item = (Option<&'a Text>, &'a Text)>) -> Vec<ChangeEvent> {
    let mut old_to_new: FxHashMap<&Text, Vec<&Text>> = FxHashMap::default();
    let mut new_ids: FxHashSet<&Text> = FxHashSet::default();
    for (old, new) in assignments {
        new_ids.insert(new);
        if let Some(old) = old {
            let targets = old_to_new.entry(old).or_default();
            if !targets.contains(&new) {
                targets.push(new);
            }
        }
    }
    let mut created: Vec<&Text> = new_ids.into_iter().filter(|id| !old_to_new.contains_key(id)).collect();
    created.sort_unstable();
    let mut events: Vec<ChangeEvent> =
        created.into_iter().map(|id| ChangeEvent::Created { profile_id: id.to_string() }).collect();
    let mut olds: Vec<(&Text, Vec<&Text>)> = old_to_new.into_iter().collect();
    olds.sort_unstable();
    for (old, targets) in &olds {
        if targets.len() == 1 && targets[0] != *old {
            events.push(ChangeEvent::Merged { profile_id: old.to_string(), into: targets[0].to_string() });
        }
    }
    for (old, targets) in &olds {
        if targets.len() > 1 {
            let mut into: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
            into.sort_unstable();
            events.push(ChangeEvent::Split { profile_id: old.to_string(), into });
        }
    }
    events
}

/// Records of `touchpoints` (those of `subset`, or all) for matching, their values derived
/// under `view`'s statuses, as a linker with the model set, and each record's touchpoint index.
fn derive(
    touchpoints: &[Touchpoint],
    subset: Option<&[u32]>,
    view: &(impl Identities + Sync),
    rules: &Rules,
    oversize: Option<&[FxHashSet<u64>]>,
    model: Option<&Arc<Model>>,
) -> Result<(Linker, Vec<u32>)> {
    let (records, touchpoint_of) = touchpoint_records(touchpoints, subset, view, rules, rules.matching.columns())?;
    let mut linker = Linker::from_records(&rules.matching, records, oversize)?;
    if let Some(model) = model {
        linker.set_shared_model(Arc::clone(model))?;
    }
    Ok((linker, touchpoint_of))
}

/// Links of touchpoint `tp` (local to the part) that merge protection refused, described.
fn refusals(rules: &Rules, part: &Part, tp: u32) -> Vec<String> {
    let r = &part.resolution;
    let g = &r.graph;
    let mine = g.tp_ids.get(tp as usize);
    let mut out: Vec<String> = g
        .refused
        .iter()
        .filter(|((id, t), _)| *t == tp || mine.contains(id))
        .map(|(_, c)| super::describe_refusal(rules, g, c.slot, c.existing, c.incoming))
        .collect();
    if let Some(m) = &r.matches {
        out.extend(m.links.iter().filter(|l| l.a == tp || l.b == tp).filter_map(|l| match l.outcome {
            crate::graph::MergeOutcome::Refused(c) => {
                Some(super::describe_refusal(rules, g, c.slot, c.existing, c.incoming))
            }
            _ => None,
        }));
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_serialize_flat_and_read_back() {
        let changes = [
            Change { seq: 1, event: ChangeEvent::Created { profile_id: "P1".into() } },
            Change { seq: 2, event: ChangeEvent::Merged { profile_id: "P2".into(), into: "P1".into() } },
            Change {
                seq: 3,
                event: ChangeEvent::Split { profile_id: "P1".into(), into: vec!["P1".into(), "P3".into()] },
            },
            Change { seq: 4, event: ChangeEvent::Forgotten { profile_id: "P3".into() } },
        ];
        let json = serde_json::to_value(&changes).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"seq": 1, "change": "created", "profile_id": "P1"},
                {"seq": 2, "change": "merged", "profile_id": "P2", "into": "P1"},
                {"seq": 3, "change": "split", "profile_id": "P1", "into": ["P1", "P3"]},
                {"seq": 4, "change": "forgotten", "profile_id": "P3"},
            ])
        );
        let back: Vec<Change> = serde_json::from_value(json).unwrap();
        assert_eq!(back, changes);
    }
}

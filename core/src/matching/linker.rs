//! The probabilistic linkage pipeline on generic records: block, train, score, cluster, explain.

use std::sync::OnceLock;

use polars::prelude::DataFrame;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::blocking::{Blocking, KeyPart};
use super::comparison::{Comparison, NULL_LEVEL};
use super::model::{
    expectation_maximisation, initial_m, probability, u_from_counts, ComparisonModel, LevelModel, Model, Patterns,
};
use super::records::Records;
use super::settings::{LevelSpec, LinkType, Settings};
use super::u_estimate::{total_pairs, u_counts, UCounts};
use crate::error::{Error, Result};
use crate::graph::Components;
use crate::model::Text;

/// A candidate pair with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// The first record's id.
    pub left: Text,
    /// The second record's id.
    pub right: Text,
    /// The sum of the prior's and every comparison's weight (log2 of the odds).
    pub match_weight: f64,
    /// The match probability.
    pub match_probability: f64,
    /// The index of the first blocking rule that produced the pair.
    pub blocking_rule: usize,
}

/// What training found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// Random pairs that estimated u for the comparisons not in `u_counted` (0 when none was
    /// sampled).
    pub u_sample_pairs: usize,
    /// Comparisons whose u was counted exactly over every pair of records (only the pairs of
    /// distinct values that can reach a level above "else" compared, within `u_sample_pairs`
    /// comparisons) instead of sampled.
    #[serde(default)]
    pub u_counted: Vec<String>,
    /// Candidate pairs per blocking rule (each pair counted for its first rule only).
    pub candidate_pairs: Vec<u64>,
    /// EM iterations per blocking rule.
    pub em_iterations: Vec<usize>,
    /// The share of matches EM found among each rule's candidates.
    pub rule_match_shares: Vec<f64>,
    /// Comparisons whose m could not be estimated (every rule fixes their column); they keep
    /// the starting values.
    pub untrained: Vec<String>,
}

/// One comparison's part in a pair's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonPart {
    /// The comparison.
    pub comparison: String,
    /// The values compared.
    pub values: (Option<String>, Option<String>),
    /// The level reached.
    pub level: String,
    /// Its weight, log2(m / u).
    pub weight: f64,
    /// The term-frequency adjustment added for this value, when one applies.
    pub term_frequency_adjustment: f64,
}

/// Why a pair scored as it did: the data of a waterfall chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairExplanation {
    /// The records.
    pub left: String,
    /// The records.
    pub right: String,
    /// The first blocking rule that makes them candidates, if any.
    pub blocking_rule: Option<usize>,
    /// The prior's weight.
    pub prior_weight: f64,
    /// Each comparison's contribution, in settings order.
    pub parts: Vec<ComparisonPart>,
    /// The total weight.
    pub match_weight: f64,
    /// The match probability.
    pub match_probability: f64,
    /// The threshold the probability is held against.
    pub threshold: f64,
    /// Whether the pair is linked directly (a candidate at or above the threshold).
    pub linked: bool,
    /// When not linked directly but in one cluster: the shortest chain of links that joins
    /// them; empty otherwise.
    pub chain: Vec<ChainLink>,
}

/// One link of a chain between two records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainLink {
    /// One record.
    pub left: String,
    /// The next record.
    pub right: String,
    /// The link's match probability.
    pub match_probability: f64,
}

/// Settings checked once, with their blocking rules parsed and the columns they read: what every
/// linker over the same settings shares (the live engine builds small linkers on every arrival).
#[derive(Debug)]
pub(crate) struct Plan {
    settings: Settings,
    rules: Vec<Vec<KeyPart>>,
    columns: Vec<String>,
}

impl Plan {
    /// Checks `settings` and parses their blocking rules.
    pub(crate) fn new(settings: Settings) -> Result<Plan> {
        settings.validate()?;
        let rules: Vec<Vec<KeyPart>> = settings
            .blocking_rules
            .iter()
            .map(|rule| rule.iter().map(|k| KeyPart::parse(k)).collect())
            .collect::<Result<_>>()?;
        let mut columns: Vec<String> = Vec::new();
        for column in Linker::columns_used(&settings, &rules) {
            if !columns.iter().any(|c| c == column) {
                columns.push(column.to_owned());
            }
        }
        Ok(Plan { settings, rules, columns })
    }

    /// Every column the settings read (compared, swapped with, or blocked on), once each.
    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Each record's key hash under each blocking rule (0 without a key), the rules' columns
    /// found in `records` once.
    pub(crate) fn block_keys_of<'r>(&self, records: &'r Records) -> impl Fn(u32) -> smallvec::SmallVec<[u64; 8]> + 'r {
        let parts = super::blocking::key_parts(records, &self.rules);
        move |record| super::blocking::block_keys(records, &parts, record)
    }
}

/// Probabilistic record linkage over one or more tables.
#[derive(Debug)]
pub struct Linker {
    plan: std::sync::Arc<Plan>,
    records: Records,
    comparisons: Vec<Comparison>,
    /// The plan's blocking rules as (column index in the records, prefix length).
    key_parts: Vec<Vec<(usize, Option<usize>)>>,
    blocking: Blocking,
    model: Option<std::sync::Arc<Model>>,
    /// The linking pairs under the model `(a, b, weight, first blocking rule)`, sorted, computed on first need.
    links: OnceLock<Vec<(u32, u32, f64, usize)>>,
}

impl Linker {
    /// Reads the records of `frames` (one table for dedupe, two or more for linking) under
    /// `settings`.
    pub fn new(settings: Settings, frames: &[DataFrame]) -> Result<Linker> {
        let plan = Plan::new(settings)?;
        if frames.is_empty() {
            return Err(Error::EmptyInput("no input tables".into()));
        }
        if plan.settings.link_type != LinkType::DedupeOnly && frames.len() < 2 {
            return Err(Error::config("link_type", "linking needs at least two input tables"));
        }
        let columns: Vec<&str> = plan.columns.iter().map(String::as_str).collect();
        let records = Records::from_frames(frames, &plan.settings.unique_id_column, &columns)?;
        Linker::from_records(&std::sync::Arc::new(plan), records, None)
    }

    /// A linker over records already read (the engine's touchpoints).
    /// Blocks whose key hash `excluded` lists for their rule are left out (see [`Blocking::new`]).
    pub(crate) fn from_records(
        plan: &std::sync::Arc<Plan>,
        records: Records,
        excluded: Option<&[rustc_hash::FxHashSet<u64>]>,
    ) -> Result<Linker> {
        Linker::assemble(plan, records, true, excluded)
    }

    /// A linker over `records`, blocked by the plan's rules when `blocked` (see
    /// [`Blocking::new`]), without a model.
    fn assemble(
        plan: &std::sync::Arc<Plan>,
        records: Records,
        blocked: bool,
        excluded: Option<&[rustc_hash::FxHashSet<u64>]>,
    ) -> Result<Linker> {
        let settings = &plan.settings;
        let comparisons =
            settings.comparisons.iter().map(|spec| Comparison::new(spec, &records)).collect::<Result<Vec<_>>>()?;
        let key_parts = super::blocking::key_parts(&records, &plan.rules);
        let blocking = if blocked {
            Blocking::new(&records, key_parts.clone(), settings.link_type, settings.max_block_records, excluded)
        } else {
            Blocking::new(&records, Vec::new(), settings.link_type, None, None)
        };
        Ok(Linker {
            plan: std::sync::Arc::clone(plan),
            records,
            comparisons,
            key_parts,
            blocking,
            model: None,
            links: OnceLock::new(),
        })
    }

    /// A record's key hash under each blocking rule (0 without a key), oversize blocks included.
    pub(crate) fn block_keys(&self, record: u32) -> smallvec::SmallVec<[u64; 8]> {
        super::blocking::block_keys(&self.records, &self.key_parts, record)
    }

    /// A linker that only scores given pairs (no blocks), under `model`: the live engine's, for
    /// an arrival against the touchpoints sharing a block with it.
    pub(crate) fn for_pairs(
        plan: &std::sync::Arc<Plan>,
        records: Records,
        model: &std::sync::Arc<Model>,
    ) -> Result<Linker> {
        let mut linker = Linker::assemble(plan, records, false, None)?;
        linker.set_shared_model(std::sync::Arc::clone(model))?;
        Ok(linker)
    }

    /// Whether records `a` and `b` have one key under blocking rule `rule` (compared exactly, not
    /// by hash).
    pub(crate) fn share_key(&self, rule: usize, a: u32, b: u32) -> bool {
        super::blocking::same_key(&self.records, &self.key_parts[rule], a, b)
    }

    /// The pairs among `pairs` whose match probability reaches the threshold, with their
    /// weights, in order.
    pub(crate) fn scored_pairs(&self, pairs: &[(u32, u32)]) -> Result<Vec<(u32, u32, f64)>> {
        let model = self.require_model()?;
        let weights = Linker::weights(model);
        let threshold = self.plan.settings.threshold;
        Ok(pairs
            .iter()
            .map(|&(a, b)| (a, b, self.score(model, &weights, a, b)))
            .filter(|&(_, _, weight)| probability(weight) >= threshold)
            .collect())
    }

    /// The model with every term-frequency comparison's value counts frozen in it: those it
    /// has, else those of these records (what the records were scored with).
    pub(crate) fn model_with_term_frequencies(&self) -> Option<Model> {
        let mut model = Model::clone(self.model.as_ref()?);
        for (cm, c) in model.comparisons.iter_mut().zip(&self.comparisons) {
            if cm.term_frequencies.is_none() {
                cm.term_frequencies = c.term_frequencies(&self.records);
            }
        }
        Some(model)
    }

    /// Per comparison with term frequencies, every record's value in its column; `None` for
    /// the others.
    pub(crate) fn term_frequency_values(&self) -> Vec<Option<Vec<Option<Text>>>> {
        self.comparisons
            .iter()
            .map(|c| c.shares.as_ref().map(|_| self.records.columns[c.column_index()].clone()))
            .collect()
    }

    /// Every column the settings read, given their parsed rules.
    fn columns_used<'s>(settings: &'s Settings, rules: &'s [Vec<KeyPart>]) -> Vec<&'s str> {
        let mut columns: Vec<&str> = Vec::new();
        for c in &settings.comparisons {
            columns.push(&c.column);
            for level in &c.levels {
                if let LevelSpec::SwappedWith(other) = level {
                    columns.push(other);
                }
            }
        }
        columns.extend(rules.iter().flatten().map(|k| k.column.as_str()));
        columns
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.plan.settings
    }

    /// How many records there are.
    pub fn records(&self) -> usize {
        self.records.len()
    }

    /// Per blocking rule, the blocks left out because they hold more than
    /// [`Settings::max_block_records`] records: `(blocks, records in them)`.
    pub fn oversize_blocks(&self) -> Vec<(usize, usize)> {
        self.blocking.oversize().iter().map(|o| (o.blocks, o.records)).collect()
    }

    /// How many candidate pairs each blocking rule produces (a pair counts for its first rule).
    pub fn candidate_pairs(&self) -> Vec<u64> {
        self.blocking.pair_counts(&self.records)
    }

    /// The trained or loaded model.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_deref()
    }

    /// Uses a saved model; its comparisons and levels must be the settings'.
    pub fn set_model(&mut self, model: Model) -> Result<()> {
        self.set_shared_model(std::sync::Arc::new(model))
    }

    /// [`Linker::set_model`] with a model shared with others (not copied).
    pub(crate) fn set_shared_model(&mut self, model: std::sync::Arc<Model>) -> Result<()> {
        model.check_fits(&self.plan.settings.comparisons)?;
        self.set_trained(model);
        Ok(())
    }

    /// Stores a model and forgets what the previous one linked.
    fn set_trained(&mut self, model: std::sync::Arc<Model>) {
        for (c, cm) in self.comparisons.iter_mut().zip(&model.comparisons) {
            if let Some(tf) = &cm.term_frequencies {
                c.use_term_frequencies(tf, &self.records);
            }
        }
        self.model = Some(model);
        self.links = OnceLock::new();
    }

    /// The levels a pair reaches, one per comparison.
    fn pattern(&self, a: u32, b: u32) -> smallvec::SmallVec<[u8; 16]> {
        self.comparisons.iter().map(|c| c.level(&self.records, a, b)).collect()
    }

    /// Trains the model without labels: u over every pair of records (or from random pairs when
    /// that costs too much), m by EM on each blocking rule's candidates (the comparisons on the
    /// rule's own columns left out), and the prior from the share of matches among all
    /// candidates, spread over every pair the link type compares.
    pub fn train(&mut self) -> Result<TrainingReport> {
        let training = self.plan.settings.training.clone();
        let level_counts: Vec<usize> = self.comparisons.iter().map(Comparison::level_count).collect();
        let (u, found) = self.estimate_u();
        let start = initial_m(&level_counts);
        // m: EM per rule, averaged over the rules that leave a comparison free.
        let mut m_sum: Vec<Vec<f64>> = start.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut m_sessions = vec![0usize; self.comparisons.len()];
        let mut em_iterations = Vec::new();
        let mut rule_match_shares = Vec::new();
        for rule in 0..self.blocking.rules() {
            let patterns = self.rule_patterns(rule, false);
            let fixed: Vec<bool> = self.plan.settings.comparisons.iter().map(|c| self.rule_fixes(rule, c)).collect();
            let result =
                expectation_maximisation(&patterns, &u, &start, &fixed, training.max_iterations, training.tolerance);
            em_iterations.push(result.iterations);
            rule_match_shares.push(result.prior);
            for (k, free) in fixed.iter().map(|f| !f).enumerate() {
                if free && !patterns.is_empty() {
                    m_sessions[k] += 1;
                    m_sum[k].iter_mut().zip(&result.m[k]).for_each(|(s, m)| *s += m);
                }
            }
        }
        let mut untrained = Vec::new();
        let m: Vec<Vec<f64>> = (0..self.comparisons.len())
            .map(|k| {
                if m_sessions[k] == 0 {
                    untrained.push(self.comparisons[k].name.clone());
                    start[k].clone()
                } else {
                    let mut levels: Vec<f64> = m_sum[k].iter().map(|s| s / m_sessions[k] as f64).collect();
                    levels[0] = 1.0;
                    levels
                }
            })
            .collect();
        let candidate_pairs = self.finish_training(m, u);
        Ok(TrainingReport {
            u_sample_pairs: found.sampled,
            u_counted: found.counted,
            candidate_pairs,
            em_iterations,
            rule_match_shares,
            untrained,
        })
    }

    /// Trains the model from pairs known to be one person (labels): m from the levels those
    /// pairs reach, u as in [`Linker::train`], and the prior as there too.
    pub fn train_from_labels(&mut self, matches: &[(&str, &str)]) -> Result<TrainingReport> {
        if matches.is_empty() {
            return Err(Error::config("labels", "no labelled pairs: give at least one pair known to match"));
        }
        let index = self.index()?;
        let find = |id: &str| index.get(id).copied().ok_or_else(|| Error::UnknownRecord(id.to_owned()));
        let mut counts: Vec<Vec<u64>> = self.comparisons.iter().map(|c| vec![0; c.level_count()]).collect();
        for (left, right) in matches {
            let (a, b) = (find(left)?, find(right)?);
            for (k, c) in self.comparisons.iter().enumerate() {
                counts[k][c.level(&self.records, a, b) as usize] += 1;
            }
        }
        drop(index);
        // The same smoothing as u: a level no labelled pair reached keeps a small m.
        let m = u_from_counts(&counts);
        let (u, found) = self.estimate_u();
        let candidate_pairs = self.finish_training(m, u);
        Ok(TrainingReport {
            u_sample_pairs: found.sampled,
            u_counted: found.counted,
            candidate_pairs,
            em_iterations: Vec::new(),
            rule_match_shares: Vec::new(),
            untrained: Vec::new(),
        })
    }

    /// u per level: counted over all pairs of records where that fits the budget, else from
    /// random pairs ([`super::u_estimate`]).
    fn estimate_u(&self) -> (Vec<Vec<f64>>, UCounts) {
        let found =
            u_counts(&self.comparisons, &self.records, self.plan.settings.link_type, &self.plan.settings.training);
        (u_from_counts(&found.counts), found)
    }

    /// Fits the prior for `m` and `u` and stores the model; returns the candidate pairs per rule.
    fn finish_training(&mut self, m: Vec<Vec<f64>>, u: Vec<Vec<f64>>) -> Vec<u64> {
        let training = &self.plan.settings.training;
        let mut candidate_pairs = Vec::new();
        let mut all_patterns: FxHashMap<smallvec::SmallVec<[u8; 16]>, u64> = FxHashMap::default();
        for rule in 0..self.blocking.rules() {
            let new = self.rule_patterns(rule, true);
            candidate_pairs.push(new.iter().map(|(_, c)| c).sum());
            for (p, c) in new {
                *all_patterns.entry(p.into_iter().collect()).or_default() += c;
            }
        }
        let all: Patterns = all_patterns.into_iter().map(|(p, c)| (p.to_vec(), c)).collect();
        // The share of matches among candidates, then among all pairs (blocking is meant to
        // keep every match, so the candidates hold them all): the prior of any pair.
        let share = fit_prior(&all, &m, &u, training.max_iterations, training.tolerance);
        let candidates: u64 = candidate_pairs.iter().sum();
        let prior = (share * candidates as f64 / self.total_pairs().max(1) as f64).clamp(1e-12, 0.5);
        let comparisons = self
            .comparisons
            .iter()
            .enumerate()
            .map(|(k, c)| ComparisonModel {
                name: c.name.clone(),
                levels: (0..c.level_count())
                    .map(|l| LevelModel { label: c.label(l as u8), m: m[k][l], u: u[k][l] })
                    .collect(),
                term_frequencies: c.term_frequencies(&self.records),
            })
            .collect();
        self.set_trained(std::sync::Arc::new(Model { prior, comparisons }));
        candidate_pairs
    }

    /// Whether a blocking rule fixes a comparison (its column, or a swapped column, is a whole
    /// key of the rule), so that its candidates say nothing about the comparison's m.
    fn rule_fixes(&self, rule: usize, spec: &super::settings::ComparisonSpec) -> bool {
        self.plan.rules[rule].iter().any(|key| key.column == spec.column)
    }

    /// Pattern counts of one rule's candidate pairs: all of them, or (`only_new`) those no
    /// earlier rule produces.
    fn rule_patterns(&self, rule: usize, only_new: bool) -> Patterns {
        type Counts = FxHashMap<smallvec::SmallVec<[u8; 16]>, u64>;
        let counts: Counts = self.blocking.fold_pairs(
            &self.records,
            rule,
            only_new,
            Counts::default,
            |mut acc, a, b| {
                *acc.entry(self.pattern(a, b)).or_default() += 1;
                acc
            },
            |mut a, b| {
                for (p, c) in b {
                    *a.entry(p).or_default() += c;
                }
                a
            },
        );
        let mut patterns: Patterns = counts.into_iter().map(|(p, c)| (p.to_vec(), c)).collect();
        patterns.sort_unstable();
        patterns
    }

    /// How many pairs the link type compares in all (before blocking).
    fn total_pairs(&self) -> u64 {
        total_pairs(&self.records, self.plan.settings.link_type)
    }

    /// The weights of every level, per comparison.
    fn weights(model: &Model) -> Vec<Vec<f64>> {
        model.comparisons.iter().map(|c| c.levels.iter().map(LevelModel::weight).collect()).collect()
    }

    /// The term-frequency adjustment of comparison `k` at `level` for the value of record `a`.
    fn tf_adjustment(&self, model: &Model, k: usize, level: u8, a: u32) -> f64 {
        let c = &self.comparisons[k];
        let Some(shares) = &c.shares else { return 0.0 };
        let share = shares[a as usize];
        if c.exact_level != Some(level) || share <= 0.0 {
            return 0.0;
        }
        (model.comparisons[k].levels[level as usize].u / share).log2()
    }

    /// A pair's weight under the model.
    fn score(&self, model: &Model, weights: &[Vec<f64>], a: u32, b: u32) -> f64 {
        let mut weight = model.prior_weight();
        for (k, c) in self.comparisons.iter().enumerate() {
            let level = c.level(&self.records, a, b);
            if level != NULL_LEVEL {
                weight += weights[k][level as usize] + self.tf_adjustment(model, k, level, a);
            }
        }
        weight
    }

    fn require_model(&self) -> Result<&Model> {
        self.model.as_deref().ok_or_else(|| Error::config("model", "no model: train one or load one first"))
    }

    /// Every candidate pair whose match probability reaches the threshold, sorted by the
    /// records' positions in the input.
    pub fn predict(&self) -> Result<Vec<ScoredPair>> {
        let links = self.links()?;
        Ok(links
            .iter()
            .map(|&(a, b, weight, rule)| ScoredPair {
                left: self.records.ids[a as usize].clone(),
                right: self.records.ids[b as usize].clone(),
                match_weight: weight,
                match_probability: probability(weight),
                blocking_rule: rule,
            })
            .collect())
    }

    /// The linking pairs, scored once per model.
    fn links(&self) -> Result<&[(u32, u32, f64, usize)]> {
        let model = self.require_model()?;
        Ok(self.links.get_or_init(|| self.links_where(model, |_, _| true)))
    }

    /// The candidate pairs `keep` accepts whose probability reaches the threshold:
    /// `(a, b, weight, first blocking rule)`, sorted by `(a, b)`. Pairs `keep` refuses are not
    /// scored at all.
    pub(crate) fn scored_links(&self, keep: impl Fn(u32, u32) -> bool + Sync) -> Result<Vec<(u32, u32, f64, usize)>> {
        let model = self.require_model()?;
        Ok(self.links_where(model, keep))
    }

    fn links_where(&self, model: &Model, keep: impl Fn(u32, u32) -> bool + Sync) -> Vec<(u32, u32, f64, usize)> {
        let weights = Linker::weights(model);
        let threshold = self.plan.settings.threshold;
        let mut found: Vec<(u32, u32, f64, usize)> = Vec::new();
        for rule in 0..self.blocking.rules() {
            found.extend(self.blocking.fold_pairs(
                &self.records,
                rule,
                true,
                Vec::new,
                |mut acc, a, b| {
                    if keep(a, b) {
                        let weight = self.score(model, &weights, a, b);
                        if probability(weight) >= threshold {
                            acc.push((a, b, weight, rule));
                        }
                    }
                    acc
                },
                |mut a, b| {
                    a.extend(b);
                    a
                },
            ));
        }
        found.par_sort_unstable_by_key(|&(a, b, _, _)| (a, b));
        found
    }

    /// The shortest chain of links from `a` to `b`, when they are joined only through others.
    fn chain(&self, a: u32, b: u32) -> Result<Vec<ChainLink>> {
        let links = self.links()?;
        let mut neighbours: FxHashMap<u32, Vec<(u32, f64)>> = FxHashMap::default();
        for &(x, y, w, _) in links {
            neighbours.entry(x).or_default().push((y, w));
            neighbours.entry(y).or_default().push((x, w));
        }
        let mut came_from: FxHashMap<u32, (u32, f64)> = FxHashMap::default();
        let mut queue = std::collections::VecDeque::from([a]);
        while let Some(at) = queue.pop_front() {
            if at == b {
                break;
            }
            for &(next, w) in neighbours.get(&at).map_or(&[][..], Vec::as_slice) {
                if next != a && !came_from.contains_key(&next) {
                    came_from.insert(next, (at, w));
                    queue.push_back(next);
                }
            }
        }
        let mut chain = Vec::new();
        let mut at = b;
        while let Some(&(previous, weight)) = came_from.get(&at) {
            chain.push(ChainLink {
                left: self.records.ids[previous as usize].to_string(),
                right: self.records.ids[at as usize].to_string(),
                match_probability: probability(weight),
            });
            at = previous;
        }
        chain.reverse();
        Ok(chain)
    }

    /// Clusters: records joined by the predicted pairs (connected components). Returns each
    /// record's cluster id, in input order: the smallest record id in its cluster. A pair
    /// naming a record the linker does not hold is an error.
    pub fn cluster(&self, pairs: &[ScoredPair]) -> Result<Vec<(Text, Text)>> {
        let index = self.index()?;
        let find = |id: &str| index.get(id).copied().ok_or_else(|| Error::UnknownRecord(id.to_owned()));
        let components = Components::new(self.records.len());
        for pair in pairs {
            components.union(find(&pair.left)?, find(&pair.right)?);
        }
        let roots: Vec<u32> = (0..self.records.len() as u32).map(|r| components.find(r)).collect();
        let mut label: FxHashMap<u32, &Text> = FxHashMap::default();
        for (r, &root) in roots.iter().enumerate() {
            let id = &self.records.ids[r];
            label.entry(root).and_modify(|l| *l = (*l).min(id)).or_insert(id);
        }
        Ok(roots.iter().enumerate().map(|(r, root)| (self.records.ids[r].clone(), label[root].clone())).collect())
    }

    /// Record id → position; ids must be unique across the inputs.
    fn index(&self) -> Result<FxHashMap<&str, u32>> {
        let mut index = FxHashMap::default();
        for (r, id) in self.records.ids.iter().enumerate() {
            if index.insert(id.as_str(), r as u32).is_some() {
                return Err(Error::Schema(format!(
                    "record id `{id}` appears in more than one input; ids must be unique"
                )));
            }
        }
        Ok(index)
    }

    /// Why records `left` and `right` score as they do.
    pub fn explain(&self, left: &str, right: &str) -> Result<PairExplanation> {
        let index = self.index()?;
        let find = |id: &str| index.get(id).copied().ok_or_else(|| Error::UnknownRecord(id.to_owned()));
        let (a, b) = (find(left)?, find(right)?);
        drop(index);
        let mut explanation = self.explain_records(a, b)?;
        if !explanation.linked {
            explanation.chain = self.chain(a, b)?;
        }
        Ok(explanation)
    }

    /// Why records `a` and `b` (positions) score as they do, without the chain.
    pub(crate) fn explain_records(&self, a: u32, b: u32) -> Result<PairExplanation> {
        let model = self.require_model()?;
        let (left, right) = (self.records.ids[a as usize].as_str(), self.records.ids[b as usize].as_str());
        let weights = Linker::weights(model);
        let parts: Vec<ComparisonPart> = self
            .comparisons
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let level = c.level(&self.records, a, b);
                let (weight, tf) = if level == NULL_LEVEL {
                    (0.0, 0.0)
                } else {
                    (weights[k][level as usize], self.tf_adjustment(model, k, level, a))
                };
                ComparisonPart {
                    comparison: c.name.clone(),
                    values: (
                        c.value(&self.records, a).map(str::to_owned),
                        c.value(&self.records, b).map(str::to_owned),
                    ),
                    level: c.label(level),
                    weight,
                    term_frequency_adjustment: tf,
                }
            })
            .collect();
        let match_weight = self.score(model, &weights, a, b);
        let blocking_rule =
            self.blocking.rule_of(&self.records, a, b).filter(|_| self.blocking.allowed(&self.records, a, b));
        let match_probability = probability(match_weight);
        let linked = blocking_rule.is_some() && match_probability >= self.plan.settings.threshold;
        Ok(PairExplanation {
            left: left.to_owned(),
            right: right.to_owned(),
            blocking_rule,
            prior_weight: model.prior_weight(),
            parts,
            match_weight,
            match_probability,
            threshold: self.plan.settings.threshold,
            linked,
            chain: Vec::new(),
        })
    }
}

/// The prior alone by EM, m and u held fixed.
fn fit_prior(patterns: &Patterns, m: &[Vec<f64>], u: &[Vec<f64>], max_iterations: usize, tolerance: f64) -> f64 {
    let total: f64 = patterns.iter().map(|(_, c)| *c as f64).sum();
    if total == 0.0 {
        return 1e-6;
    }
    let ratios: Vec<(f64, f64)> = patterns
        .iter()
        .map(|(p, c)| {
            let ratio: f64 = p.iter().enumerate().map(|(k, &l)| m[k][l as usize] / u[k][l as usize]).product();
            (ratio, *c as f64)
        })
        .collect();
    let mut prior: f64 = 0.1;
    for _ in 0..max_iterations.max(100) {
        let odds = prior / (1.0 - prior);
        let matches: f64 = ratios.iter().map(|(r, c)| c * (odds * r) / (1.0 + odds * r)).sum();
        let next = (matches / total).clamp(1e-9, 1.0 - 1e-9);
        let done = (next - prior).abs() < tolerance;
        prior = next;
        if done {
            break;
        }
    }
    prior
}

//! The Fellegi–Sunter model: for each comparison level, the probability of reaching it for a
//! true match (m) and for a random pair (u), and the share of candidate pairs that match.
//! Trained without labels: u from random record pairs, m by expectation–maximisation on the
//! candidate pairs of each blocking rule in turn (leaving out the comparisons the rule fixes).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One level's probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelModel {
    /// The level as written in the settings (`exact`, `jaro_winkler >= 0.9`, `else`).
    pub label: String,
    /// P(level | the records are one person).
    pub m: f64,
    /// P(level | the records are two people).
    pub u: f64,
}

impl LevelModel {
    /// The level's match weight: log2(m / u), 0 for the null level.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// One comparison's levels, null level first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonModel {
    /// The comparison's name.
    pub name: String,
    /// Its levels, null first and else last; the null level has m = u = 1 (no evidence).
    pub levels: Vec<LevelModel>,
    /// For a comparison with term-frequency adjustment: how often each value occurred in the
    /// data the model was trained on. Scoring reads value shares from here, so a pair scores
    /// the same whatever else is being scored with it (what incremental resolution needs).
    /// Absent in models written before it existed: shares then come from the data scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_frequencies: Option<TermFrequencies>,
}

/// Value counts for term-frequency adjustment, frozen with a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// How many records had a value.
    pub total: u64,
    /// Values seen more than once, with their counts (lowercased and trimmed as compared). A
    /// value not listed counts once.
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl TermFrequencies {
    /// Whether the counts hold together: they add up to no more than the total (a value not
    /// listed counts once), so every share is at most 1. A comparison with no values at all
    /// has a total of 0 and no counts.
    pub fn is_consistent(&self) -> bool {
        self.counts.values().try_fold(0u64, |sum, &n| sum.checked_add(n)).is_some_and(|sum| sum <= self.total)
    }

    /// Raises the total to the sum of the counts when it is below it; returns whether it was.
    pub(crate) fn repair(&mut self) -> bool {
        if self.is_consistent() {
            return false;
        }
        self.total = self.counts.values().fold(0u64, |sum, &n| sum.saturating_add(n));
        true
    }

    /// Takes one record's value out of the counts (a forgotten touchpoint that was counted),
    /// keeping them consistent: the total never goes below the counts listed.
    pub(crate) fn remove(&mut self, value: &str) {
        if let Some(count) = self.counts.get_mut(value) {
            *count -= 1;
            if *count < 2 {
                self.counts.remove(value);
            }
        }
        self.total = self.total.saturating_sub(1);
        let listed = self.counts.values().fold(0u64, |sum, &n| sum.saturating_add(n));
        self.total = self.total.max(listed);
    }

    /// A value's share of the records that had one: its count (1 when not listed) over the total.
    pub fn share(&self, value: &str) -> f64 {
        let count = self.counts.get(value).copied().unwrap_or(1);
        count as f64 / self.total.max(1) as f64
    }
}

/// A trained model; saved and loaded as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The probability that two records picked at random are one person (the prior of
    /// scoring).
    pub prior: f64,
    /// Each comparison's levels.
    pub comparisons: Vec<ComparisonModel>,
}

impl Model {
    /// Reads a model from JSON (checked as [`Model::checked`] does).
    pub fn from_json(text: &str) -> Result<Model> {
        serde_json::from_str::<Model>(text)?.checked()
    }

    /// The model, when what serde cannot check holds (see [`Model::check`]). For models read
    /// another way than [`Model::from_json`] (the Node package's objects).
    pub fn checked(self) -> Result<Model> {
        self.check()?;
        Ok(self)
    }

    /// Checks what serde cannot: a prior strictly between 0 and 1, positive finite m and u,
    /// term frequency counts that add up to no more than their total (see
    /// [`TermFrequencies::is_consistent`]). The store checks what it writes by the same rules
    /// it reads by.
    pub fn check(&self) -> Result<()> {
        let model = self;
        if !(model.prior > 0.0 && model.prior < 1.0) {
            return Err(Error::Json(format!("model prior {} is not strictly between 0 and 1", model.prior)));
        }
        for c in &model.comparisons {
            if let Some(tf) = c.term_frequencies.as_ref().filter(|tf| !tf.is_consistent()) {
                return Err(Error::Json(format!(
                    "model comparison `{}`: term frequency counts add up to more than their total {}",
                    c.name, tf.total
                )));
            }
            if let Some(l) = c.levels.iter().find(|l| !(l.m > 0.0 && l.u > 0.0 && l.m.is_finite() && l.u.is_finite())) {
                return Err(Error::Json(format!(
                    "model comparison `{}`, level `{}`: m and u must be positive",
                    c.name, l.label
                )));
            }
        }
        Ok(())
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model serializes")
    }

    /// Checks that the model was trained for these comparisons: the same names and numbers of
    /// levels, in order.
    pub fn check_fits(&self, comparisons: &[crate::matching::ComparisonSpec]) -> Result<()> {
        let fits = self.comparisons.len() == comparisons.len()
            && self
                .comparisons
                .iter()
                .zip(comparisons)
                .all(|(m, c)| m.name == c.name() && m.levels.len() == c.levels.len() + 2);
        if fits {
            Ok(())
        } else {
            let names = |names: Vec<String>| names.join(", ");
            Err(Error::config(
                "model",
                format!(
                    "the model's comparisons ({}) and levels differ from the settings' ({})",
                    names(self.comparisons.iter().map(|c| c.name.clone()).collect()),
                    names(comparisons.iter().map(|c| c.name().to_owned()).collect()),
                ),
            ))
        }
    }

    /// The prior's weight: log2(prior / (1 - prior)).
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }
}

/// A probability from a match weight.
pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// Counts of comparison-level patterns: `(pattern, how many pairs)`, a pattern holding one level
/// per comparison.
pub(crate) type Patterns = Vec<(Vec<u8>, u64)>;

/// u probabilities from the level counts of random pairs, smoothed so that no level has 0.
pub(crate) fn u_from_counts(counts: &[Vec<u64>]) -> Vec<Vec<f64>> {
    counts
        .iter()
        .map(|levels| {
            let observed: u64 = levels[1..].iter().sum();
            let mut u = vec![1.0];
            u.extend(
                levels[1..].iter().map(|&c| (c as f64 + 0.5) / (observed as f64 + 0.5 * (levels.len() - 1) as f64)),
            );
            u
        })
        .collect()
}

/// Starting m probabilities: most weight on the strongest level.
pub(crate) fn initial_m(level_counts: &[usize]) -> Vec<Vec<f64>> {
    level_counts
        .iter()
        .map(|&n| {
            let non_null = n - 1;
            let mut m = vec![1.0];
            let mut rest = 1.0;
            for i in 0..non_null {
                let share = if i + 1 == non_null { rest } else { rest * 0.8 };
                m.push(share);
                rest -= share;
            }
            m
        })
        .collect()
}

/// The result of one EM run.
#[derive(Debug, Clone)]
pub(crate) struct EmResult {
    pub m: Vec<Vec<f64>>,
    pub prior: f64,
    pub iterations: usize,
}

/// Expectation–maximisation of m (for comparisons not in `fixed`) and the prior, u held fixed,
/// on pattern counts.
pub(crate) fn expectation_maximisation(
    patterns: &Patterns,
    u: &[Vec<f64>],
    start_m: &[Vec<f64>],
    fixed: &[bool],
    max_iterations: usize,
    tolerance: f64,
) -> EmResult {
    let mut m: Vec<Vec<f64>> = start_m.to_vec();
    let mut prior: f64 = 0.1;
    let total: f64 = patterns.iter().map(|(_, c)| *c as f64).sum();
    let mut iterations = 0;
    if total == 0.0 {
        return EmResult { m, prior, iterations };
    }
    for _ in 0..max_iterations {
        iterations += 1;
        let mut m_sums: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut matches = 0.0;
        for (pattern, count) in patterns {
            let (mut pm, mut pu) = (prior, 1.0 - prior);
            for (k, &level) in pattern.iter().enumerate() {
                if fixed[k] {
                    continue;
                }
                pm *= m[k][level as usize];
                pu *= u[k][level as usize];
            }
            let responsibility = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            let weight = responsibility * *count as f64;
            matches += weight;
            for (k, &level) in pattern.iter().enumerate() {
                m_sums[k][level as usize] += weight;
            }
        }
        let mut change: f64 = (matches / total - prior).abs();
        prior = (matches / total).clamp(1e-9, 1.0 - 1e-9);
        for (k, sums) in m_sums.iter().enumerate() {
            if fixed[k] {
                continue;
            }
            let observed: f64 = sums[1..].iter().sum();
            if observed <= 0.0 {
                continue;
            }
            for level in 1..sums.len() {
                let next = (sums[level] / observed).max(1e-9);
                change = change.max((next - m[k][level]).abs());
                m[k][level] = next;
            }
        }
        if change < tolerance {
            break;
        }
    }
    EmResult { m, prior, iterations }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pattern counts drawn exactly from a known model: two comparisons of three levels (null,
    /// agree, disagree), 10% matches.
    fn known() -> (Patterns, Vec<Vec<f64>>, Vec<Vec<f64>>, f64) {
        let m = vec![vec![1.0, 0.9, 0.1], vec![1.0, 0.8, 0.2], vec![1.0, 0.95, 0.05]];
        let u = vec![vec![1.0, 0.05, 0.95], vec![1.0, 0.1, 0.9], vec![1.0, 0.01, 0.99]];
        let prior: f64 = 0.1;
        let n: f64 = 1_000_000.0;
        let mut patterns = Vec::new();
        for a in 1..3u8 {
            for b in 1..3u8 {
                for c in 1..3u8 {
                    let pm = m[0][a as usize] * m[1][b as usize] * m[2][c as usize];
                    let pu = u[0][a as usize] * u[1][b as usize] * u[2][c as usize];
                    let count = (n * (prior * pm + (1.0 - prior) * pu)).round() as u64;
                    patterns.push((vec![a, b, c], count));
                }
            }
        }
        (patterns, m, u, prior)
    }

    #[test]
    fn em_recovers_a_known_model() {
        let (patterns, m, u, prior) = known();
        let start = initial_m(&[3, 3, 3]);
        let result = expectation_maximisation(&patterns, &u, &start, &[false; 3], 500, 1e-10);
        assert!((result.prior - prior).abs() < 0.005, "prior {}", result.prior);
        for (k, (found, truth)) in result.m.iter().zip(&m).enumerate() {
            for (level, (f, t)) in found.iter().zip(truth).enumerate().skip(1) {
                assert!((f - t).abs() < 0.01, "m[{k}][{level}] = {f}, expected {t}");
            }
        }
    }

    #[test]
    fn fixed_comparisons_keep_their_start() {
        let (patterns, _, u, _) = known();
        let start = initial_m(&[3, 3, 3]);
        let result = expectation_maximisation(&patterns, &u, &start, &[true, false, false], 50, 1e-10);
        assert_eq!(result.m[0], start[0]);
    }

    #[test]
    fn u_is_smoothed_and_sums_to_one() {
        let u = u_from_counts(&[vec![7, 0, 10]]);
        assert_eq!(u[0][0], 1.0);
        assert!(u[0][1] > 0.0);
        assert!((u[0][1] + u[0][2] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn json_round_trip_and_checks() {
        let model = Model {
            prior: 0.01,
            comparisons: vec![ComparisonModel {
                term_frequencies: None,
                name: "surname".into(),
                levels: vec![
                    LevelModel { label: "null".into(), m: 1.0, u: 1.0 },
                    LevelModel { label: "exact".into(), m: 0.9, u: 0.01 },
                    LevelModel { label: "else".into(), m: 0.1, u: 0.99 },
                ],
            }],
        };
        assert_eq!(Model::from_json(&model.to_json()).unwrap(), model);
        assert!(Model::from_json(&model.to_json().replace("0.01,", "0.0,")).is_err());
        assert!(Model::from_json("{}").is_err());
        assert!((probability(model.prior_weight()) - 0.01).abs() < 1e-12);
    }
}

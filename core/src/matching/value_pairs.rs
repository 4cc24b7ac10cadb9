//! The pairs of distinct values of one comparison's column that may reach a level above "else",
//! found without comparing every pair of values where the levels allow it: what lets
//! [`super::u_estimate`] count u over all pairs of records for less than a random sample costs.
//!
//! Each kind of level has its own way to its candidates, each a superset of the pairs that
//! reach it (the comparison decides the level afterwards):
//! - exact: equal values only, never two distinct ones (the caller counts pairs within a value);
//! - swapped with another column: a join of (value, other value) against (other value, value);
//! - Levenshtein and Damerau–Levenshtein up to [`MAX_DELETIONS`] edits: two values within `k`
//!   edits leave one string when at most `k` characters are deleted from each (a substitution
//!   is undone by deleting it from both, an adjacent transposition by deleting one of its two
//!   characters from both), so values sharing such a deletion key are the candidates;
//! - day and month swapped: values whose (month, day) is the other's (day, month);
//! - within days or years, absolute difference: one sweep over the values in order;
//! - Jaro–Winkler, and edit distances of more edits: a scan of every pair of values, each held
//!   against the ceilings the comparison itself prunes with (character sets, lengths), so only
//!   pairs the comparison would look at closely come out;
//! - the rest (Jaccard, relative difference, masked match): the scan keeps every pair.
//!
//! Every step counts its work against a budget and gives up (`None`) past it: sampling does.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::comparison::Comparison;
use super::settings::LevelSpec;
use super::similarity;

/// The most edits the deletion keys serve; more need `C(len, k)` keys per value, and the scan
/// does instead.
const MAX_DELETIONS: u32 = 2;

/// How many cheap pair checks the scan may make per unit of budget, when every level it covers
/// has a ceiling to hold pairs against (a check is a few bit operations, a tenth of a level).
const SCAN_CHECKS_PER_BUDGET: usize = 8;

/// How many deletion keys may be made per unit of budget.
const KEYS_PER_BUDGET: usize = 4;

/// A pair of value indices, the smaller first, packed for sorting.
fn pack(x: u32, y: u32) -> u64 {
    (u64::from(x.min(y)) << 32) | u64::from(x.max(y))
}

/// The pairs of distinct values (indices into `representatives`, the smaller first, sorted)
/// that may reach a level above "else"; `None` when finding them would take more than `budget`
/// (pairs found, or its multiples above in checks and keys).
///
/// `representatives` holds one record per distinct value of the column; `value_of_hash` maps a
/// value's hash to its index there (the swapped join looks values up by the other column's hash).
pub(crate) fn candidate_value_pairs(
    comparison: &Comparison,
    representatives: &[u32],
    value_of_hash: &FxHashMap<u64, u32>,
    records: usize,
    budget: usize,
) -> Option<Vec<(u32, u32)>> {
    let mut found: Vec<u64> = Vec::new();
    let mut deletions: Option<u32> = None;
    let mut scan = Scan { jaro_winkler: None, edits: None, every_pair: false };
    for (index, level) in comparison.levels.iter().enumerate() {
        match level {
            LevelSpec::Exact => {}
            LevelSpec::SwappedWith(_) => swapped(comparison, index, value_of_hash, records, &mut found),
            LevelSpec::Levenshtein(k) | LevelSpec::DamerauLevenshtein(k) if *k <= MAX_DELETIONS => {
                deletions = deletions.max(Some(*k));
            }
            LevelSpec::Levenshtein(k) | LevelSpec::DamerauLevenshtein(k) => scan.edits = scan.edits.max(Some(*k)),
            LevelSpec::JaroWinkler(_) => scan.jaro_winkler = Some(comparison.lowest_jaro_winkler()),
            LevelSpec::DayMonthSwapped => day_month_swapped(comparison, representatives, budget, &mut found)?,
            LevelSpec::WithinDays(t) => {
                let t = u64::from(*t);
                let days = |r: u32| comparison.date(r).map(|d| f64::from(d.0));
                sweep(representatives, days, |d| d as u64 <= t, budget, &mut found)?;
            }
            LevelSpec::WithinYears(t) => {
                let most = 365.25 * f64::from(*t);
                let days = |r: u32| comparison.date(r).map(|d| f64::from(d.0));
                sweep(representatives, days, |d| d <= most, budget, &mut found)?;
            }
            LevelSpec::AbsoluteDifference(t) => {
                sweep(representatives, |r| comparison.number(r), |d| d <= *t, budget, &mut found)?;
            }
            LevelSpec::Jaccard(_) | LevelSpec::RelativeDifference(_) | LevelSpec::MaskedMatch => {
                scan.every_pair = true;
            }
        }
        if found.len() > budget {
            return None;
        }
    }
    if let Some(k) = deletions {
        if !deletion_keys(comparison, representatives, k, budget, &mut found)? {
            // Too many keys: the scan checks these levels instead.
            scan.edits = scan.edits.max(Some(k));
        }
    }
    if scan.needed() {
        scan.run(comparison, representatives, budget, &mut found)?;
    }
    found.par_sort_unstable();
    found.dedup();
    (found.len() <= budget).then(|| found.into_iter().map(|p| ((p >> 32) as u32, p as u32)).collect())
}

/// Pairs of values `x`, `y` such that some record holds `x` here and `y` in the swapped column
/// and another holds `y` here and `x` there.
fn swapped(
    comparison: &Comparison,
    level: usize,
    value_of_hash: &FxHashMap<u64, u32>,
    records: usize,
    found: &mut Vec<u64>,
) {
    let Some(other) = comparison.swapped_hashes(level) else { return };
    let held: FxHashSet<(u64, u64)> = (0..records as u32)
        .filter_map(|r| Some((comparison.value_hash(r)?, other[r as usize])))
        .filter(|(own, other)| own != other)
        .collect();
    for &(own, other) in &held {
        if own < other && held.contains(&(other, own)) {
            if let (Some(&x), Some(&y)) = (value_of_hash.get(&own), value_of_hash.get(&other)) {
                found.push(pack(x, y));
            }
        }
    }
}

/// Pairs of values with dates whose month and day are swapped (the level also wants them less
/// than a year apart and different, which it checks itself).
fn day_month_swapped(
    comparison: &Comparison,
    representatives: &[u32],
    budget: usize,
    found: &mut Vec<u64>,
) -> Option<()> {
    let mut by_month_day: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
    for (x, &r) in representatives.iter().enumerate() {
        if let Some((_, month, day)) = comparison.date(r) {
            by_month_day.entry((month, day)).or_default().push(x as u32);
        }
    }
    for (&(month, day), xs) in &by_month_day {
        // Each pair of buckets once: the one with the smaller (month, day) looks up the other.
        if (day, month) < (month, day) {
            continue;
        }
        let Some(ys) = by_month_day.get(&(day, month)) else { continue };
        for &x in xs {
            let dx = comparison.date(representatives[x as usize])?.0;
            for &y in ys {
                let dy = comparison.date(representatives[y as usize])?.0;
                if x != y && (dx - dy).abs() < 366 {
                    found.push(pack(x, y));
                }
            }
            if found.len() > budget {
                return None;
            }
        }
    }
    Some(())
}

/// Pairs of values whose keys (`key` of their record) differ by an amount `near` accepts, for
/// `near` that holds for every difference below one it holds for: sorted once, each value then
/// meets the values after it until `near` fails.
fn sweep(
    representatives: &[u32],
    key: impl Fn(u32) -> Option<f64>,
    near: impl Fn(f64) -> bool,
    budget: usize,
    found: &mut Vec<u64>,
) -> Option<()> {
    let mut keyed: Vec<(f64, u32)> =
        representatives.iter().enumerate().filter_map(|(x, &r)| Some((key(r)?, x as u32))).collect();
    keyed.sort_unstable_by(|p, q| p.0.total_cmp(&q.0));
    for (i, &(k, x)) in keyed.iter().enumerate() {
        for &(l, y) in &keyed[i + 1..] {
            if !near(l - k) {
                break;
            }
            found.push(pack(x, y));
        }
        if found.len() > budget {
            return None;
        }
    }
    Some(())
}

/// Pairs of values that share a string left by deleting at most `k` of their hashed characters
/// (two characters sharing a hash only add pairs). `Some(false)` when the keys would pass their
/// budget (and nothing was added); `None` when the pairs would.
fn deletion_keys(
    comparison: &Comparison,
    representatives: &[u32],
    k: u32,
    budget: usize,
    found: &mut Vec<u64>,
) -> Option<bool> {
    let keys_of = |len: usize| (0..=k as usize).map(|d| binomial(len, d)).sum::<usize>();
    let total: usize = representatives.iter().map(|&r| keys_of(comparison.hashed_chars(r).len())).sum();
    if total > budget.saturating_mul(KEYS_PER_BUDGET) {
        return Some(false);
    }
    let mut keys: Vec<(u64, u32)> = representatives
        .par_iter()
        .enumerate()
        .fold(Vec::new, |mut keys, (x, &r)| {
            let units = comparison.hashed_chars(r);
            each_deletion(units, k, &mut |key| keys.push((key, x as u32)));
            keys
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    keys.par_sort_unstable();
    keys.dedup();
    for run in keys.chunk_by(|p, q| p.0 == q.0) {
        for (i, &(_, x)) in run.iter().enumerate() {
            found.extend(run[i + 1..].iter().map(|&(_, y)| pack(x, y)));
        }
        if found.len() > budget {
            return None;
        }
    }
    Some(true)
}

/// Calls `emit` with the hash of every string left by deleting at most `k` units of `units`
/// (the same string may come more than once).
fn each_deletion(units: &[u8], k: u32, emit: &mut impl FnMut(u64)) {
    let hash = |skip: &[usize]| {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for (i, &u) in units.iter().enumerate() {
            if !skip.contains(&i) {
                h = (h ^ u64::from(u)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        (h ^ (units.len() - skip.len()) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    };
    emit(hash(&[]));
    if k >= 1 {
        for i in 0..units.len() {
            emit(hash(&[i]));
            if k >= 2 {
                for j in i + 1..units.len() {
                    emit(hash(&[i, j]));
                }
            }
        }
    }
}

/// `n` choose `k`, for small `k`.
fn binomial(n: usize, k: usize) -> usize {
    if k > n {
        return 0;
    }
    (0..k).fold(1usize, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// What the scan over every pair of values must look for.
struct Scan {
    /// The lowest Jaro–Winkler threshold, when there are such levels.
    jaro_winkler: Option<f64>,
    /// The most edits of the edit-distance levels the deletion keys do not serve.
    edits: Option<u32>,
    /// A level without a ceiling: every pair is a candidate.
    every_pair: bool,
}

impl Scan {
    fn needed(&self) -> bool {
        self.jaro_winkler.is_some() || self.edits.is_some() || self.every_pair
    }

    /// Adds the pairs of values that may reach a level the scan covers.
    fn run(&self, comparison: &Comparison, representatives: &[u32], budget: usize, found: &mut Vec<u64>) -> Option<()> {
        let values = representatives.len();
        let pairs = values.saturating_mul(values.saturating_sub(1)) / 2;
        let checks = if self.every_pair { budget } else { budget.saturating_mul(SCAN_CHECKS_PER_BUDGET) };
        if pairs > checks {
            return None;
        }
        let sets: Vec<u128> = representatives.iter().map(|&r| comparison.char_set(r)).collect();
        let units: Vec<&[u8]> = representatives.iter().map(|&r| comparison.hashed_chars(r)).collect();
        let lengths: Vec<u32> = units.iter().map(|u| u.len() as u32).collect();
        let inverses: Vec<f64> = lengths.iter().map(|&l| 1.0 / f64::from(l.max(1))).collect();
        // Jaro–Winkler: a pair needs Jaro of at least `jaro` to reach the lowest threshold with
        // the largest boost; Jaro is at most `(most / |x| + most / |y| + 1) / 3` with `most` the
        // characters of one string the other's set holds. Held in a form without division, a
        // hair looser than the exact test (rounding may only let a pair through).
        let most_needed = self.jaro_winkler.map(|lowest| {
            let jaro = if lowest > 0.7 { ((lowest - 0.4) / 0.6).max(0.7) } else { lowest };
            3.0 * jaro - 1.0 - 1e-9
        });
        // The close look, for the few pairs that pass the quick tests.
        let close = |x: usize, y: usize, sets: (u128, u128)| {
            let edits = self.edits.is_some_and(|k| {
                units[x].len().abs_diff(units[y].len()) <= k as usize && !similarity::too_many_missing(sets, k as usize)
            });
            edits
                || self.jaro_winkler.is_some_and(|lowest| {
                    similarity::jaro_winkler_ceiling((units[x], units[y]), sets, lowest) >= lowest
                })
        };
        let quick_edits = self.edits.map_or(0, |k| k as usize);
        let more: Vec<u64> = (0..values)
            .into_par_iter()
            .fold(Vec::new, |mut out, x| {
                let (x_set, x_len, x_inverse) = (sets[x], lengths[x], inverses[x]);
                for y in x + 1..values {
                    let keep = self.every_pair || {
                        let (y_set, y_len) = (sets[y], lengths[y]);
                        let x_missing = (x_set & !y_set).count_ones();
                        let y_missing = (y_set & !x_set).count_ones();
                        let jaro_winkler = most_needed.is_some_and(|needed| {
                            let most = (x_len - x_missing).min(y_len - y_missing);
                            x_len == 0 || y_len == 0 || f64::from(most) * (x_inverse + inverses[y]) >= needed
                        });
                        let edits = self.edits.is_some()
                            && x_missing as usize <= quick_edits
                            && y_missing as usize <= quick_edits;
                        (jaro_winkler || edits) && close(x, y, (x_set, y_set))
                    };
                    if keep {
                        out.push(pack(x as u32, y as u32));
                    }
                }
                out
            })
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            });
        if found.len() + more.len() > budget {
            return None;
        }
        found.extend(more);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_keys_cover_every_string_within_k_edits() {
        let keys = |s: &str, k: u32| {
            let mut out = FxHashSet::default();
            each_deletion(s.as_bytes(), k, &mut |h| {
                out.insert(h);
            });
            out
        };
        let share = |a: &str, b: &str, k: u32| !keys(a, k).is_disjoint(&keys(b, k));
        assert!(share("martha", "marhta", 1), "a transposition");
        assert!(share("kitten", "sitten", 1), "a substitution");
        assert!(share("kitten", "kiten", 1), "a deletion");
        assert!(share("kitten", "sittin", 2));
        assert!(!share("kitten", "sittin", 1));
        assert!(share("ab", "", 2) && !share("abc", "", 2));
        assert_eq!(keys("abc", 2).len(), 7, "abc, ab, ac, bc, a, b, c");
    }

    #[test]
    fn binomials() {
        assert_eq!((binomial(5, 0), binomial(5, 1), binomial(5, 2), binomial(1, 2), binomial(0, 2)), (1, 5, 10, 0, 0));
    }
}

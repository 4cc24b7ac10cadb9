//! u, the chance that two records of different people reach each level: counted over every
//! pair of distinct values when a column has few enough of them, else estimated from random
//! pairs of records.
//!
//! A comparison's level depends only on the two records' values (and, for `swapped_with`
//! levels, on the other column's values). So when a column holds `g` distinct values and
//! `g (g + 1) / 2` is within the sampling budget, comparing one representative pair per pair
//! of values, weighted by how many record pairs it stands for, gives u over *all* pairs
//! exactly, and costs less than the sample would. Columns with more distinct values are
//! sampled: the same random pairs (from the seed) for every comparison, generated on the fly.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::comparison::{Comparison, NULL_LEVEL};
use super::records::Records;
use super::settings::{LinkType, TrainingSettings};

/// How u was found for each comparison.
#[derive(Debug, Clone, Default)]
pub(crate) struct UCounts {
    /// Level counts per comparison (the null level's count is not used).
    pub counts: Vec<Vec<u64>>,
    /// The random pairs sampled, when any comparison needed them.
    pub sampled: usize,
    /// The comparisons counted over all pairs of distinct values.
    pub counted: Vec<String>,
}

/// Counts the levels random pairs of different people reach, comparison by comparison.
pub(crate) fn u_counts(
    comparisons: &[Comparison],
    records: &Records,
    link_type: LinkType,
    training: &TrainingSettings,
) -> UCounts {
    let mut out = UCounts::default();
    let counted: Vec<Option<Vec<u64>>> =
        comparisons.iter().map(|c| over_distinct_values(c, records, link_type, training.u_sample_pairs)).collect();
    let to_sample: Vec<&Comparison> =
        comparisons.iter().zip(&counted).filter(|(_, counts)| counts.is_none()).map(|(c, _)| c).collect();
    let (mut sampled, pairs) = over_random_pairs(&to_sample, records, link_type, training);
    out.sampled = if to_sample.is_empty() { 0 } else { pairs };
    for (comparison, counts) in comparisons.iter().zip(counted) {
        match counts {
            Some(counts) => {
                out.counted.push(comparison.name.clone());
                out.counts.push(counts);
            }
            None => out.counts.push(std::mem::take(&mut sampled[out.counts.len() - out.counted.len()])),
        }
    }
    out
}

/// The records that share one value (and swapped-column values): up to two members, to compare
/// the group with others and with itself.
struct Group {
    first: u32,
    second: Option<u32>,
}

/// Level counts over every allowed pair of records with values, from one comparison per pair of
/// distinct values; `None` when there are more pairs of values than `budget`, or when two
/// different values share a signature (a 64-bit hash collision), and sampling must do.
fn over_distinct_values(
    comparison: &Comparison,
    records: &Records,
    link_type: LinkType,
    budget: usize,
) -> Option<Vec<u64>> {
    let tables = records.table.iter().copied().max().map_or(1, |t| usize::from(t) + 1);
    let mut index: FxHashMap<u64, u32> = FxHashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    // Members per group and table, `tables` entries per group.
    let mut sizes: Vec<u64> = Vec::new();
    for r in 0..records.len() as u32 {
        let Some(signature) = comparison.signature(r) else { continue };
        let next = groups.len() as u32;
        let g = *index.entry(signature).or_insert(next);
        if g == next {
            let pairs_of_groups = (groups.len() as u64 + 1) * (groups.len() as u64 + 2) / 2;
            if pairs_of_groups > budget as u64 {
                return None;
            }
            groups.push(Group { first: r, second: None });
            sizes.extend(std::iter::repeat_n(0, tables));
        } else {
            let group = &mut groups[g as usize];
            if !comparison.same_signature_values(records, group.first, r) {
                return None;
            }
            group.second.get_or_insert(r);
        }
        sizes[g as usize * tables + usize::from(records.table[r as usize])] += 1;
    }
    let size = |g: usize| &sizes[g * tables..(g + 1) * tables];
    // Allowed pairs between two groups, and within one.
    let between = |i: usize, j: usize| -> u64 {
        let (x, y) = (size(i), size(j));
        let all = x.iter().sum::<u64>() * y.iter().sum::<u64>();
        match link_type {
            LinkType::DedupeOnly | LinkType::LinkAndDedupe => all,
            LinkType::LinkOnly => all - x.iter().zip(y).map(|(p, q)| p * q).sum::<u64>(),
        }
    };
    let within = |i: usize| -> u64 {
        let x = size(i);
        let n: u64 = x.iter().sum();
        match link_type {
            LinkType::DedupeOnly | LinkType::LinkAndDedupe => n * n.saturating_sub(1) / 2,
            LinkType::LinkOnly => (n * n - x.iter().map(|p| p * p).sum::<u64>()) / 2,
        }
    };
    let levels = comparison.level_count();
    let empty = || vec![0u64; levels];
    let counts = (0..groups.len())
        .into_par_iter()
        .fold(empty, |mut acc, i| {
            let group = &groups[i];
            if let Some(second) = group.second {
                let pairs = within(i);
                if pairs > 0 {
                    acc[comparison.level(records, group.first, second) as usize] += pairs;
                }
            }
            for (j, other) in groups.iter().enumerate().skip(i + 1) {
                let pairs = between(i, j);
                if pairs > 0 {
                    acc[comparison.level(records, group.first, other.first) as usize] += pairs;
                }
            }
            acc
        })
        .reduce(empty, add);
    debug_assert_eq!(counts[NULL_LEVEL as usize], 0, "records without a value are left out");
    Some(counts)
}

/// Random pairs are drawn and compared in chunks of this many, each chunk in one thread.
const CHUNK: u64 = 1 << 15;

/// Level counts of each comparison over `training.u_sample_pairs` random allowed pairs (fewer
/// when the link type compares fewer), the same pairs for every comparison, from the seed; and
/// how many pairs that was.
///
/// The pairs are never all held: each chunk is drawn into a buffer its thread reuses, ordered
/// by tiles of records (a counting sort) so that consecutive pairs read records whose data is
/// already in cache, and compared by every comparison in turn. Neither the order of a sample
/// nor its split into chunks changes its counts.
fn over_random_pairs(
    comparisons: &[&Comparison],
    records: &Records,
    link_type: LinkType,
    training: &TrainingSettings,
) -> (Vec<Vec<u64>>, usize) {
    let empty = || (comparisons.iter().map(|c| vec![0u64; c.level_count()]).collect::<Vec<_>>(), 0usize);
    if records.len() < 2 || comparisons.is_empty() {
        return empty();
    }
    let samples = (training.u_sample_pairs as u64).min(total_pairs(records, link_type));
    (0..samples.div_ceil(CHUNK))
        .into_par_iter()
        .map_init(
            || Chunk::new(records.len()),
            |chunk, c| {
                let pairs = chunk.draw(records, link_type, training.seed, c * CHUNK..((c + 1) * CHUNK).min(samples));
                let counts = comparisons
                    .iter()
                    .map(|comparison| {
                        let mut acc = vec![0u64; comparison.level_count()];
                        pairs.iter().for_each(|&(a, b)| acc[comparison.level(records, a, b) as usize] += 1);
                        acc
                    })
                    .collect::<Vec<_>>();
                (counts, pairs.len())
            },
        )
        .reduce(empty, |(x, p), (y, q)| (x.into_iter().zip(y).map(|(x, y)| add(x, y)).collect(), p + q))
}

/// One thread's buffers for drawing chunks of random pairs, reused chunk after chunk.
struct Chunk {
    drawn: Vec<(u32, u32)>,
    sorted: Vec<(u32, u32)>,
    /// Per tile pair, where its pairs start in `sorted` (then, while placing, the next free slot).
    starts: Vec<u32>,
    /// Records per tile side; 16 tiles a side: a tile pair's records fit in a core's cache, and a
    /// chunk has 128 pairs per tile pair on average.
    tile: u32,
}

impl Chunk {
    const TILES: u32 = 16;

    fn new(records: usize) -> Chunk {
        Chunk {
            drawn: Vec::with_capacity(CHUNK as usize),
            sorted: Vec::with_capacity(CHUNK as usize),
            starts: vec![0; (Chunk::TILES * Chunk::TILES) as usize + 1],
            tile: (records as u32).div_ceil(Chunk::TILES).max(1),
        }
    }

    /// The tile pair of a pair of records.
    fn key(&self, (a, b): (u32, u32)) -> usize {
        (a / self.tile * Chunk::TILES + b / self.tile) as usize
    }

    /// Draws the random pairs numbered `range` and returns them ordered by tile pair (a
    /// counting sort).
    fn draw(
        &mut self,
        records: &Records,
        link_type: LinkType,
        seed: u64,
        range: std::ops::Range<u64>,
    ) -> &[(u32, u32)] {
        self.drawn.clear();
        self.drawn.extend(range.filter_map(|i| random_pair(records, link_type, seed, i)));
        self.starts.iter_mut().for_each(|s| *s = 0);
        for &pair in &self.drawn {
            let k = self.key(pair);
            self.starts[k + 1] += 1;
        }
        for k in 1..self.starts.len() {
            self.starts[k] += self.starts[k - 1];
        }
        self.sorted.clear();
        self.sorted.resize(self.drawn.len(), (0, 0));
        for i in 0..self.drawn.len() {
            let pair = self.drawn[i];
            let k = self.key(pair);
            self.sorted[self.starts[k] as usize] = pair;
            self.starts[k] += 1;
        }
        &self.sorted
    }
}

/// The `i`-th random pair of the sample seeded with `seed`: two different records the link
/// type compares, in index order; `None` when 64 draws found none.
fn random_pair(records: &Records, link_type: LinkType, seed: u64, i: u64) -> Option<(u32, u32)> {
    let n = records.len() as u64;
    // Each pair's own stream, started from a mix of the seed and `i`: pairs drawn from
    // neighbouring states would share records.
    let mut start = seed ^ splitmix(&mut i.clone());
    let mut state = splitmix(&mut start);
    for _ in 0..64 {
        let a = below(splitmix(&mut state), n);
        let b = below(splitmix(&mut state), n);
        if a != b && allowed(records, link_type, a, b) {
            return Some((a.min(b), a.max(b)));
        }
    }
    None
}

/// Whether the link type compares records `a` and `b` at all.
pub(crate) fn allowed(records: &Records, link_type: LinkType, a: u32, b: u32) -> bool {
    match link_type {
        LinkType::DedupeOnly | LinkType::LinkAndDedupe => true,
        LinkType::LinkOnly => records.table[a as usize] != records.table[b as usize],
    }
}

/// How many pairs the link type compares in all (before blocking).
pub(crate) fn total_pairs(records: &Records, link_type: LinkType) -> u64 {
    let n = records.len() as u64;
    let all = n * n.saturating_sub(1) / 2;
    match link_type {
        LinkType::DedupeOnly | LinkType::LinkAndDedupe => all,
        LinkType::LinkOnly => {
            let mut sizes = FxHashMap::<u16, u64>::default();
            records.table.iter().for_each(|t| *sizes.entry(*t).or_default() += 1);
            all - sizes.values().map(|s| s * s.saturating_sub(1) / 2).sum::<u64>()
        }
    }
}

/// Adds two count vectors.
fn add(mut x: Vec<u64>, y: Vec<u64>) -> Vec<u64> {
    x.iter_mut().zip(y).for_each(|(p, q)| *p += q);
    x
}

/// A uniform 64-bit number scaled to `0..n` by a multiply and shift (Lemire's method), not a
/// division: the sample draws two per pair.
fn below(x: u64, n: u64) -> u32 {
    ((u128::from(x) * u128::from(n)) >> 64) as u32
}

/// The SplitMix64 generator: a small, well-mixed, seedable sequence.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::settings::{ComparisonSpec, LevelSpec as L};
    use crate::model::Text;

    /// 300 records over two tables with few distinct values (some missing), so that every pair
    /// can be compared directly.
    fn records() -> Records {
        let given = ["an", "anh", "binh", "nguyen", "tran", "linh"];
        let surname = ["nguyen", "tran", "an", "le", "binh"];
        let n = 300;
        let value = |pool: &[&str], i: usize, k: usize| -> Option<Text> {
            ((i * k) % 11 != 0).then(|| Text::from(pool[(i * k / 3 + i) % pool.len()]))
        };
        let ids = (0..n).map(|i| Text::from(format!("r{i}"))).collect();
        let columns =
            vec![(0..n).map(|i| value(&given, i, 7)).collect(), (0..n).map(|i| value(&surname, i, 5)).collect()];
        let mut records = Records::from_columns(ids, vec!["given".into(), "surname".into()], columns).unwrap();
        records.table = (0..n).map(|i| u16::from(i >= n / 3)).collect();
        records
    }

    fn comparison(records: &Records) -> Comparison {
        let spec = ComparisonSpec {
            name: None,
            column: "given".into(),
            levels: vec![L::Exact, L::SwappedWith("surname".into()), L::JaroWinkler(0.85)],
            term_frequency: false,
        };
        Comparison::new(&spec, records).unwrap()
    }

    /// Level counts over every allowed pair, one by one.
    fn every_pair(comparison: &Comparison, records: &Records, link_type: LinkType) -> Vec<u64> {
        let mut counts = vec![0; comparison.level_count()];
        for a in 0..records.len() as u32 {
            for b in a + 1..records.len() as u32 {
                if allowed(records, link_type, a, b) {
                    counts[comparison.level(records, a, b) as usize] += 1;
                }
            }
        }
        counts[NULL_LEVEL as usize] = 0;
        counts
    }

    #[test]
    fn counting_over_distinct_values_equals_comparing_every_pair() {
        let records = records();
        let comparison = comparison(&records);
        for link_type in [LinkType::DedupeOnly, LinkType::LinkOnly, LinkType::LinkAndDedupe] {
            let counted = over_distinct_values(&comparison, &records, link_type, 1_000_000).unwrap();
            assert_eq!(counted, every_pair(&comparison, &records, link_type), "{link_type:?}");
            assert!(counted[1..].iter().all(|&c| c > 0), "every level is reached: {counted:?}");
            let all: u64 = counted.iter().sum();
            assert!(all > 0 && all < total_pairs(&records, link_type), "pairs with a missing value are left out");
        }
        assert!(
            over_distinct_values(&comparison, &records, LinkType::DedupeOnly, 10).is_none(),
            "more pairs of values than the budget: sampling must do"
        );
    }

    #[test]
    fn samples_are_reproducible_and_near_the_exact_shares() {
        let records = records();
        let comparison = comparison(&records);
        let training = TrainingSettings { u_sample_pairs: 40_000, ..TrainingSettings::default() };
        let (first, sampled) = over_random_pairs(&[&comparison], &records, LinkType::DedupeOnly, &training);
        let (again, _) = over_random_pairs(&[&comparison], &records, LinkType::DedupeOnly, &training);
        assert_eq!(first, again, "one seed, one sample");
        assert_eq!(sampled, 40_000);
        let exact = every_pair(&comparison, &records, LinkType::DedupeOnly);
        let share = |counts: &[u64], level: usize| counts[level] as f64 / counts[1..].iter().sum::<u64>() as f64;
        for level in 1..comparison.level_count() {
            let (estimate, truth) = (share(&first[0], level), share(&exact, level));
            assert!((estimate - truth).abs() < 0.01, "level {level}: sampled {estimate:.4}, all pairs {truth:.4}");
        }
        let other = TrainingSettings { seed: 7, ..training };
        assert_ne!(first, over_random_pairs(&[&comparison], &records, LinkType::DedupeOnly, &other).0);
    }

    #[test]
    fn random_pairs_are_allowed_ordered_and_independent() {
        let records = records();
        let pairs: Vec<(u32, u32)> =
            (0..1000).filter_map(|i| random_pair(&records, LinkType::LinkOnly, 42, i)).collect();
        assert_eq!(pairs.len(), 1000);
        assert!(pairs.iter().all(|&(a, b)| a < b && records.table[a as usize] != records.table[b as usize]));
        // Neighbouring draws share no record more often than chance (they once did: each pair's
        // second record was the next pair's first).
        let shared = pairs.windows(2).filter(|w| w[0].1 == w[1].0 || w[0].0 == w[1].1).count();
        assert!(shared < 20, "{shared} neighbouring pairs share a record");
    }

    #[test]
    fn u_counts_reports_how_each_comparison_was_found() {
        let records = records();
        let comparison = comparison(&records);
        let few = TrainingSettings { u_sample_pairs: 1_000_000, ..TrainingSettings::default() };
        let found = u_counts(std::slice::from_ref(&comparison), &records, LinkType::DedupeOnly, &few);
        assert_eq!((found.counted.as_slice(), found.sampled), (["given".to_owned()].as_slice(), 0));
        let small = TrainingSettings { u_sample_pairs: 100, ..TrainingSettings::default() };
        let found = u_counts(&[comparison], &records, LinkType::DedupeOnly, &small);
        assert!(found.counted.is_empty());
        assert_eq!(found.sampled, 100);
    }
}

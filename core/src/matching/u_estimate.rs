//! u, the chance that two records of different people reach each level: counted over every
//! pair of records when that is cheap enough, else estimated from random pairs of records.
//!
//! A comparison's level depends only on the two records' values (and, for `swapped_with`
//! levels, on the other column's values). So comparing one representative pair per pair of
//! distinct values, weighted by how many record pairs it stands for, gives u over *all* pairs
//! exactly; and only the pairs of values that may reach a level above "else" need comparing
//! (found by [`super::value_pairs`] without trying every pair where the levels allow it), the
//! rest are "else". When that takes more comparisons than the sampling budget, the column is
//! sampled: the same random pairs (from the seed) for every such comparison, generated on the
//! fly.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::comparison::{Comparison, NULL_LEVEL};
use super::records::Records;
use super::settings::{LinkType, TrainingSettings};
use super::value_pairs::candidate_value_pairs;

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

/// The records with a value, grouped twice: by the column's value, and within a value by the
/// values of the columns its `swapped_with` levels read (one group per value without such
/// levels), with how many members each has per table.
struct Grouped {
    tables: usize,
    groups: Vec<Group>,
    /// Members per group and table, `tables` entries per group.
    group_sizes: Vec<u64>,
    /// One record per distinct value.
    representatives: Vec<u32>,
    /// A value's index by its hash.
    value_of_hash: FxHashMap<u64, u32>,
    /// Members per value and table, `tables` entries per value.
    value_sizes: Vec<u64>,
    /// The groups of value `x` are `groups_of_value[starts[x]..starts[x + 1]]`.
    starts: Vec<u32>,
    groups_of_value: Vec<u32>,
}

impl Grouped {
    /// Groups the records; `None` when two different values share a signature or hash.
    fn new(comparison: &Comparison, records: &Records) -> Option<Grouped> {
        let tables = records.table.iter().copied().max().map_or(1, |t| usize::from(t) + 1);
        let mut index: FxHashMap<u64, u32> = FxHashMap::default();
        let (mut groups, mut group_sizes) = (Vec::new(), Vec::new());
        for r in 0..records.len() as u32 {
            let Some(signature) = comparison.signature(r) else { continue };
            let next = groups.len() as u32;
            let g = *index.entry(signature).or_insert(next);
            if g == next {
                groups.push(Group { first: r, second: None });
                group_sizes.extend(std::iter::repeat_n(0, tables));
            } else {
                let group: &mut Group = &mut groups[g as usize];
                if !comparison.same_signature_values(records, group.first, r) {
                    return None;
                }
                group.second.get_or_insert(r);
            }
            group_sizes[g as usize * tables + usize::from(records.table[r as usize])] += 1;
        }
        drop(index);
        let mut value_of_hash: FxHashMap<u64, u32> = FxHashMap::default();
        let (mut representatives, mut value_sizes) = (Vec::new(), Vec::new());
        let mut value_of_group: Vec<u32> = Vec::with_capacity(groups.len());
        for (g, group) in groups.iter().enumerate() {
            let hash = comparison.value_hash(group.first)?;
            let next = representatives.len() as u32;
            let x = *value_of_hash.entry(hash).or_insert(next);
            if x == next {
                representatives.push(group.first);
                value_sizes.extend(std::iter::repeat_n(0, tables));
            } else if comparison.value(records, representatives[x as usize]) != comparison.value(records, group.first) {
                return None;
            }
            for t in 0..tables {
                value_sizes[x as usize * tables + t] += group_sizes[g * tables + t];
            }
            value_of_group.push(x);
        }
        let mut starts = vec![0u32; representatives.len() + 1];
        value_of_group.iter().for_each(|&x| starts[x as usize + 1] += 1);
        for x in 1..starts.len() {
            starts[x] += starts[x - 1];
        }
        let mut groups_of_value = vec![0u32; groups.len()];
        let mut next = starts.clone();
        for (g, &x) in value_of_group.iter().enumerate() {
            groups_of_value[next[x as usize] as usize] = g as u32;
            next[x as usize] += 1;
        }
        Some(Grouped {
            tables,
            groups,
            group_sizes,
            representatives,
            value_of_hash,
            value_sizes,
            starts,
            groups_of_value,
        })
    }

    fn groups_of(&self, x: u32) -> &[u32] {
        &self.groups_of_value[self.starts[x as usize] as usize..self.starts[x as usize + 1] as usize]
    }

    fn group_size(&self, g: u32) -> &[u64] {
        &self.group_sizes[g as usize * self.tables..(g as usize + 1) * self.tables]
    }

    fn value_size(&self, x: u32) -> &[u64] {
        &self.value_sizes[x as usize * self.tables..(x as usize + 1) * self.tables]
    }

    /// The groups of value `x` whose swapped columns hold the value hashed `toward`: the only
    /// ones a `swapped_with` level can join with a group of that value.
    fn swapping<'g>(&'g self, comparison: &'g Comparison, x: u32, toward: u64) -> impl Iterator<Item = u32> + 'g {
        self.groups_of(x)
            .iter()
            .copied()
            .filter(move |&g| comparison.swaps_toward(self.groups[g as usize].first, toward))
    }
}

/// Allowed pairs between two sets of records with these sizes per table.
fn between(link_type: LinkType, x: &[u64], y: &[u64]) -> u64 {
    let all = x.iter().sum::<u64>() * y.iter().sum::<u64>();
    match link_type {
        LinkType::DedupeOnly | LinkType::LinkAndDedupe => all,
        LinkType::LinkOnly => all - x.iter().zip(y).map(|(p, q)| p * q).sum::<u64>(),
    }
}

/// Allowed pairs within a set of records with these sizes per table.
fn within(link_type: LinkType, x: &[u64]) -> u64 {
    let n: u64 = x.iter().sum();
    match link_type {
        LinkType::DedupeOnly | LinkType::LinkAndDedupe => n * n.saturating_sub(1) / 2,
        LinkType::LinkOnly => (n * n - x.iter().map(|p| p * p).sum::<u64>()) / 2,
    }
}

/// Level counts over every allowed pair of records with values, exactly: only the pairs of
/// distinct values that may reach a level above "else" ([`candidate_value_pairs`]) and each
/// value with itself are compared, once per pair of values, weighted by the record pairs they
/// stand for; every other pair is "else". Records of two values differ only in the columns
/// `swapped_with` levels read, and a pair reaches the values' level unless such a level holds,
/// which needs the swapped columns to hold the other value: those few pairs of groups are
/// compared on their own. `None` when that takes more than `budget` comparisons (or candidate
/// pairs), or when two different values share a signature or hash (a 64-bit collision):
/// sampling must do.
fn over_distinct_values(
    comparison: &Comparison,
    records: &Records,
    link_type: LinkType,
    budget: usize,
) -> Option<Vec<u64>> {
    let grouped = Grouped::new(comparison, records)?;
    let (representatives, groups) = (&grouped.representatives, &grouped.groups);
    let candidates = candidate_value_pairs(comparison, representatives, &grouped.value_of_hash, records.len(), budget)?;
    if candidates.len() + representatives.len() > budget {
        return None;
    }
    let swaps = comparison.has_swapped_levels();
    let levels = comparison.level_count();
    let empty = || vec![0u64; levels];
    let hash = |x: u32| comparison.value_hash(representatives[x as usize]).unwrap_or_default();
    // Moves the pairs between groups `i` and `j` (within `i` when equal) from the values' level
    // to their own.
    let regroup = |acc: &mut Vec<u64>, i: u32, j: u32, plain: u8| {
        let (gi, gj) = (&groups[i as usize], &groups[j as usize]);
        let (pairs, a, b) = if i == j {
            (within(link_type, grouped.group_size(i)), gi.first, gi.second.unwrap_or(gi.first))
        } else {
            (between(link_type, grouped.group_size(i), grouped.group_size(j)), gi.first, gj.first)
        };
        if pairs > 0 && comparison.may_swap(a, b) {
            acc[plain as usize] -= pairs;
            acc[comparison.level(records, a, b) as usize] += pairs;
        }
    };
    let same_value = (0..representatives.len() as u32).into_par_iter().fold(empty, |mut acc, x| {
        let r = representatives[x as usize];
        let plain = comparison.level_without_swaps(records, r, r);
        acc[plain as usize] += within(link_type, grouped.value_size(x));
        if swaps {
            let swapping: Vec<u32> = grouped.swapping(comparison, x, hash(x)).collect();
            for (k, &i) in swapping.iter().enumerate() {
                swapping[k..].iter().for_each(|&j| regroup(&mut acc, i, j, plain));
            }
        }
        acc
    });
    let distinct_values = candidates.par_iter().fold(empty, |mut acc, &(x, y)| {
        let plain = comparison.level_without_swaps(records, representatives[x as usize], representatives[y as usize]);
        acc[plain as usize] += between(link_type, grouped.value_size(x), grouped.value_size(y));
        if swaps {
            let from_y: Vec<u32> = grouped.swapping(comparison, y, hash(x)).collect();
            if !from_y.is_empty() {
                for i in grouped.swapping(comparison, x, hash(y)) {
                    from_y.iter().for_each(|&j| regroup(&mut acc, i, j, plain));
                }
            }
        }
        acc
    });
    let mut counts = same_value.chain(distinct_values).reduce(empty, add);
    // Every pair not compared reaches no level above "else".
    let totals: Vec<u64> =
        (0..grouped.tables).map(|t| grouped.value_sizes.iter().skip(t).step_by(grouped.tables).sum()).collect();
    let compared: u64 = counts.iter().sum();
    counts[levels - 1] += within(link_type, &totals).checked_sub(compared)?;
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
    use proptest::prelude::Strategy;

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
            (!(i * k).is_multiple_of(11)).then(|| Text::from(pool[(i * k / 3 + i) % pool.len()]))
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

    /// Comparisons with every kind of level, over the columns of [`varied_records`].
    fn varied_comparisons() -> Vec<ComparisonSpec> {
        let spec = |column: &str, levels: Vec<L>| ComparisonSpec {
            name: None,
            column: column.into(),
            levels,
            term_frequency: false,
        };
        vec![
            spec(
                "given",
                vec![
                    L::Exact,
                    L::SwappedWith("surname".into()),
                    L::JaroWinkler(0.9),
                    L::JaroWinkler(0.7),
                    L::DamerauLevenshtein(2),
                ],
            ),
            spec("surname", vec![L::Levenshtein(1), L::DamerauLevenshtein(3), L::JaroWinkler(0.8)]),
            spec(
                "dob",
                vec![L::Exact, L::DayMonthSwapped, L::WithinDays(40), L::WithinYears(1), L::DamerauLevenshtein(1)],
            ),
            spec("amount", vec![L::AbsoluteDifference(2.5), L::RelativeDifference(0.2)]),
            spec("address", vec![L::Jaccard(0.5)]),
            spec("phone", vec![L::Exact, L::MaskedMatch, L::Levenshtein(1)]),
            // Each way to candidates alone, where no other level's candidates hide a gap in it.
            spec("given", vec![L::SwappedWith("surname".into())]),
            spec("surname", vec![L::DamerauLevenshtein(2)]),
            spec("phone", vec![L::Levenshtein(1)]),
            spec("dob", vec![L::DayMonthSwapped]),
            spec("dob", vec![L::WithinDays(40)]),
            spec("amount", vec![L::AbsoluteDifference(2.5)]),
            spec("given", vec![L::JaroWinkler(0.85)]),
        ]
    }

    /// Records over two tables from generated columns.
    fn varied_records(rows: Vec<[Option<String>; 6]>, split: usize) -> Records {
        let names = ["given", "surname", "dob", "amount", "address", "phone"];
        let ids = (0..rows.len()).map(|i| Text::from(format!("r{i}"))).collect();
        let columns =
            (0..names.len()).map(|c| rows.iter().map(|row| row[c].as_deref().map(Text::from)).collect()).collect();
        let mut records = Records::from_columns(ids, names.iter().map(|n| (*n).to_owned()).collect(), columns).unwrap();
        records.table = (0..rows.len()).map(|i| u16::from(i >= split)).collect();
        records
    }

    fn row() -> impl Strategy<Value = [Option<String>; 6]> {
        let name = || proptest::option::weighted(0.9, "(an|anh|nam|mna|b|ba|bab|aab)[ab]{0,2}");
        (
            name(),
            name(),
            proptest::option::weighted(0.9, "198[01]-(0[1-3]|1[0-2])-(0[1-3]|1[0-2])"),
            proptest::option::weighted(0.9, "(-?[0-9]{1,2}(\\.5)?|x)"),
            proptest::option::weighted(0.9, "(le|loi|12|quan)( (le|loi|12|quan)){0,3}"),
            proptest::option::weighted(0.9, "(\\*[0-9]{2,3}|[0-9]{4,5})"),
        )
            .prop_map(|(a, b, c, d, e, f)| [a, b, c, d, e, f])
    }

    proptest::proptest! {
        #[test]
        fn counting_from_candidate_value_pairs_equals_comparing_every_pair(
            rows in proptest::collection::vec(row(), 2..60),
            split in 0usize..60,
        ) {
            let records = varied_records(rows, split);
            for spec in varied_comparisons() {
                let comparison = Comparison::new(&spec, &records).unwrap();
                for link_type in [LinkType::DedupeOnly, LinkType::LinkOnly, LinkType::LinkAndDedupe] {
                    let counted = over_distinct_values(&comparison, &records, link_type, 1_000_000)
                        .expect("a small set fits the budget");
                    proptest::prop_assert_eq!(
                        &counted,
                        &every_pair(&comparison, &records, link_type),
                        "{} {:?}",
                        spec.column,
                        link_type
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Jaro–Winkler thresholds anywhere, on values with long common prefixes and repeated
        /// letters: the scan's quick test must never turn away a pair that reaches one.
        #[test]
        fn the_scan_keeps_every_pair_reaching_a_jaro_winkler_threshold(
            names in proptest::collection::vec("(abcd|abdc|aaaa)?[a-d]{0,14}", 2..14),
            low in 0.5f64..0.95,
            step in 0.0f64..0.05,
        ) {
            let rows = names.into_iter().map(|n| [Some(n), None, None, None, None, None]).collect();
            let records = varied_records(rows, 0);
            let spec = ComparisonSpec {
                name: None,
                column: "given".into(),
                levels: vec![L::JaroWinkler(low + step), L::JaroWinkler(low)],
                term_frequency: false,
            };
            let comparison = Comparison::new(&spec, &records).unwrap();
            let counted = over_distinct_values(&comparison, &records, LinkType::DedupeOnly, 1_000_000).unwrap();
            proptest::prop_assert_eq!(counted, every_pair(&comparison, &records, LinkType::DedupeOnly));
        }
    }

    #[test]
    fn the_budget_bounds_the_work() {
        let rows: Vec<[Option<String>; 6]> = (0..400)
            .map(|i| {
                let name = format!("n{}x{}", i % 97, i % 13);
                [Some(name.clone()), Some(name), None, Some(format!("{i}")), Some("le loi".into()), None]
            })
            .collect();
        let records = varied_records(rows, 200);
        let specs = varied_comparisons();
        let given = Comparison::new(&specs[0], &records).unwrap();
        assert!(over_distinct_values(&given, &records, LinkType::DedupeOnly, 1_000_000).is_some());
        assert!(over_distinct_values(&given, &records, LinkType::DedupeOnly, 500).is_none(), "too many pairs to scan");
        let address = Comparison::new(&specs[4], &records).unwrap();
        let counts = over_distinct_values(&address, &records, LinkType::LinkOnly, 10).unwrap();
        assert_eq!(counts, vec![0, 200 * 200, 0], "one value: every pair is one comparison");
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
        // Six names: more values than a budget of 5 comparisons.
        let small = TrainingSettings { u_sample_pairs: 5, ..TrainingSettings::default() };
        let found = u_counts(&[comparison], &records, LinkType::DedupeOnly, &small);
        assert!(found.counted.is_empty());
        assert_eq!(found.sampled, 5);
    }
}

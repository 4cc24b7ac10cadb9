//! Comparisons: the level a pair of records reaches on one column, from exact agreement down
//! to fuzzy and "else", with a null level when either value is missing.

use chrono::Datelike;
use rustc_hash::FxHashMap;

use super::model::TermFrequencies;
use super::records::Records;
use super::settings::{ComparisonSpec, LevelSpec};
use super::similarity;
use crate::error::{Error, Result};
use crate::normalize::parse_date;
use crate::parallel::CHEAP;

/// A parsed date: days since the epoch, month and day.
pub(crate) type Date = (i32, u32, u32);

/// The level of a pair when either value is missing: no evidence either way.
pub(crate) const NULL_LEVEL: u8 = 0;

/// A comparison ready to run on the records of a job.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    pub name: String,
    pub levels: Vec<LevelSpec>,
    /// The column's index in the records.
    column: usize,
    /// For `swapped_with` levels: the other column's index and each record's value hash there,
    /// per level.
    swapped: Vec<Option<(usize, Vec<u64>)>>,
    /// Dates parsed once, when a level compares dates: days since the epoch, month and day.
    dates: Option<Vec<Option<Date>>>,
    /// Numbers parsed once, when a level compares numbers.
    numbers: Option<Vec<Option<f64>>>,
    /// Each record's value's [`similarity::char_set`], for pruning fuzzy levels.
    char_sets: Vec<u128>,
    /// Each record's value's hashed characters ([`similarity::extend_hashed_chars`]), back to back: value `r` is
    /// `hashed[hashed_at[r]..hashed_at[r + 1]]`.
    hashed: Vec<u8>,
    hashed_at: Vec<u32>,
    /// Each record's value hash (`NO_VALUE` when missing): the null level and the exact level
    /// read it, and compare strings only when two hashes agree.
    value_hashes: Vec<u64>,
    /// For term-frequency adjustment: each record's value's share of the records that have one
    /// (0 when missing).
    pub shares: Option<Vec<f64>>,
    /// The exact level's number, when the comparison has one.
    pub exact_level: Option<u8>,
    /// The lowest Jaro–Winkler threshold of the levels (1 without such levels): how far the
    /// similarity's ceiling must be worked out.
    lowest_jaro_winkler: f64,
    /// For Jaccard levels: each record's distinct word hashes, sorted, back to back: record `r`
    /// is `words[words_at[r]..words_at[r + 1]]`.
    words: Vec<u64>,
    words_at: Vec<u32>,
}

/// How many times each value occurs.
fn value_counts(values: &[Option<crate::model::Text>]) -> FxHashMap<&str, u32> {
    let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
    for value in values.iter().flatten() {
        *counts.entry(value.as_str()).or_default() += 1;
    }
    counts
}

/// The value hash of a missing value.
const NO_VALUE: u64 = 0;

/// A value's hash, never `NO_VALUE`.
fn value_hash(value: &str) -> u64 {
    crate::prepare::hash_of(0, value).max(1)
}

impl Comparison {
    /// Prepares a comparison; the records must hold its columns.
    pub(crate) fn new(spec: &ComparisonSpec, records: &Records) -> Result<Comparison> {
        let column =
            records.index_of(&spec.column).ok_or_else(|| Error::Schema(format!("no column `{}`", spec.column)))?;
        let swapped = spec
            .levels
            .iter()
            .map(|level| match level {
                LevelSpec::SwappedWith(other) => {
                    let index = records.index_of(other).ok_or_else(|| Error::Schema(format!("no column `{other}`")))?;
                    let hashes = records.columns[index]
                        .par_iter()
                        .with_min_len(CHEAP)
                        .map(|v| v.as_deref().map_or(NO_VALUE, value_hash))
                        .collect();
                    Ok(Some((index, hashes)))
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let values = &records.columns[column];
        let wants_dates = spec
            .levels
            .iter()
            .any(|l| matches!(l, LevelSpec::DayMonthSwapped | LevelSpec::WithinDays(_) | LevelSpec::WithinYears(_)));
        let dates = wants_dates.then(|| {
            values
                .iter()
                .map(|v| {
                    let date = parse_date(v.as_deref()?)?;
                    let days = date.signed_duration_since(chrono::NaiveDate::default()).num_days() as i32;
                    Some((days, date.month(), date.day()))
                })
                .collect()
        });
        let wants_numbers = spec
            .levels
            .iter()
            .any(|l| matches!(l, LevelSpec::AbsoluteDifference(_) | LevelSpec::RelativeDifference(_)));
        let numbers = wants_numbers
            .then(|| values.iter().map(|v| v.as_deref()?.parse::<f64>().ok().filter(|n| n.is_finite())).collect());
        use rayon::prelude::*;
        let value_hashes: Vec<u64> =
            values.par_iter().with_min_len(CHEAP).map(|v| v.as_deref().map_or(NO_VALUE, value_hash)).collect();
        let shares = spec.term_frequency.then(|| {
            let counts = value_counts(values);
            let total = f64::from(counts.values().sum::<u32>().max(1));
            values.iter().map(|v| v.as_deref().map_or(0.0, |v| f64::from(counts[v]) / total)).collect()
        });
        let exact_level = spec.levels.iter().position(|l| *l == LevelSpec::Exact).map(|i| i as u8 + 1);
        let (mut words, mut words_at) = (Vec::new(), Vec::new());
        if spec.levels.iter().any(|l| matches!(l, LevelSpec::Jaccard(_))) {
            words_at.reserve(values.len() + 1);
            words_at.push(0u32);
            for value in values {
                let start = words.len();
                words.extend(value.as_deref().unwrap_or_default().split_whitespace().map(value_hash));
                words[start..].sort_unstable();
                let mut kept = start;
                for i in start..words.len() {
                    if i == start || words[i] != words[kept - 1] {
                        words[kept] = words[i];
                        kept += 1;
                    }
                }
                words.truncate(kept);
                words_at.push(
                    u32::try_from(words.len()).map_err(|_| Error::Schema("the column holds too many words".into()))?,
                );
            }
        }
        // Character sets and hashed characters only serve the edit-distance levels.
        let fuzzy = spec.levels.iter().any(|l| {
            matches!(l, LevelSpec::JaroWinkler(_) | LevelSpec::Levenshtein(_) | LevelSpec::DamerauLevenshtein(_))
        });
        let (mut char_sets, mut hashed, mut hashed_at) = (Vec::new(), Vec::new(), Vec::new());
        if fuzzy {
            char_sets =
                values.par_iter().with_min_len(CHEAP).map(|v| v.as_deref().map_or(0, similarity::char_set)).collect();
            hashed_at.reserve(values.len() + 1);
            hashed_at.push(0u32);
            for value in values {
                if let Some(value) = value.as_deref() {
                    similarity::extend_hashed_chars(&mut hashed, value);
                }
                hashed_at.push(
                    u32::try_from(hashed.len())
                        .map_err(|_| Error::Schema("the column holds over 4 GB of text".into()))?,
                );
            }
        }
        Ok(Comparison {
            name: spec.name().to_owned(),
            levels: spec.levels.clone(),
            column,
            swapped,
            dates,
            numbers,
            char_sets,
            hashed,
            hashed_at,
            value_hashes,
            shares,
            exact_level,
            lowest_jaro_winkler: spec
                .levels
                .iter()
                .filter_map(|l| match l {
                    LevelSpec::JaroWinkler(t) => Some(*t),
                    _ => None,
                })
                .fold(1.0, f64::min),
            words,
            words_at,
        })
    }

    /// The comparison's value counts over `records`, for freezing with a model (values seen
    /// once are left out: a value not listed counts once). `None` without term frequencies.
    pub(crate) fn term_frequencies(&self, records: &Records) -> Option<TermFrequencies> {
        self.shares.as_ref()?;
        let values = &records.columns[self.column];
        let counts = value_counts(values);
        Some(TermFrequencies {
            total: counts.values().map(|&n| u64::from(n)).sum(),
            counts: counts.into_iter().filter(|(_, n)| *n > 1).map(|(v, n)| (v.to_owned(), u64::from(n))).collect(),
        })
    }

    /// Takes the value shares from a model's frozen counts instead of the records'.
    pub(crate) fn use_term_frequencies(&mut self, tf: &TermFrequencies, records: &Records) {
        if self.shares.is_some() {
            let values = &records.columns[self.column];
            self.shares = Some(values.iter().map(|v| v.as_deref().map_or(0.0, |v| tf.share(v))).collect());
        }
    }

    /// The index in the records of the column compared.
    pub(crate) fn column_index(&self) -> usize {
        self.column
    }

    /// How many levels, null and else included.
    pub(crate) fn level_count(&self) -> usize {
        self.levels.len() + 2
    }

    /// A level's label: `null`, the level as written in the settings, or `else`.
    pub(crate) fn label(&self, level: u8) -> String {
        match level as usize {
            0 => "null".into(),
            l if l <= self.levels.len() => match &self.levels[l - 1] {
                LevelSpec::Exact => "exact".into(),
                LevelSpec::JaroWinkler(t) => format!("jaro_winkler >= {t}"),
                LevelSpec::Levenshtein(t) => format!("levenshtein <= {t}"),
                LevelSpec::DamerauLevenshtein(t) => format!("damerau_levenshtein <= {t}"),
                LevelSpec::Jaccard(t) => format!("jaccard >= {t}"),
                LevelSpec::SwappedWith(other) => format!("swapped with {other}"),
                LevelSpec::DayMonthSwapped => "day and month swapped".into(),
                LevelSpec::WithinDays(t) => format!("within {t} days"),
                LevelSpec::WithinYears(t) => format!("within {t} years"),
                LevelSpec::AbsoluteDifference(t) => format!("difference <= {t}"),
                LevelSpec::RelativeDifference(t) => format!("relative difference <= {t}"),
                LevelSpec::MaskedMatch => "masked match".into(),
            },
            _ => "else".into(),
        }
    }

    /// The value a record has for this comparison's column.
    pub(crate) fn value<'r>(&self, records: &'r Records, record: u32) -> Option<&'r str> {
        records.columns[self.column][record as usize].as_deref()
    }

    /// What decides the level record `r` reaches against any other record: its value's hash,
    /// mixed with the hashes of the columns its `swapped_with` levels read; `None` without a
    /// value. Records with one signature reach the same levels (unless 64-bit hashes collide,
    /// which [`Comparison::same_signature_values`] checks).
    pub(crate) fn signature(&self, r: u32) -> Option<u64> {
        let own = self.value_hashes[r as usize];
        if own == NO_VALUE {
            return None;
        }
        Some(
            self.swapped.iter().flatten().fold(own, |s, (_, hashes)| {
                (s.rotate_left(26) ^ hashes[r as usize]).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            }),
        )
    }

    /// Whether records `a` and `b` hold the same values in every column the comparison reads.
    pub(crate) fn same_signature_values(&self, records: &Records, a: u32, b: u32) -> bool {
        let same = |column: usize| records.columns[column][a as usize] == records.columns[column][b as usize];
        same(self.column) && self.swapped.iter().flatten().all(|(column, _)| same(*column))
    }

    /// The level records `a` and `b` reach.
    pub(crate) fn level(&self, records: &Records, a: u32, b: u32) -> u8 {
        self.level_with(records, a, b, true)
    }

    /// The level records `a` and `b` would reach if no `swapped_with` level held: what every
    /// pair of records with their two values reaches unless [`Comparison::may_swap`] says so.
    pub(crate) fn level_without_swaps(&self, records: &Records, a: u32, b: u32) -> u8 {
        self.level_with(records, a, b, false)
    }

    /// Whether a `swapped_with` level may hold for records `a` and `b` (their hashes say so):
    /// only then can their level differ from [`Comparison::level_without_swaps`].
    pub(crate) fn may_swap(&self, a: u32, b: u32) -> bool {
        let (ha, hb) = (self.value_hashes[a as usize], self.value_hashes[b as usize]);
        self.swapped.iter().flatten().any(|(_, hashes)| hashes[a as usize] == hb && hashes[b as usize] == ha)
    }

    /// Whether the comparison has `swapped_with` levels.
    pub(crate) fn has_swapped_levels(&self) -> bool {
        self.swapped.iter().any(Option::is_some)
    }

    /// Whether record `r` holds the value hashed `hash` in a column a `swapped_with` level reads.
    pub(crate) fn swaps_toward(&self, r: u32, hash: u64) -> bool {
        self.swapped.iter().flatten().any(|(_, hashes)| hashes[r as usize] == hash)
    }

    /// The level records `a` and `b` reach, with the `swapped_with` levels tested or not.
    fn level_with(&self, records: &Records, a: u32, b: u32, swaps: bool) -> u8 {
        let (ha, hb) = (self.value_hashes[a as usize], self.value_hashes[b as usize]);
        if ha == NO_VALUE || hb == NO_VALUE {
            return NULL_LEVEL;
        }
        // The values themselves are read only by the levels that need them, after the cheaper
        // tests on hashes and character sets: most pairs never touch their strings.
        let column = &records.columns[self.column];
        let text = |r: u32| column[r as usize].as_deref().unwrap_or_default();
        let set_of = |r: u32| self.char_sets.get(r as usize).copied().unwrap_or(0);
        let sets = (set_of(a), set_of(b));
        let hashed_of =
            |r: u32| &self.hashed[self.hashed_at[r as usize] as usize..self.hashed_at[r as usize + 1] as usize];
        // Several Jaro–Winkler levels share one ceiling, and one computation once one is needed.
        let mut jaro_winkler: Option<f64> = None;
        let mut ceiling: Option<f64> = None;
        for (i, level) in self.levels.iter().enumerate() {
            let holds = match level {
                LevelSpec::Exact => ha == hb && text(a) == text(b),
                LevelSpec::JaroWinkler(t) => match jaro_winkler {
                    Some(similarity) => similarity >= *t,
                    None => {
                        let most = *ceiling.get_or_insert_with(|| {
                            similarity::jaro_winkler_ceiling(
                                (hashed_of(a), hashed_of(b)),
                                sets,
                                self.lowest_jaro_winkler,
                            )
                        });
                        most >= *t
                            && *jaro_winkler.get_or_insert_with(|| similarity::jaro_winkler(text(a), text(b))) >= *t
                    }
                },
                LevelSpec::Levenshtein(t) => {
                    !similarity::too_many_missing(sets, *t as usize)
                        && similarity::levenshtein_within(text(a), text(b), sets, *t as usize)
                }
                LevelSpec::DamerauLevenshtein(t) => {
                    !similarity::too_many_missing(sets, *t as usize)
                        && similarity::transpositions_within(text(a), text(b), sets, *t as usize)
                }
                LevelSpec::Jaccard(t) => jaccard(self.words_of(a), self.words_of(b)) >= *t,
                LevelSpec::SwappedWith(_) if !swaps => false,
                LevelSpec::SwappedWith(_) => {
                    let (column, hashes) = self.swapped[i].as_ref().expect("swapped levels carry their column");
                    let other = &records.columns[*column];
                    hashes[a as usize] == hb
                        && hashes[b as usize] == ha
                        && other[a as usize].as_deref() == Some(text(b))
                        && other[b as usize].as_deref() == Some(text(a))
                }
                LevelSpec::DayMonthSwapped => self
                    .date_pair(a, b)
                    .is_some_and(|(p, q)| p.0 != q.0 && p.1 == q.2 && p.2 == q.1 && (p.0 - q.0).abs() < 366),
                LevelSpec::WithinDays(t) => self.date_pair(a, b).is_some_and(|(p, q)| (p.0 - q.0).unsigned_abs() <= *t),
                LevelSpec::WithinYears(t) => {
                    self.date_pair(a, b).is_some_and(|(p, q)| f64::from((p.0 - q.0).abs()) <= 365.25 * f64::from(*t))
                }
                LevelSpec::AbsoluteDifference(t) => self.number_pair(a, b).is_some_and(|(p, q)| (p - q).abs() <= *t),
                LevelSpec::RelativeDifference(t) => {
                    self.number_pair(a, b).is_some_and(|(p, q)| (p - q).abs() <= *t * p.abs().max(q.abs()))
                }
                LevelSpec::MaskedMatch => masked_match(text(a), text(b)),
            };
            if holds {
                return i as u8 + 1;
            }
        }
        self.levels.len() as u8 + 1
    }

    /// A record's value hash; `None` without a value.
    pub(crate) fn value_hash(&self, r: u32) -> Option<u64> {
        Some(self.value_hashes[r as usize]).filter(|&h| h != NO_VALUE)
    }

    /// For the `swapped_with` level at `index` (in `levels`): each record's value hash in the
    /// other column (0 without a value there).
    pub(crate) fn swapped_hashes(&self, index: usize) -> Option<&[u64]> {
        self.swapped.get(index)?.as_ref().map(|(_, hashes)| hashes.as_slice())
    }

    /// A record's hashed characters ([`similarity::extend_hashed_chars`]); empty when the
    /// comparison has no edit-distance or Jaro–Winkler level.
    pub(crate) fn hashed_chars(&self, r: u32) -> &[u8] {
        match (self.hashed_at.get(r as usize), self.hashed_at.get(r as usize + 1)) {
            (Some(&from), Some(&to)) => &self.hashed[from as usize..to as usize],
            _ => &[],
        }
    }

    /// A record's [`similarity::char_set`] (0 when the comparison has no fuzzy level).
    pub(crate) fn char_set(&self, r: u32) -> u128 {
        self.char_sets.get(r as usize).copied().unwrap_or(0)
    }

    /// The lowest Jaro–Winkler threshold of the levels (1 without such levels).
    pub(crate) fn lowest_jaro_winkler(&self) -> f64 {
        self.lowest_jaro_winkler
    }

    /// A record's date, when a level compares dates and the value is one.
    pub(crate) fn date(&self, r: u32) -> Option<Date> {
        self.dates.as_ref()?[r as usize]
    }

    /// A record's number, when a level compares numbers and the value is one.
    pub(crate) fn number(&self, r: u32) -> Option<f64> {
        self.numbers.as_ref()?[r as usize]
    }

    /// A record's distinct word hashes, sorted.
    fn words_of(&self, r: u32) -> &[u64] {
        &self.words[self.words_at[r as usize] as usize..self.words_at[r as usize + 1] as usize]
    }

    fn date_pair(&self, a: u32, b: u32) -> Option<(Date, Date)> {
        let dates = self.dates.as_ref()?;
        Some((dates[a as usize]?, dates[b as usize]?))
    }

    fn number_pair(&self, a: u32, b: u32) -> Option<(f64, f64)> {
        let numbers = self.numbers.as_ref()?;
        Some((numbers[a as usize]?, numbers[b as usize]?))
    }
}

/// Whether one value is masked (holds `*`) and the characters both show, aligned from the end,
/// are equal: at least two of them.
fn masked_match(x: &str, y: &str) -> bool {
    if !x.contains('*') && !y.contains('*') {
        return false;
    }
    let mut shown = 0;
    for (p, q) in x.chars().rev().zip(y.chars().rev()) {
        if p == '*' || q == '*' {
            continue;
        }
        if p != q {
            return false;
        }
        shown += 1;
    }
    shown >= 2
}

/// Jaccard similarity of two sets of words, given as sorted distinct word hashes.
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        return 0.0;
    }
    common as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::matching::settings::LevelSpec as L;

    fn records() -> Records {
        let df = df!(
            "id" => ["a", "b", "c", "d", "e"],
            "first" => [Some("Anna"), Some("anna"), Some("Ana"), None, Some("Smith")],
            "last" => [Some("Smith"), Some("smith"), Some("Smyth"), Some("x"), Some("Anna")],
            "dob" => [Some("1985-03-12"), Some("1985-12-03"), Some("1985-03-20"), Some("1990-01-01"), Some("19850312")],
            "amount" => [Some("100"), Some("104"), Some("130"), Some("abc"), None],
            "address" => [Some("12 le loi quan 1"), Some("quan 1 le loi 12"), Some("12 le loi"), None, Some("x")]
        )
        .unwrap();
        Records::from_frames(&[df], "id", &["first", "last", "dob", "amount", "address"]).unwrap()
    }

    fn comparison(column: &str, levels: Vec<L>) -> Comparison {
        let spec = ComparisonSpec { name: None, column: column.into(), levels, term_frequency: true };
        Comparison::new(&spec, &records()).unwrap()
    }

    #[test]
    fn string_levels() {
        let r = records();
        let c = comparison("first", vec![L::Exact, L::Levenshtein(1), L::JaroWinkler(0.5)]);
        assert_eq!(c.level(&r, 0, 1), 1, "case does not matter");
        assert_eq!(c.level(&r, 0, 2), 2, "one edit");
        assert_eq!(c.level(&r, 0, 3), NULL_LEVEL, "missing value");
        assert_eq!(c.level(&r, 0, 4), 4, "else");
        assert_eq!((c.label(0), c.label(2), c.label(4)), ("null".into(), "levenshtein <= 1".into(), "else".into()));
        let d = comparison("last", vec![L::DamerauLevenshtein(1)]);
        assert_eq!(d.level(&r, 0, 2), 1);
        let j = comparison("first", vec![L::JaroWinkler(0.9)]);
        assert_eq!(j.level(&r, 0, 2), 1, "anna/ana are close");
    }

    #[test]
    fn swapped_names() {
        let r = records();
        let c = comparison("first", vec![L::Exact, L::SwappedWith("last".into())]);
        assert_eq!(c.level(&r, 0, 4), 2, "Anna Smith / Smith Anna");
        assert_eq!(c.level(&r, 1, 2), 3);
    }

    #[test]
    fn date_levels() {
        let r = records();
        let c = comparison("dob", vec![L::Exact, L::DayMonthSwapped, L::WithinDays(10), L::WithinYears(10)]);
        assert_eq!(c.level(&r, 0, 1), 2, "day and month swapped");
        assert_eq!(c.level(&r, 0, 2), 3, "eight days apart");
        assert_eq!(c.level(&r, 0, 3), 4, "five years apart");
        assert_eq!(c.level(&r, 0, 4), 3, "the same date written differently: 0 days apart");
    }

    #[test]
    fn number_levels() {
        let r = records();
        let c = comparison("amount", vec![L::AbsoluteDifference(5.0), L::RelativeDifference(0.25)]);
        assert_eq!(c.level(&r, 0, 1), 1);
        assert_eq!(c.level(&r, 0, 2), 2);
        assert_eq!(c.level(&r, 0, 3), 3, "a value that is not a number is no match");
        assert_eq!(c.level(&r, 0, 4), NULL_LEVEL);
    }

    #[test]
    fn token_levels() {
        let r = records();
        let c = comparison("address", vec![L::Jaccard(0.99), L::Jaccard(0.5)]);
        assert_eq!(c.level(&r, 0, 1), 1, "same words in another order");
        assert_eq!(c.level(&r, 0, 2), 2, "three of five words");
        assert_eq!(c.level(&r, 0, 4), 3);
    }

    #[test]
    fn masked_values_match_on_what_they_show() {
        assert!(masked_match("*678", "+84912345678"));
        assert!(masked_match("+84912345678", "84******678"));
        assert!(masked_match("*678", "*678"), "two masked numbers showing the same digits");
        assert!(!masked_match("*679", "+84912345678"));
        assert!(!masked_match("+84912345678", "+84999345678"), "neither is masked");
        assert!(!masked_match("*8", "+84912345678"), "one shown digit is too little");
        let df = df!("id" => ["a", "b", "c"], "phone" => [Some("*678"), Some("+84912345678"), Some("+84912345679")])
            .unwrap();
        let r = Records::from_frames(&[df], "id", &["phone"]).unwrap();
        let spec = ComparisonSpec {
            name: None,
            column: "phone".into(),
            levels: vec![L::Exact, L::MaskedMatch],
            term_frequency: false,
        };
        let c = Comparison::new(&spec, &r).unwrap();
        assert_eq!((c.level(&r, 0, 1), c.level(&r, 0, 2), c.level(&r, 1, 2)), (2, 3, 3));
        assert_eq!(c.label(2), "masked match");
    }

    #[test]
    fn term_frequencies_are_shares() {
        let c = comparison("first", vec![L::Exact]);
        let shares = c.shares.as_ref().unwrap();
        assert_eq!((shares[0], shares[1], shares[2], shares[3]), (0.5, 0.5, 0.25, 0.0), "anna, Anna, Ana, none");
        assert_eq!(c.exact_level, Some(1));
    }
}

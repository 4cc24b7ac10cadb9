//! Settings of a probabilistic linkage job: which records are compared with which, on which
//! columns and how, and which candidate pairs are generated (blocking). Written as JSON by the
//! user, the way a Splink user writes settings.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which pairs of records are candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Duplicates within one table (or within all tables taken as one).
    #[default]
    DedupeOnly,
    /// Pairs across tables only: records of one table are never compared with each other.
    LinkOnly,
    /// Both: pairs within and across tables.
    LinkAndDedupe,
}

/// One level of a comparison, tried in order after the null level; the first that holds is
/// the pair's level for that comparison. JSON: `"exact"` or `{"jaro_winkler": 0.9}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LevelSpec {
    /// The values are equal (after trimming and lowercasing).
    Exact,
    /// Jaro–Winkler similarity at least this (0–1).
    JaroWinkler(f64),
    /// Levenshtein distance at most this.
    Levenshtein(u32),
    /// Damerau–Levenshtein distance at most this, as optimal string alignment: an adjacent
    /// transposition counts as one edit.
    DamerauLevenshtein(u32),
    /// Jaccard similarity of the words at least this (0–1).
    Jaccard(f64),
    /// This column and the named one are swapped between the records (forename and surname
    /// written in the other order).
    SwappedWith(String),
    /// Dates with day and month swapped (`1985-03-12` / `1985-12-03`).
    DayMonthSwapped,
    /// Dates at most this many days apart.
    WithinDays(u32),
    /// Dates at most this many years apart.
    WithinYears(u32),
    /// Numbers at most this far apart.
    AbsoluteDifference(f64),
    /// Numbers whose difference is at most this fraction of the larger absolute value.
    RelativeDifference(f64),
    /// One value hides characters behind `*` (a masked phone number, `*678`) and every
    /// character it shows equals the other value's at the same place counted from the end, at
    /// least two of them (`*678` and `+84912345678`).
    MaskedMatch,
}

/// How one column (or a pair of columns) is compared. Besides its `levels`, every comparison has
/// a null level (either value missing: no evidence) first and an "else" level last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonSpec {
    /// The comparison's name in models and explanations; the column's name by default.
    #[serde(default)]
    pub name: Option<String>,
    /// The column compared.
    pub column: String,
    /// The levels, strongest first.
    pub levels: Vec<LevelSpec>,
    /// Adjust the exact level by how common the value is (a common surname is weaker evidence
    /// than a rare one).
    #[serde(default)]
    pub term_frequency: bool,
}

impl ComparisonSpec {
    /// The comparison's name.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.column)
    }
}

/// How the model is trained without labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSettings {
    /// How many random record pairs estimate the u probabilities; also the most comparisons
    /// (and candidate pairs of values) counting u over every pair of records may take, which a
    /// comparison uses instead of the sample whenever it fits.
    pub u_sample_pairs: usize,
    /// The most EM iterations per blocking rule.
    pub max_iterations: usize,
    /// EM stops when no m probability moves more than this.
    pub tolerance: f64,
    /// Seed of the random pair sample (the same seed gives the same model).
    pub seed: u64,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        TrainingSettings { u_sample_pairs: 1_000_000, max_iterations: 50, tolerance: 1e-6, seed: 42 }
    }
}

/// The settings of a linkage job.
///
/// ```
/// let settings: omnitwin::matching::Settings = serde_json::from_str(r#"{
///     "unique_id_column": "rec_id",
///     "comparisons": [
///         {"column": "surname", "levels": ["exact", {"jaro_winkler": 0.9}], "term_frequency": true},
///         {"column": "date_of_birth", "levels": ["exact", "day_month_swapped", {"levenshtein": 1}]}
///     ],
///     "blocking_rules": [["surname"], ["date_of_birth"]]
/// }"#).unwrap();
/// assert!(settings.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which pairs are candidates.
    #[serde(default)]
    pub link_type: LinkType,
    /// The column that identifies a record (unique within its table).
    #[serde(default = "default_id_column")]
    pub unique_id_column: String,
    /// How records are compared.
    pub comparisons: Vec<ComparisonSpec>,
    /// Candidate pairs: records that agree on every key of at least one rule. A key is a column
    /// (`"surname"`) or its first characters (`"surname[:3]"`).
    pub blocking_rules: Vec<Vec<String>>,
    /// Pairs with a match probability at least this are linked.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Training without labels.
    #[serde(default)]
    pub training: TrainingSettings,
    /// Blocks (records sharing one key of a rule) larger than this are left out of that rule,
    /// and reported: a key many records share (a store's own address typed for every walk-in
    /// customer) says little about who is who, and a block of n records holds n²/2 pairs.
    /// `None` (the default here) compares every block, as Splink does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_records: Option<usize>,
}

fn default_id_column() -> String {
    "unique_id".into()
}

fn default_threshold() -> f64 {
    0.9
}

/// The most comparisons a model holds (patterns are packed four bits per comparison).
pub(crate) const MAX_COMPARISONS: usize = 16;
/// The most levels a comparison holds, null and else included.
pub(crate) const MAX_LEVELS: usize = 15;

impl Settings {
    /// Reads settings from JSON text; errors name the field.
    pub fn from_json(text: &str) -> Result<Settings> {
        let settings: Settings = serde_json::from_str(text).map_err(|e| Error::config("settings", format!("{e}")))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the settings as a whole: bounds, thresholds, rules.
    pub fn validate(&self) -> Result<()> {
        if self.comparisons.is_empty() {
            return Err(Error::config("comparisons", "at least one comparison is needed"));
        }
        if self.comparisons.len() > MAX_COMPARISONS {
            return Err(Error::config("comparisons", format!("at most {MAX_COMPARISONS} comparisons are supported")));
        }
        for (i, c) in self.comparisons.iter().enumerate() {
            let field = |what: &str| format!("comparisons[{i}].{what}");
            if c.levels.is_empty() || c.levels.len() + 2 > MAX_LEVELS {
                return Err(Error::config(field("levels"), format!("1 to {} levels are supported", MAX_LEVELS - 2)));
            }
            for (j, level) in c.levels.iter().enumerate() {
                let bad = match level {
                    LevelSpec::JaroWinkler(t) | LevelSpec::Jaccard(t) => !(0.0..=1.0).contains(t),
                    LevelSpec::AbsoluteDifference(t) | LevelSpec::RelativeDifference(t) => {
                        !(t.is_finite() && *t >= 0.0)
                    }
                    _ => false,
                };
                if bad {
                    return Err(Error::config(field(&format!("levels[{j}]")), "the threshold is out of range"));
                }
            }
        }
        if self.blocking_rules.is_empty() || self.blocking_rules.len() > 255 {
            return Err(Error::config("blocking_rules", "1 to 255 blocking rules are needed"));
        }
        if let Some(i) = self.blocking_rules.iter().position(Vec::is_empty) {
            return Err(Error::config(format!("blocking_rules[{i}]"), "a rule needs at least one key"));
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(Error::config("threshold", "a match probability strictly between 0 and 1"));
        }
        Ok(())
    }
}

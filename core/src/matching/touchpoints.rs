//! Matching touchpoints: the columns `resolve` derives from the standard touchpoint schema for
//! comparisons and blocking, the default comparisons and rules for them, and the config section
//! that chooses them.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::linker::Plan;
use super::records::clean;
use super::settings::{ComparisonSpec, LevelSpec, LinkType, Settings, TrainingSettings};
use crate::config::Rules;
use crate::error::{Error, Result};
use crate::graph::Identities;
use crate::model::{IdKind, Text, Touchpoint};
use crate::normalize::{fold, normalize_address, normalize_gender, normalize_phone, parse_date, NormalizedPhone};
use crate::parallel::CHEAP;

/// The columns derived from every touchpoint for matching. Besides these, `attributes.<name>`
/// reads a custom attribute (lowercased).
///
/// - `name`: the full name folded (no diacritics, lowercase), in the order written;
/// - `name_key`: its words sorted, so `Nguyễn Văn An` and `An Nguyen Van` are equal;
/// - `email`, `email_local`: the canonical email and its part before `@`;
/// - `phone`: E.164, or `*` and the visible digits of a masked number (`*678`);
/// - `phone_tail`: the last three digits of either;
/// - `date_of_birth` (`YYYY-MM-DD`), `birth_year`, `gender` (`female`/`male`/`other`);
/// - `address`, `city`: folded with Vietnamese abbreviations written out;
/// - `source`.
///
/// An email or phone that is blocked or found shared by different people gives no value: a
/// protected identifier is no evidence either way, so it never bridges two people.
pub const TOUCHPOINT_COLUMNS: [&str; 12] = [
    "name",
    "name_key",
    "email",
    "email_local",
    "phone",
    "phone_tail",
    "date_of_birth",
    "birth_year",
    "gender",
    "address",
    "city",
    "source",
];

/// The prefix of a custom attribute column in matching settings.
const ATTRIBUTE_PREFIX: &str = "attributes.";

/// Probabilistic matching in `resolve`: which comparisons and blocking rules run on the
/// touchpoints (columns from [`TOUCHPOINT_COLUMNS`]), the threshold, and training. Its
/// probabilistic links join the profiles deterministic linking made, never breaking a
/// per-profile limit (two customer ids of one source stay apart).
///
/// ```
/// let config: omnitwin::Config = serde_json::from_str(r#"{
///     "matching": {"threshold": 0.9, "blocking_rules": [["name_key", "phone_tail"]]}
/// }"#).unwrap();
/// assert!(config.matching.enabled);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TouchpointMatching {
    /// Whether `resolve` runs probabilistic matching after deterministic linking.
    pub enabled: bool,
    /// Pairs whose match probability reaches this are linked.
    pub threshold: f64,
    /// How touchpoints are compared.
    pub comparisons: Vec<ComparisonSpec>,
    /// Which touchpoints are compared: those that agree on every key of a rule.
    pub blocking_rules: Vec<Vec<String>>,
    /// Training without labels, when no model is given.
    pub training: TrainingSettings,
    /// Blocks larger than this are left out of their rule (see
    /// [`Settings::max_block_records`]); 500 by default: a block of 500 touchpoints is already
    /// 125k pairs.
    pub max_block_records: Option<usize>,
}

impl Default for TouchpointMatching {
    fn default() -> Self {
        let levels = |levels: &[LevelSpec]| levels.to_vec();
        let comparison = |column: &str, levels: Vec<LevelSpec>, term_frequency: bool| ComparisonSpec {
            name: None,
            column: column.into(),
            levels,
            term_frequency,
        };
        let rule = |keys: &[&str]| keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        TouchpointMatching {
            enabled: true,
            threshold: 0.95,
            comparisons: vec![
                comparison(
                    "name_key",
                    levels(&[LevelSpec::Exact, LevelSpec::JaroWinkler(0.92), LevelSpec::JaroWinkler(0.8)]),
                    true,
                ),
                comparison("email_local", levels(&[LevelSpec::Exact, LevelSpec::DamerauLevenshtein(1)]), false),
                comparison("phone", levels(&[LevelSpec::Exact, LevelSpec::MaskedMatch]), false),
                comparison(
                    "date_of_birth",
                    levels(&[LevelSpec::Exact, LevelSpec::DayMonthSwapped, LevelSpec::WithinYears(1)]),
                    false,
                ),
                comparison("address", levels(&[LevelSpec::Exact, LevelSpec::Jaccard(0.6)]), false),
                comparison("city", levels(&[LevelSpec::Exact]), false),
            ],
            blocking_rules: vec![
                rule(&["name_key", "phone_tail"]),
                rule(&["name_key", "date_of_birth"]),
                rule(&["name_key", "address"]),
                rule(&["email_local"]),
                rule(&["phone_tail", "address"]),
                rule(&["phone_tail", "date_of_birth"]),
            ],
            training: TrainingSettings::default(),
            max_block_records: Some(500),
        }
    }
}

impl TouchpointMatching {
    /// The settings of the linkage job over touchpoints.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            link_type: LinkType::DedupeOnly,
            unique_id_column: "touchpoint_id".into(),
            comparisons: self.comparisons.clone(),
            blocking_rules: self.blocking_rules.clone(),
            threshold: self.threshold,
            training: self.training.clone(),
            max_block_records: self.max_block_records,
        }
    }

    /// Checks the section (the settings' own checks, and every column known) and plans it: what
    /// every linker over the touchpoints shares.
    pub(crate) fn plan(&self) -> Result<Plan> {
        let in_section = |e: Error| match e {
            Error::Config { field, message } => Error::config(format!("matching.{field}"), message),
            other => other,
        };
        let plan = Plan::new(self.settings()).map_err(in_section)?;
        let known = |column: &str| {
            TOUCHPOINT_COLUMNS.contains(&column)
                || column.strip_prefix(ATTRIBUTE_PREFIX).is_some_and(|name| !name.is_empty())
        };
        if let Some(column) = plan.columns().iter().find(|c| !known(c)) {
            return Err(Error::config(
                "matching",
                format!(
                    "unknown column `{column}`: use one of {} or `attributes.<name>`",
                    TOUCHPOINT_COLUMNS.join(", ")
                ),
            ));
        }
        Ok(plan)
    }
}

/// Touchpoints as records for matching, with only the `columns` needed (distinct, as
/// [`Plan::columns`] lists them), in an order that
/// depends on the data alone (by id hash, then id): returns the records and each record's
/// touchpoint. `subset` picks the touchpoints (all when `None`); `view` holds their identifiers
/// and name keys under the same indices: the graph of a resolution, or the live state.
pub(crate) fn touchpoint_records(
    touchpoints: &[Touchpoint],
    subset: Option<&[u32]>,
    view: &(impl Identities + Sync),
    rules: &Rules,
    columns: &[String],
) -> Result<(super::records::Records, Vec<u32>)> {
    use rayon::prelude::*;
    let n = subset.map_or(touchpoints.len(), <[u32]>::len) as u32;
    let index = |i: u32| subset.map_or(i, |s| s[i as usize]);
    let id_of = |i: u32| &touchpoints[index(i) as usize].touchpoint_id;
    let mut order: Vec<(u64, u32)> =
        (0..n).into_par_iter().with_min_len(CHEAP).map(|i| (crate::prepare::hash_of(0, id_of(i)), i)).collect();
    order.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| id_of(a.1).cmp(id_of(b.1))));
    let order: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
    let names: Vec<String> = columns.to_vec();
    let email_kind = rules.kind_index(&IdKind::Email).map(|k| k as u16);
    let phone_kind = rules.kind_index(&IdKind::Phone).map(|k| k as u16);
    let derive = Derive { view, rules, email_kind, phone_kind };
    // Each column is derived in touchpoint order (reading the touchpoints front to back), then
    // its values are moved into record order.
    let mut columns: Vec<Vec<Option<Text>>> = names
        .iter()
        .map(|name| {
            if name == "phone_tail" && names.iter().any(|n| n == "phone") {
                return Vec::new(); // read from the phone column below, not derived twice
            }
            let mut values: Vec<Option<Text>> = (0..n)
                .into_par_iter()
                .with_min_len(CHEAP)
                .map(|i| {
                    let tp = index(i);
                    derive.value(name, &touchpoints[tp as usize], tp)
                })
                .collect();
            order.iter().map(|&i| values[i as usize].take()).collect()
        })
        .collect();
    if let (Some(tail), Some(phone)) =
        (names.iter().position(|n| n == "phone_tail"), names.iter().position(|n| n == "phone"))
    {
        columns[tail] =
            columns[phone].par_iter().with_min_len(CHEAP).map(|p| p.as_deref().and_then(phone_tail)).collect();
    }
    let ids = order.iter().map(|&i| id_of(i).clone()).collect();
    let order = order.into_iter().map(index).collect();
    Ok((super::records::Records::from_columns(ids, names, columns)?, order))
}

/// The last three digits of a phone as matching writes it (E.164 or `*` and visible digits).
fn phone_tail(phone: &str) -> Option<Text> {
    let digits = phone.trim_start_matches(['*', '+']);
    (digits.len() >= 3).then(|| Text::from(&phone[phone.len() - 3..]))
}

/// What deriving a touchpoint's matching values needs.
struct Derive<'a, V> {
    view: &'a V,
    rules: &'a Rules,
    email_kind: Option<u16>,
    phone_kind: Option<u16>,
}

impl<V: Identities> Derive<'_, V> {
    /// The linking identifier of a kind a touchpoint carries: `Ok(Some(value))`; `Ok(None)` when
    /// it carries one that is protected (blocked or shared); `Err(())` when it carries none.
    fn identifier(&self, kind: Option<u16>, tp: u32) -> std::result::Result<Option<&str>, ()> {
        let kind = kind.ok_or(())?;
        let id = *self.view.ids_of(tp).iter().find(|&&id| self.view.kind_of(id) == kind).ok_or(())?;
        Ok(self.view.links(id).then(|| crate::prepare::split_key(self.view.key_of(id)).1))
    }

    /// The value of a derived column for one touchpoint, trimmed and lowercased.
    fn value(&self, column: &str, touchpoint: &Touchpoint, tp: u32) -> Option<Text> {
        match column {
            "name" => touchpoint.full_name.as_deref().map(fold).filter(|v| !v.is_empty()).map(Text::from),
            "name_key" => self.view.name_of(tp).map(Text::from),
            "email" => self.identifier(self.email_kind, tp).ok().flatten().map(Text::from),
            "email_local" => {
                let email = self.identifier(self.email_kind, tp).ok().flatten()?;
                email.split_once('@').map(|(local, _)| Text::from(local))
            }
            "phone" => self.phone(touchpoint, tp),
            "phone_tail" => phone_tail(&self.phone(touchpoint, tp)?),
            "date_of_birth" => {
                let date = parse_date(touchpoint.date_of_birth.as_deref()?)?;
                Some(compact_str::format_compact!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()))
            }
            "birth_year" => {
                let date = parse_date(touchpoint.date_of_birth.as_deref()?)?;
                Some(compact_str::format_compact!("{:04}", date.year()))
            }
            "gender" => normalize_gender(touchpoint.gender.as_deref()?).map(Text::from),
            "address" => normalize_address(touchpoint.address.as_deref()?).map(Text::from),
            "city" => normalize_address(touchpoint.city.as_deref()?).map(Text::from),
            "source" => clean(touchpoint.source.as_deref()?),
            other => {
                let name = other.strip_prefix(ATTRIBUTE_PREFIX)?;
                clean(touchpoint.attributes.get(name)?)
            }
        }
    }

    /// The phone: E.164 when it links, nothing when protected, `*` and the visible digits when
    /// masked.
    fn phone(&self, touchpoint: &Touchpoint, tp: u32) -> Option<Text> {
        match self.identifier(self.phone_kind, tp) {
            Ok(value) => value.map(Text::from),
            Err(()) => match normalize_phone(touchpoint.phone.as_deref()?, self.rules.region)? {
                NormalizedPhone::Masked { visible_suffix } if visible_suffix.len() >= 2 => {
                    let mut masked = Text::from("*");
                    masked.push_str(&visible_suffix);
                    Some(masked)
                }
                _ => None,
            },
        }
    }
}

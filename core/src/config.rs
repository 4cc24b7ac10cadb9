//! Configuration: serde in, validated once into the rules the engine runs on.
//!
//! A config is plain data (`Default`, unknown fields rejected) so that a JSON file, a Python dict
//! and a JS object all go through the same validation, written once here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{IdKind, STANDARD_COLUMNS};
use crate::normalize::{PhoneRegion, UtcOffset};

/// Everything that can be configured. Every field has a default; see the README for a tour.
///
/// ```
/// let config: omnitwin::Config = serde_json::from_str(r#"{
///     "default_region": "VN",
///     "timezone": "+07:00",
///     "columns": {"touchpoint_id": "order_id", "phone": "sdt"},
///     "identifiers": {"membership_no": {"column": "membership_no", "max_per_profile": 1}}
/// }"#).unwrap();
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Region (ISO 3166-1 alpha-2) for phone numbers written without a country code.
    pub default_region: String,
    /// UTC offset that timestamps without one are read in (`+07:00`).
    pub timezone: String,
    /// Column mapping: standard field name → the input's column name.
    pub columns: BTreeMap<String, String>,
    /// Identifier rules by kind, merged onto the built-in ones; a new name declares a new kind.
    pub identifiers: BTreeMap<String, IdentifierSettings>,
    /// Extra values that never link, by kind (`{"phone": ["0909000000"]}`); compared after
    /// normalization.
    pub blocked_values: BTreeMap<String, Vec<String>>,
    /// Whether the built-in list of junk values (`test@test.com`, `0000000000`, …) applies.
    pub default_blocked_values: bool,
    /// When an identifier counts as shared by different people.
    pub shared_identifiers: SharedIdentifierRule,
    /// When a profile is quarantined instead of trusted.
    pub quarantine: QuarantineRule,
    /// Which value of each attribute a profile shows.
    pub survivorship: SurvivorshipConfig,
    /// Longest value accepted in any field, in bytes.
    pub max_field_bytes: usize,
    /// Probabilistic matching after deterministic linking (on by default).
    pub matching: crate::matching::TouchpointMatching,
    /// How computed traits (RFM, journey, carts, user-defined aggregates) read touchpoints.
    pub traits: crate::twin::TraitSettings,
    /// Which touchpoints grant or withdraw consent.
    pub consent: crate::twin::ConsentSettings,
    /// Named segments, evaluated on every profile.
    pub segments: BTreeMap<String, crate::twin::SegmentSettings>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_region: "VN".into(),
            timezone: "+00:00".into(),
            columns: BTreeMap::new(),
            identifiers: BTreeMap::new(),
            blocked_values: BTreeMap::new(),
            default_blocked_values: true,
            shared_identifiers: SharedIdentifierRule::default(),
            quarantine: QuarantineRule::default(),
            survivorship: SurvivorshipConfig::default(),
            max_field_bytes: 64 * 1024,
            matching: crate::matching::TouchpointMatching::default(),
            traits: crate::twin::TraitSettings::default(),
            consent: crate::twin::ConsentSettings::default(),
            segments: BTreeMap::new(),
        }
    }
}

/// Settings for one identifier kind; unset fields keep the kind's built-in defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentifierSettings {
    /// Input column of a declared kind (built-in kinds read their standard column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `false` turns the kind off: its values are kept as attributes but link nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// At most this many distinct values of the kind per profile (per scope); a link that
    /// would break it is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_profile: Option<u32>,
    /// Where values are unique: everywhere (`none`), within a `source`, or within the
    /// `prefix` written before the last `:` of the value (falling back to the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Whether an identifier of this kind whose touchpoints disagree is marked shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detect_shared: Option<bool>,
    /// Whether a person has few values of this kind (email, phone, ids) so that many of them
    /// behind one other identifier means it is shared; `false` for cookies and devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_level: Option<bool>,
}

/// Where an identifier's values are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Globally.
    None,
    /// Within the touchpoint's `source`.
    Source,
    /// Within the value's own prefix (`facebook:page_1:123` → `facebook:page_1`), else the source.
    Prefix,
}

/// When an identifier is shared by different people and so links nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedIdentifierRule {
    /// Shared when its touchpoints carry more than this many different names (names that are
    /// spelling variants of each other count once).
    pub max_names: usize,
    /// Shared when its touchpoints carry more than this many different values of one
    /// person-level kind without a `max_per_profile` (for kinds with one, that limit applies).
    pub max_values_per_kind: usize,
}

impl Default for SharedIdentifierRule {
    fn default() -> Self {
        SharedIdentifierRule { max_names: 2, max_values_per_kind: 3 }
    }
}

/// When a profile is quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuarantineRule {
    /// More distinct values than this of any person-level kind (emails, phones, …).
    pub max_values_per_kind: usize,
    /// More different names than this (spelling variants count once).
    pub max_names: usize,
}

impl Default for QuarantineRule {
    fn default() -> Self {
        QuarantineRule { max_values_per_kind: 8, max_names: 4 }
    }
}

/// How the value of an attribute is chosen among those observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurvivorshipRule {
    /// The value of the latest touchpoint.
    MostRecent,
    /// The value seen on most touchpoints (ties: most recent).
    MostFrequent,
    /// The value from the first source in `source_priority` that has one (ties: most recent).
    SourcePriority,
    /// The value of the earliest touchpoint.
    FirstSeen,
}

impl SurvivorshipRule {
    /// The rule's name as written in config.
    pub fn as_str(self) -> &'static str {
        match self {
            SurvivorshipRule::MostRecent => "most_recent",
            SurvivorshipRule::MostFrequent => "most_frequent",
            SurvivorshipRule::SourcePriority => "source_priority",
            SurvivorshipRule::FirstSeen => "first_seen",
        }
    }
}

/// Survivorship rules per attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurvivorshipConfig {
    /// The rule for attributes not named in `attributes`.
    pub default: SurvivorshipRule,
    /// Rules by attribute name.
    pub attributes: BTreeMap<String, SurvivorshipRule>,
    /// Sources from most to least trusted, for `source_priority`.
    pub source_priority: Vec<String>,
}

impl Default for SurvivorshipConfig {
    fn default() -> Self {
        SurvivorshipConfig {
            default: SurvivorshipRule::MostRecent,
            attributes: BTreeMap::new(),
            source_priority: Vec::new(),
        }
    }
}

/// The compiled rule for one identifier kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KindRule {
    pub kind: IdKind,
    /// Input column (after mapping) that carries it.
    pub column: String,
    pub max_per_profile: Option<u32>,
    pub scope: Scope,
    pub detect_shared: bool,
    pub person_level: bool,
}

/// A validated config, compiled into what the engine runs on.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub region: PhoneRegion,
    pub offset: UtcOffset,
    /// Enabled kinds, strongest first; their position is the kind's index everywhere inside.
    pub kinds: Vec<KindRule>,
    /// Input column name for each standard field.
    pub columns: BTreeMap<String, String>,
    pub blocked: crate::graph::Blocklist,
    /// Traits, consent and segments, compiled.
    pub twin: crate::twin::TwinRules,
    /// The matching section, planned once for every linker over the touchpoints.
    pub matching: std::sync::Arc<crate::matching::Plan>,
    pub config: Config,
}

impl Rules {
    /// The index of a kind in `kinds`.
    pub fn kind_index(&self, kind: &IdKind) -> Option<usize> {
        self.kinds.iter().position(|rule| &rule.kind == kind)
    }
}

fn built_in_rule(kind: &IdKind) -> KindRule {
    let (max, scope, person_level) = match kind {
        IdKind::CustomerId => (Some(1), Scope::Source, true),
        IdKind::LoyaltyId => (Some(1), Scope::None, true),
        IdKind::SocialId => (Some(1), Scope::Prefix, true),
        IdKind::Email | IdKind::Phone => (None, Scope::None, true),
        IdKind::DeviceId | IdKind::CookieId | IdKind::Custom(_) => (None, Scope::None, false),
    };
    KindRule {
        kind: kind.clone(),
        column: kind.as_str().to_owned(),
        max_per_profile: max,
        scope,
        detect_shared: true,
        person_level,
    }
}

impl Config {
    /// Reads a config from JSON text.
    pub fn from_json_str(json: &str) -> Result<Config> {
        serde_json::from_str(json).map_err(|e| Error::config("(json)", e.to_string()))
    }

    /// Reads a config from a JSON file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::config(path.display().to_string(), e.to_string()))
    }

    /// Checks every field and says which one is wrong and what is accepted.
    pub fn validate(&self) -> Result<()> {
        self.compile().map(|_| ())
    }

    pub(crate) fn compile(&self) -> Result<Rules> {
        let region: PhoneRegion = self.default_region.parse().map_err(|m| Error::config("default_region", m))?;
        let offset: UtcOffset = self.timezone.parse().map_err(|m| Error::config("timezone", m))?;
        let matching = std::sync::Arc::new(self.matching.plan()?);
        for (field, column) in &self.columns {
            if !STANDARD_COLUMNS.contains(&field.as_str()) {
                return Err(Error::config(
                    format!("columns.{field}"),
                    format!("`{field}` is not a standard field; expected one of {}", STANDARD_COLUMNS.join(", ")),
                ));
            }
            if column.trim().is_empty() {
                return Err(Error::config(format!("columns.{field}"), "the column name is empty"));
            }
        }
        let mut mapped: BTreeMap<String, String> =
            STANDARD_COLUMNS.iter().map(|c| (c.to_string(), c.to_string())).collect();
        mapped.extend(self.columns.clone());
        let mut seen = BTreeMap::new();
        for (field, column) in &mapped {
            if let Some(other) = seen.insert(column.clone(), field.clone()) {
                // Name the mapping the user wrote, not the default it collides with.
                let (mine, theirs) = if self.columns.contains_key(field) { (field, &other) } else { (&other, field) };
                return Err(Error::config(
                    format!("columns.{mine}"),
                    format!("column `{column}` is also the column of `{theirs}`; map `{theirs}` elsewhere too"),
                ));
            }
        }
        let kinds = self.compile_kinds(&mapped)?;
        let blocked = crate::graph::Blocklist::new(self, region, &kinds)?;
        if self.shared_identifiers.max_names == 0 || self.shared_identifiers.max_values_per_kind == 0 {
            return Err(Error::config("shared_identifiers", "bounds must be at least 1"));
        }
        if self.quarantine.max_names == 0 || self.quarantine.max_values_per_kind == 0 {
            return Err(Error::config("quarantine", "bounds must be at least 1"));
        }
        if self.max_field_bytes < 16 {
            return Err(Error::config("max_field_bytes", "must be at least 16"));
        }
        let known: BTreeSet<&str> = ["full_name", "date_of_birth", "gender", "address", "city", "currency"].into();
        for name in self.survivorship.attributes.keys() {
            if STANDARD_COLUMNS.contains(&name.as_str()) && !known.contains(name.as_str()) {
                return Err(Error::config(
                    format!("survivorship.attributes.{name}"),
                    format!(
                        "`{name}` is not an attribute; attributes are {} and custom columns",
                        known.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let twin = crate::twin::compile_settings(&self.traits, &self.consent, &self.segments, offset)?;
        Ok(Rules { region, offset, kinds, columns: mapped, blocked, twin, matching, config: self.clone() })
    }

    fn compile_kinds(&self, mapped: &BTreeMap<String, String>) -> Result<Vec<KindRule>> {
        let mut rules: Vec<KindRule> = IdKind::BUILT_IN.iter().map(built_in_rule).collect();
        for rule in &mut rules {
            rule.column = mapped.get(rule.kind.as_str()).cloned().unwrap_or_else(|| rule.column.clone());
        }
        let mut disabled = BTreeSet::new();
        for (name, settings) in &self.identifiers {
            let field = format!("identifiers.{name}");
            let Ok(kind) = name.parse::<IdKind>();
            let position = rules.iter().position(|r| r.kind == kind);
            let rule = match (position, &kind) {
                (Some(at), _) => {
                    if settings.column.is_some() {
                        return Err(Error::config(
                            format!("{field}.column"),
                            format!(
                                "`{name}` is built in and reads its standard column; map it under `columns` instead"
                            ),
                        ));
                    }
                    &mut rules[at]
                }
                (None, IdKind::Custom(_)) => {
                    let Some(column) = settings.column.clone() else {
                        return Err(Error::config(
                            format!("{field}.column"),
                            format!("a declared identifier kind needs the input column it is read from, e.g. {{\"column\": \"{name}\"}}"),
                        ));
                    };
                    if mapped.contains_key(&column) {
                        return Err(Error::config(
                            format!("{field}.column"),
                            format!("`{column}` is a standard column"),
                        ));
                    }
                    let mut rule = built_in_rule(&kind);
                    rule.column = column;
                    rules.push(rule);
                    rules.last_mut().expect("a rule was just pushed")
                }
                (None, _) => unreachable!("every built-in kind has a rule"),
            };
            if let Some(max) = settings.max_per_profile {
                if max == 0 {
                    return Err(Error::config(format!("{field}.max_per_profile"), "must be at least 1"));
                }
                rule.max_per_profile = Some(max);
            }
            rule.scope = settings.scope.unwrap_or(rule.scope);
            rule.detect_shared = settings.detect_shared.unwrap_or(rule.detect_shared);
            rule.person_level = settings.person_level.unwrap_or(rule.person_level);
            if settings.enabled == Some(false) {
                disabled.insert(rule.kind.clone());
            }
        }
        rules.retain(|r| !disabled.contains(&r.kind));
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let rules = Config::default().compile().unwrap();
        assert_eq!(rules.kinds.len(), 7);
        assert_eq!(rules.kinds[0].kind, IdKind::CustomerId);
        assert_eq!(rules.columns["email"], "email");
    }

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let err = Config::from_json_str(r#"{"default_regoin": "VN"}"#).unwrap_err();
        assert!(err.to_string().contains("default_regoin"), "{err}");
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (r#"{"default_region": "Vietnam"}"#, "default_region"),
            (r#"{"timezone": "ICT"}"#, "timezone"),
            (r#"{"columns": {"emial": "mail"}}"#, "columns.emial"),
            (r#"{"columns": {"email": "phone"}}"#, "columns.email"),
            (r#"{"identifiers": {"membership": {}}}"#, "identifiers.membership.column"),
            (r#"{"identifiers": {"email": {"column": "x"}}}"#, "identifiers.email.column"),
            (r#"{"identifiers": {"loyalty_id": {"max_per_profile": 0}}}"#, "identifiers.loyalty_id.max_per_profile"),
            (r#"{"shared_identifiers": {"max_names": 0}}"#, "shared_identifiers"),
            (r#"{"survivorship": {"attributes": {"email": "most_recent"}}}"#, "survivorship.attributes.email"),
            (r#"{"blocked_values": {"emails": ["x"]}}"#, "blocked_values.emails"),
        ];
        for (json, field) in cases {
            let err = Config::from_json_str(json).and_then(|c| c.validate()).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config);
            assert!(err.to_string().contains(&format!("`{field}`")), "{json}: {err}");
        }
    }

    #[test]
    fn declared_kinds_and_overrides() {
        let config = Config::from_json_str(
            r#"{"identifiers": {"membership_no": {"column": "member", "max_per_profile": 1},
                                "cookie_id": {"enabled": false},
                                "phone": {"max_per_profile": 2}}}"#,
        )
        .unwrap();
        let rules = config.compile().unwrap();
        assert!(rules.kind_index(&IdKind::CookieId).is_none());
        let phone = &rules.kinds[rules.kind_index(&IdKind::Phone).unwrap()];
        assert_eq!(phone.max_per_profile, Some(2));
        let member = &rules.kinds[rules.kind_index(&IdKind::Custom("membership_no".into())).unwrap()];
        assert_eq!(member.column, "member");
        assert_eq!(member.max_per_profile, Some(1));
    }
}

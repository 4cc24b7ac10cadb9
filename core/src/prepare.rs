//! Preparation: a touchpoint's raw values turned into the identifiers and name key that the
//! identity graph links on. One function per question, all pure; the engine runs them in parallel.

use std::hash::{BuildHasher, Hash};

use rustc_hash::FxBuildHasher;

use crate::config::{KindRule, Rules, Scope};
use crate::model::{IdKind, Text, Touchpoint};
use crate::normalize::{canonical_email, name_key, normalize_phone, NormalizedPhone, PhoneRegion};

/// What one raw identifier value turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdValue {
    /// A usable identifier, normalized.
    Valid(Text),
    /// A masked phone number: weak evidence, never an identifier.
    Masked,
    /// Not a valid value of its kind.
    Invalid,
}

/// Normalizes a raw value of an identifier kind: canonical email, E.164 phone, trimmed id.
pub(crate) fn identifier_value(kind: &IdKind, raw: &str, region: PhoneRegion) -> IdValue {
    match kind {
        IdKind::Email => match canonical_email(raw) {
            Some(canonical) => IdValue::Valid(canonical),
            None => IdValue::Invalid,
        },
        IdKind::Phone => match normalize_phone(raw, region) {
            Some(NormalizedPhone::Valid { e164 }) => IdValue::Valid(e164),
            Some(NormalizedPhone::Masked { .. }) => IdValue::Masked,
            Some(NormalizedPhone::Invalid) | None => IdValue::Invalid,
        },
        _ => {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                IdValue::Invalid
            } else {
                IdValue::Valid(trimmed.into())
            }
        }
    }
}

/// The scope an identifier value is unique within, and the value with any scope prefix removed.
pub(crate) fn scope_of<'a>(rule: &KindRule, value: &'a str, source: Option<&'a str>) -> (Option<&'a str>, &'a str) {
    match rule.scope {
        Scope::None => (None, value),
        Scope::Source => (Some(source.unwrap_or("")), value),
        Scope::Prefix => match value.rsplit_once(':') {
            Some((prefix, id)) if !prefix.is_empty() && !id.is_empty() => (Some(prefix), id),
            _ => (Some(source.unwrap_or("")), value),
        },
    }
}

/// One identifier of a prepared touchpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedId {
    /// Index of the kind in [`Rules::kinds`].
    pub kind: u16,
    /// The interning key: the value, or `scope \u{1f} value` for scoped kinds.
    pub key: Text,
    /// Whether the value is on the blocklist.
    pub blocked: bool,
    /// The interning hash of `(kind, key)`, computed here in parallel.
    pub hash: u64,
}

/// The separator between scope and value in an identifier key.
pub(crate) const SCOPE_SEPARATOR: char = '\u{1f}';

/// Counts of raw values that could not be used, by kind of problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ValueIssues {
    pub invalid: Vec<u16>,
    pub masked_phone: bool,
}

/// A touchpoint ready for linking.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    pub ids: smallvec::SmallVec<[PreparedId; 4]>,
    /// Sorted folded name words (`anh nguyen thi`), for shared-identifier and quarantine
    /// checks.
    pub name_key: Option<Text>,
    pub issues: ValueIssues,
    /// A hash of the touchpoint id: orders touchpoints by data alone, cheaper than the id.
    pub id_hash: u64,
}

/// Prepares one touchpoint.
pub(crate) fn prepare(tp: &Touchpoint, rules: &Rules) -> Prepared {
    let mut prepared = Prepared { id_hash: hash_of(0, &tp.touchpoint_id), ..Prepared::default() };
    for (index, rule) in rules.kinds.iter().enumerate() {
        let index = index as u16;
        let Some(raw) = tp.identifier(&rule.kind).filter(|r| !r.trim().is_empty()) else { continue };
        match identifier_value(&rule.kind, raw, rules.region) {
            IdValue::Valid(owned) => {
                let (scope, value) = scope_of(rule, &owned, tp.source.as_deref());
                let blocked = rules.blocked.is_blocked(&rule.kind, value);
                let key = match scope {
                    Some(scope) => {
                        let mut key = Text::with_capacity(scope.len() + value.len() + 1);
                        key.push_str(scope);
                        key.push(SCOPE_SEPARATOR);
                        key.push_str(value);
                        key
                    }
                    // Unscoped: the value is the key as it is.
                    None => owned,
                };
                let hash = hash_of(index, &key);
                prepared.ids.push(PreparedId { kind: index, key, blocked, hash });
            }
            IdValue::Masked => prepared.issues.masked_phone = true,
            IdValue::Invalid => prepared.issues.invalid.push(index),
        }
    }
    prepared.name_key = tp.full_name.as_deref().and_then(name_key);
    prepared
}

/// Splits an identifier key into its scope and value.
pub(crate) fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once(SCOPE_SEPARATOR) {
        Some((scope, value)) => (Some(scope), value),
        None => (None, key),
    }
}

/// The interning hash of a `kind, key` pair; computed where the work is parallel, so that the
/// sequential interning only probes.
pub(crate) fn hash_of(kind: u16, key: &str) -> u64 {
    let mut state = FxBuildHasher.build_hasher();
    kind.hash(&mut state);
    key.hash(&mut state);
    std::hash::Hasher::finish(&state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn identifiers_are_normalized_scoped_and_checked() {
        let rules = Config::default().compile().unwrap();
        let tp = Touchpoint {
            touchpoint_id: "t1".into(),
            source: Some("web".into()),
            email: Some(" A.N@Gmail.com".into()),
            phone: Some("84******123".into()),
            customer_id: Some(" C-1 ".into()),
            social_id: Some("zalo:oa_9:abc".into()),
            loyalty_id: Some("null".into()),
            full_name: Some("Nguyễn An".into()),
            ..Touchpoint::default()
        };
        let prepared = prepare(&tp, &rules);
        let keys: Vec<(&str, &str, bool)> = prepared
            .ids
            .iter()
            .map(|id| (rules.kinds[id.kind as usize].kind.as_str(), id.key.as_str(), id.blocked))
            .collect();
        assert_eq!(
            keys,
            [
                ("customer_id", "web\u{1f}C-1", false),
                ("loyalty_id", "null", true),
                ("email", "an@gmail.com", false),
                ("social_id", "zalo:oa_9\u{1f}abc", false),
            ]
        );
        assert!(prepared.issues.masked_phone);
        assert_eq!(prepared.name_key.as_deref(), Some("an nguyen"));
    }

    #[test]
    fn invalid_values_are_counted_not_linked() {
        let rules = Config::default().compile().unwrap();
        let tp = Touchpoint { email: Some("not-an-email".into()), ..Touchpoint::new("t") };
        let prepared = prepare(&tp, &rules);
        assert!(prepared.ids.is_empty());
        assert_eq!(prepared.issues.invalid, [rules.kind_index(&IdKind::Email).unwrap() as u16]);
    }
}

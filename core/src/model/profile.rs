//! A profile: the digital twin of one real customer, built from their touchpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Consent, IdKind, Text, Traits};

/// Whether a profile can be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileStatus {
    /// A normal profile.
    Active,
    /// The cluster broke a configured bound (too many emails, too many different names): it is
    /// kept whole and reported for review rather than truncated. Don't market to it as one person.
    Quarantined,
}

/// How an identifier seen on a profile's touchpoints took part in linking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierStatus {
    /// It linked touchpoints.
    Linked,
    /// It is on the blocked-values list (junk such as `test@test.com`) and links nothing.
    Blocked,
    /// It was found shared by different people (a family tablet, a store's default phone) and
    /// links nothing.
    Shared,
    /// Some of its links were refused because they would break a per-profile limit.
    PartlyRefused,
}

/// One identifier of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileIdentifier {
    /// Its kind.
    pub kind: IdKind,
    /// Its scope, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Text>,
    /// The normalized value.
    pub value: Text,
    /// The raw spellings it was seen in (`0912.345.678`, `+84 912 345 678`).
    pub raw_values: Vec<Text>,
    /// How many of the profile's touchpoints carry it.
    pub touchpoint_count: u32,
    /// How it took part in linking.
    pub status: IdentifierStatus,
}

/// One value seen for an attribute, with where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedValue {
    /// The value (normalized for display).
    pub value: String,
    /// How many touchpoints carried it.
    pub count: u32,
    /// Earliest timestamp it was seen at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<i64>,
    /// Latest timestamp it was seen at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    /// The sources it came from.
    pub sources: Vec<Text>,
    /// The touchpoint that the chosen provenance points to (the latest one carrying it).
    pub touchpoint_id: Text,
}

/// An attribute's surviving value, its provenance, and every value observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The value chosen by the attribute's survivorship rule.
    pub value: String,
    /// The source of the touchpoint the value was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Text>,
    /// The touchpoint the value was taken from.
    pub touchpoint_id: Text,
    /// That touchpoint's timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// The survivorship rule that chose it (`most_recent`, `most_frequent`, …).
    pub rule: String,
    /// Every distinct value observed, most frequent first.
    pub observed: Vec<ObservedValue>,
}

/// One real customer: every touchpoint, identifier and attribute that belongs to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Stable id: the same input gives the same id, whatever its order or the thread count.
    pub profile_id: String,
    /// Whether it can be acted on.
    pub status: ProfileStatus,
    /// Why it was quarantined (empty when active).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine_reasons: Vec<String>,
    /// How many touchpoints it holds.
    pub touchpoint_count: usize,
    /// Its touchpoints' ids, sorted.
    pub touchpoint_ids: Vec<Text>,
    /// Earliest touchpoint timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<i64>,
    /// Latest touchpoint timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    /// Channels seen, sorted.
    pub channels: Vec<String>,
    /// Sources seen, sorted.
    pub sources: Vec<Text>,
    /// Identifiers, by kind (strongest kind first) then value.
    pub identifiers: Vec<ProfileIdentifier>,
    /// Attributes by name (`full_name`, `date_of_birth`, `gender`, `address`, `city`, and custom
    /// columns).
    pub attributes: BTreeMap<String, Attribute>,
    /// Computed traits: RFM, channel mix, devices, journey stage, carts, user-defined traits.
    #[serde(default)]
    pub traits: Traits,
    /// Consent per purpose and contact channel: the latest event for each, with provenance.
    #[serde(default)]
    pub consent: Vec<Consent>,
    /// The configured segments the profile is a member of, sorted.
    #[serde(default)]
    pub segments: Vec<String>,
}

impl Profile {
    /// The profile's linked identifier values of one kind.
    pub fn identifiers_of(&self, kind: &IdKind) -> impl Iterator<Item = &ProfileIdentifier> {
        let kind = kind.clone();
        self.identifiers.iter().filter(move |id| id.kind == kind)
    }

    /// The surviving value of an attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(|a| a.value.as_str())
    }

    /// Whether the profile consented to `purpose` on a contact `channel`: the latest event for
    /// that pair (or for `all`) decides; `None` when no event says.
    pub fn consents_to(&self, purpose: &str, channel: &str) -> Option<bool> {
        super::consent_for(&self.consent, &purpose.trim().to_lowercase(), &channel.trim().to_lowercase())
    }
}

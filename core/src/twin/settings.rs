//! What the twin computes on top of identities and attributes: the settings for traits,
//! consent and segments (plain data in [`Config`](crate::Config)), compiled once.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::segment::Segment;
use crate::error::{Error, Result};
use crate::normalize::{parse_timestamp, UtcOffset};

/// How computed traits are read from touchpoints: which events mean what, and the windows.
///
/// Event names are matched case-insensitively. A touchpoint whose event is in none of the
/// lists still counts as an interaction on its channel (and as exposure in the journey).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraitSettings {
    /// The time traits are computed at (recency, lapsed, abandoned carts, ages, windows): a
    /// timestamp (ISO 8601, or epoch milliseconds as text), or `latest` for the latest
    /// touchpoint timestamp the engine holds, which keeps results a function of the data.
    pub as_of: String,
    /// A buyer whose last purchase is older than this many days is `lapsed`.
    pub lapsed_after_days: u32,
    /// An `add_to_cart` with no purchase on any channel within this many hours is abandoned.
    pub abandoned_cart_hours: u32,
    /// A buyer with at least this many purchases (3 or more) is `loyal`; from 2 they are
    /// `repeat`.
    pub loyal_after_orders: u32,
    /// Channels that are offline (the rest are online), for the omnichannel-buyer flag.
    pub offline_channels: Vec<String>,
    /// Event names per class.
    pub events: EventClasses,
    /// The custom attributes that carry a cart item's SKU and quantity (quantity 1 if absent).
    pub cart: CartFields,
    /// User-defined traits by name: an aggregate over events (see [`CustomTrait`]).
    pub custom: BTreeMap<String, CustomTrait>,
}

impl Default for TraitSettings {
    fn default() -> Self {
        TraitSettings {
            as_of: "latest".into(),
            lapsed_after_days: 180,
            abandoned_cart_hours: 24,
            loyal_after_orders: 5,
            offline_channels: vec!["store".into()],
            events: EventClasses::default(),
            cart: CartFields::default(),
            custom: BTreeMap::new(),
        }
    }
}

/// Which event names belong to which class of the journey and the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventClasses {
    /// Purchases: count as orders, their `amount` as revenue; they empty the cart of what they
    /// name (all of it when they name no SKU).
    pub purchase: Vec<String>,
    /// Adding an item to a cart (evaluation).
    pub add_to_cart: Vec<String>,
    /// Removing an item from a cart.
    pub remove_from_cart: Vec<String>,
    /// Evaluation besides carts: comparing, wish lists, starting a checkout.
    pub evaluation: Vec<String>,
    /// Exploration: views, searches, logins, questions to the hotline or a chat.
    pub exploration: Vec<String>,
}

impl Default for EventClasses {
    fn default() -> Self {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        EventClasses {
            purchase: list(&["purchase", "order", "order_completed", "checkout_completed"]),
            add_to_cart: list(&["add_to_cart"]),
            remove_from_cart: list(&["remove_from_cart"]),
            evaluation: list(&["compare", "wishlist", "add_to_wishlist", "checkout_started", "begin_checkout"]),
            exploration: list(&["page_view", "product_view", "view", "search", "login", "call", "message"]),
        }
    }
}

/// The custom attributes of a cart event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartFields {
    /// The item's SKU.
    pub sku: String,
    /// How many (a whole number; 1 when absent).
    pub quantity: String,
}

impl Default for CartFields {
    fn default() -> Self {
        CartFields { sku: "sku".into(), quantity: "quantity".into() }
    }
}

/// How a user-defined trait aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// How many matching events.
    Count,
    /// The sum of `field` (a number).
    Sum,
    /// The smallest `field` (a number).
    Min,
    /// The largest `field` (a number).
    Max,
    /// `field` of the latest matching event that has one (text).
    Last,
    /// `field` of the earliest matching event that has one (text).
    First,
    /// How many distinct values of `field`.
    Distinct,
}

impl Aggregate {
    /// Whether the trait's value is a number (else text).
    pub fn is_numeric(self) -> bool {
        !matches!(self, Aggregate::Last | Aggregate::First)
    }
}

/// A user-defined trait: `aggregate` of `field` over the profile's events that pass the filter.
///
/// ```
/// let t: omnitwin::CustomTrait = serde_json::from_str(
///     r#"{"aggregate": "sum", "field": "amount", "events": ["purchase"], "within_days": 30}"#,
/// ).unwrap();
/// assert_eq!(t.within_days, Some(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTrait {
    /// How values are combined.
    pub aggregate: Aggregate,
    /// The touchpoint field aggregated: `amount`, `timestamp`, `channel`, `source`,
    /// `event_type`, `currency`, or a custom attribute. Not needed for `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Only events with one of these names (any event when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Only touchpoints through one of these channels (any when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Only events within this many days before `as_of` (all time when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
}

/// Where consent comes from: touchpoints whose event grants or withdraws it.
///
/// The purpose is read from `purpose_attribute` (else `default_purpose`); the contact channel
/// from `channel_attribute`, else `email` for a touchpoint through the email channel (an
/// unsubscribe link), else `all`. A purpose or channel of `all` applies to every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentSettings {
    /// Events that grant consent.
    pub grant_events: Vec<String>,
    /// Events that withdraw it.
    pub withdraw_events: Vec<String>,
    /// The custom attribute naming the purpose (`marketing`, `analytics`, `personalization`).
    pub purpose_attribute: String,
    /// The custom attribute naming the contact channel (`email`, `sms`, `zalo`, `phone`).
    pub channel_attribute: String,
    /// The purpose of a consent event that names none.
    pub default_purpose: String,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        ConsentSettings {
            grant_events: list(&["consent_granted", "opt_in", "subscribe"]),
            withdraw_events: list(&["consent_withdrawn", "opt_out", "unsubscribe"]),
            purpose_attribute: "consent_purpose".into(),
            channel_attribute: "consent_channel".into(),
            default_purpose: "marketing".into(),
        }
    }
}

/// A named segment: the profiles for which an expression holds (see the segment language in
/// [`Segment`](crate::Segment)); a segment with a contact `channel` keeps only profiles that
/// consented to `purpose` on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSettings {
    /// The expression, e.g. `rfm.recency_score >= 4 and channels contains "store"`.
    #[serde(rename = "where")]
    pub condition: String,
    /// The contact channel the segment is used on (`email`, `sms`, `zalo`, `phone`); when set,
    /// members need consent for `purpose` on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The purpose consent is checked for (`marketing` by default).
    #[serde(default = "marketing", skip_serializing_if = "is_marketing")]
    pub purpose: String,
    /// `false` keeps profiles without that consent too (for service messages the law allows).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub require_consent: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(value: &bool) -> bool {
    *value
}

fn marketing() -> String {
    "marketing".into()
}

fn is_marketing(purpose: &str) -> bool {
    purpose == "marketing"
}

/// A segment compiled: its expression parsed, with the consent it requires.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSegment {
    pub name: String,
    pub expression: Segment,
}

/// The event class of a touchpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventClass {
    Purchase,
    AddToCart,
    RemoveFromCart,
    Evaluation,
    Exploration,
    Other,
}

/// The twin settings, compiled: lowercased name sets, the parsed `as_of`, parsed segments.
#[derive(Debug, Clone)]
pub(crate) struct TwinRules {
    pub as_of: Option<i64>,
    pub lapsed_after_ms: i64,
    pub abandoned_after_ms: i64,
    pub loyal_after_orders: u32,
    pub offline: FxHashSet<String>,
    purchase: FxHashSet<String>,
    add_to_cart: FxHashSet<String>,
    remove_from_cart: FxHashSet<String>,
    evaluation: FxHashSet<String>,
    exploration: FxHashSet<String>,
    grant: FxHashSet<String>,
    withdraw: FxHashSet<String>,
    pub cart: CartFields,
    pub consent: ConsentSettings,
    /// Custom traits, by name (sorted), with lowercased filters.
    pub custom: Vec<(String, CustomTrait)>,
    /// Segments, by name (sorted).
    pub segments: Vec<CompiledSegment>,
}

const DAY_MS: i64 = 86_400_000;

fn lowered(names: &[String]) -> FxHashSet<String> {
    names.iter().map(|n| n.trim().to_lowercase()).collect()
}

/// Compiles the twin parts of a config; errors name the config field.
pub(crate) fn compile(
    traits: &TraitSettings,
    consent: &ConsentSettings,
    segments: &BTreeMap<String, SegmentSettings>,
    offset: UtcOffset,
) -> Result<TwinRules> {
    let as_of = match traits.as_of.trim() {
        "latest" => None,
        text => Some(parse_timestamp(text, offset).map_err(|m| {
            Error::config("traits.as_of", format!("{m}; expected `latest` or a timestamp such as 2024-06-30T00:00:00Z"))
        })?),
    };
    for (name, value) in
        [("lapsed_after_days", traits.lapsed_after_days), ("abandoned_cart_hours", traits.abandoned_cart_hours)]
    {
        if value == 0 {
            return Err(Error::config(format!("traits.{name}"), "must be at least 1"));
        }
    }
    if traits.loyal_after_orders < 3 {
        return Err(Error::config(
            "traits.loyal_after_orders",
            "must be at least 3 (two purchases make a `repeat` buyer)",
        ));
    }
    let mut custom = Vec::new();
    for (name, t) in &traits.custom {
        let field = format!("traits.custom.{name}");
        if name.trim().is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(Error::config(field, "a trait name is letters, digits and `_`"));
        }
        match (&t.field, t.aggregate) {
            (None, Aggregate::Count) => {}
            (None, other) => {
                return Err(Error::config(
                    format!("{field}.field"),
                    format!(
                        "`{}` needs the field it aggregates, e.g. \"amount\"",
                        serde_json::to_value(other)?.as_str().unwrap_or("")
                    ),
                ))
            }
            (Some(f), _) if f.trim().is_empty() => {
                return Err(Error::config(format!("{field}.field"), "the field name is empty"))
            }
            _ => {}
        }
        if t.within_days == Some(0) {
            return Err(Error::config(format!("{field}.within_days"), "must be at least 1"));
        }
        let mut t = t.clone();
        t.events = t.events.iter().map(|e| e.trim().to_lowercase()).collect();
        t.channels = t.channels.iter().map(|c| c.trim().to_lowercase()).collect();
        custom.push((name.clone(), t));
    }
    for (name, value) in [
        ("purpose_attribute", &consent.purpose_attribute),
        ("channel_attribute", &consent.channel_attribute),
        ("default_purpose", &consent.default_purpose),
    ] {
        if value.trim().is_empty() {
            return Err(Error::config(format!("consent.{name}"), "must not be empty"));
        }
    }
    let mut compiled = Vec::new();
    for (name, segment) in segments {
        let field = format!("segments.{name}.where");
        let expression = Segment::parse_inner(&segment.condition).map_err(|e| Error::config(&field, e.to_string()))?;
        if let Some(e) = expression.undefined_trait(traits.custom.keys().map(String::as_str)) {
            return Err(Error::config(field, e.to_string()));
        }
        let expression = match &segment.channel {
            Some(channel) if segment.require_consent => expression.requiring_consent(&segment.purpose, channel),
            _ => expression,
        };
        compiled.push(CompiledSegment { name: name.clone(), expression });
    }
    Ok(TwinRules {
        as_of,
        lapsed_after_ms: i64::from(traits.lapsed_after_days) * DAY_MS,
        abandoned_after_ms: i64::from(traits.abandoned_cart_hours) * 3_600_000,
        loyal_after_orders: traits.loyal_after_orders,
        offline: lowered(&traits.offline_channels),
        purchase: lowered(&traits.events.purchase),
        add_to_cart: lowered(&traits.events.add_to_cart),
        remove_from_cart: lowered(&traits.events.remove_from_cart),
        evaluation: lowered(&traits.events.evaluation),
        exploration: lowered(&traits.events.exploration),
        grant: lowered(&consent.grant_events),
        withdraw: lowered(&consent.withdraw_events),
        cart: traits.cart.clone(),
        consent: consent.clone(),
        custom,
        segments: compiled,
    })
}

impl TwinRules {
    /// The class of an event name.
    pub fn class(&self, event: Option<&str>) -> EventClass {
        let Some(event) = event else { return EventClass::Other };
        let event = lower(event);
        if self.purchase.contains(event.as_ref()) {
            EventClass::Purchase
        } else if self.add_to_cart.contains(event.as_ref()) {
            EventClass::AddToCart
        } else if self.remove_from_cart.contains(event.as_ref()) {
            EventClass::RemoveFromCart
        } else if self.evaluation.contains(event.as_ref()) {
            EventClass::Evaluation
        } else if self.exploration.contains(event.as_ref()) {
            EventClass::Exploration
        } else {
            EventClass::Other
        }
    }

    /// Whether an event grants (`Some(true)`) or withdraws (`Some(false)`) consent.
    pub fn consent_verdict(&self, event: Option<&str>) -> Option<bool> {
        let event = lower(event?);
        if self.withdraw.contains(event.as_ref()) {
            Some(false)
        } else if self.grant.contains(event.as_ref()) {
            Some(true)
        } else {
            None
        }
    }
}

/// An event name trimmed and lowercased, without allocating when it already is.
pub(crate) fn lower(name: &str) -> std::borrow::Cow<'_, str> {
    let name = name.trim();
    if name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii() {
        std::borrow::Cow::Owned(name.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

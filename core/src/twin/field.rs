//! The fields a segment expression reads from a profile, and their values.

use std::borrow::Cow;

use crate::model::{Profile, TraitValue};

/// The field names a segment can read; `<…>` is any name.
pub(crate) const FIELD_NAMES: &[&str] = &[
    "profile_id",
    "status",
    "touchpoints",
    "channels",
    "sources",
    "days_since_first_seen",
    "days_since_last_seen",
    "orders",
    "revenue",
    "average_order_value",
    "days_since_first_purchase",
    "days_since_last_purchase",
    "rfm.recency_days",
    "rfm.frequency",
    "rfm.monetary",
    "rfm.recency_score",
    "rfm.frequency_score",
    "rfm.monetary_score",
    "preferred_channel",
    "preferred_purchase_channel",
    "last_channel",
    "devices",
    "device_count",
    "cross_device",
    "omnichannel_buyer",
    "stage",
    "abandoned_cart",
    "hours_since_abandoned_cart",
    "cart_items",
    "cart_quantity",
    "cart_skus",
    "age",
    "full_name",
    "date_of_birth",
    "gender",
    "address",
    "city",
    "purchases.<channel>",
    "interactions.<channel>",
    "traits.<name>",
    "consent.<purpose>.<channel>",
    "attributes.<name>",
    "identifiers.<kind>",
];

/// A field of a profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    /// A field named in [`FIELD_NAMES`] without a `<…>` part, by that name.
    Fixed(&'static str),
    Purchases(String),
    Interactions(String),
    Custom(String),
    Consent(String, String),
    Attribute(String),
    Identifiers(String),
}

/// A value read from a profile or written in an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(Cow<'a, str>),
    List(Vec<Cow<'a, str>>),
}

const DAY_MS: f64 = 86_400_000.0;

/// The fields a misspelt name probably meant: those it begins, else the nearest by edit
/// distance (at most 3).
fn closest(name: &str) -> Vec<&'static str> {
    let fixed = || FIELD_NAMES.iter().copied().filter(|f| !f.contains('<'));
    let longer: Vec<&str> = fixed().filter(|f| f.starts_with(name)).collect();
    if !longer.is_empty() {
        return longer;
    }
    fixed()
        .map(|f| (strsim::levenshtein(name, f), f))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, f)| f)
        .into_iter()
        .collect()
}

impl Field {
    /// Reads a dotted field name; the error says what was expected.
    pub fn parse(name: &str) -> Result<Field, String> {
        let lowered = name.to_lowercase();
        if let Some(fixed) = FIELD_NAMES.iter().find(|f| **f == lowered) {
            return Ok(Field::Fixed(fixed));
        }
        if lowered == "journey.stage" {
            return Ok(Field::Fixed("stage"));
        }
        let parts: Vec<&str> = name.splitn(2, '.').collect();
        let rest = parts.get(1).copied().filter(|r| !r.is_empty());
        let missing = |what: &str| format!("`{name}` needs {what} after the dot");
        match (parts[0].to_lowercase().as_str(), rest) {
            ("purchases", Some(channel)) => Ok(Field::Purchases(channel.to_lowercase())),
            ("interactions", Some(channel)) => Ok(Field::Interactions(channel.to_lowercase())),
            ("traits", Some(trait_name)) => Ok(Field::Custom(trait_name.to_owned())),
            ("attributes", Some(attribute)) => Ok(Field::Attribute(attribute.to_owned())),
            ("identifiers", Some(kind)) => Ok(Field::Identifiers(kind.to_lowercase())),
            ("consent", Some(rest)) => match rest.split_once('.') {
                Some((purpose, channel)) if !purpose.is_empty() && !channel.is_empty() && !channel.contains('.') => {
                    Ok(Field::Consent(purpose.to_lowercase(), channel.to_lowercase()))
                }
                _ => Err(format!("`{name}`: consent is read as consent.<purpose>.<channel>, e.g. consent.marketing.email")),
            },
            ("purchases" | "interactions", None) => Err(missing("a channel")),
            ("traits", None) => Err(missing("a trait name")),
            ("attributes", None) => Err(missing("an attribute name")),
            ("identifiers", None) => Err(missing("an identifier kind")),
            ("consent", None) => Err(missing("a purpose and a channel")),
            _ => Err(match closest(&lowered).as_slice() {
                [] => format!(
                    "unknown field `{name}`; custom attributes are read as attributes.<name>, user-defined traits as traits.<name>"
                ),
                near => format!(
                    "unknown field `{name}`; did you mean {}?",
                    near.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" or ")
                ),
            }),
        }
    }

    /// The field's value on a profile.
    pub fn read<'a>(&'a self, p: &'a Profile) -> Value<'a> {
        let t = &p.traits;
        let days_since = |at: Option<i64>| match (at, t.as_of) {
            (Some(at), Some(now)) => Value::Number((now.saturating_sub(at) as f64 / DAY_MS).max(0.0)),
            _ => Value::Null,
        };
        let number = |n: Option<f64>| n.map_or(Value::Null, Value::Number);
        let text = |s: Option<&'a str>| s.map_or(Value::Null, |s| Value::Text(Cow::Borrowed(s)));
        let list = |items: Vec<&'a str>| Value::List(items.into_iter().map(Cow::Borrowed).collect());
        match self {
            Field::Fixed(name) => match *name {
                "profile_id" => text(Some(&p.profile_id)),
                "status" => text(Some(if p.quarantine_reasons.is_empty() { "active" } else { "quarantined" })),
                "touchpoints" => Value::Number(p.touchpoint_count as f64),
                "channels" => list(p.channels.iter().map(String::as_str).collect()),
                "sources" => list(p.sources.iter().map(|s| s.as_str()).collect()),
                "days_since_first_seen" => days_since(p.first_seen),
                "days_since_last_seen" => days_since(p.last_seen),
                "orders" => Value::Number(f64::from(t.orders)),
                "revenue" => Value::Number(t.revenue),
                "average_order_value" => number(t.average_order_value),
                "days_since_first_purchase" => days_since(t.first_purchase),
                "days_since_last_purchase" => days_since(t.last_purchase),
                "rfm.recency_days" => number(t.rfm.as_ref().map(|r| r.recency_days)),
                "rfm.frequency" => number(t.rfm.as_ref().map(|r| f64::from(r.frequency))),
                "rfm.monetary" => number(t.rfm.as_ref().map(|r| r.monetary)),
                "rfm.recency_score" => number(t.rfm.as_ref().map(|r| f64::from(r.recency_score))),
                "rfm.frequency_score" => number(t.rfm.as_ref().map(|r| f64::from(r.frequency_score))),
                "rfm.monetary_score" => number(t.rfm.as_ref().map(|r| f64::from(r.monetary_score))),
                "preferred_channel" => text(t.preferred_channel.as_deref()),
                "preferred_purchase_channel" => text(t.preferred_purchase_channel.as_deref()),
                "last_channel" => text(t.last_channel.as_deref()),
                "devices" => list(t.devices.iter().map(|d| d.as_str()).collect()),
                "device_count" => Value::Number(t.devices.len() as f64),
                "cross_device" => Value::Bool(t.devices.len() >= 2),
                "omnichannel_buyer" => Value::Bool(t.omnichannel_buyer),
                "stage" => text(Some(t.journey.stage.as_str())),
                "abandoned_cart" => Value::Bool(t.abandoned_cart.is_some()),
                "hours_since_abandoned_cart" => match (&t.abandoned_cart, t.as_of) {
                    (Some(cart), Some(now)) => {
                        Value::Number((now.saturating_sub(cart.at) as f64 / 3_600_000.0).max(0.0))
                    }
                    _ => Value::Null,
                },
                "cart_items" => Value::Number(t.cart.len() as f64),
                "cart_quantity" => {
                    Value::Number(t.cart.iter().fold(0i64, |sum, i| sum.saturating_add(i.quantity)) as f64)
                }
                "cart_skus" => list(t.cart.iter().map(|i| i.sku.as_str()).collect()),
                "age" => number(age(p.attribute("date_of_birth"), t.as_of)),
                attribute => text(p.attribute(attribute)),
            },
            Field::Purchases(channel) => {
                Value::Number(f64::from(t.purchases_by_channel.get(channel.as_str()).copied().unwrap_or(0)))
            }
            Field::Interactions(channel) => {
                Value::Number(f64::from(t.interactions_by_channel.get(channel.as_str()).copied().unwrap_or(0)))
            }
            Field::Custom(name) => match t.custom.get(name) {
                Some(Some(TraitValue::Number(n))) => Value::Number(*n),
                Some(Some(TraitValue::Text(s))) => Value::Text(Cow::Borrowed(s)),
                _ => Value::Null,
            },
            Field::Consent(purpose, channel) => {
                crate::model::consent_for(&p.consent, purpose, channel).map_or(Value::Null, Value::Bool)
            }
            Field::Attribute(name) => text(p.attribute(name)),
            Field::Identifiers(kind) => {
                list(p.identifiers.iter().filter(|id| id.kind.as_str() == kind).map(|id| id.value.as_str()).collect())
            }
        }
    }
}

/// Whole years from a `YYYY-MM-DD` date of birth to `as_of`.
fn age(date_of_birth: Option<&str>, as_of: Option<i64>) -> Option<f64> {
    use chrono::Datelike;
    let born = chrono::NaiveDate::parse_from_str(date_of_birth?, "%Y-%m-%d").ok()?;
    let now = chrono::DateTime::from_timestamp_millis(as_of?)?.date_naive();
    let mut years = now.year() - born.year();
    if (now.month(), now.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    (years >= 0).then_some(f64::from(years))
}

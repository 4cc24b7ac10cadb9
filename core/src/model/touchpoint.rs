//! A touchpoint: one interaction of a (not yet known) customer with the business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Channel, IdKind};

/// Short strings stored inline (up to 24 bytes without a heap allocation): most touchpoint
/// fields fit, which keeps a million touchpoints small.
pub type Text = compact_str::CompactString;

/// The standard touchpoint schema's columns, in order. Every column but `touchpoint_id` is
/// optional; columns outside this list are kept as custom attributes.
pub const STANDARD_COLUMNS: [&str; 19] = [
    "touchpoint_id",
    "channel",
    "source",
    "timestamp",
    "event_type",
    "email",
    "phone",
    "cookie_id",
    "device_id",
    "social_id",
    "loyalty_id",
    "customer_id",
    "full_name",
    "date_of_birth",
    "gender",
    "address",
    "city",
    "amount",
    "currency",
];

/// One interaction: a purchase at a till, a web checkout, an email click, a chat message, a
/// marketplace order, a hotline call, an app login. Values are as received; the engine
/// normalizes them (and keeps these raw values for display and provenance).
///
/// ```
/// use omnitwin::Touchpoint;
/// let tp = Touchpoint {
///     touchpoint_id: "t1".into(),
///     channel: Some("web".parse().unwrap()),
///     email: Some("An.Nguyen@Gmail.com".into()),
///     ..Touchpoint::default()
/// };
/// assert_eq!(tp.channel.unwrap().as_str(), "web");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Touchpoint {
    /// Unique id of this touchpoint (required).
    pub touchpoint_id: Text,
    /// The channel it came through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The system it came from (`pos_hn01`, `shopee`, `crm`); scopes customer ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Text>,
    /// When it happened, in UTC epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// What happened (`purchase`, `add_to_cart`, `email_click`, `login`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<Text>,
    /// Email address as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Text>,
    /// Phone number as typed (any format; masked numbers allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Text>,
    /// Web cookie id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_id: Option<Text>,
    /// Device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Text>,
    /// Social platform id: `platform:page:id` (e.g. `facebook:page_123:98765`) or a bare id
    /// scoped by `source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_id: Option<Text>,
    /// Loyalty card or membership number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyalty_id: Option<Text>,
    /// Customer id in the source system (unique within `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text>,
    /// Full name as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<Text>,
    /// Date of birth (`YYYY-MM-DD`, `YYYYMMDD` or `DD/MM/YYYY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Text>,
    /// Gender as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Text>,
    /// Street address as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    /// City or province.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    /// Monetary amount (order value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Currency of `amount` (`VND`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<Text>,
    /// Identifiers of kinds declared in the config, by kind name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<Text, Text>,
    /// Custom attributes: every input column outside the standard schema, by column name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<Text, Text>,
}

/// The error of a touchpoint given as JSON (one row: row 1) whose `column` is bad.
fn invalid_field(column: &str, message: String) -> crate::Error {
    crate::Error::InvalidField { row: 1, column: column.into(), message }
}

impl Touchpoint {
    /// Reads one touchpoint from a JSON object (the fields of [`Touchpoint`], `timestamp` in
    /// epoch milliseconds or as text in UTC, custom values under `attributes`). A bad field is
    /// an [`Error::InvalidField`](crate::Error::InvalidField) naming it. An engine reads
    /// timestamps without an offset in its own timezone: see
    /// [`Engine::touchpoint_from_json`](crate::Engine::touchpoint_from_json).
    ///
    /// ```
    /// use omnitwin::Touchpoint;
    /// let tp = Touchpoint::from_json(r#"{"touchpoint_id": "t1", "email": "an@x.vn", "timestamp": 1700000000000}"#)?;
    /// assert_eq!(tp.email.as_deref(), Some("an@x.vn"));
    /// let tp = Touchpoint::from_json(r#"{"touchpoint_id": "t2", "timestamp": "2024-01-01T00:00:00Z"}"#)?;
    /// assert_eq!(tp.timestamp, Some(1_704_067_200_000));
    /// let err = Touchpoint::from_json(r#"{"touchpoint_id": "t1", "timestamp": "yesterday"}"#).unwrap_err();
    /// assert_eq!(err.column(), Some("timestamp"));
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn from_json(text: &str) -> crate::Result<Touchpoint> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid_field("touchpoint", format!("not valid JSON: {e}")))?;
        Touchpoint::from_json_value(value, crate::normalize::UtcOffset::default())
    }

    /// [`Touchpoint::from_json`] on a parsed JSON value, a text `timestamp` without an offset
    /// read at `offset` (what the Python and Node packages hand over for `ingest_one`).
    pub fn from_json_value(
        mut value: serde_json::Value,
        offset: crate::normalize::UtcOffset,
    ) -> crate::Result<Touchpoint> {
        let Some(fields) = value.as_object_mut() else {
            return Err(invalid_field("touchpoint", "expected an object with the touchpoint's fields".into()));
        };
        if let Some(serde_json::Value::String(text)) = fields.get("timestamp") {
            let millis = crate::normalize::parse_timestamp(text, offset).map_err(|m| invalid_field("timestamp", m))?;
            fields.insert("timestamp".into(), millis.into());
        }
        // Read in place, no copy of the fields: this runs on every `ingest_one`.
        let error = match Touchpoint::deserialize(&value) {
            Ok(touchpoint) => {
                if let Some(at) = touchpoint.timestamp {
                    crate::normalize::check_timestamp(at).map_err(|m| invalid_field("timestamp", m))?;
                }
                return Ok(touchpoint);
            }
            Err(e) => e.to_string(),
        };
        // Each field on its own, to name the one the error is about.
        if let Some(fields) = value.as_object() {
            for (name, field) in fields {
                let single = serde_json::Value::Object([(name.clone(), field.clone())].into_iter().collect());
                if let Err(e) = Touchpoint::deserialize(&single) {
                    return Err(invalid_field(name, e.to_string()));
                }
            }
        }
        Err(invalid_field("touchpoint", error))
    }

    /// A touchpoint with only an id.
    pub fn new(touchpoint_id: impl Into<Text>) -> Self {
        Touchpoint { touchpoint_id: touchpoint_id.into(), ..Touchpoint::default() }
    }

    /// The value of a standard text column by name (`email`, `full_name`, …), or of a custom
    /// attribute; `None` when absent. `timestamp`, `amount` and `channel` are not text and
    /// return `None` here.
    pub fn text(&self, column: &str) -> Option<&str> {
        let value = match column {
            "touchpoint_id" => return Some(&self.touchpoint_id),
            "source" => &self.source,
            "event_type" => &self.event_type,
            "email" => &self.email,
            "phone" => &self.phone,
            "cookie_id" => &self.cookie_id,
            "device_id" => &self.device_id,
            "social_id" => &self.social_id,
            "loyalty_id" => &self.loyalty_id,
            "customer_id" => &self.customer_id,
            "full_name" => &self.full_name,
            "date_of_birth" => &self.date_of_birth,
            "gender" => &self.gender,
            "address" => &self.address,
            "city" => &self.city,
            "currency" => &self.currency,
            other => return self.attributes.get(other).map(Text::as_str),
        };
        value.as_deref()
    }

    /// The raw value of an identifier kind: its standard column, or for a declared kind its
    /// entry in `identifiers`. A direct field access, for the per-touchpoint hot path.
    pub fn identifier(&self, kind: &IdKind) -> Option<&str> {
        let value = match kind {
            IdKind::Email => &self.email,
            IdKind::Phone => &self.phone,
            IdKind::CustomerId => &self.customer_id,
            IdKind::LoyaltyId => &self.loyalty_id,
            IdKind::SocialId => &self.social_id,
            IdKind::DeviceId => &self.device_id,
            IdKind::CookieId => &self.cookie_id,
            IdKind::Custom(name) => return self.identifiers.get(name.as_str()).map(Text::as_str),
        };
        value.as_deref()
    }

    /// Every standard text column with its value, present or not, by direct field access.
    pub(crate) fn standard_texts(&self) -> [(&'static str, Option<&Text>); 16] {
        [
            ("touchpoint_id", Some(&self.touchpoint_id)),
            ("source", self.source.as_ref()),
            ("event_type", self.event_type.as_ref()),
            ("email", self.email.as_ref()),
            ("phone", self.phone.as_ref()),
            ("cookie_id", self.cookie_id.as_ref()),
            ("device_id", self.device_id.as_ref()),
            ("social_id", self.social_id.as_ref()),
            ("loyalty_id", self.loyalty_id.as_ref()),
            ("customer_id", self.customer_id.as_ref()),
            ("full_name", self.full_name.as_ref()),
            ("date_of_birth", self.date_of_birth.as_ref()),
            ("gender", self.gender.as_ref()),
            ("address", self.address.as_ref()),
            ("city", self.city.as_ref()),
            ("currency", self.currency.as_ref()),
        ]
    }

    /// A mutable slot for a standard text column by name; `None` for the id, the typed columns
    /// (`channel`, `timestamp`, `amount`) and names outside the standard schema.
    pub(crate) fn text_slot(&mut self, column: &str) -> Option<&mut Option<Text>> {
        Some(match column {
            "source" => &mut self.source,
            "event_type" => &mut self.event_type,
            "email" => &mut self.email,
            "phone" => &mut self.phone,
            "cookie_id" => &mut self.cookie_id,
            "device_id" => &mut self.device_id,
            "social_id" => &mut self.social_id,
            "loyalty_id" => &mut self.loyalty_id,
            "customer_id" => &mut self.customer_id,
            "full_name" => &mut self.full_name,
            "date_of_birth" => &mut self.date_of_birth,
            "gender" => &mut self.gender,
            "address" => &mut self.address,
            "city" => &mut self.city,
            "currency" => &mut self.currency,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_unknown_fields_rejected() {
        let tp = Touchpoint {
            touchpoint_id: "t1".into(),
            channel: Some(Channel::Store),
            amount: Some(120_000.0),
            attributes: [("store_code".into(), "HN01".into())].into(),
            ..Touchpoint::default()
        };
        let json = serde_json::to_string(&tp).unwrap();
        assert_eq!(serde_json::from_str::<Touchpoint>(&json).unwrap(), tp);
        let err = serde_json::from_str::<Touchpoint>(r#"{"touchpoint_id":"t","emial":"x"}"#);
        assert!(err.unwrap_err().to_string().contains("emial"));
    }

    #[test]
    fn text_reads_standard_and_custom_columns() {
        let mut tp = Touchpoint::new("t1");
        *tp.text_slot("email").unwrap() = Some("a@b.vn".into());
        tp.attributes.insert("tier".into(), "gold".into());
        assert_eq!(tp.text("email"), Some("a@b.vn"));
        assert_eq!(tp.text("tier"), Some("gold"));
        assert_eq!(tp.text("phone"), None);
        assert!(tp.text_slot("timestamp").is_none());
    }
}

//! Identifiers: the strong keys (email, phone, ids) that link touchpoints of one person.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Text;

/// The kind of an identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    /// An email address (canonical form).
    Email,
    /// A phone number (E.164).
    Phone,
    /// A customer id from a source system (CRM, e-shop account), scoped by source.
    CustomerId,
    /// A loyalty card or membership number.
    LoyaltyId,
    /// A social platform id, scoped by platform and page or app (Facebook page-scoped ids, Zalo
    /// OA-scoped ids).
    SocialId,
    /// A device id (mobile advertising id, app install id).
    DeviceId,
    /// A web cookie id.
    CookieId,
    /// A kind declared in the config (`identifiers` section), by its name.
    Custom(Text),
}

impl IdKind {
    /// The built-in kinds, strongest first.
    pub const BUILT_IN: [IdKind; 7] = [
        IdKind::CustomerId,
        IdKind::LoyaltyId,
        IdKind::Email,
        IdKind::Phone,
        IdKind::SocialId,
        IdKind::DeviceId,
        IdKind::CookieId,
    ];

    /// The kind's name: the standard column it comes from (`email`, `customer_id`, …).
    pub fn as_str(&self) -> &str {
        match self {
            IdKind::Email => "email",
            IdKind::Phone => "phone",
            IdKind::CustomerId => "customer_id",
            IdKind::LoyaltyId => "loyalty_id",
            IdKind::SocialId => "social_id",
            IdKind::DeviceId => "device_id",
            IdKind::CookieId => "cookie_id",
            IdKind::Custom(name) => name,
        }
    }
}

impl FromStr for IdKind {
    type Err = std::convert::Infallible;

    /// Reads a kind name; names that are not built in become [`IdKind::Custom`].
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let name = raw.trim().to_ascii_lowercase();
        Ok(match name.as_str() {
            "email" => IdKind::Email,
            "phone" => IdKind::Phone,
            "customer_id" => IdKind::CustomerId,
            "loyalty_id" => IdKind::LoyaltyId,
            "social_id" => IdKind::SocialId,
            "device_id" => IdKind::DeviceId,
            "cookie_id" => IdKind::CookieId,
            _ => IdKind::Custom(name.into()),
        })
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IdKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let Ok(kind) = raw.parse();
        Ok(kind)
    }
}

/// One normalized identifier: its kind, its scope where ids are only unique within one (the
/// source system for customer ids, the platform and page for social ids), and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifier {
    /// What kind of key this is.
    pub kind: IdKind,
    /// Where the value is unique, if not everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Text>,
    /// The normalized value (canonical email, E.164 phone, trimmed id).
    pub value: Text,
}

impl Identifier {
    /// An identifier with no scope.
    pub fn new(kind: IdKind, value: impl Into<Text>) -> Self {
        Identifier { kind, scope: None, value: value.into() }
    }

    /// An identifier unique only within `scope`.
    pub fn scoped(kind: IdKind, scope: impl Into<Text>, value: impl Into<Text>) -> Self {
        Identifier { kind, scope: Some(scope.into()), value: value.into() }
    }
}

impl fmt::Display for Identifier {
    /// `email:an@gmail.com`, `customer_id[web]:C-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Some(scope) => write!(f, "{}[{}]:{}", self.kind, scope, self.value),
            None => write!(f, "{}:{}", self.kind, self.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_names() {
        for kind in IdKind::BUILT_IN {
            assert_eq!(kind.as_str().parse(), Ok(kind.clone()));
        }
        assert_eq!("Membership_No".parse(), Ok(IdKind::Custom("membership_no".into())));
    }

    #[test]
    fn display_shows_scope() {
        assert_eq!(Identifier::new(IdKind::Email, "a@b.vn").to_string(), "email:a@b.vn");
        assert_eq!(
            Identifier::scoped(IdKind::SocialId, "facebook:page1", "123").to_string(),
            "social_id[facebook:page1]:123"
        );
    }
}

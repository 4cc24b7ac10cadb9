//! The channel a touchpoint came through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Text;

/// The channel a touchpoint came through. Unknown channels are kept as [`Channel::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A physical store (till, POS).
    Store,
    /// The website.
    Web,
    /// Email (sends, opens, clicks).
    Email,
    /// Social messaging (Facebook, Zalo, Instagram, TikTok).
    Social,
    /// A marketplace (Shopee, Lazada, Tiki).
    Marketplace,
    /// The hotline or call center.
    CallCenter,
    /// The mobile app.
    App,
    /// Any other channel, by its name (lowercased).
    Other(Text),
}

impl Channel {
    /// The channel's name as written in data: `store`, `web`, …, `call_center`, or the other name.
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Store => "store",
            Channel::Web => "web",
            Channel::Email => "email",
            Channel::Social => "social",
            Channel::Marketplace => "marketplace",
            Channel::CallCenter => "call_center",
            Channel::App => "app",
            Channel::Other(name) => name,
        }
    }
}

impl FromStr for Channel {
    type Err = std::convert::Infallible;

    /// Reads a channel name, case-insensitively, accepting `-` or a space for `_` and a few
    /// common synonyms (`pos` → store, `hotline` → call_center, `mobile_app` → app).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let name = raw.trim().to_lowercase().replace(['-', ' '], "_");
        Ok(match name.as_str() {
            "store" | "pos" | "offline" | "retail" => Channel::Store,
            "web" | "website" | "online" | "ecommerce" => Channel::Web,
            "email" | "e_mail" | "mail" => Channel::Email,
            "social" | "facebook" | "zalo" | "messenger" => Channel::Social,
            "marketplace" | "shopee" | "lazada" | "tiki" | "tiktok_shop" => Channel::Marketplace,
            "call_center" | "callcenter" | "hotline" | "phone_call" => Channel::CallCenter,
            "app" | "mobile_app" | "mobile" => Channel::App,
            _ => Channel::Other(name.into()),
        })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let Ok(channel) = raw.parse();
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::Channel;

    #[test]
    fn names_and_synonyms() {
        assert_eq!("Store".parse(), Ok(Channel::Store));
        assert_eq!("call-center".parse(), Ok(Channel::CallCenter));
        assert_eq!("Hotline".parse(), Ok(Channel::CallCenter));
        assert_eq!("Shopee".parse(), Ok(Channel::Marketplace));
        assert_eq!("kiosk".parse::<Channel>().map(|c| c.to_string()), Ok("kiosk".to_string()));
    }

    #[test]
    fn serde_as_strings() {
        let json = serde_json::to_string(&Channel::CallCenter).unwrap();
        assert_eq!(json, "\"call_center\"");
        assert_eq!(serde_json::from_str::<Channel>("\"APP\"").unwrap(), Channel::App);
    }
}

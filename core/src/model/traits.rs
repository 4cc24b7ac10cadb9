//! What a profile's touchpoints add up to: computed traits, the journey, the cart and consent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Text;

/// Recency, frequency and monetary value, with scores 1–5 by quintile over all buyers (5 is
/// the most recent, most frequent, highest spending fifth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rfm {
    /// Days from the last purchase to the traits' `as_of` time.
    pub recency_days: f64,
    /// Number of purchases.
    pub frequency: u32,
    /// Sum of the purchases' amounts.
    pub monetary: f64,
    /// Recency score, 1–5.
    pub recency_score: u8,
    /// Frequency score, 1–5.
    pub frequency_score: u8,
    /// Monetary score, 1–5.
    pub monetary_score: u8,
}

/// A stage of the customer journey ("messy middle" model).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JourneyStage {
    /// Seen only through ads, social or email.
    #[default]
    Exposure,
    /// Views, searches, logins, questions.
    Exploration,
    /// Carts, comparisons, wish lists, checkouts started.
    Evaluation,
    /// One purchase.
    Purchase,
    /// Two purchases or more.
    Repeat,
    /// At least `loyal_after_orders` purchases.
    Loyal,
    /// A buyer whose last purchase is older than `lapsed_after_days`.
    Lapsed,
}

impl JourneyStage {
    /// The stage's name as written in data.
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyStage::Exposure => "exposure",
            JourneyStage::Exploration => "exploration",
            JourneyStage::Evaluation => "evaluation",
            JourneyStage::Purchase => "purchase",
            JourneyStage::Repeat => "repeat",
            JourneyStage::Loyal => "loyal",
            JourneyStage::Lapsed => "lapsed",
        }
    }

    /// Every stage, in funnel order.
    pub const ALL: [JourneyStage; 7] = [
        JourneyStage::Exposure,
        JourneyStage::Exploration,
        JourneyStage::Evaluation,
        JourneyStage::Purchase,
        JourneyStage::Repeat,
        JourneyStage::Loyal,
        JourneyStage::Lapsed,
    ];
}

/// When a profile reached a stage, and the touchpoint that took it there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTransition {
    /// The stage reached.
    pub stage: JourneyStage,
    /// When (epoch ms); for `lapsed`, the last purchase plus the lapse window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// The touchpoint that took it there (the last purchase, for `lapsed`).
    pub touchpoint_id: Text,
}

/// The journey: the stage now and each stage's first arrival, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    /// The current stage.
    pub stage: JourneyStage,
    /// Each stage reached, in the order reached.
    pub transitions: Vec<StageTransition>,
}

/// One item in a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartItem {
    /// The item's SKU.
    pub sku: Text,
    /// How many are in the cart.
    pub quantity: i64,
    /// When it was last added (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<i64>,
    /// The channel it was last added on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Text>,
    /// The touchpoint that last added it.
    pub touchpoint_id: Text,
}

/// An `add_to_cart` that no purchase followed within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbandonedCart {
    /// The `add_to_cart` touchpoint (the latest abandoned one).
    pub touchpoint_id: Text,
    /// When it happened (epoch ms).
    pub at: i64,
    /// Its channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Text>,
    /// What was in the cart then (from the cart events up to it).
    pub items: Vec<CartItem>,
}

/// The value of a user-defined trait: a number (count, sum, min, max, distinct) or text
/// (first, last); `None` when no event matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraitValue {
    /// A numeric aggregate.
    Number(f64),
    /// A text aggregate.
    Text(String),
}

/// The computed traits of a profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Traits {
    /// The time the time-dependent traits were computed at (epoch ms; `None` when no
    /// touchpoint has a timestamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<i64>,
    /// Number of purchases.
    pub orders: u32,
    /// Sum of the purchases' amounts.
    pub revenue: f64,
    /// Revenue per purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_order_value: Option<f64>,
    /// The first purchase's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_purchase: Option<i64>,
    /// The last purchase's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_purchase: Option<i64>,
    /// RFM, for buyers with timed purchases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfm: Option<Rfm>,
    /// Purchases per channel.
    pub purchases_by_channel: BTreeMap<Text, u32>,
    /// Touchpoints per channel.
    pub interactions_by_channel: BTreeMap<Text, u32>,
    /// The channel with most touchpoints (ties: the most recent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Text>,
    /// The channel with most purchases (ties: the most recent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_purchase_channel: Option<Text>,
    /// The channel of the latest touchpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_channel: Option<Text>,
    /// Devices seen: device ids, and web cookies as `cookie:<id>`, sorted.
    pub devices: Vec<Text>,
    /// Bought both offline (a store) and online.
    pub omnichannel_buyer: bool,
    /// The journey stage and its history.
    pub journey: Journey,
    /// The latest abandoned cart, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_cart: Option<AbandonedCart>,
    /// What is in the cart now, across devices and channels, by SKU.
    pub cart: Vec<CartItem>,
    /// User-defined traits by name.
    pub custom: BTreeMap<String, Option<TraitValue>>,
}

/// The latest consent event for one purpose on one contact channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// The purpose (`marketing`, `analytics`, `personalization`, or `all`).
    pub purpose: Text,
    /// The contact channel (`email`, `sms`, `zalo`, `phone`, or `all`).
    pub channel: Text,
    /// Whether it is granted (else withdrawn).
    pub granted: bool,
    /// The event that decided it.
    pub event_type: Text,
    /// Its touchpoint.
    pub touchpoint_id: Text,
    /// Its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Text>,
    /// Its time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

impl Consent {
    /// The order consent events are decided in: timed events after untimed ones, then by time;
    /// at the same time a withdrawal wins, then the larger touchpoint id.
    pub(crate) fn rank(&self) -> (bool, Option<i64>, bool, &str) {
        (self.timestamp.is_some(), self.timestamp, !self.granted, self.touchpoint_id.as_str())
    }
}

/// Whether consent for `purpose` on `channel` (both lowercase) is granted: the latest event
/// for the pair, for the purpose on `all` channels, or for `all` purposes, decides. `None`
/// when none says.
pub(crate) fn consent_for(consent: &[Consent], purpose: &str, channel: &str) -> Option<bool> {
    consent
        .iter()
        .filter(|c| (c.purpose == purpose || c.purpose == "all") && (c.channel == channel || c.channel == "all"))
        .max_by(|a, b| a.rank().cmp(&b.rank()))
        .map(|c| c.granted)
}

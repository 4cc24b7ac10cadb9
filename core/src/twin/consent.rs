//! Consent per purpose and contact channel, from the touchpoints that grant or withdraw it:
//! the latest event wins, and it is kept as the provenance.

use std::collections::BTreeMap;

use super::settings::TwinRules;
use crate::model::{Channel, Consent, Text, Touchpoint};

/// The order consent events are decided in: timed events after untimed ones, then by time;
/// at the same time a withdrawal wins, then the larger touchpoint id.
fn rank(c: &Consent) -> (bool, Option<i64>, bool, &str) {
    (c.timestamp.is_some(), c.timestamp, !c.granted, c.touchpoint_id.as_str())
}

/// A custom attribute, trimmed and lowercased, when present and not empty.
fn attribute(tp: &Touchpoint, name: &str) -> Option<Text> {
    tp.attributes.get(name).map(|v| Text::from(v.trim().to_lowercase())).filter(|v| !v.is_empty())
}

/// The latest consent event for each (purpose, channel) the touchpoints speak of, sorted.
pub(crate) fn compute(tps: &[&Touchpoint], twin: &TwinRules) -> Vec<Consent> {
    let settings = &twin.consent;
    let mut latest: BTreeMap<(Text, Text), Consent> = BTreeMap::new();
    for tp in tps {
        let Some(granted) = twin.consent_verdict(tp.event_type.as_deref()) else { continue };
        let purpose = attribute(tp, &settings.purpose_attribute)
            .unwrap_or_else(|| settings.default_purpose.trim().to_lowercase().into());
        let channel = attribute(tp, &settings.channel_attribute)
            .unwrap_or_else(|| Text::from(if tp.channel == Some(Channel::Email) { "email" } else { "all" }));
        let event = Consent {
            purpose: purpose.clone(),
            channel: channel.clone(),
            granted,
            event_type: tp.event_type.as_deref().unwrap_or_default().trim().to_lowercase().into(),
            touchpoint_id: tp.touchpoint_id.clone(),
            source: tp.source.clone(),
            timestamp: tp.timestamp,
        };
        match latest.get(&(purpose.clone(), channel.clone())) {
            Some(held) if rank(held) >= rank(&event) => {}
            _ => {
                latest.insert((purpose, channel), event);
            }
        }
    }
    latest.into_values().collect()
}

/// Whether consent for `purpose` on `channel` (both lowercase) is granted: the latest event
/// for the pair, for the purpose on `all` channels, or for `all` purposes, decides. `None`
/// when none says.
pub(crate) fn consent_for(consent: &[Consent], purpose: &str, channel: &str) -> Option<bool> {
    consent
        .iter()
        .filter(|c| (c.purpose == purpose || c.purpose == "all") && (c.channel == channel || c.channel == "all"))
        .max_by(|a, b| rank(a).cmp(&rank(b)))
        .map(|c| c.granted)
}

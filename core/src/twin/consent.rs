//! Consent per purpose and contact channel, from the touchpoints that grant or withdraw it:
//! the latest event wins, and it is kept as the provenance.

use std::collections::BTreeMap;

use super::settings::TwinRules;
use crate::model::{Channel, Consent, Text, Touchpoint};

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
            Some(held) if held.rank() >= event.rank() => {}
            _ => {
                latest.insert((purpose, channel), event);
            }
        }
    }
    latest.into_values().collect()
}

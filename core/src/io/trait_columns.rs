//! The profiles frame's columns for the twin: traits, journey, cart, consent, segments and
//! user-defined traits, flat (one value per cell) so DataFrames filter and group on them.

use polars::prelude::*;

use super::frame::{datetime_column, list_column, text_column, ListStyle};
use crate::config::Rules;
use crate::model::{Profile, TraitValue};

fn float_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Float64Chunked::from_iter_options(name.into(), values).into_column()
}

fn count_column(name: &str, values: impl Iterator<Item = Option<u32>>) -> Column {
    UInt32Chunked::from_iter_options(name.into(), values).into_column()
}

fn bool_column(name: &str, values: impl Iterator<Item = bool>) -> Column {
    BooleanChunked::from_iter_values(name.into(), values).into_column()
}

/// The twin columns of a chunk of profiles; the same columns for every chunk (user-defined
/// traits come from the config, consent as `purpose:channel` lists).
pub(crate) fn trait_columns(profiles: &[&Profile], rules: &Rules, style: ListStyle) -> Vec<Column> {
    let t = || profiles.iter().map(|p| &p.traits);
    let rfm = || t().map(|t| t.rfm.as_ref());
    let text = |name: &str, f: fn(&crate::model::Traits) -> Option<&str>| text_column(name, t().map(f));
    let consent_pairs = |granted: bool| -> Vec<Vec<String>> {
        profiles
            .iter()
            .map(|p| {
                p.consent
                    .iter()
                    .filter(|c| c.granted == granted)
                    .map(|c| format!("{}:{}", c.purpose, c.channel))
                    .collect()
            })
            .collect()
    };
    let (granted, withdrawn) = (consent_pairs(true), consent_pairs(false));
    let mut columns = vec![
        count_column("orders", t().map(|t| Some(t.orders))),
        float_column("revenue", t().map(|t| Some(t.revenue))),
        float_column("average_order_value", t().map(|t| t.average_order_value)),
        datetime_column("first_purchase", t().map(|t| t.first_purchase)),
        datetime_column("last_purchase", t().map(|t| t.last_purchase)),
        float_column("rfm_recency_days", rfm().map(|r| r.map(|r| r.recency_days))),
        count_column("rfm_recency_score", rfm().map(|r| r.map(|r| u32::from(r.recency_score)))),
        count_column("rfm_frequency_score", rfm().map(|r| r.map(|r| u32::from(r.frequency_score)))),
        count_column("rfm_monetary_score", rfm().map(|r| r.map(|r| u32::from(r.monetary_score)))),
        text("preferred_channel", |t| t.preferred_channel.as_deref()),
        text("preferred_purchase_channel", |t| t.preferred_purchase_channel.as_deref()),
        text("last_channel", |t| t.last_channel.as_deref()),
        count_column("device_count", t().map(|t| Some(t.devices.len() as u32))),
        bool_column("omnichannel_buyer", t().map(|t| t.omnichannel_buyer)),
        text("journey_stage", |t| Some(t.journey.stage.as_str())),
        datetime_column("abandoned_cart_at", t().map(|t| t.abandoned_cart.as_ref().map(|c| c.at))),
        count_column("cart_items", t().map(|t| Some(t.cart.len() as u32))),
        list_column("cart_skus", style, t().map(|t| t.cart.iter().map(|i| i.sku.as_str()).collect())),
        list_column("consent_granted", style, granted.iter().map(|r| r.iter().map(String::as_str).collect())),
        list_column("consent_withdrawn", style, withdrawn.iter().map(|r| r.iter().map(String::as_str).collect())),
        list_column("segments", style, profiles.iter().map(|p| p.segments.iter().map(String::as_str).collect())),
    ];
    for (name, custom) in &rules.twin.custom {
        let column = format!("trait_{name}");
        let value = |p: &&Profile| p.traits.custom.get(name).cloned().flatten();
        columns.push(if custom.aggregate.is_numeric() {
            float_column(
                &column,
                profiles.iter().map(|p| match value(p) {
                    Some(TraitValue::Number(n)) => Some(n),
                    _ => None,
                }),
            )
        } else {
            let values: Vec<Option<String>> = profiles
                .iter()
                .map(|p| match value(p) {
                    Some(TraitValue::Text(s)) => Some(s),
                    _ => None,
                })
                .collect();
            text_column(&column, values.iter().map(|v| v.as_deref()))
        });
    }
    columns
}

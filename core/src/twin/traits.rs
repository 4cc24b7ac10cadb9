//! Computed traits: what a profile's touchpoints add up to (orders, RFM, channel mix, devices,
//! journey, carts, user-defined aggregates). A pure function of the touchpoints, the settings
//! and the context (`as_of`, the RFM scale), so a live engine and a batch agree.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::rfm::RfmScale;
use super::settings::{lower, Aggregate, CustomTrait, EventClass, TwinRules};
use crate::model::{
    AbandonedCart, CartItem, Journey, JourneyStage, Rfm, StageTransition, Text, Touchpoint, TraitValue, Traits,
};

const DAY_MS: f64 = 86_400_000.0;

/// What time-dependent traits are computed against.
#[derive(Debug, Clone, Default)]
pub(crate) struct TwinContext {
    /// The time traits are computed at.
    pub as_of: Option<i64>,
    /// RFM breakpoints.
    pub scale: std::sync::Arc<RfmScale>,
}

/// Touchpoints in time order (untimed last), ties by id: the order every trait reads them in.
pub(crate) fn in_time_order<'a>(tps: &[&'a Touchpoint]) -> Vec<&'a Touchpoint> {
    let mut sorted = tps.to_vec();
    sorted.sort_by(|a, b| {
        (a.timestamp.is_none(), a.timestamp, &a.touchpoint_id).cmp(&(
            b.timestamp.is_none(),
            b.timestamp,
            &b.touchpoint_id,
        ))
    });
    sorted
}

/// A buyer's (last purchase time, purchases, revenue), when they have a timed purchase: what
/// the RFM scale is computed over.
pub(crate) fn buyer_values<'a>(tps: impl Iterator<Item = &'a Touchpoint>, twin: &TwinRules) -> Option<(i64, u32, f64)> {
    let (mut last, mut orders, mut revenue) = (None::<i64>, 0u32, 0.0);
    for tp in tps.filter(|tp| twin.class(tp.event_type.as_deref()) == EventClass::Purchase) {
        orders += 1;
        revenue += tp.amount.filter(|a| a.is_finite()).unwrap_or(0.0);
        last = last.max(tp.timestamp);
    }
    last.map(|last| (last, orders, revenue))
}

fn channel_name(tp: &Touchpoint) -> Option<&str> {
    tp.channel.as_ref().map(|c| c.as_str())
}

/// The channel with the highest count; ties go to the one seen most recently (the later
/// position in time order).
fn preferred(counts: &FxHashMap<&str, (u32, usize)>) -> Option<Text> {
    counts.iter().max_by_key(|(_, &(count, last))| (count, last)).map(|(name, _)| Text::from(*name))
}

/// A cart event's quantity attribute as a whole number (`None` when absent or not a number).
fn quantity(tp: &Touchpoint, twin: &TwinRules) -> Option<i64> {
    let raw = tp.attributes.get(twin.cart.quantity.as_str())?;
    let value: f64 = raw.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value.round() as i64)
}

fn sku(tp: &Touchpoint, twin: &TwinRules) -> Option<Text> {
    tp.attributes.get(twin.cart.sku.as_str()).map(|s| s.trim()).filter(|s| !s.is_empty()).map(Text::from)
}

/// The cart as events change it.
#[derive(Default)]
struct Cart {
    items: BTreeMap<Text, CartItem>,
}

impl Cart {
    fn add(&mut self, tp: &Touchpoint, twin: &TwinRules) {
        let Some(sku) = sku(tp, twin) else { return };
        let added = quantity(tp, twin).unwrap_or(1);
        let item = self.items.entry(sku.clone()).or_insert_with(|| CartItem {
            sku: sku.clone(),
            quantity: 0,
            added_at: None,
            channel: None,
            touchpoint_id: Text::default(),
        });
        item.quantity = item.quantity.saturating_add(added);
        item.added_at = tp.timestamp;
        item.channel = channel_name(tp).map(Text::from);
        item.touchpoint_id = tp.touchpoint_id.clone();
        if item.quantity <= 0 {
            self.items.remove(&sku);
        }
    }

    /// Removes what an event names (all of the SKU without a quantity); with no SKU, a
    /// purchase takes the whole cart and a removal nothing.
    fn take(&mut self, tp: &Touchpoint, twin: &TwinRules, whole_without_sku: bool) {
        let Some(sku) = sku(tp, twin) else {
            if whole_without_sku {
                self.items.clear();
            }
            return;
        };
        match quantity(tp, twin) {
            Some(q) => {
                if let Some(item) = self.items.get_mut(&sku) {
                    item.quantity = item.quantity.saturating_sub(q);
                    if item.quantity <= 0 {
                        self.items.remove(&sku);
                    }
                }
            }
            None => {
                self.items.remove(&sku);
            }
        }
    }

    fn snapshot(&self) -> Vec<CartItem> {
        self.items.values().cloned().collect()
    }
}

/// The traits of one profile from its touchpoints.
pub(crate) fn compute(tps: &[&Touchpoint], twin: &TwinRules, ctx: &TwinContext) -> Traits {
    let events = in_time_order(tps);
    let classes: Vec<EventClass> = events.iter().map(|tp| twin.class(tp.event_type.as_deref())).collect();
    let mut traits = Traits { as_of: ctx.as_of, ..Traits::default() };

    // Orders, channels, devices (counted under borrowed names; owned once at the end).
    let mut interactions: FxHashMap<&str, (u32, usize)> = FxHashMap::default();
    let mut purchases: FxHashMap<&str, (u32, usize)> = FxHashMap::default();
    let mut last_channel: Option<&str> = None;
    let (mut offline_buy, mut online_buy) = (false, false);
    for (i, (tp, class)) in events.iter().zip(&classes).enumerate() {
        let channel = channel_name(tp);
        if let Some(channel) = channel {
            let seen = interactions.entry(channel).or_default();
            *seen = (seen.0 + 1, i);
            last_channel = Some(channel);
        }
        if *class == EventClass::Purchase {
            traits.orders += 1;
            traits.revenue += tp.amount.filter(|a| a.is_finite()).unwrap_or(0.0);
            if tp.timestamp.is_some() {
                traits.first_purchase = traits.first_purchase.or(tp.timestamp);
                traits.last_purchase = tp.timestamp;
            }
            if let Some(channel) = channel {
                let seen = purchases.entry(channel).or_default();
                *seen = (seen.0 + 1, i);
                if twin.offline.contains(channel) {
                    offline_buy = true;
                } else {
                    online_buy = true;
                }
            }
        }
        if let Some(device) = tp.device_id.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            if !traits.devices.iter().any(|d| d == device) {
                traits.devices.push(device.into());
            }
        }
        if let Some(cookie) = tp.cookie_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let known = traits.devices.iter().any(|d| d.strip_prefix("cookie:") == Some(cookie));
            if !known {
                traits.devices.push(format!("cookie:{cookie}").into());
            }
        }
    }
    traits.last_channel = last_channel.map(Text::from);
    traits.preferred_channel = preferred(&interactions);
    traits.preferred_purchase_channel = preferred(&purchases);
    traits.interactions_by_channel = interactions.iter().map(|(k, v)| (Text::from(*k), v.0)).collect();
    traits.purchases_by_channel = purchases.iter().map(|(k, v)| (Text::from(*k), v.0)).collect();
    traits.devices.sort_unstable();
    traits.devices.dedup();
    traits.omnichannel_buyer = offline_buy && online_buy;
    if traits.orders > 0 {
        traits.average_order_value = Some(traits.revenue / f64::from(traits.orders));
    }
    if let (Some(last), Some(as_of)) = (traits.last_purchase, ctx.as_of) {
        let (recency_score, frequency_score, monetary_score) = ctx.scale.scores(last, traits.orders, traits.revenue);
        traits.rfm = Some(Rfm {
            recency_days: (as_of.saturating_sub(last) as f64 / DAY_MS).max(0.0),
            frequency: traits.orders,
            monetary: traits.revenue,
            recency_score,
            frequency_score,
            monetary_score,
        });
    }

    traits.journey = journey(&events, &classes, twin, traits.last_purchase, ctx.as_of);
    let (cart, abandoned) = carts(&events, &classes, twin, ctx.as_of);
    traits.cart = cart;
    traits.abandoned_cart = abandoned;
    traits.custom = twin.custom.iter().map(|(name, t)| (name.clone(), custom(&events, t, ctx.as_of))).collect();
    traits
}

/// The funnel stage an event takes a profile to, given how many purchases it makes.
fn stage_of(class: EventClass, orders: u32, twin: &TwinRules) -> JourneyStage {
    match class {
        EventClass::Purchase if orders >= twin.loyal_after_orders => JourneyStage::Loyal,
        EventClass::Purchase if orders >= 2 => JourneyStage::Repeat,
        EventClass::Purchase => JourneyStage::Purchase,
        EventClass::AddToCart | EventClass::RemoveFromCart | EventClass::Evaluation => JourneyStage::Evaluation,
        EventClass::Exploration => JourneyStage::Exploration,
        EventClass::Other => JourneyStage::Exposure,
    }
}

/// The journey: forward moves through the funnel, then `lapsed` when the last purchase is
/// older than the window at `as_of`.
fn journey(
    events: &[&Touchpoint],
    classes: &[EventClass],
    twin: &TwinRules,
    last_purchase: Option<i64>,
    as_of: Option<i64>,
) -> Journey {
    let mut transitions: Vec<StageTransition> = Vec::new();
    let mut orders = 0;
    let mut last_purchase_tp: Option<&Touchpoint> = None;
    for (tp, &class) in events.iter().zip(classes) {
        if class == EventClass::Purchase {
            orders += 1;
            if tp.timestamp.is_some() {
                last_purchase_tp = Some(tp);
            }
        }
        let stage = stage_of(class, orders, twin);
        if transitions.last().is_none_or(|t| stage > t.stage) {
            transitions.push(StageTransition { stage, at: tp.timestamp, touchpoint_id: tp.touchpoint_id.clone() });
        }
    }
    if let (Some(last), Some(as_of), Some(tp)) = (last_purchase, as_of, last_purchase_tp) {
        let lapsed_at = last.saturating_add(twin.lapsed_after_ms);
        if lapsed_at <= as_of {
            transitions.push(StageTransition {
                stage: JourneyStage::Lapsed,
                at: Some(lapsed_at),
                touchpoint_id: tp.touchpoint_id.clone(),
            });
        }
    }
    Journey { stage: transitions.last().map_or(JourneyStage::Exposure, |t| t.stage), transitions }
}

/// The cart now, and the latest `add_to_cart` if no purchase followed it within the window
/// (which has passed by `as_of`).
fn carts(
    events: &[&Touchpoint],
    classes: &[EventClass],
    twin: &TwinRules,
    as_of: Option<i64>,
) -> (Vec<CartItem>, Option<AbandonedCart>) {
    let mut cart = Cart::default();
    let mut latest_add: Option<(usize, Vec<CartItem>)> = None;
    for (i, (tp, &class)) in events.iter().zip(classes).enumerate() {
        match class {
            EventClass::AddToCart => {
                cart.add(tp, twin);
                if tp.timestamp.is_some() {
                    latest_add = Some((i, cart.snapshot()));
                }
            }
            EventClass::RemoveFromCart => cart.take(tp, twin, false),
            EventClass::Purchase => cart.take(tp, twin, true),
            _ => {}
        }
    }
    let abandoned = latest_add.and_then(|(i, items)| {
        let tp = events[i];
        let at = tp.timestamp?;
        let deadline = at.saturating_add(twin.abandoned_after_ms);
        let bought = events
            .iter()
            .zip(classes)
            .any(|(e, &c)| c == EventClass::Purchase && e.timestamp.is_some_and(|t| t >= at && t <= deadline));
        let elapsed = as_of.is_some_and(|now| deadline <= now);
        (!bought && elapsed).then(|| AbandonedCart {
            touchpoint_id: tp.touchpoint_id.clone(),
            at,
            channel: channel_name(tp).map(Text::from),
            items,
        })
    });
    (cart.snapshot(), abandoned)
}

/// A touchpoint field as text, for `first`/`last`/`distinct`.
fn field_text<'a>(tp: &'a Touchpoint, field: &str) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    match field {
        "amount" => tp.amount.map(|a| Cow::Owned(a.to_string())),
        "timestamp" => tp.timestamp.map(|t| Cow::Owned(t.to_string())),
        "channel" => channel_name(tp).map(Cow::Borrowed),
        "source" => tp.source.as_deref().map(Cow::Borrowed),
        "event_type" => tp.event_type.as_deref().map(|e| lower(e)),
        "currency" => tp.currency.as_deref().map(Cow::Borrowed),
        other => tp.attributes.get(other).map(|v| Cow::Borrowed(v.trim())),
    }
    .filter(|v| !v.is_empty())
}

/// A touchpoint field as a number, for `sum`/`min`/`max`.
fn field_number(tp: &Touchpoint, field: &str) -> Option<f64> {
    match field {
        "amount" => tp.amount,
        "timestamp" => tp.timestamp.map(|t| t as f64),
        other => tp.attributes.get(other).and_then(|v| v.trim().parse().ok()),
    }
    .filter(|v: &f64| v.is_finite())
}

/// A user-defined trait over events in time order.
fn custom(events: &[&Touchpoint], t: &CustomTrait, as_of: Option<i64>) -> Option<TraitValue> {
    let since = match t.within_days {
        Some(days) => Some(as_of?.saturating_sub(i64::from(days) * DAY_MS as i64)),
        None => None,
    };
    let selected = events.iter().filter(|tp| {
        (t.events.is_empty() || tp.event_type.as_deref().map(lower).is_some_and(|e| t.events.iter().any(|x| *x == e)))
            && (t.channels.is_empty() || channel_name(tp).is_some_and(|c| t.channels.iter().any(|x| x == c)))
            && since
                .is_none_or(|since| tp.timestamp.is_some_and(|ts| ts >= since && as_of.is_some_and(|now| ts <= now)))
    });
    let field = t.field.as_deref().unwrap_or("");
    match t.aggregate {
        Aggregate::Count if field.is_empty() => Some(TraitValue::Number(selected.count() as f64)),
        Aggregate::Count => {
            Some(TraitValue::Number(selected.filter(|tp| field_text(tp, field).is_some()).count() as f64))
        }
        Aggregate::Sum => {
            Some(TraitValue::Number(selected.filter_map(|tp| field_number(tp, field)).fold(0.0, |a, b| a + b)))
        }
        Aggregate::Min => {
            selected.filter_map(|tp| field_number(tp, field)).min_by(f64::total_cmp).map(TraitValue::Number)
        }
        Aggregate::Max => {
            selected.filter_map(|tp| field_number(tp, field)).max_by(f64::total_cmp).map(TraitValue::Number)
        }
        Aggregate::First => {
            selected.filter_map(|tp| field_text(tp, field)).next().map(|v| TraitValue::Text(v.into_owned()))
        }
        Aggregate::Last => {
            selected.filter_map(|tp| field_text(tp, field)).next_back().map(|v| TraitValue::Text(v.into_owned()))
        }
        Aggregate::Distinct => {
            let mut values: Vec<String> =
                selected.filter_map(|tp| field_text(tp, field)).map(|v| v.into_owned()).collect();
            values.sort_unstable();
            values.dedup();
            Some(TraitValue::Number(values.len() as f64))
        }
    }
}

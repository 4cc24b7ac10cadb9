//! The omnichannel report: the tables a business looks at across all profiles (channel use,
//! journeys between channels, the stage funnel, revenue by channel and by touch, identity
//! health), computed in parallel from the profiles and their timelines.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::settings::EventClass;
use super::traits::in_time_order;
use super::ResolveReport;
use super::TwinRules;
use crate::model::{JourneyStage, Profile, Touchpoint};

/// Profiles by how many channels they used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCountRow {
    /// Number of distinct channels.
    pub channels: usize,
    /// Profiles that used that many.
    pub profiles: u64,
}

/// How often a customer's next touchpoint came through `to` after one through `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTransition {
    /// The channel of a touchpoint.
    pub from: String,
    /// The channel of the same customer's next touchpoint.
    pub to: String,
    /// How many times.
    pub count: u64,
}

/// One stage of the journey funnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelRow {
    /// The stage.
    pub stage: JourneyStage,
    /// Profiles that reached it at some point.
    pub reached: u64,
    /// Profiles in it now.
    pub current: u64,
}

/// Revenue attributed to a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueRow {
    /// The channel.
    pub channel: String,
    /// Sum of purchase amounts.
    pub revenue: f64,
    /// Number of purchases.
    pub orders: u64,
}

/// Every table of the omnichannel report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OmnichannelReport {
    /// The time traits were computed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<i64>,
    /// Profiles in the report.
    pub profiles: u64,
    /// Profiles by number of channels used (1, 2, …).
    pub customers_by_channel_count: Vec<ChannelCountRow>,
    /// Channel-to-channel transitions of journeys (consecutive timed touchpoints of one
    /// customer), most frequent first.
    pub channel_transitions: Vec<ChannelTransition>,
    /// The journey-stage funnel, in stage order.
    pub funnel: Vec<FunnelRow>,
    /// Revenue by the channel of the purchase, largest first.
    pub revenue_by_channel: Vec<RevenueRow>,
    /// Revenue by the customer's first channel (first touch), largest first.
    pub revenue_by_first_touch: Vec<RevenueRow>,
    /// Revenue by the channel of the touchpoint just before each purchase (its own channel
    /// when none came before), largest first.
    pub revenue_by_last_touch: Vec<RevenueRow>,
    /// Identity health: merges, refused links by reason, quarantined profiles, shared and
    /// blocked identifiers.
    pub identity: ResolveReport,
}

/// Counts of one profile (or of many, summed).
#[derive(Default)]
struct Tally {
    by_channel_count: BTreeMap<usize, u64>,
    transitions: BTreeMap<(String, String), u64>,
    reached: BTreeMap<JourneyStage, u64>,
    current: BTreeMap<JourneyStage, u64>,
    revenue: BTreeMap<String, (f64, u64)>,
    first_touch: BTreeMap<String, (f64, u64)>,
    last_touch: BTreeMap<String, (f64, u64)>,
}

fn add_revenue(map: &mut BTreeMap<String, (f64, u64)>, channel: &str, amount: f64) {
    let entry = map.entry(channel.to_owned()).or_default();
    entry.0 += amount;
    entry.1 += 1;
}

impl Tally {
    fn add(&mut self, profile: &Profile, tps: &[&Touchpoint], twin: &TwinRules) {
        *self.by_channel_count.entry(profile.channels.len()).or_default() += 1;
        let journey = &profile.traits.journey;
        for t in &journey.transitions {
            *self.reached.entry(t.stage).or_default() += 1;
        }
        *self.current.entry(journey.stage).or_default() += 1;
        let events = in_time_order(tps);
        let channel = |tp: &Touchpoint| tp.channel.as_ref().map(|c| c.as_str().to_owned());
        let timed: Vec<&Touchpoint> = events.iter().copied().filter(|tp| tp.timestamp.is_some()).collect();
        for pair in timed.windows(2) {
            if let (Some(from), Some(to)) = (channel(pair[0]), channel(pair[1])) {
                *self.transitions.entry((from, to)).or_default() += 1;
            }
        }
        let first = events.iter().find_map(|tp| channel(tp));
        for (i, tp) in events.iter().enumerate() {
            if twin.class(tp.event_type.as_deref()) != EventClass::Purchase {
                continue;
            }
            let amount = tp.amount.filter(|a| a.is_finite()).unwrap_or(0.0);
            let own = channel(tp).unwrap_or_else(|| "unknown".into());
            add_revenue(&mut self.revenue, &own, amount);
            add_revenue(&mut self.first_touch, first.as_deref().unwrap_or("unknown"), amount);
            let before = events[..i].iter().rev().find_map(|tp| channel(tp)).unwrap_or(own);
            add_revenue(&mut self.last_touch, &before, amount);
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        fn sum<K: Ord>(a: &mut BTreeMap<K, u64>, b: BTreeMap<K, u64>) {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
        }
        fn sum_revenue(a: &mut BTreeMap<String, (f64, u64)>, b: BTreeMap<String, (f64, u64)>) {
            for (k, (r, n)) in b {
                let e = a.entry(k).or_default();
                e.0 += r;
                e.1 += n;
            }
        }
        sum(&mut self.by_channel_count, other.by_channel_count);
        sum(&mut self.transitions, other.transitions);
        sum(&mut self.reached, other.reached);
        sum(&mut self.current, other.current);
        sum_revenue(&mut self.revenue, other.revenue);
        sum_revenue(&mut self.first_touch, other.first_touch);
        sum_revenue(&mut self.last_touch, other.last_touch);
        self
    }
}

fn revenue_rows(map: BTreeMap<String, (f64, u64)>) -> Vec<RevenueRow> {
    let mut rows: Vec<RevenueRow> =
        map.into_iter().map(|(channel, (revenue, orders))| RevenueRow { channel, revenue, orders }).collect();
    rows.sort_by(|a, b| b.revenue.total_cmp(&a.revenue).then_with(|| a.channel.cmp(&b.channel)));
    rows
}

/// The report over profiles, each given with its touchpoints.
pub(crate) fn build<'a>(
    profiles: impl IndexedParallelIterator<Item = (&'a Profile, Vec<&'a Touchpoint>)>,
    twin: &TwinRules,
    identity: ResolveReport,
    as_of: Option<i64>,
) -> OmnichannelReport {
    let total = profiles.len() as u64;
    let tally = profiles
        .fold(Tally::default, |mut tally, (profile, tps)| {
            tally.add(profile, &tps, twin);
            tally
        })
        .reduce(Tally::default, Tally::merge);
    let max_channels = tally.by_channel_count.keys().copied().max().unwrap_or(0);
    let mut transitions: Vec<ChannelTransition> =
        tally.transitions.into_iter().map(|((from, to), count)| ChannelTransition { from, to, count }).collect();
    transitions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to))));
    OmnichannelReport {
        as_of,
        profiles: total,
        customers_by_channel_count: (0..=max_channels)
            .map(|channels| ChannelCountRow {
                channels,
                profiles: tally.by_channel_count.get(&channels).copied().unwrap_or(0),
            })
            .filter(|row| row.channels > 0 || row.profiles > 0)
            .collect(),
        channel_transitions: transitions,
        funnel: JourneyStage::ALL
            .iter()
            .map(|&stage| FunnelRow {
                stage,
                reached: tally.reached.get(&stage).copied().unwrap_or(0),
                current: tally.current.get(&stage).copied().unwrap_or(0),
            })
            .collect(),
        revenue_by_channel: revenue_rows(tally.revenue),
        revenue_by_first_touch: revenue_rows(tally.first_touch),
        revenue_by_last_touch: revenue_rows(tally.last_touch),
        identity,
    }
}

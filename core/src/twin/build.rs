//! Profile assembly: one profile per cluster of the identity graph.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::attributes::observations;
use super::survivorship::{survive, Sighting};
use super::{buyer_values, RfmScale, TwinContext};
use super::{format_profile_id, profile_hash};
use crate::config::Rules;
use crate::graph::Graph;
use crate::model::{IdentifierStatus, Profile, ProfileIdentifier, ProfileStatus, Text, Touchpoint};
use crate::parallel::{CHEAP, HEAVY};
use crate::prepare::split_key;
use crate::progress::Progress;

/// Builds every cluster's profile, in cluster order, under the ids from [`profile_ids`].
pub(crate) fn build_profiles(
    touchpoints: &[Touchpoint],
    graph: &Graph,
    rules: &Rules,
    ids: &[Text],
    ctx: &TwinContext,
    progress: &dyn Progress,
) -> Vec<Profile> {
    progress.stage("profiles", Some(graph.clusters.len() as u64));
    let profiles: Vec<Profile> = (0..graph.clusters.len())
        .into_par_iter()
        .with_min_len(HEAVY)
        .map(|c| build_one(touchpoints, graph, rules, c as u32, &ids[c], ctx))
        .collect();
    progress.advance(profiles.len() as u64);
    profiles
}

/// Builds the profiles of some clusters, in the given order.
pub(crate) fn build_some_profiles(
    touchpoints: &[Touchpoint],
    graph: &Graph,
    rules: &Rules,
    ids: &[Text],
    clusters: &[u32],
    ctx: &TwinContext,
) -> Vec<Profile> {
    clusters
        .par_iter()
        .with_min_len(HEAVY)
        .map(|&c| build_one(touchpoints, graph, rules, c, &ids[c as usize], ctx))
        .collect()
}

/// The RFM scale over every cluster's buyer.
pub(crate) fn rfm_scale(touchpoints: &[Touchpoint], graph: &Graph, rules: &Rules) -> RfmScale {
    let buyers: Vec<(i64, u32, f64)> = (0..graph.clusters.len())
        .into_par_iter()
        .with_min_len(HEAVY)
        .filter_map(|c| {
            let members = graph.clusters.get(c);
            buyer_values(members.iter().map(|&i| &touchpoints[i as usize]), &rules.twin)
        })
        .collect();
    RfmScale::from_buyers(&buyers)
}

/// The anchor of a cluster: its earliest touchpoint (missing timestamps count as latest), ties
/// broken by id.
fn anchor<'a>(touchpoints: &'a [Touchpoint], members: &[u32]) -> &'a Touchpoint {
    members
        .iter()
        .map(|&tp| &touchpoints[tp as usize])
        .min_by(|a, b| {
            (a.timestamp.unwrap_or(i64::MAX), &a.touchpoint_id)
                .cmp(&(b.timestamp.unwrap_or(i64::MAX), &b.touchpoint_id))
        })
        .expect("a cluster has touchpoints")
}

/// Each cluster's profile id, derived from its anchor; on a (rare) 64-bit hash collision the
/// profile with the larger anchor id steps to the next salt, so the outcome does not depend on
/// order.
pub(crate) fn profile_ids(touchpoints: &[Touchpoint], graph: &Graph) -> Vec<Text> {
    let anchor_id = |c: usize| anchor(touchpoints, graph.clusters.get(c)).touchpoint_id.as_str();
    let hashes: Vec<u64> =
        (0..graph.clusters.len()).into_par_iter().with_min_len(CHEAP).map(|c| profile_hash(anchor_id(c), 0)).collect();
    let unique = {
        let mut sorted = hashes.clone();
        sorted.par_sort_unstable();
        sorted.windows(2).all(|pair| pair[0] != pair[1])
    };
    if unique {
        return hashes.into_par_iter().with_min_len(CHEAP).map(format_profile_id).collect();
    }
    let mut by_anchor: Vec<usize> = (0..hashes.len()).collect();
    by_anchor.sort_unstable_by(|&a, &b| anchor_id(a).cmp(anchor_id(b)));
    let mut taken: FxHashSet<u64> = FxHashSet::default();
    let mut ids = vec![Text::default(); hashes.len()];
    for c in by_anchor {
        let anchor = anchor_id(c);
        let mut salt = 0;
        let mut hash = profile_hash(anchor, salt);
        while taken.contains(&hash) {
            salt += 1;
            hash = profile_hash(anchor, salt);
        }
        taken.insert(hash);
        ids[c] = format_profile_id(hash);
    }
    ids
}

fn build_one(
    touchpoints: &[Touchpoint],
    graph: &Graph,
    rules: &Rules,
    cluster: u32,
    id: &str,
    ctx: &TwinContext,
) -> Profile {
    let members = graph.clusters.get(cluster as usize);
    let tps: Vec<&Touchpoint> = members.iter().map(|&i| &touchpoints[i as usize]).collect();
    let mut touchpoint_ids: Vec<Text> = tps.iter().map(|t| t.touchpoint_id.clone()).collect();
    touchpoint_ids.sort_unstable();
    let mut channels: Vec<String> =
        tps.iter().filter_map(|t| t.channel.as_ref()).map(|c| c.as_str().to_owned()).collect();
    channels.sort_unstable();
    channels.dedup();
    let mut sources: Vec<Text> = tps.iter().filter_map(|t| t.source.clone()).collect();
    sources.sort_unstable();
    sources.dedup();
    let quarantine_reasons = graph.quarantined.get(&cluster).cloned().unwrap_or_default();
    let mut profile = Profile {
        profile_id: id.to_owned(),
        status: if quarantine_reasons.is_empty() { ProfileStatus::Active } else { ProfileStatus::Quarantined },
        quarantine_reasons,
        touchpoint_count: members.len(),
        touchpoint_ids,
        first_seen: tps.iter().filter_map(|t| t.timestamp).min(),
        last_seen: tps.iter().filter_map(|t| t.timestamp).max(),
        channels,
        sources,
        identifiers: identifiers(&tps, members, graph, rules),
        attributes: attributes(&tps, rules),
        traits: Default::default(),
        consent: Vec::new(),
        segments: Vec::new(),
    };
    super::enrich(&mut profile, &tps, &rules.twin, ctx);
    profile
}

/// The profile's identifiers with their raw spellings and how each took part in linking.
fn identifiers(tps: &[&Touchpoint], members: &[u32], graph: &Graph, rules: &Rules) -> Vec<ProfileIdentifier> {
    let mut by_id: FxHashMap<u32, (u32, Vec<Text>, bool)> = FxHashMap::default();
    for (tp, &index) in tps.iter().zip(members) {
        for &id in graph.tp_ids.get(index as usize) {
            let kind = &rules.kinds[graph.interner.key(id).0 as usize].kind;
            let raw = tp.identifier(kind);
            let entry = by_id.entry(id).or_default();
            entry.0 += 1;
            if let Some(raw) = raw {
                let raw: Text = raw.trim().into();
                if !entry.1.contains(&raw) {
                    entry.1.push(raw);
                }
            }
            entry.2 |= graph.refused.contains_key(&(id, index));
        }
    }
    let mut out: Vec<(u16, ProfileIdentifier)> = by_id
        .into_iter()
        .map(|(id, (count, mut raw_values, refused))| {
            let (kind, key) = graph.interner.key(id);
            let (scope, value) = split_key(key);
            raw_values.sort_unstable();
            let status = if graph.blocked[id as usize] {
                IdentifierStatus::Blocked
            } else if graph.shared.contains_key(&id) {
                IdentifierStatus::Shared
            } else if refused {
                IdentifierStatus::PartlyRefused
            } else {
                IdentifierStatus::Linked
            };
            let identifier = ProfileIdentifier {
                kind: rules.kinds[kind as usize].kind.clone(),
                scope: scope.map(Text::from),
                value: value.into(),
                raw_values,
                touchpoint_count: count,
                status,
            };
            (kind, identifier)
        })
        .collect();
    out.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| (&a.scope, &a.value).cmp(&(&b.scope, &b.value))));
    out.into_iter().map(|(_, id)| id).collect()
}

/// Survivorship over every attribute the touchpoints carry.
fn attributes(tps: &[&Touchpoint], rules: &Rules) -> BTreeMap<String, crate::model::Attribute> {
    let mut sightings: BTreeMap<Text, Vec<Sighting<'_>>> = BTreeMap::new();
    for tp in tps {
        for obs in observations(tp) {
            sightings.entry(obs.name).or_default().push(Sighting {
                display: obs.display,
                key: obs.key,
                touchpoint_id: &tp.touchpoint_id,
                timestamp: tp.timestamp,
                source: tp.source.as_deref(),
            });
        }
    }
    let survivorship = &rules.config.survivorship;
    sightings
        .into_iter()
        .filter_map(|(name, sightings)| {
            let rule = survivorship.attributes.get(name.as_str()).copied().unwrap_or(survivorship.default);
            survive(sightings, rule, &survivorship.source_priority).map(|a| (name.to_string(), a))
        })
        .collect()
}

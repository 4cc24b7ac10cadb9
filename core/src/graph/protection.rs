//! Merge protection decided per identifier and per cluster: shared identifiers and quarantine.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::NameGroups;
use crate::config::Rules;

/// Why an identifier was found shared by different people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFinding {
    /// What its touchpoints disagree on: `full_name` or an identifier kind.
    pub disagree_on: String,
    /// How many different values they carry (counting stops soon after the bound).
    pub distinct: usize,
    /// The configured bound that was exceeded.
    pub bound: usize,
    /// How many touchpoints carry the identifier.
    pub touchpoints: usize,
}

impl fmt::Display for SharedFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what =
            if self.disagree_on == "full_name" { "names".to_owned() } else { format!("{} values", self.disagree_on) };
        write!(f, "shared: its {} touchpoints carry more than {} different {what}", self.touchpoints, self.bound)
    }
}

/// Read access to interned identifiers and the touchpoints carrying them: what deciding
/// whether an identifier is shared needs, from a whole graph or from the live store.
pub(crate) trait Identities {
    /// An identifier's touchpoints.
    fn members(&self, id: u32) -> &[u32];
    /// A touchpoint's identifiers.
    fn ids_of(&self, tp: u32) -> &[u32];
    /// A touchpoint's name key.
    fn name_of(&self, tp: u32) -> Option<&str>;
    /// An identifier's kind index.
    fn kind_of(&self, id: u32) -> u16;
    /// An identifier's interning key (`scope \u{1f} value` for scoped kinds).
    fn key_of(&self, id: u32) -> &str;
    /// An identifier's slot (kind and scope).
    fn slot_of(&self, id: u32) -> u32;
    /// A slot's kind index.
    fn slot_kind(&self, slot: u32) -> u16;
    /// Whether an identifier is on the blocked-values list.
    fn blocked(&self, id: u32) -> bool;
    /// Whether an identifier links (neither blocked nor shared).
    fn links(&self, id: u32) -> bool;
}

/// What a part of the touchpoints resolved on its own cannot see of the whole: the status of
/// identifiers some of whose touchpoints lie outside the part.
pub(crate) struct Known<'a> {
    /// An identifier's status by kind index and key: `Some(Some(finding))` shared,
    /// `Some(None)` linking, `None` not known (decided from the part's touchpoints).
    pub shared: &'a (dyn Fn(u16, &str) -> Option<Option<SharedFinding>> + Sync),
}

/// The bound on distinct values of a slot among one identifier's touchpoints before it counts
/// as shared: the kind's per-profile limit, else the configured bound.
fn shared_bound(view: &impl Identities, rules: &Rules, slot: u32) -> usize {
    let rule = &rules.kinds[view.slot_kind(slot) as usize];
    rule.max_per_profile.map_or(rules.config.shared_identifiers.max_values_per_kind, |m| m as usize)
}

/// Whether an identifier's touchpoints disagree beyond the configured bounds (different names,
/// or more values of a person-level kind than one person has): then it is shared.
pub(crate) fn shared_finding(view: &impl Identities, rules: &Rules, id: u32) -> Option<SharedFinding> {
    let members = view.members(id);
    let mut keys: Vec<&str> = members.iter().filter_map(|&tp| view.name_of(tp)).collect();
    keys.sort_unstable();
    keys.dedup();
    // Slots in an order fixed by the data (kind, then scope), so that the slot reported is
    // the same however the identifiers were numbered.
    let mut values: Vec<PersonValue> =
        members.iter().flat_map(|&tp| view.ids_of(tp)).filter_map(|&other| person_value(view, rules, other)).collect();
    values.sort_unstable();
    values.dedup();
    finding_from(view, rules, members.len(), (keys.len(), keys.iter().copied()), values.iter().copied())
}

/// A person-level identifier as the shared test orders it: kind, scope, slot, identifier.
pub(crate) type PersonValue<'a> = (u16, &'a str, u32, u32);

/// Identifier `other` as a [`PersonValue`], when it is of a person-level kind and not blocked.
pub(crate) fn person_value<'v>(view: &'v impl Identities, rules: &Rules, other: u32) -> Option<PersonValue<'v>> {
    if view.blocked(other) || !rules.kinds[view.kind_of(other) as usize].person_level {
        return None;
    }
    let scope = crate::prepare::split_key(view.key_of(other)).0.unwrap_or("");
    Some((view.kind_of(other), scope, view.slot_of(other), other))
}

/// The shared finding of an identifier carried by `touchpoints` touchpoints, from their
/// distinct name keys (`names`, sorted, `name_count` of them) and distinct person-level values
/// (`values`, sorted).
pub(crate) fn finding_from<'n, 'v>(
    view: &impl Identities,
    rules: &Rules,
    touchpoints: usize,
    (name_count, names): (usize, impl IntoIterator<Item = &'n str>),
    values: impl Iterator<Item = PersonValue<'v>>,
) -> Option<SharedFinding> {
    let bound = rules.config.shared_identifiers.max_names;
    let distinct = sorted_name_groups((name_count, names), bound);
    if distinct > bound {
        return Some(SharedFinding { disagree_on: "full_name".into(), distinct, bound, touchpoints });
    }
    let mut values = values.peekable();
    while let Some((_, _, slot, _)) = values.next() {
        let mut distinct = 1;
        while values.next_if(|v| v.2 == slot).is_some() {
            distinct += 1;
        }
        let bound = shared_bound(view, rules, slot);
        if distinct > bound {
            let kind = &rules.kinds[view.slot_kind(slot) as usize].kind;
            return Some(SharedFinding { disagree_on: kind.to_string(), distinct, bound, touchpoints });
        }
    }
    None
}

/// Counts distinct values per slot among `(slot, value)` pairs and returns the first slot (in
/// slot order) holding more than `bound_of(slot)`, with its count.
pub(crate) fn first_overfull_slot(mut pairs: Vec<(u32, u32)>, bound_of: impl Fn(u32) -> usize) -> Option<(u32, usize)> {
    pairs.sort_unstable();
    pairs.dedup();
    let mut start = 0;
    while start < pairs.len() {
        let slot = pairs[start].0;
        let count = pairs[start..].iter().take_while(|(s, _)| *s == slot).count();
        if count > bound_of(slot) {
            return Some((slot, count));
        }
        start += count;
    }
    None
}

/// Distinct name groups among name keys, counted in sorted order up to just past `bound`.
pub(crate) fn name_groups(mut keys: Vec<&str>, bound: usize) -> usize {
    keys.sort_unstable();
    keys.dedup();
    sorted_name_groups((keys.len(), keys), bound)
}

/// [`name_groups`] of keys already sorted and distinct (`count` of them): no more keys than the
/// bound are as many groups, else they are grouped until there are more than `bound`.
fn sorted_name_groups<'n>((count, keys): (usize, impl IntoIterator<Item = &'n str>), bound: usize) -> usize {
    if count <= bound {
        return count;
    }
    NameGroups::count_up_to(keys, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overfull_slots() {
        let pairs = vec![(0, 1), (0, 1), (1, 5), (1, 6), (0, 2)];
        assert_eq!(first_overfull_slot(pairs.clone(), |_| 2), None);
        assert_eq!(first_overfull_slot(pairs.clone(), |_| 1), Some((0, 2)));
        assert_eq!(first_overfull_slot(pairs, |s| if s == 0 { 2 } else { 1 }), Some((1, 2)));
    }

    #[test]
    fn name_group_counts() {
        assert_eq!(name_groups(vec!["an nguyen", "an nguyen", "an nguyen thi"], 1), 1);
        assert_eq!(name_groups(vec!["an nguyen", "binh tran", "cuong le"], 1), 2);
    }

    #[test]
    fn findings_read_well() {
        let finding = SharedFinding { disagree_on: "full_name".into(), distinct: 40, bound: 2, touchpoints: 57 };
        assert_eq!(finding.to_string(), "shared: its 57 touchpoints carry more than 2 different names");
    }
}

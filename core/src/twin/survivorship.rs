//! Survivorship: which observed value of an attribute a profile shows, and where it came from.

use std::cmp::Ordering;

use crate::config::SurvivorshipRule;
use crate::model::{Attribute, ObservedValue, Text};

/// One touchpoint's observation of an attribute, as survivorship sees it.
#[derive(Debug, Clone)]
pub(crate) struct Sighting<'a> {
    pub display: String,
    pub key: String,
    pub touchpoint_id: &'a str,
    pub timestamp: Option<i64>,
    pub source: Option<&'a str>,
}

/// The sightings of one value (one comparison key).
struct Group<'a> {
    sightings: Vec<Sighting<'a>>,
}

/// Orders sightings by time, missing timestamps first, then by touchpoint id: "later" is greater.
fn by_time(a: &Sighting<'_>, b: &Sighting<'_>) -> Ordering {
    a.timestamp.cmp(&b.timestamp).then_with(|| a.touchpoint_id.cmp(b.touchpoint_id))
}

impl<'a> Group<'a> {
    fn latest(&self) -> &Sighting<'a> {
        self.sightings.iter().max_by(|a, b| by_time(a, b)).expect("a group has sightings")
    }

    fn earliest(&self) -> &Sighting<'a> {
        // Missing timestamps don't make a value "first": they sort after every known time here.
        self.sightings
            .iter()
            .min_by(|a, b| match (a.timestamp, b.timestamp) {
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                _ => by_time(a, b),
            })
            .expect("a group has sightings")
    }

    /// The display spelling: the one with most non-ASCII letters (diacritics kept), then the
    /// most frequent, then the latest.
    fn display(&self) -> &str {
        let mut spellings: Vec<&Sighting<'a>> = self.sightings.iter().collect();
        spellings.sort_by(|a, b| a.display.cmp(&b.display).then_with(|| by_time(a, b)));
        let mut best: Option<((usize, usize), &Sighting<'a>)> = None;
        let mut start = 0;
        while start < spellings.len() {
            let end = start + spellings[start..].iter().take_while(|s| s.display == spellings[start].display).count();
            let latest = spellings[end - 1];
            let score = (latest.display.chars().filter(|c| !c.is_ascii()).count(), end - start);
            let better =
                best.is_none_or(|(b, bs)| score.cmp(&b).then_with(|| by_time(latest, bs)) == Ordering::Greater);
            if better {
                best = Some((score, latest));
            }
            start = end;
        }
        best.map_or("", |(_, s)| s.display.as_str())
    }

    fn rank(&self, priority: &[String]) -> (usize, &Sighting<'a>) {
        self.sightings
            .iter()
            .map(|s| (s.source.and_then(|src| priority.iter().position(|p| p == src)).unwrap_or(usize::MAX), s))
            .min_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| by_time(b, a)))
            .expect("a group has sightings")
    }
}

/// Chooses an attribute's value from its sightings under `rule` and keeps every observed value.
pub(crate) fn survive(
    mut sightings: Vec<Sighting<'_>>,
    rule: SurvivorshipRule,
    priority: &[String],
) -> Option<Attribute> {
    if sightings.is_empty() {
        return None;
    }
    sightings.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| by_time(a, b)));
    let mut groups: Vec<Group<'_>> = Vec::new();
    for s in sightings {
        match groups.last_mut() {
            Some(group) if group.sightings[0].key == s.key => group.sightings.push(s),
            _ => groups.push(Group { sightings: vec![s] }),
        }
    }
    let count = |g: &Group<'_>| g.sightings.len();
    let chosen = match rule {
        SurvivorshipRule::MostRecent => {
            groups.iter().max_by(|a, b| by_time(a.latest(), b.latest()).then_with(|| count(a).cmp(&count(b))))
        }
        SurvivorshipRule::MostFrequent => {
            groups.iter().max_by(|a, b| count(a).cmp(&count(b)).then_with(|| by_time(a.latest(), b.latest())))
        }
        SurvivorshipRule::FirstSeen => groups.iter().min_by(|a, b| {
            let (ea, eb) = (a.earliest(), b.earliest());
            match (ea.timestamp, eb.timestamp) {
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                _ => by_time(ea, eb),
            }
        }),
        SurvivorshipRule::SourcePriority => groups.iter().min_by(|a, b| {
            let ((ra, sa), (rb, sb)) = (a.rank(priority), b.rank(priority));
            ra.cmp(&rb).then_with(|| by_time(sb, sa))
        }),
    }
    .expect("there is at least one group");
    let provenance = match rule {
        SurvivorshipRule::FirstSeen => chosen.earliest(),
        SurvivorshipRule::SourcePriority => chosen.rank(priority).1,
        SurvivorshipRule::MostRecent | SurvivorshipRule::MostFrequent => chosen.latest(),
    };
    let mut observed: Vec<ObservedValue> = groups
        .iter()
        .map(|g| {
            let mut sources: Vec<Text> = g.sightings.iter().filter_map(|s| s.source).map(Text::from).collect();
            sources.sort_unstable();
            sources.dedup();
            ObservedValue {
                value: g.display().to_owned(),
                count: g.sightings.len() as u32,
                first_seen: g.sightings.iter().filter_map(|s| s.timestamp).min(),
                last_seen: g.sightings.iter().filter_map(|s| s.timestamp).max(),
                sources,
                touchpoint_id: g.latest().touchpoint_id.into(),
            }
        })
        .collect();
    observed.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Some(Attribute {
        value: chosen.display().to_owned(),
        source: provenance.source.map(Text::from),
        touchpoint_id: provenance.touchpoint_id.into(),
        timestamp: provenance.timestamp,
        rule: rule.as_str().to_owned(),
        observed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting<'a>(display: &str, tp: &'a str, ts: Option<i64>, source: &'a str) -> Sighting<'a> {
        Sighting {
            display: display.into(),
            key: crate::normalize::fold(display),
            touchpoint_id: tp,
            timestamp: ts,
            source: Some(source),
        }
    }

    fn sample() -> Vec<Sighting<'static>> {
        vec![
            sighting("Nguyen An", "t1", Some(10), "shopee"),
            sighting("Nguyễn An", "t2", Some(20), "crm"),
            sighting("An Nguyen Van", "t3", Some(30), "web"),
            sighting("Nguyen An", "t4", Some(5), "pos"),
        ]
    }

    #[test]
    fn most_recent_wins_with_provenance() {
        let a = survive(sample(), SurvivorshipRule::MostRecent, &[]).unwrap();
        assert_eq!((a.value.as_str(), a.touchpoint_id.as_str(), a.timestamp), ("An Nguyen Van", "t3", Some(30)));
        assert_eq!(a.source.as_deref(), Some("web"));
        assert_eq!(a.observed.len(), 2);
        assert_eq!(a.observed[0].count, 3);
    }

    #[test]
    fn most_frequent_keeps_diacritics_in_display() {
        let a = survive(sample(), SurvivorshipRule::MostFrequent, &[]).unwrap();
        assert_eq!(a.value, "Nguyễn An");
        assert_eq!(a.touchpoint_id, "t2");
        assert_eq!(a.observed[0].sources, ["crm", "pos", "shopee"]);
        assert_eq!((a.observed[0].first_seen, a.observed[0].last_seen), (Some(5), Some(20)));
    }

    #[test]
    fn first_seen_and_source_priority() {
        let a = survive(sample(), SurvivorshipRule::FirstSeen, &[]).unwrap();
        assert_eq!((a.value.as_str(), a.touchpoint_id.as_str()), ("Nguyễn An", "t4"));
        let priority = vec!["web".to_owned(), "crm".to_owned()];
        let a = survive(sample(), SurvivorshipRule::SourcePriority, &priority).unwrap();
        assert_eq!((a.value.as_str(), a.touchpoint_id.as_str()), ("An Nguyen Van", "t3"));
    }

    #[test]
    fn missing_timestamps_lose_to_known_ones() {
        let s = vec![sighting("A", "t1", None, "x"), sighting("B", "t2", Some(1), "x")];
        assert_eq!(survive(s.clone(), SurvivorshipRule::MostRecent, &[]).unwrap().value, "B");
        assert_eq!(survive(s, SurvivorshipRule::FirstSeen, &[]).unwrap().value, "B");
        assert!(survive(vec![], SurvivorshipRule::MostRecent, &[]).is_none());
    }
}

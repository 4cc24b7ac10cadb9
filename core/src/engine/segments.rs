//! Segment memberships in the change feed: a live engine with segments in its config records
//! each profile's entries and exits as its touchpoints change it.

use std::collections::BTreeSet;

use super::Engine;
use crate::error::Result;
use crate::model::ChangeEvent;
use crate::model::Text;

impl Engine {
    /// Whether the feed carries segment memberships (a live engine whose config has segments).
    fn tracks_segments(&self) -> bool {
        self.live.is_some() && !self.rules.twin.segments.is_empty()
    }

    /// Records the segment entries and exits of the profiles an update touched: those holding
    /// the touchpoints from `first_tp` on, and those the feed names from `feed` on.
    pub(super) fn record_segment_changes(&mut self, first_tp: usize, feed: usize) {
        if !self.tracks_segments() {
            return;
        }
        let live = self.live.as_ref().expect("tracked only when live");
        let mut touched: BTreeSet<Text> =
            live.profile_of[first_tp.min(live.profile_of.len())..].iter().cloned().collect();
        for change in live.changes(feed as u64) {
            match &change.event {
                ChangeEvent::Created { profile_id } | ChangeEvent::Merged { profile_id, .. } => {
                    touched.insert(profile_id.as_str().into());
                }
                ChangeEvent::Split { profile_id, into } => {
                    touched.insert(profile_id.as_str().into());
                    touched.extend(into.iter().map(|id| Text::from(id.as_str())));
                }
                _ => {}
            }
        }
        let events = self.membership_changes(touched);
        if let Some(live) = self.live.as_mut() {
            live.record(events);
        }
    }

    /// The entries and exits that bring the feed's memberships of `profiles` to what they are
    /// now (a profile that no longer exists leaves every segment).
    fn membership_changes(&self, profiles: impl IntoIterator<Item = Text>) -> Vec<ChangeEvent> {
        let Some(live) = self.live.as_ref() else { return Vec::new() };
        let mut events = Vec::new();
        for id in profiles {
            let now: Vec<String> = match live.current_id(&id) {
                Some(current) if current == id => self.profile(&id).map(|p| p.segments.clone()).unwrap_or_default(),
                _ => Vec::new(),
            };
            let before = live.segments.get(&id).map(Vec::as_slice).unwrap_or_default();
            for segment in before.iter().filter(|s| !now.contains(s)) {
                events.push(ChangeEvent::SegmentExited { profile_id: id.to_string(), segment: segment.clone() });
            }
            for segment in now.iter().filter(|s| !before.contains(s)) {
                events.push(ChangeEvent::SegmentEntered { profile_id: id.to_string(), segment: segment.clone() });
            }
        }
        events
    }

    /// Evaluates every profile's segments again and records the entries and exits in the feed;
    /// returns how many it recorded. Arrivals re-evaluate the profiles they touch, but traits
    /// that depend on time (recency, lapsing, abandoned carts, windows) move for every profile
    /// as `as_of` moves: run this on a schedule (say, nightly) to keep audiences in step.
    pub fn refresh_segments(&mut self) -> Result<usize> {
        self.writable()?;
        if !self.tracks_segments() {
            return Ok(0);
        }
        let (tps, feed) = self.marks();
        let live = self.live.as_ref().expect("tracked only when live");
        let mut ids: BTreeSet<Text> = live.segments.keys().cloned().collect();
        ids.extend(self.profiles().into_iter().map(|p| Text::from(p.profile_id.as_str())));
        let events = self.membership_changes(ids);
        let recorded = events.len();
        if let Some(live) = self.live.as_mut() {
            live.record(events);
        }
        self.commit(tps, feed)?;
        Ok(recorded)
    }
}

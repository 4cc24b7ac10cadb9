//! History: a profile as it was at an earlier time, and the profile a touchpoint belonged to
//! then.
//!
//! The engine notes when it took each touchpoint in (its acknowledgement time; for a durable
//! store, stored with the touchpoint). What the engine knew at a time `t` is the touchpoints
//! acknowledged by `t`, a prefix of what it holds, and — by the invariant that one batch of
//! touchpoints gives exactly the profiles and ids any order of arrivals gives — the profiles it
//! had at `t` are one batch resolution of that prefix with the same rules and model. History
//! replays it with the engine's current config and model: after [`Engine::set_model`] or
//! [`Engine::apply_config`] it shows what the current rules make of what was known then (the
//! change feed is the record of what the rules of the time did). Forgotten touchpoints are
//! gone from history too.

use std::sync::{Arc, Mutex, OnceLock};

use super::{compute, Engine, Resolution};
use crate::model::ProfileRef;
use crate::progress::NoProgress;

/// The resolution of the touchpoints acknowledged by some time, kept for the next question
/// about the same time (a history query resolves a prefix of everything held).
#[derive(Debug, Default)]
pub(super) struct HistoryCache {
    past: Mutex<Option<Arc<Past>>>,
}

/// What the engine held at a time: how many touchpoints, resolved.
#[derive(Debug)]
struct Past {
    held: usize,
    resolution: Resolution,
    /// The latest touchpoint timestamp held then: traits' `as_of` unless the config fixes one.
    latest: Option<i64>,
    /// The RFM scale over its buyers, when the engine has none fixed.
    scale: OnceLock<Arc<crate::twin::RfmScale>>,
}

impl HistoryCache {
    /// Drops the kept resolution: the touchpoints' positions, the rules or the model changed.
    pub(super) fn clear(&self) {
        *self.past.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// The current time in milliseconds since the Unix epoch.
pub(super) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

impl Engine {
    /// Notes the acknowledgement time of `count` touchpoints just taken in: now, or the
    /// previous one if the clock went back, so times never decrease along the touchpoints.
    pub(super) fn acknowledge(&mut self, count: usize) {
        let at = self.tick();
        self.acknowledged.resize(self.acknowledged.len() + count, at);
    }

    /// Now, or the latest time handed out if the clock went back.
    fn tick(&mut self) -> i64 {
        self.clock = self.clock.max(now_ms());
        self.clock
    }

    /// Notes when the changes recorded since the last call were made: with the touchpoints
    /// just acknowledged when the call `added` some (so that the engine at their time already
    /// shows what they caused), else now.
    pub(super) fn stamp_changes(&mut self, added: bool) {
        let recorded = self.changes(0).len();
        if recorded <= self.change_times.len() {
            return;
        }
        let at = if added { self.clock } else { self.tick() };
        self.change_times.resize(recorded, at);
    }

    /// When the engine took a touchpoint in, in milliseconds since the Unix epoch (for a
    /// durable store, when it was committed). Touchpoints of a store written before omnitwin
    /// noted these times count as held from the start (`i64::MIN`).
    pub fn acknowledged_at(&self, touchpoint_id: &str) -> Option<i64> {
        self.index.get(touchpoint_id).map(|&tp| self.acknowledged[tp as usize])
    }

    /// The profile with this id as it was at `as_of` (milliseconds since the Unix epoch): built
    /// from the touchpoints acknowledged by then, with its id of then. An id the change feed
    /// had reported merged into another by then leads to the survivor, as [`Engine::profile`]
    /// follows it now; `None` for an id not handed out by then. Traits are computed as they were:
    /// at the config's `as_of`, else at the latest touchpoint held then.
    ///
    /// Resolves what was held then (kept for the next question about the same time): a
    /// question about the distant past of a large store takes as long as a batch resolution.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    ///
    /// let mut engine = Engine::new(Config::default())?;
    /// let a = engine.ingest_one(Touchpoint { email: Some("an@gmail.com".into()), timestamp: Some(1), ..Touchpoint::new("t1") })?;
    /// let b = engine.ingest_one(Touchpoint { phone: Some("0912 345 678".into()), timestamp: Some(2), ..Touchpoint::new("t2") })?;
    /// let before = engine.acknowledged_at("t2").unwrap();
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// // A touchpoint with both merges the two profiles.
    /// engine.ingest_one(Touchpoint {
    ///     email: Some("an@gmail.com".into()),
    ///     phone: Some("+84912345678".into()),
    ///     ..Touchpoint::new("t3")
    /// })?;
    /// assert_eq!(engine.profile(&b.profile_id).unwrap().profile_id, a.profile_id);
    /// // Before the merge, t2 had a profile of its own.
    /// let then = engine.profile_as_of(&b.profile_id, before).unwrap();
    /// assert_eq!(then.profile_id, b.profile_id);
    /// assert_eq!(then.touchpoint_ids, ["t2"]);
    /// assert_eq!(engine.profile_of_as_of("t3", before), None, "not acknowledged then");
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn profile_as_of(&self, profile_id: &str, as_of: i64) -> Option<ProfileRef<'_>> {
        let held = self.held_at(as_of);
        if held == self.touchpoints.len() {
            return self.profile(profile_id);
        }
        let past = self.past(held)?;
        let by_id = past.resolution.by_id();
        let cluster = match by_id.get(profile_id) {
            Some(&c) => c,
            None => {
                // Merged away by then: where the feed said it went, as `profile` follows it now.
                let recorded = self.change_times.partition_point(|&at| at <= as_of);
                let feed = &self.changes(0)[..recorded.min(self.changes(0).len())];
                let id =
                    super::live::follow_merges(&super::live::merges_in(feed), profile_id, |id| by_id.contains_key(id))?;
                by_id[&id]
            }
        };
        self.past_profile(&past, cluster)
    }

    /// The profile a touchpoint belonged to at `as_of` (milliseconds since the Unix epoch), as
    /// it was then (see [`Engine::profile_as_of`]); `None` when the touchpoint was not
    /// acknowledged by then.
    pub fn profile_of_as_of(&self, touchpoint_id: &str, as_of: i64) -> Option<ProfileRef<'_>> {
        let &tp = self.index.get(touchpoint_id)?;
        let held = self.held_at(as_of);
        if tp as usize >= held {
            return None;
        }
        if held == self.touchpoints.len() {
            return self.profile_of(touchpoint_id);
        }
        let past = self.past(held)?;
        let cluster = past.resolution.graph.cluster_of[tp as usize];
        self.past_profile(&past, cluster)
    }

    /// Reads a time given as text for an argument such as `as_of`: ISO 8601 (read in the
    /// config's `timezone` when it has no offset) or epoch milliseconds. The error names the
    /// argument. What the Python and Node packages call for times given as text or dates.
    ///
    /// ```
    /// use omnitwin::{Config, Engine};
    /// let engine = Engine::new(Config::from_json_str(r#"{"timezone": "+07:00"}"#)?)?;
    /// assert_eq!(engine.read_time("as_of", "2024-01-01 07:00")?, 1_704_067_200_000);
    /// assert_eq!(engine.read_time("as_of", "tomorrow").unwrap_err().column(), Some("as_of"));
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn read_time(&self, argument: &str, text: &str) -> crate::Result<i64> {
        crate::normalize::parse_timestamp(text, self.rules.offset)
            .map_err(|message| crate::Error::InvalidArgument { name: argument.into(), message })
    }

    /// How many touchpoints were acknowledged by `as_of`: they come first.
    fn held_at(&self, as_of: i64) -> usize {
        self.acknowledged.partition_point(|&at| at <= as_of)
    }

    /// The resolution of the first `held` touchpoints (`None` for none).
    fn past(&self, held: usize) -> Option<Arc<Past>> {
        if held == 0 {
            return None;
        }
        let mut kept = self.history.past.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(past) = kept.as_ref().filter(|p| p.held == held) {
            return Some(past.clone());
        }
        let touchpoints = &self.touchpoints[..held];
        let resolution = compute(touchpoints, &self.rules, self.model.as_ref(), None, &NoProgress);
        let latest = touchpoints.iter().filter_map(|tp| tp.timestamp).max();
        let past = Arc::new(Past { held, resolution, latest, scale: OnceLock::new() });
        *kept = Some(past.clone());
        Some(past)
    }

    /// A cluster's profile in a past resolution, its traits as of then.
    fn past_profile(&self, past: &Past, cluster: u32) -> Option<ProfileRef<'_>> {
        let touchpoints = &self.touchpoints[..past.held];
        let r = &past.resolution;
        let ctx = crate::twin::TwinContext {
            as_of: self.rules.twin.as_of.or(past.latest),
            scale: match &self.rfm_scale {
                Some(scale) => scale.clone(),
                None => past
                    .scale
                    .get_or_init(|| Arc::new(crate::twin::rfm_scale(touchpoints, &r.graph, &self.rules)))
                    .clone(),
            },
        };
        let profile =
            crate::twin::build_some_profiles(touchpoints, &r.graph, &self.rules, &r.profile_ids, &[cluster], &ctx)
                .pop()?;
        Some(ProfileRef::Shared(Arc::new(profile)))
    }
}

//! Going live and taking arrivals into the live state: resolving only what a batch touches,
//! with the store's insert alongside.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::{durable, live, Engine, IngestOutcome};
use crate::config::Rules;
use crate::error::Result;
use crate::model::{Text, Touchpoint};
use crate::progress::NoProgress;

/// Live batches from this size on are inserted in a durable store while the live state takes
/// them in (below it, handing the insert to another thread costs more than it saves).
const WRITE_ALONGSIDE_FROM: usize = 32;

impl Engine {
    /// Makes the engine live (see [`Engine::ingest_one`]) without ingesting anything: resolves
    /// what it holds, fixes the model and starts the change feed with every profile created.
    pub fn go_live(&mut self) -> Result<()> {
        if self.live.is_some() {
            return Ok(());
        }
        self.room_for_arrivals();
        let live = self.build_live()?;
        self.live = Some(Box::new(live));
        // The feed starts with every profile created and every segment membership.
        self.record_segment_changes(0, 0);
        if self.store.is_none() {
            // Nothing to write: this is the state a failed call comes back to.
            self.persisted_now();
        }
        Ok(())
    }

    /// Room for half as many touchpoints again, made while going live or rebasing (bulk steps):
    /// growing the touchpoint store later would move all of it on the call of one arrival (a
    /// store opened empty and given a million touchpoints in one batch took 1.3 s over its next
    /// arrival). Nothing is moved when the room is there.
    pub(super) fn room_for_arrivals(&mut self) {
        self.reserve(self.touchpoints.len() / 2);
    }

    /// A live state from a batch resolution of everything held, fixing the model it used.
    pub(super) fn build_live(&mut self) -> Result<live::Live> {
        let r = self.resolved(&NoProgress);
        let frozen = r.matches.as_ref().and_then(|m| m.linker.as_ref()?.model_with_term_frequencies());
        let held = self.touchpoints.len();
        let model = match (frozen, &self.model) {
            // Trained on what is held: its value counts are those of every touchpoint held.
            (Some(trained), None) => {
                self.model_origin = durable::ModelOrigin { source: durable::OriginSource::Trained, counted: held };
                Some(std::sync::Arc::new(trained))
            }
            // Given: value counts it lacked were taken from what is held.
            (Some(frozen), Some(given)) if frozen != **given => {
                self.model_origin.counted = held;
                Some(std::sync::Arc::new(frozen))
            }
            (_, model) => model.clone(),
        };
        if model.is_none() {
            self.model_origin = durable::ModelOrigin::default();
        }
        let r = self.resolution.get().expect("resolved above");
        let live = live::Live::new(&self.touchpoints, &self.rules, r, model.as_ref())?;
        // Scores stay put under arrivals: the scale is fixed with the model.
        if self.rfm_scale.is_none() {
            self.rfm_scale = Some(self.twin_context(r).scale.clone());
        }
        // Same counts as the model scored with: the resolution stays valid.
        self.model = model;
        self.history.clear();
        Ok(live)
    }

    /// Rebuilds the live state from a batch resolution (after a model change or a large
    /// batch), recording what changed in the feed.
    pub(super) fn rebase(&mut self) {
        self.resolution = OnceLock::new();
        self.room_for_arrivals();
        let feed = self.marks().1;
        match self.build_live() {
            Ok(next) => {
                if let Some(live) = self.live.as_mut() {
                    live.rebase(next);
                }
                self.record_segment_changes(0, feed);
            }
            // Deriving the matching state failed: the engine stays a batch engine.
            Err(_) => self.live = None,
        }
    }

    /// Adds one checked touchpoint to the live state.
    pub(super) fn add_live(&mut self, touchpoint: Touchpoint) -> Result<IngestOutcome> {
        let tp = self.push_live(vec![touchpoint]);
        self.update_live(|live, touchpoints, rules, model| live.add(tp, touchpoints, rules, model))
    }

    /// Adds checked touchpoints to the live state at once (see [`live::Live::add_batch`]). With
    /// a durable store and a batch of [`WRITE_ALONGSIDE_FROM`] or more, the store inserts them
    /// on another thread meanwhile, in a write left open for [`Engine::commit_written`]: returns
    /// how that went (`None` when not written).
    pub(super) fn add_live_batch(&mut self, batch: Vec<Touchpoint>) -> Result<Option<Result<()>>> {
        let tps = self.touchpoints.len();
        let alongside = self.store.is_some() && batch.len() >= WRITE_ALONGSIDE_FROM;
        let first = self.push_unindexed(batch);
        let (Some(store), Some(live), true) = (&self.store, self.live.as_mut(), alongside) else {
            index_from(&mut self.index, &self.touchpoints, tps);
            self.update_live(|live, touchpoints, rules, model| live.add_batch(first, touchpoints, rules, model))?;
            return Ok(None);
        };
        let (touchpoints, acknowledged, rules, model) =
            (&self.touchpoints, &self.acknowledged, &self.rules, self.model.as_ref());
        let index = &mut self.index;
        // The live state reads neither the store nor the id index.
        let (written, updated) = rayon::join(
            || {
                let written = store.write_touchpoints(&touchpoints[tps..], &acknowledged[tps..]);
                index_from(index, touchpoints, tps);
                written
            },
            || live.add_batch(first, touchpoints, rules, model),
        );
        if let Err(e) = updated.and_then(|()| failure_injected()) {
            if written.is_ok() {
                store.abandon_write();
            }
            return Err(e);
        }
        Ok(Some(written))
    }

    /// Appends checked touchpoints for the live state to take in; returns the first one's index.
    pub(super) fn push_live(&mut self, batch: Vec<Touchpoint>) -> u32 {
        let first = self.push_unindexed(batch);
        index_from(&mut self.index, &self.touchpoints, first as usize);
        first
    }

    /// [`Engine::push_live`] but for the id index, which the caller brings up to date
    /// ([`index_from`]) before anything reads it.
    pub(super) fn push_unindexed(&mut self, batch: Vec<Touchpoint>) -> u32 {
        let first = self.touchpoints.len() as u32;
        if self.touchpoints.capacity() - self.touchpoints.len() < batch.len() {
            // Grow by half, as the live state's vectors do (see `live::room_for_one`).
            self.reserve((self.touchpoints.len() / 2).max(batch.len()).max(1024));
        }
        self.acknowledge(batch.len());
        for tp in batch {
            self.latest = self.latest.max(tp.timestamp);
            self.touchpoints.push(tp);
        }
        if let Some(stale) = self.resolution.take() {
            // Freeing a large resolution takes long: not on the caller's time.
            std::thread::spawn(move || drop(stale));
        }
        first
    }

    /// Runs an update of the live state. If it fails (not expected: the touchpoints were
    /// checked), the live state may be half updated: the caller takes the touchpoints back
    /// ([`Engine::undo_to`]), which rebuilds it.
    pub(super) fn update_live<T>(
        &mut self,
        update: impl FnOnce(
            &mut live::Live,
            &[Touchpoint],
            &Rules,
            Option<&std::sync::Arc<crate::matching::Model>>,
        ) -> Result<T>,
    ) -> Result<T> {
        let live = self.live.as_mut().expect("the engine is live");
        let (touchpoints, rules, model) = (&self.touchpoints, &self.rules, self.model.as_ref());
        update(live, touchpoints, rules, model).and_then(|done| failure_injected().map(|()| done))
    }
}

#[cfg(test)]
thread_local! {
    /// Set by tests: live updates on this thread fail after they ran (no valid input makes
    /// one fail), to check that the engine takes the touchpoints back.
    static FAIL_LIVE_UPDATES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The failure a test asked live updates to end in (`FAIL_LIVE_UPDATES`); `Ok` outside tests.
pub(super) fn failure_injected() -> Result<()> {
    #[cfg(test)]
    if FAIL_LIVE_UPDATES.with(std::cell::Cell::get) {
        return Err(crate::error::Error::Schema("a live update failed (injected by a test)".into()));
    }
    Ok(())
}

/// Adds the touchpoints from `from` on to the id index.
pub(super) fn index_from(index: &mut FxHashMap<Text, u32>, touchpoints: &[Touchpoint], from: usize) {
    for (i, tp) in touchpoints.iter().enumerate().skip(from) {
        index.insert(tp.touchpoint_id.clone(), i as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ingest::LIVE_BATCH;
    use crate::model::Change;
    use crate::Config;

    /// Touchpoints of `n` people, one each, with ids from `from`.
    fn people(from: usize, n: usize) -> Vec<Touchpoint> {
        (from..from + n)
            .map(|i| Touchpoint {
                email: Some(format!("person{i}@example.com").into()),
                timestamp: Some(i as i64),
                ..Touchpoint::new(format!("t{i}"))
            })
            .collect()
    }

    #[test]
    fn a_large_batch_into_a_live_engine_leaves_room_for_arrivals() {
        let mut engine = Engine::new(Config::default()).unwrap();
        engine.go_live().unwrap();
        // Larger than a live batch: appended whole, then the live state is rebuilt.
        engine.ingest(people(0, 3 * LIVE_BATCH)).unwrap();
        assert!(engine.live.is_some());
        let held = engine.touchpoints.len();
        assert!(
            engine.touchpoints.capacity() >= held + held / 2,
            "capacity {} for {held} touchpoints: the next arrival would move them all",
            engine.touchpoints.capacity()
        );
        let before = engine.touchpoints.as_ptr();
        engine.ingest_one(people(held, 1).pop().unwrap()).unwrap();
        assert_eq!(engine.touchpoints.as_ptr(), before, "an arrival moved the touchpoint store");
    }

    /// What a caller sees of an engine: its touchpoints' profiles and the change feed.
    fn seen(engine: &Engine) -> (usize, Vec<(String, String)>, Vec<Change>) {
        let mut assignments: Vec<_> =
            engine.assignments().into_iter().map(|a| (a.touchpoint_id, a.profile_id)).collect();
        assignments.sort();
        (engine.len(), assignments, engine.changes(0).to_vec())
    }

    #[test]
    fn a_live_update_that_fails_takes_its_touchpoints_back_from_engine_and_store() {
        let dir = std::env::temp_dir().join(format!("omnitwin-failed-update-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cdp.db");
        let mut config = Config::default();
        config.matching.enabled = false;
        let mut engine = Engine::open_or_create(&path, config.clone()).unwrap();
        engine.ingest(people(0, 100)).unwrap();
        engine.ingest_one(people(100, 1).pop().unwrap()).unwrap();
        // Returning visitors (they join, and merge two people's profiles) and new people.
        let arrivals = |n: usize| -> Vec<Touchpoint> {
            (0..n)
                .map(|k| Touchpoint {
                    email: Some(format!("person{}@example.com", k % 120).into()),
                    phone: (k % 7 == 0).then(|| "0912345678".into()),
                    timestamp: Some(1_000 + k as i64),
                    ..Touchpoint::new(format!("v{k}"))
                })
                .collect()
        };
        let before = seen(&engine);
        FAIL_LIVE_UPDATES.with(|fail| fail.set(true));
        // Written alongside the live update (32 or more), written after it, and one arrival.
        for (n, what) in [(59, "a batch written alongside"), (5, "a small batch"), (1, "one touchpoint")] {
            let err = if n == 1 {
                engine.ingest_one(arrivals(1).pop().unwrap()).unwrap_err()
            } else {
                engine.ingest(arrivals(n)).unwrap_err()
            };
            assert!(err.to_string().contains("injected by a test"), "{what}: {err}");
            assert_eq!(seen(&engine), before, "{what}: the engine is as it was");
        }
        FAIL_LIVE_UPDATES.with(|fail| fail.set(false));
        // The same touchpoints are taken now, not refused as held already, and the store holds
        // what the engine does.
        engine.ingest(arrivals(59)).unwrap();
        let after = seen(&engine);
        assert_eq!(after.0, 160);
        assert!(after.2.len() > before.2.len(), "the arrivals changed profiles");
        drop(engine);
        assert_eq!(
            seen(&Engine::open_or_create(&path, config).unwrap()),
            after,
            "the store holds what the engine held"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

//! Checking a store: SQLite's own integrity check of the file, the store against the engine
//! (touchpoints, feed, model, config), every invariant of the derived state, and the profiles
//! against a resolution of the touchpoints from scratch. And rebuilding what is derived.

use serde::{Deserialize, Serialize};

use super::durable::{feed_profiles, OriginSource};
use super::Engine;
use crate::error::{Error, Result};

/// What [`Engine::check`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCheck {
    /// The store's file (`None` for an engine without one).
    pub path: Option<String>,
    /// Touchpoints held.
    pub touchpoints: usize,
    /// Entries of the change feed.
    pub changes: usize,
    /// Profiles.
    pub profiles: usize,
    /// What is wrong, one sentence each; empty when every check holds.
    pub problems: Vec<String>,
    /// What opening the store found wrong with derived state and rebuilt ([`Engine::warnings`]).
    pub rebuilt_on_open: Vec<String>,
}

impl StoreCheck {
    /// Whether every check holds.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl std::fmt::Display for StoreCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = self.path.as_deref().unwrap_or("the engine");
        writeln!(f, "{what}: {} touchpoints, {} changes, {} profiles", self.touchpoints, self.changes, self.profiles)?;
        for warning in &self.rebuilt_on_open {
            writeln!(f, "rebuilt on opening: {warning}")?;
        }
        if self.problems.is_empty() {
            return write!(f, "ok: the file, the derived state and a rebuild from the touchpoints agree");
        }
        for problem in &self.problems {
            writeln!(f, "problem: {problem}")?;
        }
        write!(f, "{} problem(s): run `omnitwin store rebuild` to rebuild the derived state", self.problems.len())
    }
}

impl Engine {
    /// Checks the engine and its store: SQLite's integrity check of the file; that the store
    /// holds exactly the engine's touchpoints, acknowledgement times, change feed, config and
    /// model; that the model and its value counts are valid; that the feed leads to exactly the
    /// profiles there are; that no touchpoint held carries a suppressed identifier; and that
    /// resolving the touchpoints from scratch with the model gives the same profiles. Reads
    /// everything (as long as a reopen); changes nothing.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// let check = engine.check()?;
    /// assert!(check.is_ok(), "{check}");
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn check(&self) -> Result<StoreCheck> {
        let mut problems = Vec::new();
        if let Some(store) = &self.store {
            problems.extend(store.integrity_problems()?.into_iter().map(|p| format!("SQLite integrity check: {p}")));
            match store.read_back() {
                Ok(stored) => self.compare_stored(&stored, &mut problems),
                Err(e) => problems.push(format!("the store cannot be read back: {e}")),
            }
        }
        if let Some(model) = &self.model {
            if let Err(e) = model.check() {
                problems.push(format!("the matching model is invalid: {e}"));
            }
            if let Err(e) = model.check_fits(&self.rules.config.matching.comparisons) {
                problems.push(format!("the matching model does not fit the config: {e}"));
            }
        }
        if let Some(Err(e)) = self.rfm_scale.as_ref().map(|s| s.check()) {
            problems.push(format!("the RFM scale is invalid: {e}"));
        }
        let held = self.touchpoints.len();
        if self.model_origin.counted > held {
            problems.push(format!(
                "the model's value counts are noted as taken from {} touchpoints, more than the {held} held",
                self.model_origin.counted
            ));
        }
        let feed = self.changes(0);
        if let Some((i, change)) = feed.iter().enumerate().find(|(i, c)| c.seq != *i as u64 + 1) {
            problems.push(format!(
                "change feed entry {} has seq {} (entries are numbered from 1 in order)",
                i + 1,
                change.seq
            ));
        }
        if self.change_times.len() != feed.len() && self.live.is_some() {
            problems.push(format!("{} changes but {} recording times", feed.len(), self.change_times.len()));
        }
        if self.change_times.windows(2).any(|w| w[0] > w[1]) || self.acknowledged.windows(2).any(|w| w[0] > w[1]) {
            problems.push("acknowledgement or recording times go back in time".into());
        }
        let assignments = self.assignments();
        let now: std::collections::BTreeSet<String> = assignments.iter().map(|a| a.profile_id.clone()).collect();
        if self.live.is_some() {
            let by_feed = feed_profiles(feed);
            if by_feed != now {
                let missing: Vec<&String> = now.difference(&by_feed).take(3).collect();
                let extra: Vec<&String> = by_feed.difference(&now).take(3).collect();
                problems.push(format!(
                    "the change feed leads to {} profiles, the engine holds {}: the feed never created {missing:?}…, \
                     and holds {extra:?}… that no longer exist",
                    by_feed.len(),
                    now.len()
                ));
            }
        }
        for (row, tp) in self.touchpoints.iter().enumerate() {
            if self.suppression.check(tp, &self.rules, row + 1).is_err() {
                problems.push(format!(
                    "touchpoint `{}` carries an identifier on the suppression list (a forget that did not finish)",
                    tp.touchpoint_id
                ));
                break;
            }
        }
        // The profiles a resolution from scratch gives, with the same model (or none).
        let mut scratch = Engine::new(self.rules.config.clone())?;
        scratch.model = self.model.clone();
        scratch.matching_paused = self.model.is_none() && self.live.is_some();
        scratch.rfm_scale = self.rfm_scale.clone();
        scratch.append_raw(self.touchpoints.clone());
        let again = scratch.assignments();
        let moved = assignments.iter().zip(&again).filter(|(a, b)| a.profile_id != b.profile_id).count();
        if moved > 0 {
            let first = assignments.iter().zip(&again).find(|(a, b)| a.profile_id != b.profile_id);
            problems.push(format!(
                "{moved} touchpoints are in other profiles than a resolution from scratch gives (first: `{}` in {} \
                 instead of {})",
                first.map_or("", |(a, _)| a.touchpoint_id.as_str()),
                first.map_or("", |(a, _)| a.profile_id.as_str()),
                first.map_or("", |(_, b)| b.profile_id.as_str()),
            ));
        }
        Ok(StoreCheck {
            path: self.store_path().map(|p| p.display().to_string()),
            touchpoints: held,
            changes: feed.len(),
            profiles: now.len(),
            problems,
            rebuilt_on_open: self.warnings.clone(),
        })
    }

    /// The store's content against the engine's.
    fn compare_stored(&self, stored: &crate::store::Stored, problems: &mut Vec<String>) {
        if stored.touchpoints.len() != self.touchpoints.len() {
            problems.push(format!(
                "the store holds {} touchpoints, the engine {}",
                stored.touchpoints.len(),
                self.touchpoints.len()
            ));
        } else if let Some((s, e)) = stored.touchpoints.iter().zip(&self.touchpoints).find(|(s, e)| s != e) {
            problems.push(format!(
                "stored touchpoint `{}` differs from the engine's `{}` at the same position",
                s.touchpoint_id, e.touchpoint_id
            ));
        }
        if stored.acknowledged != self.acknowledged {
            problems.push("stored acknowledgement times differ from the engine's".into());
        }
        if stored.changes != self.changes(0) {
            problems.push(format!(
                "the store's change feed ({} entries) differs from the engine's ({})",
                stored.changes.len(),
                self.changes(0).len()
            ));
        }
        match stored.config.as_deref().map(crate::Config::from_json_str) {
            Some(Ok(config)) if config == self.rules.config => {}
            Some(Ok(_)) => problems.push("the stored config differs from the engine's".into()),
            Some(Err(e)) => problems.push(format!("the stored config cannot be read: {e}")),
            None => problems.push("the store holds no config".into()),
        }
        let stored_model = stored.model.as_deref().map(serde_json::from_str::<crate::matching::Model>);
        match (stored_model, &self.model) {
            (None, None) => {}
            (Some(Ok(stored)), Some(model)) if &stored == model.as_ref() => {}
            (Some(Err(e)), _) => problems.push(format!("the stored model cannot be read: {e}")),
            (Some(_), None) => problems.push("the store holds a model the engine does not use".into()),
            (None, Some(_)) => problems.push("the engine's model is not in the store".into()),
            (Some(Ok(_)), Some(_)) => problems.push("the stored model differs from the engine's".into()),
        }
        if stored.salt.is_none() {
            problems.push("the store holds no salt for its suppression list".into());
        }
    }

    /// Rebuilds the derived state from the touchpoints: a model the engine trained is trained
    /// again on everything held (a model set with [`Engine::set_model`] is input and kept), the
    /// profiles are resolved again and what moved is recorded in the change feed and
    /// committed; the file is compacted; then everything is checked ([`Engine::check`]).
    pub fn rebuild(&mut self) -> Result<StoreCheck> {
        self.writable()?;
        if self.model_origin.source != OriginSource::Given {
            self.model = None;
        }
        self.go_live()?;
        self.rules_changed()?;
        if let Some(store) = &self.store {
            store.drop_unsound_meta()?;
        }
        self.warnings.clear();
        self.compact()?;
        let check = self.check()?;
        if let (false, Some(path)) = (check.is_ok(), self.store_path()) {
            return Err(Error::Store {
                path: path.to_owned(),
                message: format!("still damaged after rebuilding: {}", check.problems.join("; ")),
            });
        }
        Ok(check)
    }
}

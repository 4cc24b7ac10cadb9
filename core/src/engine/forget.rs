//! The right to erasure: forgetting a person removes their touchpoints, re-resolves what they
//! bridged (the splits recorded in the feed), takes their values out of the model's frozen
//! term frequencies, and on a durable store overwrites and compacts the file, so the erased
//! values are nowhere in it.

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::error::{Error, Result};
use crate::model::Change;
use crate::model::{Identifier, Text, Touchpoint};

/// Whom to forget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForgetTarget {
    /// The person (every profile) holding this identifier, given raw like any input.
    Identifier(Identifier),
    /// The person of this profile (a merged-away id leads to the survivor).
    Profile(String),
}

/// What `forget` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetReport {
    /// The profiles forgotten.
    pub profiles: Vec<String>,
    /// The touchpoints removed, by id.
    pub touchpoints: Vec<String>,
    /// The changes recorded: each forgotten profile, and what the rest became without them
    /// (splits of profiles they bridged, merges they had kept apart).
    pub changes: Vec<Change>,
}

impl Engine {
    /// Forgets a person (GDPR, Vietnam's Decree 13/2023): removes every touchpoint of the
    /// profile(s) the target names, with their identifiers and attributes, resolves the rest
    /// again (a profile held together only by the removed touchpoints splits, and the split is
    /// recorded), removes their values from the model's frozen value counts, and on a durable
    /// store deletes and compacts, so the erased values are nowhere in the file. The result is
    /// what never having ingested them gives with the same model. The engine goes live if it
    /// was not.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, ForgetTarget, IdKind, Identifier, Touchpoint};
    ///
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// engine.ingest_one(Touchpoint { email: Some("AN@x.vn".into()), ..Touchpoint::new("t2") })?;
    /// engine.ingest_one(Touchpoint { email: Some("binh@x.vn".into()), ..Touchpoint::new("t3") })?;
    /// let report = engine.forget(ForgetTarget::Identifier(Identifier::new(IdKind::Email, "an@x.vn")))?;
    /// assert_eq!(report.touchpoints, ["t1", "t2"]);
    /// assert_eq!(engine.len(), 1);
    /// assert!(engine.lookup(&Identifier::new(IdKind::Email, "an@x.vn")).is_none());
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn forget(&mut self, target: ForgetTarget) -> Result<ForgetReport> {
        self.forget_person(target, false)
    }

    /// [`Engine::forget`], and the person's identifiers go on the suppression list: a later
    /// touchpoint carrying one of them is refused (an `InvalidInput` error naming the field,
    /// or a rejected row with `OnError::Skip`) instead of bringing the person back. The list
    /// holds salted SHA-256 digests, never the values, and is kept by a durable store.
    pub fn forget_and_suppress(&mut self, target: ForgetTarget) -> Result<ForgetReport> {
        self.forget_person(target, true)
    }

    fn forget_person(&mut self, target: ForgetTarget, suppress: bool) -> Result<ForgetReport> {
        self.writable()?;
        self.go_live()?;
        let live = self.live.as_ref().expect("the engine is live");
        let profiles: Vec<Text> = match &target {
            ForgetTarget::Profile(id) => {
                vec![live.current_id(id).ok_or_else(|| Error::UnknownProfile(id.clone()))?]
            }
            ForgetTarget::Identifier(identifier) => {
                let (kind, key) = self.identifier_key(identifier).ok_or_else(|| {
                    Error::config("identifier", format!("`{}` is not a valid {}", identifier.value, identifier.kind))
                })?;
                let mut found: Vec<Text> = live
                    .identifier_members(kind, &key)
                    .iter()
                    .map(|&tp| live.profile_of[tp as usize].clone())
                    .collect();
                found.sort_unstable();
                found.dedup();
                if found.is_empty() {
                    return Err(Error::UnknownProfile(format!(
                        "nobody holds {}:{}",
                        identifier.kind, identifier.value
                    )));
                }
                if found.len() > 1 && live.identifier_links(kind, &key) == Some(false) {
                    // A shop's landline or a junk value is not one person: forgetting everyone
                    // who typed it would erase strangers.
                    return Err(Error::config(
                        "identifier",
                        format!(
                            "{}:{} is shared by {} profiles or blocked, so it names no one person: forget by profile id",
                            identifier.kind,
                            identifier.value,
                            found.len()
                        ),
                    ));
                }
                found
            }
        };
        let mut gone: Vec<u32> =
            profiles.iter().flat_map(|id| live.profile_touchpoints(id).unwrap_or_default()).collect();
        gone.sort_unstable();
        let (_, feed) = self.marks();

        // The model's value counts without the forgotten touchpoints they counted (those
        // that came after the counts were frozen are in no count).
        let counted = self.model_origin.counted.min(self.touchpoints.len());
        let in_counts: Vec<u32> = gone.iter().copied().filter(|&tp| (tp as usize) < counted).collect();
        let model = match (&self.model, live.derived_values(&in_counts, &self.touchpoints, &self.rules)?) {
            (Some(model), Some(values)) => {
                let mut model = crate::matching::Model::clone(model);
                for (cm, column) in model.comparisons.iter_mut().zip(values) {
                    if let (Some(tf), Some(column)) = (cm.term_frequencies.as_mut(), column) {
                        for value in column.into_iter().flatten() {
                            tf.remove(value.as_str());
                        }
                    }
                }
                Some(std::sync::Arc::new(model))
            }
            (model, _) => model.clone(),
        };
        let origin = super::durable::ModelOrigin { counted: counted - in_counts.len(), ..self.model_origin };

        // Remove the touchpoints, then resolve the rest again with that model.
        let mut old_profile_of: Vec<Text> = Vec::with_capacity(self.touchpoints.len() - gone.len());
        let mut kept = Vec::with_capacity(self.touchpoints.len() - gone.len());
        let mut removed = Vec::with_capacity(gone.len());
        let all = std::mem::take(&mut self.touchpoints);
        let mut removed_acknowledged = Vec::with_capacity(gone.len());
        let mut acknowledged = Vec::with_capacity(kept.capacity());
        for (tp, touchpoint) in all.into_iter().enumerate() {
            if gone.binary_search(&(tp as u32)).is_ok() {
                removed.push(touchpoint);
                removed_acknowledged.push(self.acknowledged[tp]);
            } else {
                old_profile_of.push(live.profile_of[tp].clone());
                acknowledged.push(self.acknowledged[tp]);
                kept.push(touchpoint);
            }
        }
        self.acknowledged = acknowledged;
        self.history.clear();
        self.index = kept.iter().enumerate().map(|(i, tp)| (tp.touchpoint_id.clone(), i as u32)).collect();
        self.touchpoints = kept;
        self.latest = self.touchpoints.iter().filter_map(|tp| tp.timestamp).max();
        self.model = model;
        self.model_origin = origin;
        self.resolution = std::sync::OnceLock::new();
        let mut live = self.live.take().expect("the engine is live");
        live.forget_profiles(&profiles, old_profile_of);
        let next = self.build_live()?;
        live.rebase(next);
        self.live = Some(live);
        self.record_segment_changes(self.touchpoints.len(), feed);

        self.stamp_changes(false);
        let changes = self.live.as_ref().map_or(Vec::new(), |l| l.changes(feed as u64).to_vec());
        let suppressed = if suppress { self.suppression.add(&removed, &self.rules) } else { Vec::new() };
        if let Some(store) = &self.store {
            // One transaction: the list, the deletions, the changes and the counts, or none.
            let written = self
                .meta_updates()
                .and_then(|meta| store.forget(&removed, &suppressed, &changes, &self.change_times[feed..], &meta));
            if let Err(e) = written {
                self.suppression.remove(&suppressed);
                self.unforget(removed, removed_acknowledged, &gone, feed)?;
                return Err(e);
            }
        }
        self.persisted_now();
        if let Some(store) = &self.store {
            // Committed: the person is forgotten. Compacting takes their values out of the
            // file's free pages and log; if it fails, the next compact (or forget) does it.
            store.compact().map_err(|e| Error::Store {
                path: store.path().to_owned(),
                message: format!(
                    "the person is forgotten, but the file could not be compacted ({e}): their erased values may \
                     remain in its free pages until Engine::compact succeeds"
                ),
            })?;
        }
        let mut touchpoints: Vec<String> = removed.iter().map(|t| t.touchpoint_id.to_string()).collect();
        touchpoints.sort_unstable();
        Ok(ForgetReport { profiles: profiles.iter().map(|p| p.to_string()).collect(), touchpoints, changes })
    }
}

impl Engine {
    /// Takes back a forget the store refused: the removed touchpoints go back where they were
    /// (`gone`: their positions before) with their acknowledgement times, the feed is cut back
    /// to `feed` entries, the model goes back to what the store holds, and the live state is
    /// rebuilt.
    fn unforget(&mut self, removed: Vec<Touchpoint>, acknowledged: Vec<i64>, gone: &[u32], feed: usize) -> Result<()> {
        let kept = std::mem::take(&mut self.touchpoints);
        let kept_acknowledged = std::mem::take(&mut self.acknowledged);
        let total = kept.len() + removed.len();
        let (mut kept, mut kept_acknowledged) = (kept.into_iter(), kept_acknowledged.into_iter());
        let (mut removed, mut acknowledged) = (removed.into_iter(), acknowledged.into_iter());
        let mut next_gone = gone.iter().peekable();
        for i in 0..total as u32 {
            let (tp, at) = if next_gone.peek() == Some(&&i) {
                next_gone.next();
                (removed.next(), acknowledged.next())
            } else {
                (kept.next(), kept_acknowledged.next())
            };
            self.touchpoints.extend(tp);
            self.acknowledged.extend(at);
        }
        let kept_feed: Vec<Change> = self.live.as_ref().map_or(Vec::new(), |l| l.changes(0)[..feed].to_vec());
        self.index = self.touchpoints.iter().enumerate().map(|(i, tp)| (tp.touchpoint_id.clone(), i as u32)).collect();
        self.latest = self.touchpoints.iter().filter_map(|tp| tp.timestamp).max();
        self.change_times.truncate(feed);
        self.live_again(kept_feed)
    }
}

//! The `Engine` facade: every verb (ingest, resolve, assignments, profiles, lookup, explain)
//! goes through it.

mod check;
mod durable;
mod explain;
#[cfg(test)]
mod fault_tests;
mod forget;
mod history;
mod live;
mod matching;
mod report;
mod segments;
mod simulate;
mod suppression;

use std::sync::OnceLock;

use polars::prelude::DataFrame;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use check::StoreCheck;
pub use explain::{Explanation, LinkStep, StepStatus};
pub use forget::{ForgetReport, ForgetTarget};
pub use live::{Change, ChangeEvent, IngestOutcome};
pub use matching::{MatchingReport, ModelSource};
pub use report::{IngestReport, OnError, QuarantineReport, RejectedRow, ResolveReport, SharedIdentifierReport};
pub use simulate::SimulationReport;

use crate::config::{Config, Rules};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::model::{IdKind, Identifier, Profile, ProfileRef, Text, Touchpoint};
use crate::prepare::{identifier_value, scope_of, IdValue, SCOPE_SEPARATOR};
use crate::progress::{NoProgress, Progress};
use crate::store::frame;
use report::REPORT_EXAMPLES;

/// Batches up to this size (or an eighth of what the engine holds, if more) are added to a live
/// engine by resolving what they touch; larger ones by resolving everything again.
const LIVE_BATCH: usize = 1024;

/// Live batches from this size on are inserted in a durable store while the live state takes
/// them in (below it, handing the insert to another thread costs more than it saves).
const WRITE_ALONGSIDE_FROM: usize = 32;

/// Which profile a touchpoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The touchpoint.
    pub touchpoint_id: String,
    /// Its profile.
    pub profile_id: String,
}

/// The result of resolving everything ingested so far. Profiles (survivorship over every
/// attribute) are built on first need: assignments and the report don't need them.
#[derive(Debug)]
struct Resolution {
    graph: Graph,
    /// Per cluster of the graph: its profile id.
    profile_ids: Vec<Text>,
    /// Profile id → cluster, built on first need.
    by_id: OnceLock<FxHashMap<Text, u32>>,
    report: ResolveReport,
    /// Per cluster of the graph: its profile.
    profiles: OnceLock<Vec<Profile>>,
    /// What probabilistic matching found, when it ran.
    matches: Option<matching::Matches>,
    /// The time and RFM scale traits are computed with, on first need.
    twin: OnceLock<crate::twin::TwinContext>,
}

impl Resolution {
    /// Profile id → cluster, built on first need.
    fn by_id(&self) -> &FxHashMap<Text, u32> {
        self.by_id.get_or_init(|| self.profile_ids.iter().enumerate().map(|(c, id)| (id.clone(), c as u32)).collect())
    }
}

/// The omnitwin engine: holds touchpoints and resolves them into profiles.
///
/// Resolution runs on first need after an ingest (or when [`Engine::resolve`] is called) and is
/// cached until the next ingest. Results never depend on the order touchpoints were ingested
/// in, how they were batched, or the number of threads.
///
/// ```
/// use omnitwin::{Config, Engine, Touchpoint};
///
/// let mut engine = Engine::new(Config::default())?;
/// engine.ingest([
///     Touchpoint { email: Some("An.Nguyen@gmail.com".into()), ..Touchpoint::new("web-1") },
///     Touchpoint { email: Some("annguyen@gmail.com".into()), phone: Some("0912 345 678".into()), ..Touchpoint::new("pos-7") },
///     Touchpoint { phone: Some("+84912345678".into()), ..Touchpoint::new("zalo-3") },
/// ])?;
/// let report = engine.resolve();
/// assert_eq!(report.profiles, 1);
/// let why = engine.explain("web-1", "zalo-3")?;
/// assert!(why.same_profile);
/// # Ok::<(), omnitwin::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    rules: Rules,
    touchpoints: Vec<Touchpoint>,
    index: FxHashMap<Text, u32>,
    /// The matching model given by the user; trained on the input when `None`.
    model: Option<std::sync::Arc<crate::matching::Model>>,
    resolution: OnceLock<Resolution>,
    /// The live state, once the engine resolves one touchpoint at a time (see
    /// [`Engine::ingest_one`]).
    live: Option<Box<live::Live>>,
    /// The durable store, for an engine opened with [`Engine::open`].
    store: Option<crate::store::Durable>,
    /// Identifiers of forgotten people whose touchpoints are refused.
    suppression: suppression::Suppression,
    /// The RFM scale given by the user or fixed when the engine went live; computed from the
    /// profiles when `None`.
    rfm_scale: Option<std::sync::Arc<crate::twin::RfmScale>>,
    /// The latest touchpoint timestamp held: traits' `as_of` unless the config fixes one.
    latest: Option<i64>,
    /// Per touchpoint: when the engine took it in (ms since the Unix epoch), never decreasing.
    acknowledged: Vec<i64>,
    /// Per change of the feed: when it was recorded (its call's acknowledgement time).
    change_times: Vec<i64>,
    /// The latest time handed out for acknowledgements and changes: times never go back.
    clock: i64,
    /// The last resolution of an earlier time (see [`Engine::profile_as_of`]).
    history: history::HistoryCache,
    /// Where the model came from and which touchpoints its value counts cover.
    model_origin: durable::ModelOrigin,
    /// The model, origin, RFM scale and config as the store holds them (or as the last
    /// successful call left them): what a failed write goes back to.
    persisted: durable::Persisted,
    /// What opening the store found wrong with derived state and rebuilt.
    warnings: Vec<String>,
    /// The store's file once [`Engine::close`] released it: writes are refused.
    closed: Option<std::path::PathBuf>,
    /// Set while a store opens without a model: its profiles are those without matching, as
    /// the engine that wrote it had them.
    matching_paused: bool,
}

impl Engine {
    /// An empty engine; the config is validated here.
    pub fn new(config: Config) -> Result<Engine> {
        Ok(Engine {
            rules: config.compile()?,
            touchpoints: Vec::new(),
            index: FxHashMap::default(),
            model: None,
            resolution: OnceLock::new(),
            live: None,
            store: None,
            suppression: suppression::Suppression::new(),
            rfm_scale: None,
            latest: None,
            acknowledged: Vec::new(),
            change_times: Vec::new(),
            clock: i64::MIN,
            history: history::HistoryCache::default(),
            model_origin: durable::ModelOrigin::default(),
            persisted: durable::Persisted::default(),
            warnings: Vec::new(),
            closed: None,
            matching_paused: false,
        })
    }

    /// Uses a saved matching model instead of training one on the input (a model trained on a
    /// large history scores a small batch better than one trained on the batch). It must have
    /// the config's matching comparisons.
    pub fn set_model(&mut self, model: crate::matching::Model) -> Result<()> {
        self.writable()?;
        model.check()?;
        model.check_fits(&self.rules.config.matching.comparisons)?;
        self.model = Some(std::sync::Arc::new(model));
        self.model_origin = durable::ModelOrigin { source: durable::OriginSource::Given, counted: 0 };
        self.rules_changed()
    }

    /// After the model or the config changed: what was resolved is stale; a live engine
    /// resolves everything again and records what moved in the feed (and the store).
    fn rules_changed(&mut self) -> Result<()> {
        self.resolution = OnceLock::new();
        self.history.clear();
        if self.live.is_some() {
            let (tps, feed) = self.marks();
            self.rebase();
            self.commit(tps, feed)?;
        }
        Ok(())
    }

    /// The matching model of the last resolution (resolving first if needed): the one given
    /// with [`Engine::set_model`], or the one trained on the input. `None` when matching is off
    /// or did not run.
    pub fn model(&self) -> Option<&crate::matching::Model> {
        if self.live.is_some() {
            return self.model.as_deref();
        }
        let r = self.resolved(&NoProgress);
        r.matches.as_ref().and_then(|m| m.linker.as_ref()?.model())
    }

    /// The engine's config.
    pub fn config(&self) -> &Config {
        &self.rules.config
    }

    /// How many touchpoints the engine holds.
    pub fn len(&self) -> usize {
        self.touchpoints.len()
    }

    /// Whether the engine holds no touchpoints.
    pub fn is_empty(&self) -> bool {
        self.touchpoints.is_empty()
    }

    /// A touchpoint by id.
    pub fn touchpoint(&self, touchpoint_id: &str) -> Option<&Touchpoint> {
        self.index.get(touchpoint_id).map(|&i| &self.touchpoints[i as usize])
    }

    /// Adds touchpoints. All or nothing: a missing or repeated id, or a value longer than
    /// `max_field_bytes`, fails the whole call and adds none.
    pub fn ingest(&mut self, touchpoints: impl IntoIterator<Item = Touchpoint>) -> Result<IngestReport> {
        let batch: Vec<Touchpoint> = touchpoints.into_iter().collect();
        self.check_new(&batch)?;
        let accepted = batch.len();
        self.append(batch)?;
        Ok(IngestReport { accepted, rejected: Vec::new() })
    }

    /// Ingests one touchpoint and resolves it at once, returning its profile and what changed
    /// (new profile, merges with the older profile's id surviving, splits, refused links).
    ///
    /// The first call makes the engine live: everything ingested so far is resolved, the
    /// matching model is fixed (the one given, or the one trained then; [`Engine::set_model`]
    /// changes it) and every later ingest updates the profiles in place, recording each
    /// change in the feed ([`Engine::changes`]). Only the touchpoints the new one connects to
    /// are resolved again, and the profiles end exactly as one batch of all the touchpoints
    /// would give with the same model, whatever the order and batch sizes.
    ///
    /// ```
    /// use omnitwin::{ChangeEvent, Config, Engine, Touchpoint};
    ///
    /// let mut engine = Engine::new(Config::default())?;
    /// let first = engine.ingest_one(Touchpoint { email: Some("an@gmail.com".into()), timestamp: Some(1), ..Touchpoint::new("t1") })?;
    /// let second = engine.ingest_one(Touchpoint { phone: Some("0912 345 678".into()), timestamp: Some(2), ..Touchpoint::new("t2") })?;
    /// assert_ne!(first.profile_id, second.profile_id);
    /// // One touchpoint with both: the two profiles merge, the older id survives.
    /// let third = engine.ingest_one(Touchpoint {
    ///     email: Some("An@Gmail.com".into()),
    ///     phone: Some("+84912345678".into()),
    ///     timestamp: Some(3),
    ///     ..Touchpoint::new("t3")
    /// })?;
    /// assert_eq!(third.profile_id, first.profile_id);
    /// assert!(third.changes.iter().any(|c| c.event == ChangeEvent::Merged {
    ///     profile_id: second.profile_id.clone(),
    ///     into: first.profile_id.clone(),
    /// }));
    /// // The merged-away id still finds the person.
    /// assert_eq!(engine.profile(&second.profile_id).unwrap().profile_id, first.profile_id);
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn ingest_one(&mut self, touchpoint: Touchpoint) -> Result<IngestOutcome> {
        let batch = [touchpoint];
        self.check_new(&batch)?;
        let [touchpoint] = batch;
        self.go_live()?;
        let (tps, feed) = self.marks();
        let mut outcome = match self.add_live(touchpoint) {
            Ok(outcome) => outcome,
            Err(e) => {
                self.undo_to(tps, feed)?;
                return Err(e);
            }
        };
        self.record_segment_changes(tps, feed);
        if let Some(live) = &self.live {
            // The outcome lists every change the arrival caused, segment ones too.
            outcome.changes = live.changes(feed as u64).to_vec();
        }
        self.commit(tps, feed)?;
        Ok(outcome)
    }

    /// Reads a touchpoint from a JSON object as [`Touchpoint::from_json_value`] does, a text
    /// `timestamp` without an offset read in the config's `timezone`: the one reader the Python
    /// and Node packages use for `ingest_one`.
    ///
    /// ```
    /// use omnitwin::{Config, Engine};
    /// let engine = Engine::new(Config::from_json_str(r#"{"timezone": "+07:00"}"#)?)?;
    /// let tp = engine.touchpoint_from_json(serde_json::json!({"touchpoint_id": "t1", "timestamp": "2024-01-01 07:00"}))?;
    /// assert_eq!(tp.timestamp, Some(1_704_067_200_000));
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn touchpoint_from_json(&self, value: serde_json::Value) -> Result<Touchpoint> {
        Touchpoint::from_json_value(value, self.rules.offset)
    }

    /// How many touchpoints and changes the engine holds: where a write starts.
    fn marks(&self) -> (usize, usize) {
        (self.touchpoints.len(), self.live.as_ref().map_or(0, |l| l.changes(0).len()))
    }

    /// Commits to the store (if any) the touchpoints and changes after the marks; when that
    /// fails, undoes them in memory too, so that the engine stays what the store holds.
    fn commit(&mut self, tps: usize, feed: usize) -> Result<()> {
        self.commit_written(tps, feed, None)
    }

    /// [`Engine::commit`], the touchpoints already inserted in the store's open write when
    /// `written` is `Some(Ok(()))` (see [`Engine::add_live_batch`]), or failed to be.
    fn commit_written(&mut self, tps: usize, feed: usize, written: Option<Result<()>>) -> Result<()> {
        self.stamp_changes(self.touchpoints.len() > tps);
        let Some(store) = &self.store else {
            self.persisted_now();
            return Ok(());
        };
        let changes = self.live.as_ref().map_or(&[][..], |l| l.changes(feed as u64));
        let times = &self.change_times[feed.min(self.change_times.len())..];
        let alongside = written.is_some();
        let committed = self.meta_updates().and_then(|meta| match written {
            None => store.append(&self.touchpoints[tps..], &self.acknowledged[tps..], changes, times, &meta),
            Some(Ok(())) => store.finish_write(changes, times, &meta),
            Some(Err(e)) => Err(e),
        });
        if committed.is_err() && alongside {
            store.abandon_write();
        }
        let Err(e) = committed else {
            self.persisted_now();
            return Ok(());
        };
        self.undo_to(tps, feed)?;
        Err(e)
    }

    /// Takes back, in memory, the touchpoints and changes after the marks `tps` and `feed` and
    /// rebuilds the live state from what is left: after a write the store refused, or a live
    /// update that failed part way, the engine holds again exactly what it held before the call
    /// (and what the store holds), so the caller's error means nothing was taken in.
    fn undo_to(&mut self, tps: usize, feed: usize) -> Result<()> {
        let kept: Vec<Change> = self.live.as_ref().map_or(Vec::new(), |l| l.changes(0)[..feed].to_vec());
        self.change_times.truncate(feed);
        self.truncate(tps);
        self.live_again(kept)
    }

    /// The change feed after position `since` (0 for all): every profile created, merged and
    /// split since the engine went live, in order. Empty until the engine is live (see
    /// [`Engine::ingest_one`]); [`Engine::go_live`] starts it with every profile created.
    pub fn changes(&self, since: u64) -> &[Change] {
        self.live.as_ref().map_or(&[], |live| live.changes(since))
    }

    /// [`Engine::changes`] as a DataFrame (`seq`, `change`, `profile_id`, `into` joined by
    /// `|`), for data teams to export the change log (`store::write_frame`).
    pub fn changes_frame(&self, since: u64) -> Result<DataFrame> {
        frame::changes_frame(self.changes(since))
    }

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
    fn room_for_arrivals(&mut self) {
        self.reserve(self.touchpoints.len() / 2);
    }

    /// A live state from a batch resolution of everything held, fixing the model it used.
    fn build_live(&mut self) -> Result<live::Live> {
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
    fn rebase(&mut self) {
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
    fn add_live(&mut self, touchpoint: Touchpoint) -> Result<IngestOutcome> {
        let tp = self.push_live(vec![touchpoint]);
        self.update_live(|live, touchpoints, rules, model| live.add(tp, touchpoints, rules, model))
    }

    /// Adds checked touchpoints to the live state at once (see [`live::Live::add_batch`]). With
    /// a durable store and a batch of [`WRITE_ALONGSIDE_FROM`] or more, the store inserts them
    /// on another thread meanwhile, in a write left open for [`Engine::commit_written`]: returns
    /// how that went (`None` when not written).
    fn add_live_batch(&mut self, batch: Vec<Touchpoint>) -> Result<Option<Result<()>>> {
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
    fn push_live(&mut self, batch: Vec<Touchpoint>) -> u32 {
        let first = self.push_unindexed(batch);
        index_from(&mut self.index, &self.touchpoints, first as usize);
        first
    }

    /// [`Engine::push_live`] but for the id index, which the caller brings up to date
    /// ([`index_from`]) before anything reads it.
    fn push_unindexed(&mut self, batch: Vec<Touchpoint>) -> u32 {
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
    fn update_live<T>(
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

    /// The touchpoints of a converted batch this engine takes: one already held, or carrying an
    /// identifier on the suppression list, is the error with [`OnError::Fail`] and a rejected
    /// row with [`OnError::Skip`]. Rows are numbered as in the input, whose first row is
    /// `first_row`, the rows `rejected` already lists counted.
    fn keep_acceptable(
        &self,
        batch: Vec<Touchpoint>,
        rejected: &mut Vec<RejectedRow>,
        on_error: OnError,
        first_row: usize,
    ) -> Result<Vec<Touchpoint>> {
        self.writable()?;
        let skipped: rustc_hash::FxHashSet<usize> = rejected.iter().map(|r| r.row).collect();
        let mut rows = (first_row.max(1)..).filter(|row| !skipped.contains(row));
        let mut kept = Vec::with_capacity(batch.len());
        let before = rejected.len();
        for tp in batch {
            let row = rows.next().unwrap_or(0);
            let verdict = if self.index.contains_key(&tp.touchpoint_id) {
                Err(Error::DuplicateTouchpointId {
                    row,
                    touchpoint_id: tp.touchpoint_id.to_string(),
                    first_seen: "by a touchpoint ingested before".into(),
                })
            } else {
                self.suppression.check(&tp, &self.rules, row)
            };
            match verdict {
                Ok(()) => kept.push(tp),
                Err(e) if on_error == OnError::Skip => rejected.push(RejectedRow {
                    row,
                    touchpoint_id: Some(tp.touchpoint_id.to_string()),
                    reasons: vec![e.to_string()],
                }),
                Err(e) => return Err(e),
            }
        }
        if rejected.len() > before {
            rejected.sort_by_key(|r| r.row);
        }
        Ok(kept)
    }

    /// Checks new touchpoints: ids present, not repeated (among them or with those held),
    /// values within `max_field_bytes`.
    fn check_new(&self, batch: &[Touchpoint]) -> Result<()> {
        self.writable()?;
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, tp) in batch.iter().enumerate() {
            let row = i + 1;
            if tp.touchpoint_id.trim().is_empty() {
                return Err(Error::MissingTouchpointId { row, column: "touchpoint_id".into() });
            }
            if self.index.contains_key(&tp.touchpoint_id) {
                return Err(Error::DuplicateTouchpointId {
                    row,
                    touchpoint_id: tp.touchpoint_id.to_string(),
                    first_seen: "by a touchpoint ingested before".into(),
                });
            }
            if let Some(first) = seen.insert(&tp.touchpoint_id, row) {
                return Err(Error::DuplicateTouchpointId {
                    row,
                    touchpoint_id: tp.touchpoint_id.to_string(),
                    first_seen: format!("at row {first}"),
                });
            }
            frame::check_sizes(tp, row, self.rules.config.max_field_bytes)?;
            self.suppression.check(tp, &self.rules, row)?;
        }
        Ok(())
    }

    /// Adds the rows of a DataFrame in the standard touchpoint schema (after the config's column
    /// mapping). Columns outside the schema become custom attributes. With [`OnError::Fail`] the
    /// first bad row fails the call and nothing is added; with [`OnError::Skip`] bad rows are
    /// left out and listed in the report.
    ///
    /// The frame is consumed: each column is freed once converted, so ingesting a large frame
    /// does not hold it and its touchpoints in memory at once (clone the frame to keep it; polars
    /// clones share their buffers).
    pub fn ingest_frame(&mut self, df: DataFrame, on_error: OnError) -> Result<IngestReport> {
        self.ingest_frame_with_progress(df, on_error, &NoProgress)
    }

    /// [`Engine::ingest_frame`], reporting progress.
    pub fn ingest_frame_with_progress(
        &mut self,
        df: DataFrame,
        on_error: OnError,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        self.ingest_frame_batch(df, on_error, 1, progress)
    }

    /// [`Engine::ingest_frame`] for a frame that is one batch of a larger input whose first row
    /// is row `first_row` (1-based): errors and rejected rows name rows of the whole input.
    pub fn ingest_frame_batch(
        &mut self,
        df: DataFrame,
        on_error: OnError,
        first_row: usize,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        let (batch, mut rejected) =
            frame::touchpoints_from_frame(df, &self.rules, on_error, &self.index, first_row.max(1), progress)?;
        let batch = self.keep_acceptable(batch, &mut rejected, on_error, first_row)?;
        let accepted = batch.len();
        self.append(batch)?;
        Ok(IngestReport { accepted, rejected })
    }

    /// Adds the touchpoints of a file: CSV (read a batch of rows at a time, so a large file is
    /// never held whole beside its touchpoints), Parquet or JSON lines, the format from the
    /// file name unless given. All or nothing: on an error (or when `progress` asks to stop)
    /// nothing of the file stays. The report's rejected rows include lines that were not valid
    /// UTF-8 (with [`OnError::Skip`]).
    pub fn ingest_file(
        &mut self,
        path: &std::path::Path,
        format: Option<crate::store::InputFormat>,
        on_error: OnError,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        if self.live.is_some() {
            // Read the whole file first (all or nothing), then add it to the live state.
            let mut staging = Engine::new(self.rules.config.clone())?;
            let mut report = staging.ingest_file(path, format, on_error, progress)?;
            let batch = std::mem::take(&mut staging.touchpoints);
            let batch = self.keep_acceptable(batch, &mut report.rejected, on_error, 1)?;
            report.accepted = batch.len();
            self.append(batch)?;
            return Ok(report);
        }
        let before = self.touchpoints.len();
        let result = self.ingest_file_batches(path, format, on_error, progress);
        if result.is_err() {
            self.truncate(before);
        }
        result
    }

    fn ingest_file_batches(
        &mut self,
        path: &std::path::Path,
        format: Option<crate::store::InputFormat>,
        on_error: OnError,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        use crate::store::{read_frame, CsvBatches, InputFormat};
        progress.stage("reading", None);
        let mut report = IngestReport::default();
        if format.or_else(|| InputFormat::from_path(path)) == Some(InputFormat::Csv) {
            let mut batches = CsvBatches::open(path, on_error)?;
            self.reserve(batches.rows());
            report.rejected.extend_from_slice(batches.rejected());
            for batch in &mut batches {
                if progress.cancelled() {
                    return Err(Error::Cancelled);
                }
                let (df, first_row) = batch?;
                let part = self.ingest_frame_batch(df, on_error, first_row, progress)?;
                report.accepted += part.accepted;
                report.rejected.extend(part.rejected);
            }
        } else {
            let (df, bad_lines) = read_frame(path, format, on_error)?;
            report.rejected.extend(bad_lines);
            let part = self.ingest_frame_with_progress(df, on_error, progress)?;
            report.accepted = part.accepted;
            report.rejected.extend(part.rejected);
        }
        Ok(report)
    }

    /// Forgets every touchpoint after the first `len` (undoing a failed ingest).
    fn truncate(&mut self, len: usize) {
        if self.touchpoints.len() <= len {
            return;
        }
        for tp in &self.touchpoints[len..] {
            self.index.remove(&tp.touchpoint_id);
        }
        self.touchpoints.truncate(len);
        self.acknowledged.truncate(len);
        self.history.clear();
        self.resolution = OnceLock::new();
        self.latest = self.touchpoints.iter().filter_map(|tp| tp.timestamp).max();
    }

    /// Makes room for `additional` more touchpoints. Ingesting a large input batch by batch
    /// otherwise grows the touchpoint store by doubling, which briefly holds the old and the new
    /// store at once: with room reserved, peak memory stays at the data's size.
    pub fn reserve(&mut self, additional: usize) {
        self.touchpoints.reserve_exact(additional);
        self.acknowledged.reserve_exact(additional);
        self.index.reserve(additional);
    }

    /// Adds checked touchpoints: to the live state one at a time (a batch much smaller than
    /// what is held), else by resolving everything again.
    fn append(&mut self, batch: Vec<Touchpoint>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.live.is_some() {
            let (tps, feed) = self.marks();
            let mut written = None;
            if batch.len() <= LIVE_BATCH.max(self.touchpoints.len() / 8) {
                written = match self.add_live_batch(batch) {
                    Ok(written) => written,
                    Err(e) => {
                        self.undo_to(tps, feed)?;
                        return Err(e);
                    }
                };
                self.record_segment_changes(tps, feed);
            } else {
                self.append_raw(batch);
                self.rebase();
            }
            return self.commit_written(tps, feed, written);
        }
        self.append_raw(batch);
        Ok(())
    }

    fn append_raw(&mut self, batch: Vec<Touchpoint>) {
        self.resolution = OnceLock::new();
        self.acknowledge(batch.len());
        self.index.reserve(batch.len());
        let start = self.touchpoints.len();
        for (i, tp) in batch.iter().enumerate() {
            self.index.insert(tp.touchpoint_id.clone(), (start + i) as u32);
            self.latest = self.latest.max(tp.timestamp);
        }
        if self.touchpoints.capacity() == 0 {
            // Take the batch's buffer as it is: copying a million touchpoints would hold two
            // copies at once.
            self.touchpoints = batch;
        } else {
            self.touchpoints.extend(batch);
        }
    }

    /// Resolves everything ingested (if not already resolved) and returns the report.
    pub fn resolve(&self) -> &ResolveReport {
        &self.resolved(&NoProgress).report
    }

    /// [`Engine::resolve`], reporting progress.
    pub fn resolve_with_progress(&self, progress: &dyn Progress) -> &ResolveReport {
        &self.resolved(progress).report
    }

    fn resolved(&self, progress: &dyn Progress) -> &Resolution {
        self.resolution.get_or_init(|| self.compute(progress))
    }

    fn compute(&self, progress: &dyn Progress) -> Resolution {
        if self.matching_paused {
            let mut rules = self.rules.clone();
            rules.config.matching.enabled = false;
            return compute(&self.touchpoints, &rules, None, None, progress);
        }
        compute(&self.touchpoints, &self.rules, self.model.as_ref(), None, progress)
    }

    /// Every cluster's profile, built on first need.
    fn built_profiles(&self, progress: &dyn Progress) -> &[Profile] {
        let r = self.resolved(progress);
        r.profiles.get_or_init(|| {
            let ctx = self.twin_context(r);
            crate::twin::build_profiles(&self.touchpoints, &r.graph, &self.rules, &r.profile_ids, ctx, progress)
        })
    }

    /// The `as_of` time of traits: the config's, else the latest touchpoint timestamp held.
    fn as_of(&self) -> Option<i64> {
        self.rules.twin.as_of.or(self.latest)
    }

    /// What a resolution's traits are computed with: `as_of` and the RFM scale (the one set or
    /// fixed, else computed over the resolution's buyers).
    fn twin_context<'r>(&self, r: &'r Resolution) -> &'r crate::twin::TwinContext {
        r.twin.get_or_init(|| crate::twin::TwinContext {
            as_of: self.as_of(),
            scale: self.rfm_scale.clone().unwrap_or_else(|| {
                std::sync::Arc::new(crate::twin::rfm_scale(&self.touchpoints, &r.graph, &self.rules))
            }),
        })
    }

    /// The context of a live engine's traits: `as_of` now and the fixed scale.
    fn live_context(&self) -> crate::twin::TwinContext {
        crate::twin::TwinContext { as_of: self.as_of(), scale: self.rfm_scale.clone().unwrap_or_default() }
    }

    /// The RFM scale scores are given against: the one set or fixed when the engine went live,
    /// else the one computed over the current profiles' buyers.
    pub fn rfm_scale(&self) -> crate::twin::RfmScale {
        match &self.rfm_scale {
            Some(scale) => scale.as_ref().clone(),
            None => self.twin_context(self.resolved(&NoProgress)).scale.as_ref().clone(),
        }
    }

    /// Fixes the RFM scale scores are given against (say, last quarter's, so this quarter's
    /// scores compare), instead of computing it from the profiles held.
    pub fn set_rfm_scale(&mut self, scale: crate::twin::RfmScale) -> Result<()> {
        self.writable()?;
        scale.check()?;
        let scale = std::sync::Arc::new(scale);
        if let Some(store) = &self.store {
            store.set_meta(&[("rfm_scale", Some(serde_json::to_string(scale.as_ref())?))])?;
        }
        self.persisted.rfm_scale = Some(std::sync::Arc::clone(&scale));
        self.rfm_scale = Some(scale);
        self.history.clear();
        if let Some(r) = self.resolution.get_mut() {
            r.twin = OnceLock::new();
            r.profiles = OnceLock::new();
        }
        if let Some(live) = &self.live {
            live.forget_built();
        }
        Ok(())
    }

    /// Builds the profiles now (they are otherwise built on first need), reporting progress.
    pub fn build_profiles_with_progress(&self, progress: &dyn Progress) -> usize {
        self.built_profiles(progress).len()
    }

    /// Every touchpoint with its profile, in ingest order.
    pub fn assignments(&self) -> Vec<Assignment> {
        if let (Some(live), None) = (&self.live, self.resolution.get()) {
            return self
                .touchpoints
                .iter()
                .zip(&live.profile_of)
                .map(|(tp, id)| Assignment { touchpoint_id: tp.touchpoint_id.to_string(), profile_id: id.to_string() })
                .collect();
        }
        let r = self.resolved(&NoProgress);
        self.touchpoints
            .iter()
            .zip(&r.graph.cluster_of)
            .map(|(tp, &c)| Assignment {
                touchpoint_id: tp.touchpoint_id.to_string(),
                profile_id: r.profile_ids[c as usize].to_string(),
            })
            .collect()
    }

    /// [`Engine::assignments`] as a DataFrame with columns `touchpoint_id`, `profile_id`.
    pub fn assignments_frame(&self) -> Result<DataFrame> {
        if let Some(live) = self.stale_live() {
            return frame::assignments_frame_of(&self.touchpoints, &live.profile_of);
        }
        let r = self.resolved(&NoProgress);
        frame::assignments_frame(&self.touchpoints, &r.graph.cluster_of, &r.profile_ids)
    }

    /// Every profile, sorted by profile id.
    pub fn profiles(&self) -> Vec<&Profile> {
        let mut out: Vec<&Profile> = self.built_profiles(&NoProgress).iter().collect();
        out.sort_unstable_by(|a, b| a.profile_id.cmp(&b.profile_id));
        out
    }

    /// [`Engine::profiles`] as a DataFrame, one row per profile: ids, status, counts, first and
    /// last seen, channels, identifiers by kind (list columns), and each attribute with its
    /// source and touchpoint.
    pub fn profiles_frame(&self) -> Result<DataFrame> {
        self.profiles_frame_in(frame::ListStyle::List)
    }

    /// [`Engine::profiles_frame`] with list columns joined by `|`, for formats without lists (CSV).
    pub fn profiles_frame_flat(&self) -> Result<DataFrame> {
        self.profiles_frame_in(frame::ListStyle::Joined)
    }

    /// Builds the profiles frame; see [`Engine::for_each_profiles_chunk`].
    fn profiles_frame_in(&self, style: frame::ListStyle) -> Result<DataFrame> {
        let mut out: Option<DataFrame> = None;
        self.for_each_profiles_chunk(style, |df| {
            match &mut out {
                Some(all) => {
                    all.vstack_mut(&df)?;
                }
                None => out = Some(df),
            }
            Ok(())
        })?;
        let mut df = out.expect("at least one chunk is produced");
        df.rechunk_mut();
        Ok(df)
    }

    /// Writes every profile to a file (Parquet with list columns, or CSV with lists joined by
    /// `|`), sorted by profile id, a chunk at a time: the whole frame is never in memory.
    pub fn write_profiles(&self, path: &std::path::Path, format: crate::store::OutputFormat) -> Result<()> {
        let style = match format {
            crate::store::OutputFormat::Csv => frame::ListStyle::Joined,
            crate::store::OutputFormat::Parquet => frame::ListStyle::List,
        };
        let mut writer: Option<crate::store::FrameWriter> = None;
        self.for_each_profiles_chunk(style, |df| {
            if writer.is_none() {
                writer = Some(crate::store::FrameWriter::create(path, format, &df)?);
            }
            writer.as_mut().expect("the writer was just created").write(&df)
        })?;
        writer.expect("at least one chunk is produced").finish()
    }

    /// Calls `f` with the profiles frame in chunks of rows, in profile-id order (at least one
    /// chunk, possibly empty). When the profiles are not built yet, each chunk's profiles are
    /// built, converted and dropped, so a large frame never holds every profile object too.
    fn for_each_profiles_chunk(
        &self,
        style: frame::ListStyle,
        mut f: impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        const CHUNK: usize = 1 << 14;
        let custom = self.custom_attribute_names();
        let r = self.resolved(&NoProgress);
        if let Some(built) = r.profiles.get() {
            let mut profiles: Vec<&Profile> = built.iter().collect();
            profiles.sort_unstable_by(|a, b| a.profile_id.cmp(&b.profile_id));
            return f(frame::profiles_frame(&profiles, &self.rules, style, &custom)?);
        }
        let mut order: Vec<u32> = (0..r.profile_ids.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| r.profile_ids[a as usize].cmp(&r.profile_ids[b as usize]));
        if order.is_empty() {
            return f(frame::profiles_frame(&[], &self.rules, style, &custom)?);
        }
        for chunk in order.chunks(CHUNK) {
            let ctx = self.twin_context(r);
            let profiles =
                crate::twin::build_some_profiles(&self.touchpoints, &r.graph, &self.rules, &r.profile_ids, chunk, ctx);
            let refs: Vec<&Profile> = profiles.iter().collect();
            f(frame::profiles_frame(&refs, &self.rules, style, &custom)?)?;
        }
        Ok(())
    }

    /// Every custom attribute name the touchpoints carry, sorted.
    fn custom_attribute_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .touchpoints
            .iter()
            .flat_map(|tp| tp.attributes.keys())
            .map(|k| k.to_string())
            .collect::<rustc_hash::FxHashSet<String>>()
            .into_iter()
            .collect();
        names.sort_unstable();
        names
    }

    /// A profile by id. On a live engine, the id of a profile merged into another leads to
    /// the survivor.
    pub fn profile(&self, profile_id: &str) -> Option<ProfileRef<'_>> {
        if let Some(live) = self.stale_live() {
            let id = live.current_id(profile_id)?;
            return self.live_profile(live, &id);
        }
        // A live engine knows where merged-away ids went.
        let current = self.live.as_ref().and_then(|live| live.current_id(profile_id));
        let profile_id = current.as_deref().unwrap_or(profile_id);
        let r = self.resolved(&NoProgress);
        let &c = r.by_id().get(profile_id)?;
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[c as usize]))
    }

    /// The profile a touchpoint belongs to.
    pub fn profile_of(&self, touchpoint_id: &str) -> Option<ProfileRef<'_>> {
        let &tp = self.index.get(touchpoint_id)?;
        if let Some(live) = self.stale_live() {
            return self.live_profile(live, &live.profile_of[tp as usize]);
        }
        let c = self.resolved(&NoProgress).graph.cluster_of[tp as usize];
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[c as usize]))
    }

    /// The profile an identifier belongs to, from a raw value (normalized here like any input:
    /// `lookup(&Identifier::new(IdKind::Phone, "0912 345 678"))`). For kinds scoped by source,
    /// give the source as the identifier's scope. Blocked and shared identifiers identify nobody
    /// and return `None`.
    pub fn lookup(&self, identifier: &Identifier) -> Option<ProfileRef<'_>> {
        let (kind_index, key) = self.identifier_key(identifier)?;
        let kind_index = kind_index as usize;
        if let Some(live) = self.stale_live() {
            let owner = live.identifier_owner(kind_index as u16, &key, &self.touchpoints)?;
            return self.live_profile(live, &live.profile_of[owner as usize]);
        }
        let r = self.resolved(&NoProgress);
        let id = r.graph.interner.get(kind_index as u16, &key)?;
        if !r.graph.links(id) {
            return None;
        }
        // The identifier's first member anchors it; members refused a link stay elsewhere.
        let owner = *r.graph.members.get(id as usize).first()?;
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[r.graph.cluster_of[owner as usize] as usize]))
    }

    /// An identifier as the engine interns it: its kind's index and its key (normalized value,
    /// scoped by source for scoped kinds). `None` for a kind the engine does not link on or an
    /// invalid value.
    fn identifier_key(&self, identifier: &Identifier) -> Option<(u16, Text)> {
        let kind_index = self.rules.kind_index(&identifier.kind)?;
        let rule = &self.rules.kinds[kind_index];
        let IdValue::Valid(value) = identifier_value(&identifier.kind, &identifier.value, self.rules.region) else {
            return None;
        };
        let (scope, value) = match (&identifier.scope, rule.scope) {
            (_, crate::config::Scope::None) => (None, value.as_str()),
            (Some(scope), _) => (Some(scope.as_str()), value.as_str()),
            (None, _) => scope_of(rule, &value, None),
        };
        let key: Text = match scope {
            Some(scope) => format!("{scope}{SCOPE_SEPARATOR}{value}").into(),
            None => value.into(),
        };
        Some((kind_index as u16, key))
    }

    /// The live state, when it is ahead of the batch resolution (which is then not computed).
    fn stale_live(&self) -> Option<&live::Live> {
        self.live.as_deref().filter(|_| self.resolution.get().is_none())
    }

    /// The profile of the live state with id `profile_id`: the one built since its component
    /// last changed (shared, not copied), else built from the components it lies in (an
    /// identifier's status in the profile, linked or partly refused, depends on its touchpoints
    /// in other profiles too) and kept.
    fn live_profile(&self, live: &live::Live, profile_id: &str) -> Option<ProfileRef<'_>> {
        let ctx = self.live_context();
        let built = live.built_profile(profile_id);
        if let Some(profile) = built.as_ref().filter(|p| p.traits.as_of == ctx.as_of) {
            return Some(ProfileRef::Shared(std::sync::Arc::clone(profile)));
        }
        let tps = live.profile_touchpoints(profile_id)?;
        let profile = match built {
            Some(built) => {
                // Built before the latest arrival moved `as_of`: time-dependent traits again.
                let mut profile = Profile::clone(&built);
                let members: Vec<&Touchpoint> = tps.iter().map(|&tp| &self.touchpoints[tp as usize]).collect();
                crate::twin::enrich(&mut profile, &members, &self.rules.twin, &ctx);
                profile
            }
            None => {
                let first = *tps.first()?;
                let part =
                    live.resolve_part(live.component(&tps), &self.touchpoints, &self.rules, self.model.as_ref(), false);
                let r = &part.resolution;
                let c = r.graph.cluster_of[part.local(first) as usize];
                crate::twin::build_some_profiles(&part.touchpoints, &r.graph, &self.rules, &r.profile_ids, &[c], &ctx)
                    .pop()?
            }
        };
        let profile = std::sync::Arc::new(profile);
        live.keep_built(std::sync::Arc::clone(&profile));
        Some(ProfileRef::Shared(profile))
    }

    /// On a live engine whose batch resolution is not computed: the touchpoints connected to
    /// `tps` through any identifier or match, resolved on their own (for explanations).
    fn live_part(&self, tps: &[u32]) -> Option<live::Part> {
        let live = self.stale_live()?;
        Some(live.resolve_part(live.neighbourhood(tps), &self.touchpoints, &self.rules, self.model.as_ref(), true))
    }

    /// Why two touchpoints are, or are not, in one profile.
    pub fn explain(&self, touchpoint_a: &str, touchpoint_b: &str) -> Result<Explanation> {
        let a = *self.index.get(touchpoint_a).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_a.into()))?;
        let b = *self.index.get(touchpoint_b).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_b.into()))?;
        if let Some(part) = self.live_part(&[a, b]) {
            let (la, lb) = (part.local(a), part.local(b));
            return Ok(explain_in(&self.rules, &part.touchpoints, &part.resolution, la, lb));
        }
        Ok(explain_in(&self.rules, &self.touchpoints, self.resolved(&NoProgress), a, b))
    }

    /// A profile as an HTML card with its timeline (see [`crate::html::profile`]): what a
    /// notebook shows for it.
    pub fn profile_html(&self, profile: &Profile) -> String {
        let touchpoints: Vec<&Touchpoint> =
            profile.touchpoint_ids.iter().filter_map(|id| self.touchpoint(id)).collect();
        crate::html::profile(profile, &touchpoints)
    }

    /// The ids of the profiles in a segment, sorted, evaluated on every profile in parallel.
    /// A `traits.<name>` the config does not define is an error naming its position.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Segment, Touchpoint};
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.ingest([
    ///     Touchpoint { email: Some("an@x.vn".into()), event_type: Some("purchase".into()), amount: Some(500_000.0),
    ///                  channel: Some("store".parse().unwrap()), timestamp: Some(1_700_000_000_000), ..Touchpoint::new("t1") },
    ///     Touchpoint { email: Some("binh@x.vn".into()), event_type: Some("page_view".into()), ..Touchpoint::new("t2") },
    /// ])?;
    /// let buyers = engine.segment(&Segment::parse(r#"orders >= 1 and channels contains "store""#)?)?;
    /// assert_eq!(buyers, vec![engine.profile_of("t1").unwrap().profile_id.clone()]);
    /// // A campaign by email reaches only those who agreed to it.
    /// let email = Segment::parse("orders >= 1")?.requiring_consent("marketing", "email");
    /// assert!(engine.segment(&email)?.is_empty());
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn segment(&self, segment: &crate::Segment) -> Result<Vec<String>> {
        self.check_traits(segment)?;
        use rayon::prelude::*;
        let mut ids: Vec<String> = self
            .built_profiles(&NoProgress)
            .par_iter()
            .filter(|p| segment.matches(p))
            .map(|p| p.profile_id.clone())
            .collect();
        ids.par_sort_unstable();
        Ok(ids)
    }

    /// The ids of the profiles in a segment named in the config, sorted (with the consent it
    /// requires).
    pub fn segment_members(&self, name: &str) -> Result<Vec<String>> {
        let Some(found) = self.rules.twin.segments.iter().find(|s| s.name == name) else {
            let names: Vec<&str> = self.rules.twin.segments.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::config(
                "segments",
                format!(
                    "no segment named `{name}`; the config defines: {}",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                ),
            ));
        };
        self.segment(&found.expression)
    }

    /// Refuses an expression that reads a user-defined trait the config does not define.
    fn check_traits(&self, segment: &crate::Segment) -> Result<()> {
        match segment.undefined_trait(self.rules.config.traits.custom.keys().map(String::as_str)) {
            None => Ok(()),
            Some(e) => Err(Error::InvalidExpression {
                expression: segment.to_string(),
                position: e.position,
                message: e.message,
            }),
        }
    }

    /// The omnichannel report over every profile: customers by number of channels, the
    /// channel-to-channel transitions of journeys, the journey funnel, revenue by channel and
    /// by first and last touch, and identity health; [`crate::html::report`] draws it.
    pub fn report(&self) -> crate::twin::OmnichannelReport {
        use rayon::prelude::*;
        let r = self.resolved(&NoProgress);
        let built = self.built_profiles(&NoProgress);
        let as_of = self.twin_context(r).as_of;
        let profiles = built.par_iter().enumerate().map(|(c, profile)| {
            let tps: Vec<&Touchpoint> =
                r.graph.clusters.get(c).iter().map(|&i| &self.touchpoints[i as usize]).collect();
            (profile, tps)
        });
        crate::twin::build_report(profiles, &self.rules.twin, r.report.clone(), as_of)
    }

    /// The identifier kinds the engine links on, strongest first.
    pub fn identifier_kinds(&self) -> Vec<IdKind> {
        self.rules.kinds.iter().map(|k| k.kind.clone()).collect()
    }
}

/// What a part of the touchpoints resolved on its own needs to know of the whole to resolve
/// exactly as the whole would: identifiers' shared status and the oversize blocks; and what the
/// whole already worked out that spares the part work: its candidate pairs, its touchpoints
/// as prepared.
pub(crate) struct Whole<'a> {
    pub known: crate::graph::Known<'a>,
    /// Per blocking rule, the key hashes of blocks over `max_block_records` in the whole.
    pub oversize: &'a [rustc_hash::FxHashSet<u64>],
    /// When given: the pairs of the part's touchpoints (by index in the part) that reach the
    /// threshold and share a block not left out, with their weights (the live state's, scored
    /// under the same statuses and model). Matching then takes those across the deterministic
    /// clusters as they are, with no records or scoring, and is skipped when there are none
    /// (the resolution then carries no matching state to explain with); without them, it
    /// blocks and scores the part's records itself.
    pub candidates: Option<&'a [(u32, u32, f64)]>,
    /// When given: each touchpoint of the part (by index in it) as the whole prepared it, its
    /// identifiers normalized already (counts of invalid values are left out of its stats).
    pub prepared: Option<&'a crate::graph::PreparedBy<'a>>,
}

#[cfg(test)]
thread_local! {
    /// Set by tests: live updates on this thread fail after they ran (no valid input makes
    /// one fail), to check that the engine takes the touchpoints back.
    static FAIL_LIVE_UPDATES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The failure a test asked live updates to end in (`FAIL_LIVE_UPDATES`); `Ok` outside tests.
fn failure_injected() -> Result<()> {
    #[cfg(test)]
    if FAIL_LIVE_UPDATES.with(std::cell::Cell::get) {
        return Err(Error::Schema("a live update failed (injected by a test)".into()));
    }
    Ok(())
}

/// Adds the touchpoints from `from` on to the id index.
fn index_from(index: &mut FxHashMap<Text, u32>, touchpoints: &[Touchpoint], from: usize) {
    for (i, tp) in touchpoints.iter().enumerate().skip(from) {
        index.insert(tp.touchpoint_id.clone(), i as u32);
    }
}

/// Resolves `touchpoints`: deterministic linking, probabilistic matching, quarantine, profile ids.
fn compute(
    touchpoints: &[Touchpoint],
    rules: &Rules,
    model: Option<&std::sync::Arc<crate::matching::Model>>,
    whole: Option<&Whole<'_>>,
    progress: &dyn Progress,
) -> Resolution {
    let prepared = whole.and_then(|w| w.prepared);
    let mut graph = Graph::build(touchpoints, prepared, rules, whole.map(|w| &w.known), progress);
    // A part of a live store is scored with the store's model, never one trained on the part.
    let crossing: Option<Vec<(u32, u32, f64)>> = whole.and_then(|w| w.candidates).map(|pairs| {
        let cluster_of = &graph.cluster_of;
        pairs.iter().copied().filter(|&(a, b, _)| cluster_of[a as usize] != cluster_of[b as usize]).collect()
    });
    let may_join = crossing.as_ref().is_none_or(|pairs| !pairs.is_empty());
    let (matches, matching_report) =
        if rules.config.matching.enabled && (whole.is_none() || model.is_some()) && may_join {
            let oversize = whole.map(|w| w.oversize);
            let (matches, report) =
                matching::run(touchpoints, &mut graph, rules, model, oversize, crossing.as_deref(), progress);
            (matches, Some(report))
        } else {
            (None, None)
        };
    progress.stage("quarantine", None);
    graph.find_quarantined(rules);
    let profile_ids = crate::twin::profile_ids(touchpoints, &graph);
    let mut report = report_for(touchpoints.len(), rules, &graph, &profile_ids);
    report.matching = matching_report;
    Resolution {
        graph,
        profile_ids,
        by_id: OnceLock::new(),
        report,
        profiles: OnceLock::new(),
        matches,
        twin: OnceLock::new(),
    }
}

/// The report of a resolution.
fn report_for(touchpoints: usize, rules: &Rules, graph: &Graph, profile_ids: &[Text]) -> ResolveReport {
    let mut shared: Vec<SharedIdentifierReport> = graph
        .shared
        .iter()
        .map(|(&id, finding)| SharedIdentifierReport {
            identifier: describe_identifier(rules, graph, id),
            reason: finding.to_string(),
            touchpoints: finding.touchpoints,
        })
        .collect();
    shared.sort_by(|a, b| b.touchpoints.cmp(&a.touchpoints).then_with(|| a.identifier.cmp(&b.identifier)));
    shared.truncate(REPORT_EXAMPLES);
    let mut quarantined: Vec<QuarantineReport> = graph
        .quarantined
        .iter()
        .map(|(&c, reasons)| QuarantineReport {
            profile_id: profile_ids[c as usize].to_string(),
            touchpoints: graph.clusters.get(c as usize).len(),
            reasons: reasons.clone(),
        })
        .collect();
    let quarantined_profiles = quarantined.len();
    quarantined.sort_by(|a, b| b.touchpoints.cmp(&a.touchpoints).then_with(|| a.profile_id.cmp(&b.profile_id)));
    quarantined.truncate(REPORT_EXAMPLES);
    let sizes = (0..graph.clusters.len()).map(|c| graph.clusters.get(c).len());
    ResolveReport {
        touchpoints,
        profiles: profile_ids.len(),
        merged_profiles: sizes.clone().filter(|&n| n > 1).count(),
        largest_profile: sizes.max().unwrap_or(0),
        quarantined_profiles,
        links: graph.stats.clone(),
        shared_identifiers: shared,
        quarantined,
        matching: None,
    }
}

/// `kind:value` or `kind[scope]:value` for an interned identifier.
fn describe_identifier(rules: &Rules, graph: &Graph, id: u32) -> String {
    let (kind, key) = graph.interner.key(id);
    let kind = &rules.kinds[kind as usize].kind;
    match key.split_once(SCOPE_SEPARATOR) {
        Some((scope, value)) => format!("{kind}[{scope}]:{value}"),
        None => format!("{kind}:{key}"),
    }
}

/// Why touchpoints `a` and `b` (indices into `touchpoints`) are, or are not, in one profile of
/// resolution `r`.
fn explain_in(rules: &Rules, touchpoints: &[Touchpoint], r: &Resolution, a: u32, b: u32) -> Explanation {
    let profile_id_of = |tp: u32| r.profile_ids[r.graph.cluster_of[tp as usize] as usize].to_string();
    let describe_id = |id: u32| describe_identifier(rules, &r.graph, id);
    let describe_limit =
        |slot: u32, existing: u32, incoming: u32| describe_refusal(rules, &r.graph, slot, existing, incoming);
    let describe_refused = |id: u32, tp: u32| match r.graph.refused.get(&(id, tp)) {
        Some(refusal) => describe_limit(refusal.slot, refusal.existing, refusal.incoming),
        None => String::new(),
    };
    let (edges, match_score) = match &r.matches {
        Some(matches) => {
            let edges: Vec<explain::MatchEdge> = matches
                .links
                .iter()
                .filter(|l| l.outcome != crate::graph::MergeOutcome::AlreadyJoined)
                .map(|l| explain::MatchEdge {
                    a: l.a,
                    b: l.b,
                    probability: l.probability(),
                    refused: match l.outcome {
                        crate::graph::MergeOutcome::Refused(c) => Some(describe_limit(c.slot, c.existing, c.incoming)),
                        _ => None,
                    },
                })
                .collect();
            let score = match (&matches.linker, matches.record_of.get(a as usize), matches.record_of.get(b as usize)) {
                (Some(linker), Some(&ra), Some(&rb)) if a != b => linker.explain_records(ra, rb).ok(),
                _ => None,
            };
            (edges, score)
        }
        None => (Vec::new(), None),
    };
    explain::explain(&r.graph, &edges, match_score, touchpoints, &profile_id_of, &describe_id, &describe_refused, a, b)
}

/// Why a link was refused: the limit it would break and the values in conflict.
fn describe_refusal(rules: &Rules, graph: &Graph, slot: u32, existing: u32, incoming: u32) -> String {
    let kind = &rules.kinds[graph.slot_kind[slot as usize] as usize];
    format!(
        "refused: the link would give one profile both {} and {} (at most {} {} per profile)",
        describe_identifier(rules, graph, existing),
        describe_identifier(rules, graph, incoming),
        kind.max_per_profile.unwrap_or(1),
        kind.kind
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut engine = Engine::open(&path, config.clone()).unwrap();
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
        assert_eq!(seen(&Engine::open(&path, config).unwrap()), after, "the store holds what the engine held");
        std::fs::remove_dir_all(&dir).ok();
    }
}

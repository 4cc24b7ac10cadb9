//! The engine on a durable store: opening one (for writing, or read-only from another process),
//! committing what each call changed — touchpoints, the changes they caused, and the model,
//! config, RFM scale and salt when they moved — in one transaction, and going back to what the
//! store holds when a write fails.
//!
//! What the store keeps besides touchpoints, history and erasures is derived (a model the engine
//! trained, its value counts, the RFM scale it fixed) or input (the config, a model the user
//! set). Derived state that fails validation when a store opens is rebuilt from the touchpoints,
//! and the engine says so in [`Engine::warnings`]; it never keeps a user from their data.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::matching::Model;
use crate::model::Text;
use crate::model::{Change, ChangeEvent};
use crate::store::{Access, Durable, MetaUpdates, Stored};
use crate::twin::RfmScale;

/// Where the engine's matching model came from, and which touchpoints its frozen value counts
/// were taken from (what `forget` must take out of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ModelOrigin {
    /// How the engine got the model.
    pub source: OriginSource,
    /// The value counts were taken from the first `counted` touchpoints held (0 when the
    /// model came with its own).
    pub counted: usize,
}

/// How the engine got its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OriginSource {
    /// None yet: the engine went live before it could train one (fewer than two touchpoints,
    /// or too few pairs). Matching stays off until one is trained or set.
    None,
    /// Trained by the engine on the touchpoints it held (derived: retrained if damaged).
    Trained,
    /// Set by the user (input: kept as given).
    Given,
}

impl Default for ModelOrigin {
    fn default() -> Self {
        ModelOrigin { source: OriginSource::None, counted: 0 }
    }
}

/// What the store holds of the engine's small state (or, without a store, what the last
/// successful call left): what a failed write goes back to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Persisted {
    pub model: Option<Arc<Model>>,
    pub origin: ModelOrigin,
    pub rfm_scale: Option<Arc<RfmScale>>,
    /// The config the store holds; `None` when it needs writing (a new store, a damaged one,
    /// or after [`Engine::apply_config`]).
    pub config: Option<Config>,
    /// Whether the store holds the suppression list's salt.
    pub salt: bool,
}

impl Engine {
    /// Opens the durable store at `path` and carries on where it stopped: the stored
    /// touchpoints are resolved again with the stored model, which gives exactly the profiles
    /// and ids the engine had, and the change feed continues. The engine is live (see
    /// [`Engine::ingest_one`]); every ingest is committed before it returns.
    ///
    /// `config` is the config the store was created with, checked against it; `None` reads
    /// it from the store. A missing store is an error (a mistyped path never gives an empty
    /// store): [`Engine::open_or_create`] creates one. A store another process has open for
    /// writing is refused (see [`Engine::open_read_only`]). Derived state that fails
    /// validation is rebuilt and reported in [`Engine::warnings`].
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    ///
    /// let dir = std::env::temp_dir().join(format!("omnitwin-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("cdp.db");
    /// # let _ = std::fs::remove_file(&path);
    /// assert!(Engine::open(&path, None).is_err()); // no store there yet
    /// let mut engine = Engine::open_or_create(&path, Config::default())?;
    /// let outcome = engine.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// drop(engine);
    /// let engine = Engine::open(&path, None)?; // the config it was created with
    /// assert_eq!(engine.profile_of("t1").unwrap().profile_id, outcome.profile_id);
    /// assert!(engine.warnings().is_empty());
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn open(path: impl AsRef<std::path::Path>, config: impl Into<Option<Config>>) -> Result<Engine> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(no_such_store(path));
        }
        match config.into() {
            Some(config) => Engine::open_with(path, config),
            None => Engine::open_existing_as(path, Access::Write),
        }
    }

    /// Opens the store at `path`, creating it when there is none: with `config` (`None`: the
    /// default config). An existing store opens as with [`Engine::open`].
    pub fn open_or_create(path: impl AsRef<std::path::Path>, config: impl Into<Option<Config>>) -> Result<Engine> {
        let path = path.as_ref();
        match config.into() {
            Some(config) => Engine::open_with(path, config),
            None if path.exists() => Engine::open_existing_as(path, Access::Write),
            None => Engine::open_with(path, Config::default()),
        }
    }

    /// Opens or creates the store at `path` with `config` (checked against a stored one).
    fn open_with(path: &std::path::Path, config: Config) -> Result<Engine> {
        let (durable, stored) = Durable::open(path, Access::Write)?;
        let given = serde_json::to_value(&config)?;
        let mut warnings = Vec::new();
        let mut config_held = None;
        if let Some(text) = &stored.config {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(held) if held != given => {
                    return Err(Error::config(
                        "store",
                        format!(
                            "{} was created with another config: open it with that config, or without one, \
                             which reads the config from the store",
                            path.display()
                        ),
                    ))
                }
                Ok(_) => config_held = Some(config.clone()),
                Err(e) => warnings.push(format!(
                    "the stored config could not be read ({e}); it was replaced by the config given to open"
                )),
            }
        } else if stored.damaged_meta.contains(&"config") {
            warnings.push(
                "the stored config does not match its checksum (damaged); it was replaced by the config given to open"
                    .into(),
            );
        }
        Engine::from_stored(config, config_held, durable, stored, warnings)
    }

    /// Opens an existing store with the config it was created with: [`Engine::open`] with
    /// `None`.
    pub fn open_existing(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::open_existing_as(path.as_ref(), Access::Write)
    }

    /// Opens an existing store to read it, while another process may have it open for writing:
    /// the engine holds what was committed when it opened (open it again to see later
    /// commits) and refuses every write with an error. Nothing in the file changes.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    ///
    /// let dir = std::env::temp_dir().join(format!("omnitwin-doc-ro-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("cdp.db");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut writer = Engine::open_or_create(&path, Config::default())?;
    /// writer.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// let mut reader = Engine::open_read_only(&path)?;
    /// assert!(reader.touchpoint("t1").is_some());
    /// assert!(reader.ingest_one(Touchpoint::new("t2")).is_err());
    /// # drop(writer); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn open_read_only(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::open_existing_as(path.as_ref(), Access::ReadOnly)
    }

    fn open_existing_as(path: &std::path::Path, access: Access) -> Result<Engine> {
        if !path.exists() {
            return Err(no_such_store(path));
        }
        let (durable, stored) = Durable::open(path, access)?;
        let Some(text) = &stored.config else {
            let why = if stored.damaged_meta.contains(&"config") {
                "its config does not match its checksum (damaged): open it with Engine::open and the config it was \
                 created with, which replaces the damaged one"
            } else {
                "the store holds no config (open it with Engine::open and a config)"
            };
            return Err(Error::Store { path: path.to_owned(), message: why.into() });
        };
        let config = Config::from_json_str(text).map_err(|e| Error::Store {
            path: path.to_owned(),
            message: format!(
                "its config cannot be read ({e}); open it with Engine::open and the config it was created with, \
                 which replaces the damaged one"
            ),
        })?;
        Engine::from_stored(config.clone(), Some(config), durable, stored, Vec::new())
    }

    /// An engine from what a store holds. `config_held` is the config as the store holds it
    /// (`None`: it needs writing).
    fn from_stored(
        config: Config,
        config_held: Option<Config>,
        durable: Durable,
        stored: Stored,
        mut warnings: Vec<String>,
    ) -> Result<Engine> {
        // Taken by the engine only once its small state is what the store holds (below).
        let durable = Some(durable);
        let mut engine = Engine::new(config)?;
        let held = stored.touchpoints.len();
        warnings.extend(stored.warnings.iter().cloned());
        for key in &stored.damaged_meta {
            match *key {
                "salt" => warnings.push(format!(
                    "the suppression list's salt does not match its checksum (damaged): its {} entries can no longer \
                     be matched, so forgotten people's touchpoints would not be refused; forget them again with \
                     suppression",
                    stored.suppressed.len()
                )),
                "model_origin" => {
                    warnings.push("the stored model's origin does not match its checksum (damaged)".into())
                }
                "rfm_scale" => warnings.push(
                    "the stored RFM scale does not match its checksum (damaged); it is computed again from the \
                     profiles"
                        .into(),
                ),
                _ => {}
            }
        }
        if let Some(salt) = &stored.salt {
            engine.suppression =
                super::suppression::Suppression::with_salt(salt.clone(), stored.suppressed.iter().copied());
        }
        if stored.bad_digests > 0 {
            warnings.push(format!(
                "{} entries of the suppression list are damaged (not 32-byte digests) and were left out",
                stored.bad_digests
            ));
        }
        // The model: input when given, derived when trained; a damaged derived one is trained again.
        let origin: Option<ModelOrigin> = stored.model_origin.as_deref().and_then(|t| serde_json::from_str(t).ok());
        if stored.model_origin.is_some() && origin.is_none() {
            warnings.push("the stored model's origin could not be read; the model is treated as trained".into());
        }
        let mut retrained = false;
        let damaged_model = stored.damaged_meta.contains(&"model");
        if damaged_model {
            warnings.push("the stored matching model does not match its checksum (damaged); ".into());
        }
        match &stored.model {
            Some(text) => match engine.load_model(text, &mut warnings) {
                Some(model) => {
                    engine.model = Some(Arc::new(model));
                    // Stores written before origins were noted: a model the engine fixed over
                    // what it held then (a prefix of what it holds now).
                    engine.model_origin =
                        origin.unwrap_or(ModelOrigin { source: OriginSource::Trained, counted: held });
                }
                None => {
                    retrained = true;
                    warnings.push(format!(
                        "{}a new model is trained on the {held} stored touchpoints; profiles it moves are \
                         recorded in the change feed{}",
                        if origin.is_some_and(|o| o.source == OriginSource::Given) {
                            "the model set with set_model is lost: "
                        } else {
                            ""
                        },
                        if origin.is_some_and(|o| o.source == OriginSource::Given) {
                            " (set yours again with set_model)"
                        } else {
                            ""
                        }
                    ));
                }
            },
            None if damaged_model || origin.is_some_and(|o| o.source != OriginSource::None) => {
                if !damaged_model {
                    warnings.push("the stored matching model is missing (its origin says there was one); ".into());
                }
                retrained = true;
                if let Some(last) = warnings.last_mut() {
                    last.push_str(&format!(
                        "a new model is trained on the {held} stored touchpoints; profiles it moves are recorded in \
                         the change feed"
                    ));
                }
            }
            None => engine.model_origin = origin.unwrap_or_default(),
        }
        if let Some(text) = &stored.rfm_scale {
            match serde_json::from_str::<RfmScale>(text).map_err(Error::from).and_then(|s| s.check().map(|()| s)) {
                Ok(scale) => engine.rfm_scale = Some(Arc::new(scale)),
                Err(e) => warnings.push(format!(
                    "the stored RFM scale could not be used ({e}); it is computed again from the profiles"
                )),
            }
        }
        // What the store holds, before anything is derived again: a failed write comes back here.
        engine.persisted = Persisted {
            model: if retrained { None } else { engine.model.clone() },
            origin: engine.model_origin,
            rfm_scale: engine.rfm_scale.clone(),
            config: config_held,
            salt: stored.salt.is_some(),
        };
        engine.store = durable;
        // Stored touchpoints were checked when they were acknowledged: they are taken as they
        // are (a later suppression list or size limit does not make them unreachable).
        engine.append_raw(stored.touchpoints);
        engine.acknowledged = stored.acknowledged;
        engine.acknowledged.resize(engine.touchpoints.len(), i64::MIN);
        engine.clock = engine.acknowledged.last().copied().unwrap_or(i64::MIN);
        // A store live without a model: the profiles it had are those without matching; a model
        // is trained now that there may be enough to train on, and what it moves is recorded.
        let train_after = engine.model.is_none()
            && engine.rules.config.matching.enabled
            && !retrained
            && engine.model_origin.source != OriginSource::Given;
        engine.matching_paused = train_after;
        let live = engine.go_live();
        engine.matching_paused = false;
        live?;
        let feed_len = stored.changes.len();
        if let Some(live) = engine.live.as_mut() {
            live.restore_feed(stored.changes);
        }
        engine.clock = engine.clock.max(stored.change_times.last().copied().unwrap_or(i64::MIN));
        engine.change_times = stored.change_times;
        engine.change_times.resize(feed_len, engine.clock);
        if train_after {
            engine.rebase();
        } else if retrained {
            engine.reconcile_feed();
        }
        engine.warnings = warnings;
        if engine.store.as_ref().is_some_and(|s| !s.read_only()) {
            engine.commit(held, feed_len)?;
        }
        Ok(engine)
    }

    /// A stored model, validated; `None` (with a warning) when it cannot be used. Value counts
    /// that break their invariant (written by a version that miscounted them after `forget`)
    /// are repaired: they are derived, and only scale a pair's weight.
    fn load_model(&self, text: &str, warnings: &mut Vec<String>) -> Option<Model> {
        let mut model: Model = match serde_json::from_str(text) {
            Ok(model) => model,
            Err(e) => {
                warnings.push(format!("the stored matching model could not be read ({e}); "));
                return None;
            }
        };
        let mut repaired = Vec::new();
        for c in &mut model.comparisons {
            if let Some(tf) = c.term_frequencies.as_mut() {
                if tf.repair() {
                    repaired.push(c.name.clone());
                }
            }
        }
        if !repaired.is_empty() {
            warnings.push(format!(
                "the stored model's value counts for {} did not add up; their total was raised to the sum of \
                 their counts",
                repaired.join(", ")
            ));
        }
        if let Err(e) = model.check().and_then(|()| model.check_fits(&self.rules.config.matching.comparisons)) {
            warnings.push(format!("the stored matching model cannot be used ({e}); "));
            return None;
        }
        Some(model)
    }

    /// After the model was trained again on opening (the stored one was damaged): brings the
    /// feed in line with the profiles now — a profile the feed does not know is created; one
    /// it holds that is gone leads to the profile now holding its anchor touchpoint.
    fn reconcile_feed(&mut self) {
        let Some(live) = self.live.as_ref() else { return };
        let known = feed_profiles(live.changes(0));
        let now: rustc_hash::FxHashSet<Text> = live.profile_of.iter().cloned().collect();
        // Profile ids are hashes of their anchor touchpoint's id.
        let anchors: rustc_hash::FxHashMap<Text, u32> = self
            .touchpoints
            .iter()
            .enumerate()
            .map(|(i, tp)| (crate::twin::format_profile_id(crate::twin::profile_hash(&tp.touchpoint_id, 0)), i as u32))
            .collect();
        let mut events: Vec<ChangeEvent> = Vec::new();
        let mut created: Vec<&Text> = now.iter().filter(|id| !known.contains(id.as_str())).collect();
        created.sort_unstable();
        events.extend(created.into_iter().map(|id| ChangeEvent::Created { profile_id: id.to_string() }));
        for id in known.iter().filter(|id| !now.contains(id.as_str())) {
            if let Some(&anchor) = anchors.get(id.as_str()) {
                let into = live.profile_of[anchor as usize].to_string();
                events.push(ChangeEvent::Merged { profile_id: id.to_string(), into });
            }
        }
        if let Some(live) = self.live.as_mut() {
            live.note_and_record(events);
        }
    }

    /// What opening the store found wrong with its derived state (a damaged model, RFM scale
    /// or config) and rebuilt, one sentence each; empty when it opened clean. Rebuilt state is
    /// written back with the next write.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The store's file, for an engine opened on one.
    pub fn store_path(&self) -> Option<&std::path::Path> {
        self.store.as_ref().map(Durable::path)
    }

    /// Whether the engine was opened read-only ([`Engine::open_read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.store.as_ref().is_some_and(Durable::read_only)
    }

    /// Trains a new matching model on every touchpoint held and adopts it (the one trained or
    /// set before is dropped): profiles it moves are recorded in the change feed and, on a
    /// durable store, committed with the model. For a store fed one touchpoint at a time from
    /// empty, or after a large change in the data.
    pub fn retrain(&mut self) -> Result<()> {
        self.writable()?;
        self.model = None;
        self.model_origin = ModelOrigin::default();
        self.rules_changed()
    }

    /// Closes the store: its connection and its writer lock are released, so another engine
    /// or process can open it now (dropping the engine does the same). The engine keeps what
    /// it holds for reading; every later write is refused. No-op for an engine without a store.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    /// let path = std::env::temp_dir().join(format!("omnitwin-doc-close-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let mut engine = Engine::open_or_create(&path, Config::default())?;
    /// engine.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// engine.close();
    /// let again = Engine::open(&path, Config::default())?; // the lock was released
    /// assert_eq!(again.len(), 1);
    /// assert!(engine.ingest_one(Touchpoint::new("t2")).is_err());
    /// # drop(again);
    /// # for suffix in ["", "-lock", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn close(&mut self) {
        if let Some(store) = self.store.take() {
            self.closed = Some(store.path().to_owned());
        }
    }

    /// Opens the engine's store again, as it was opened (for writing, or read-only), in place
    /// of what the engine holds: a reader sees what was committed since it opened; after a
    /// call panicked part-way through a change (a bug in omnitwin; the Python and Node
    /// packages do this for you), the engine is what the store holds, everything acknowledged
    /// and nothing half-done. If opening fails the engine stays closed (see
    /// [`Engine::close`]): it reads what it held and refuses writes. An engine without a
    /// store, or a closed one, has nothing to reopen: an `Io` error says so.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    /// let path = std::env::temp_dir().join(format!("omnitwin-doc-reopen-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let mut writer = Engine::open_or_create(&path, Config::default())?;
    /// let mut reader = Engine::open_read_only(&path)?;
    /// writer.ingest_one(Touchpoint { email: Some("an@x.vn".into()), ..Touchpoint::new("t1") })?;
    /// assert!(reader.touchpoint("t1").is_none(), "a reader holds what was committed when it opened");
    /// reader.reopen()?;
    /// assert!(reader.touchpoint("t1").is_some() && reader.is_read_only());
    /// assert!(Engine::new(Config::default())?.reopen().is_err());
    /// # drop((writer, reader));
    /// # for suffix in ["", "-lock", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn reopen(&mut self) -> Result<()> {
        let Some(store) = &self.store else {
            let path = self.closed.clone().unwrap_or_else(|| "(no store)".into());
            let why = if self.closed.is_some() { "closed: open the store again" } else { "the engine holds no store" };
            return Err(Error::Store { path, message: format!("nothing to reopen ({why})") });
        };
        let path = store.path().to_owned();
        let read_only = self.is_read_only();
        // The writer's lock is released first, or the store would be found in use.
        self.close();
        *self = match read_only {
            true => Engine::open_read_only(&path)?,
            false => Engine::open_existing(&path)?,
        };
        Ok(())
    }

    /// Rewrites the store's file without free pages and folds its log in (as `forget` does):
    /// the file shrinks to what it holds. No-op for an engine without a store.
    pub fn compact(&mut self) -> Result<()> {
        self.writable()?;
        match &self.store {
            Some(store) => store.compact(),
            None => Ok(()),
        }
    }

    /// Refuses a write to an engine opened read-only, before anything changes.
    pub(super) fn writable(&self) -> Result<()> {
        if let Some(path) = &self.closed {
            return Err(Error::Store {
                path: path.clone(),
                message: "closed: this engine no longer writes to it (open the store again to write)".into(),
            });
        }
        match &self.store {
            Some(store) if store.read_only() => Err(Error::Store {
                path: store.path().to_owned(),
                message: "opened read-only: nothing is written (open it with Engine::open to write, once no \
                          other process has it open for writing)"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    /// The meta values that moved since the last commit: model (and its origin), RFM scale,
    /// config, salt. What is written is checked as opening checks it (debug builds).
    pub(super) fn meta_updates(&self) -> Result<MetaUpdates> {
        let mut updates: MetaUpdates = Vec::new();
        let p = &self.persisted;
        let same = |a: &Option<Arc<Model>>, b: &Option<Arc<Model>>| match (a, b) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        if !same(&self.model, &p.model) {
            if let Some(model) = &self.model {
                debug_assert!(model.check().is_ok(), "a model that would not load: {:?}", model.check());
            }
            updates.push(("model", self.model.as_ref().map(|m| m.to_json())));
        }
        if self.model_origin != p.origin || !same(&self.model, &p.model) {
            updates.push(("model_origin", Some(serde_json::to_string(&self.model_origin)?)));
        }
        let scale_moved = match (&self.rfm_scale, &p.rfm_scale) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b) && a != b,
            (None, None) => false,
            _ => true,
        };
        if scale_moved {
            if let Some(scale) = &self.rfm_scale {
                debug_assert!(scale.check().is_ok(), "an RFM scale that would not load: {scale:?}");
            }
            updates
                .push(("rfm_scale", self.rfm_scale.as_ref().map(|s| serde_json::to_string(s.as_ref())).transpose()?));
        }
        if p.config.as_ref() != Some(&self.rules.config) {
            updates.push(("config", Some(serde_json::to_value(&self.rules.config)?.to_string())));
        }
        if !p.salt {
            updates.push(("salt", Some(self.suppression.salt().to_owned())));
        }
        Ok(updates)
    }

    /// After a successful commit: the store holds the engine's small state as it is.
    pub(super) fn persisted_now(&mut self) {
        let p = &mut self.persisted;
        p.model.clone_from(&self.model);
        p.origin = self.model_origin;
        p.rfm_scale.clone_from(&self.rfm_scale);
        // Compared before cloned: this runs after every commit, and the config rarely moves.
        if p.config.as_ref() != Some(&self.rules.config) {
            p.config = Some(self.rules.config.clone());
        }
        p.salt = true;
    }

    /// After a failed call, with the touchpoints back as the store holds them: the small state
    /// goes back to what the store holds too, the live state is rebuilt from it (without
    /// training a model the store does not hold) and the feed is `kept`.
    pub(super) fn live_again(&mut self, kept: Vec<Change>) -> Result<()> {
        self.history.clear();
        self.live = None;
        self.restore_persisted()?;
        self.resolution = std::sync::OnceLock::new();
        self.matching_paused = self.model.is_none();
        let live = self.go_live();
        self.matching_paused = false;
        live?;
        if let Some(live) = self.live.as_mut() {
            live.restore_feed(kept);
        }
        Ok(())
    }

    /// After a failed write: the model, its origin, the RFM scale and the config go back to
    /// what the store holds (the touchpoints and feed are the caller's to take back).
    pub(super) fn restore_persisted(&mut self) -> Result<()> {
        let p = self.persisted.clone();
        self.model = p.model;
        self.model_origin = p.origin;
        self.rfm_scale = p.rfm_scale;
        if let Some(config) = p.config {
            if config != self.rules.config {
                self.rules = config.compile()?;
            }
        }
        Ok(())
    }
}

/// The error of opening a store that is not there, naming how each language creates one.
fn no_such_store(path: &std::path::Path) -> Error {
    Error::Store {
        path: path.to_owned(),
        message: "no such store (to create one: Engine::open_or_create in Rust, Engine.open(path, create=True) in \
                  Python, Engine.open(path, config, { create: true }) in Node)"
            .into(),
    }
}

/// The profiles a change feed leaves in existence: created, and not merged away, split away
/// or forgotten since.
pub(crate) fn feed_profiles(changes: &[Change]) -> std::collections::BTreeSet<String> {
    let mut live = std::collections::BTreeSet::new();
    for change in changes {
        match &change.event {
            ChangeEvent::Created { profile_id } => {
                live.insert(profile_id.clone());
            }
            ChangeEvent::Merged { profile_id, .. } | ChangeEvent::Forgotten { profile_id } => {
                live.remove(profile_id);
            }
            ChangeEvent::Split { profile_id, into } if !into.contains(profile_id) => {
                live.remove(profile_id);
            }
            _ => {}
        }
    }
    live
}

//! The `Engine` facade: every verb goes through it. One file per verb: `durable` (opening a
//! store, its lifecycle), `ingest` (taking touchpoints in), `arrive` (going live, arrivals into
//! the live state), `resolve` (resolving everything, building profiles), `query` (one
//! profile, a segment, the report), `export` (assignments, profiles, the change feed),
//! `explain`, `forget`, `history`, `simulate`, `check`; the state they share is here.

mod arrive;
mod check;
mod durable;
mod explain;
mod export;
#[cfg(test)]
mod fault_tests;
mod forget;
mod history;
mod ingest;
mod live;
mod matching;
mod query;
mod resolve;
mod segments;
mod simulate;
mod suppression;

use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use check::StoreCheck;
pub use explain::{Explanation, LinkStep, StepStatus};
pub use forget::{ForgetReport, ForgetTarget};
pub use live::IngestOutcome;
pub use simulate::SimulationReport;

use resolve::{compute, describe_identifier, describe_refusal};

use crate::config::{Config, Rules};
use crate::error::Result;
use crate::graph::Graph;
use crate::model::{IdKind, Profile, Text, Touchpoint};
use crate::progress::NoProgress;
use crate::twin::ResolveReport;

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
    pub(super) fn by_id(&self) -> &FxHashMap<Text, u32> {
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
    pub(super) fn rules_changed(&mut self) -> Result<()> {
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

//! The `Engine` facade: every verb (ingest, resolve, assignments, profiles, lookup, explain)
//! goes through it.

mod explain;
mod matching;
mod report;

use std::sync::OnceLock;

use polars::prelude::DataFrame;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use explain::{Explanation, LinkStep, StepStatus};
pub use matching::{MatchingReport, ModelSource};
pub use report::{IngestReport, OnError, QuarantineReport, RejectedRow, ResolveReport, SharedIdentifierReport};

use crate::config::{Config, Rules};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::model::{IdKind, Identifier, Profile, Text, Touchpoint};
use crate::prepare::{identifier_value, scope_of, IdValue, SCOPE_SEPARATOR};
use crate::progress::{NoProgress, Progress};
use crate::store::frame;
use report::REPORT_EXAMPLES;

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
    model: Option<crate::matching::Model>,
    resolution: OnceLock<Resolution>,
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
        })
    }

    /// Uses a saved matching model instead of training one on the input (a model trained on a
    /// large history scores a small batch better than one trained on the batch). It must have
    /// the config's matching comparisons.
    pub fn set_model(&mut self, model: crate::matching::Model) -> Result<()> {
        model.check_fits(&self.rules.config.matching.comparisons)?;
        self.model = Some(model);
        self.resolution = OnceLock::new();
        Ok(())
    }

    /// The matching model of the last resolution (resolving first if needed): the one given
    /// with [`Engine::set_model`], or the one trained on the input. `None` when matching is off
    /// or did not run.
    pub fn model(&self) -> Option<&crate::matching::Model> {
        let r = self.resolved(&NoProgress);
        r.matches.as_ref().and_then(|m| m.linker.model())
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
        }
        drop(seen);
        let accepted = batch.len();
        self.append(batch);
        Ok(IngestReport { accepted, rejected: Vec::new() })
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
        let (batch, rejected) =
            frame::touchpoints_from_frame(df, &self.rules, on_error, &self.index, first_row.max(1), progress)?;
        let accepted = batch.len();
        self.append(batch);
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
        self.resolution = OnceLock::new();
    }

    /// Makes room for `additional` more touchpoints. Ingesting a large input batch by batch
    /// otherwise grows the touchpoint store by doubling, which briefly holds the old and the new
    /// store at once: with room reserved, peak memory stays at the data's size.
    pub fn reserve(&mut self, additional: usize) {
        self.touchpoints.reserve_exact(additional);
        self.index.reserve(additional);
    }

    fn append(&mut self, batch: Vec<Touchpoint>) {
        if batch.is_empty() {
            return;
        }
        self.resolution = OnceLock::new();
        self.index.reserve(batch.len());
        let start = self.touchpoints.len();
        for (i, tp) in batch.iter().enumerate() {
            self.index.insert(tp.touchpoint_id.clone(), (start + i) as u32);
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
        let mut graph = Graph::build(&self.touchpoints, &self.rules, progress);
        let (matches, matching_report) = if self.rules.config.matching.enabled {
            let (matches, report) =
                matching::run(&self.touchpoints, &mut graph, &self.rules, self.model.as_ref(), progress);
            (matches, Some(report))
        } else {
            (None, None)
        };
        progress.stage("quarantine", None);
        graph.find_quarantined(&self.rules);
        let profile_ids = crate::twin::profile_ids(&self.touchpoints, &graph);
        let mut report = self.report_for(&graph, &profile_ids);
        report.matching = matching_report;
        Resolution { graph, profile_ids, by_id: OnceLock::new(), report, profiles: OnceLock::new(), matches }
    }

    /// Every cluster's profile, built on first need.
    fn built_profiles(&self, progress: &dyn Progress) -> &[Profile] {
        let r = self.resolved(progress);
        r.profiles.get_or_init(|| {
            crate::twin::build_profiles(&self.touchpoints, &r.graph, &self.rules, &r.profile_ids, progress)
        })
    }

    /// Builds the profiles now (they are otherwise built on first need), reporting progress.
    pub fn build_profiles_with_progress(&self, progress: &dyn Progress) -> usize {
        self.built_profiles(progress).len()
    }

    fn report_for(&self, graph: &Graph, profile_ids: &[Text]) -> ResolveReport {
        let mut shared: Vec<SharedIdentifierReport> = graph
            .shared
            .iter()
            .map(|(&id, finding)| SharedIdentifierReport {
                identifier: self.describe_identifier(graph, id),
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
            touchpoints: self.touchpoints.len(),
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
    fn describe_identifier(&self, graph: &Graph, id: u32) -> String {
        let (kind, key) = graph.interner.key(id);
        let kind = &self.rules.kinds[kind as usize].kind;
        match key.split_once(SCOPE_SEPARATOR) {
            Some((scope, value)) => format!("{kind}[{scope}]:{value}"),
            None => format!("{kind}:{key}"),
        }
    }

    /// Every touchpoint with its profile, in ingest order.
    pub fn assignments(&self) -> Vec<Assignment> {
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
            let profiles =
                crate::twin::build_some_profiles(&self.touchpoints, &r.graph, &self.rules, &r.profile_ids, chunk);
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

    /// A profile by id.
    pub fn profile(&self, profile_id: &str) -> Option<&Profile> {
        let r = self.resolved(&NoProgress);
        let by_id =
            r.by_id.get_or_init(|| r.profile_ids.iter().enumerate().map(|(c, id)| (id.clone(), c as u32)).collect());
        let &c = by_id.get(profile_id)?;
        Some(&self.built_profiles(&NoProgress)[c as usize])
    }

    /// The profile a touchpoint belongs to.
    pub fn profile_of(&self, touchpoint_id: &str) -> Option<&Profile> {
        let &tp = self.index.get(touchpoint_id)?;
        let c = self.resolved(&NoProgress).graph.cluster_of[tp as usize];
        Some(&self.built_profiles(&NoProgress)[c as usize])
    }

    /// The profile an identifier belongs to, from a raw value (normalized here like any input:
    /// `lookup(&Identifier::new(IdKind::Phone, "0912 345 678"))`). For kinds scoped by source,
    /// give the source as the identifier's scope. Blocked and shared identifiers identify nobody
    /// and return `None`.
    pub fn lookup(&self, identifier: &Identifier) -> Option<&Profile> {
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
        let r = self.resolved(&NoProgress);
        let id = r.graph.interner.get(kind_index as u16, &key)?;
        if !r.graph.links(id) {
            return None;
        }
        // The identifier's first member anchors it; members refused a link stay elsewhere.
        let owner = *r.graph.members.get(id as usize).first()?;
        Some(&self.built_profiles(&NoProgress)[r.graph.cluster_of[owner as usize] as usize])
    }

    /// Why two touchpoints are, or are not, in one profile.
    pub fn explain(&self, touchpoint_a: &str, touchpoint_b: &str) -> Result<Explanation> {
        let a = *self.index.get(touchpoint_a).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_a.into()))?;
        let b = *self.index.get(touchpoint_b).ok_or_else(|| Error::UnknownTouchpoint(touchpoint_b.into()))?;
        let r = self.resolved(&NoProgress);
        let profile_id_of = |tp: u32| r.profile_ids[r.graph.cluster_of[tp as usize] as usize].to_string();
        let describe_identifier = |id: u32| self.describe_identifier(&r.graph, id);
        let describe_limit = |slot: u32, existing: u32, incoming: u32| {
            let kind = &self.rules.kinds[r.graph.slot_kind[slot as usize] as usize];
            format!(
                "refused: the link would give one profile both {} and {} (at most {} {} per profile)",
                self.describe_identifier(&r.graph, existing),
                self.describe_identifier(&r.graph, incoming),
                kind.max_per_profile.unwrap_or(1),
                kind.kind
            )
        };
        let describe_refusal = |id: u32, tp: u32| match r.graph.refused.get(&(id, tp)) {
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
                            crate::graph::MergeOutcome::Refused(c) => {
                                Some(describe_limit(c.slot, c.existing, c.incoming))
                            }
                            _ => None,
                        },
                    })
                    .collect();
                let (ra, rb) = (matches.record_of[a as usize], matches.record_of[b as usize]);
                let score = if a == b { None } else { matches.linker.explain_records(ra, rb).ok() };
                (edges, score)
            }
            None => (Vec::new(), None),
        };
        Ok(explain::explain(
            &r.graph,
            &edges,
            match_score,
            &self.touchpoints,
            &profile_id_of,
            &describe_identifier,
            &describe_refusal,
            a,
            b,
        ))
    }

    /// A profile as an HTML card with its timeline (see [`crate::html::profile`]): what a
    /// notebook shows for it.
    pub fn profile_html(&self, profile: &Profile) -> String {
        let touchpoints: Vec<&Touchpoint> =
            profile.touchpoint_ids.iter().filter_map(|id| self.touchpoint(id)).collect();
        crate::html::profile(profile, &touchpoints)
    }

    /// The identifier kinds the engine links on, strongest first.
    pub fn identifier_kinds(&self) -> Vec<IdKind> {
        self.rules.kinds.iter().map(|k| k.kind.clone()).collect()
    }
}

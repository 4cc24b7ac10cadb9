//! Taking touchpoints in: one, many, a DataFrame or a file, checked, committed to the durable
//! store in one transaction, and taken back when a write fails.

use std::sync::OnceLock;

use polars::prelude::DataFrame;
use rustc_hash::FxHashMap;

use super::{Engine, IngestOutcome};
use crate::error::{Error, Result};
use crate::io::frame;
use crate::model::{Change, IngestReport, OnError, RejectedRow, Touchpoint};
use crate::progress::{NoProgress, Progress};

/// Batches up to this size (or an eighth of what the engine holds, if more) are added to a live
/// engine by resolving what they touch; larger ones by resolving everything again.
pub(super) const LIVE_BATCH: usize = 1024;

impl Engine {
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
    pub(super) fn marks(&self) -> (usize, usize) {
        (self.touchpoints.len(), self.live.as_ref().map_or(0, |l| l.changes(0).len()))
    }

    /// Commits to the store (if any) the touchpoints and changes after the marks; when that
    /// fails, undoes them in memory too, so that the engine stays what the store holds.
    pub(super) fn commit(&mut self, tps: usize, feed: usize) -> Result<()> {
        self.commit_written(tps, feed, None)
    }

    /// [`Engine::commit`], the touchpoints already inserted in the store's open write when
    /// `written` is `Some(Ok(()))` (see [`Engine::add_live_batch`]), or failed to be.
    pub(super) fn commit_written(&mut self, tps: usize, feed: usize, written: Option<Result<()>>) -> Result<()> {
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
    pub(super) fn undo_to(&mut self, tps: usize, feed: usize) -> Result<()> {
        let kept: Vec<Change> = self.live.as_ref().map_or(Vec::new(), |l| l.changes(0)[..feed].to_vec());
        self.change_times.truncate(feed);
        self.truncate(tps);
        self.live_again(kept)
    }

    /// The touchpoints of a converted batch this engine takes: one already held, or carrying an
    /// identifier on the suppression list, is the error with [`OnError::Fail`] and a rejected
    /// row with [`OnError::Skip`]. Rows are numbered as in the input, whose first row is
    /// `first_row`, the rows `rejected` already lists counted.
    pub(super) fn keep_acceptable(
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
    /// times in range, amounts finite, values within `max_field_bytes`.
    pub(super) fn check_new(&self, batch: &[Touchpoint]) -> Result<()> {
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
            frame::check_fields(tp, row, self.rules.config.max_field_bytes)?;
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
        format: Option<crate::io::InputFormat>,
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

    pub(super) fn ingest_file_batches(
        &mut self,
        path: &std::path::Path,
        format: Option<crate::io::InputFormat>,
        on_error: OnError,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        use crate::io::{read_frame, CsvBatches, InputFormat};
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
    pub(super) fn truncate(&mut self, len: usize) {
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
    pub(super) fn append(&mut self, batch: Vec<Touchpoint>) -> Result<()> {
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

    pub(super) fn append_raw(&mut self, batch: Vec<Touchpoint>) {
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
}

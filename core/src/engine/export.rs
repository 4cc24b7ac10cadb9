//! What the engine gives out in bulk: assignments, profiles as DataFrames or files, the change
//! feed.

use polars::prelude::DataFrame;

use super::{Assignment, Engine};
use crate::error::Result;
use crate::io::frame;
use crate::model::{Change, Profile};
use crate::progress::NoProgress;

impl Engine {
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
    pub(super) fn profiles_frame_in(&self, style: frame::ListStyle) -> Result<DataFrame> {
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
    pub fn write_profiles(&self, path: &std::path::Path, format: crate::io::OutputFormat) -> Result<()> {
        let style = match format {
            crate::io::OutputFormat::Csv => frame::ListStyle::Joined,
            crate::io::OutputFormat::Parquet => frame::ListStyle::List,
        };
        let mut writer: Option<crate::io::FrameWriter> = None;
        self.for_each_profiles_chunk(style, |df| {
            if writer.is_none() {
                writer = Some(crate::io::FrameWriter::create(path, format, &df)?);
            }
            writer.as_mut().expect("the writer was just created").write(&df)
        })?;
        writer.expect("at least one chunk is produced").finish()
    }

    /// Calls `f` with the profiles frame in chunks of rows, in profile-id order (at least one
    /// chunk, possibly empty). When the profiles are not built yet, each chunk's profiles are
    /// built, converted and dropped, so a large frame never holds every profile object too.
    pub(super) fn for_each_profiles_chunk(
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
    pub(super) fn custom_attribute_names(&self) -> Vec<String> {
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
}

//! Conversion between polars DataFrames and the engine's types. The one place where rows
//! become touchpoints, and profiles become rows.

use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Rules;
use crate::error::{Error, Result};
use crate::matching::text_values;
use crate::model::{IdKind, IdentifierStatus, Profile, Text, Touchpoint};
use crate::model::{OnError, RejectedRow};
use crate::normalize::{check_timestamp, parse_timestamp, shorten};
use crate::progress::Progress;
use crate::twin::STANDARD_ATTRIBUTES;

/// What an input column feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// A standard field, by its standard name.
    Standard(&'static str),
    /// A declared identifier kind, by kind name.
    Identifier(Text),
    /// A custom attribute, by column name.
    Attribute(Text),
}

/// Rows with problems, collected while converting column by column.
struct Problems {
    by_row: FxHashMap<usize, Vec<Error>>,
    /// The row number of the frame's first row.
    first_row: usize,
}

impl Problems {
    fn add(&mut self, row_index: usize, error: Error) {
        self.by_row.entry(row_index).or_default().push(error);
    }

    fn field(&mut self, row_index: usize, column: &str, message: String) {
        self.add(
            row_index,
            Error::InvalidField { row: row_index + self.first_row, column: column.to_owned(), message },
        );
    }
}

/// Checks a touchpoint built outside a file or frame (a Rust value, JSON): its time in the
/// accepted range, its amount a finite number, no text field longer than `max` bytes.
pub(crate) fn check_fields(tp: &Touchpoint, row: usize, max: usize) -> Result<()> {
    if let Some(at) = tp.timestamp {
        check_timestamp(at).map_err(|message| Error::InvalidField { row, column: "timestamp".into(), message })?;
    }
    if let Some(amount) = tp.amount.filter(|a| !a.is_finite()) {
        return Err(Error::InvalidField {
            row,
            column: "amount".into(),
            message: format!("`{amount}` is not a finite amount"),
        });
    }
    let standard = tp.standard_texts().into_iter().filter_map(|(column, value)| Some((column, value?.as_str())));
    let channel = tp.channel.as_ref().map(|c| ("channel", c.as_str()));
    let custom = tp.attributes.iter().chain(&tp.identifiers).map(|(k, v)| (k.as_str(), v.as_str()));
    match standard.chain(channel).chain(custom).find(|(_, v)| v.len() > max) {
        Some((column, value)) => Err(too_long(row, column, value.len(), max)),
        None => Ok(()),
    }
}

fn too_long(row: usize, column: &str, len: usize, max: usize) -> Error {
    Error::InvalidField {
        row,
        column: column.to_owned(),
        message: format!("the value is {len} bytes long; the limit is {max} (config `max_field_bytes`)"),
    }
}

/// The role of each input column, after the config's mapping.
fn roles(df: &DataFrame, rules: &Rules) -> Result<Vec<Role>> {
    let mut by_column: FxHashMap<&str, Role> = FxHashMap::default();
    for field in crate::model::STANDARD_COLUMNS {
        by_column.insert(rules.columns[field].as_str(), Role::Standard(field));
    }
    for rule in &rules.kinds {
        if let IdKind::Custom(name) = &rule.kind {
            by_column.insert(rule.column.as_str(), Role::Identifier(name.clone()));
        }
    }
    let roles: Vec<Role> = df
        .columns()
        .iter()
        .map(|c| {
            let name = c.name().trim();
            by_column.get(name).cloned().unwrap_or_else(|| Role::Attribute(name.into()))
        })
        .collect();
    if !roles.contains(&Role::Standard("touchpoint_id")) {
        let names: Vec<String> = df.columns().iter().map(|c| format!("`{}`", c.name())).collect();
        return Err(Error::Schema(format!(
            "no `{}` column (the touchpoint id; map another column to it under `columns.touchpoint_id`); the columns are {}",
            rules.columns["touchpoint_id"],
            names.join(", ")
        )));
    }
    Ok(roles)
}

/// Converts the rows of `df` into touchpoints.
pub(crate) fn touchpoints_from_frame(
    df: DataFrame,
    rules: &Rules,
    on_error: OnError,
    existing: &FxHashMap<Text, u32>,
    first_row: usize,
    progress: &dyn Progress,
) -> Result<(Vec<Touchpoint>, Vec<RejectedRow>)> {
    let height = df.height();
    if height == 0 {
        return Err(Error::EmptyInput("the DataFrame".into()));
    }
    let roles = roles(&df, rules)?;
    progress.stage("converting", Some(df.width() as u64));
    let max = rules.config.max_field_bytes;
    let mut tps = vec![Touchpoint::default(); height];
    let mut problems = Problems { by_row: FxHashMap::default(), first_row };
    // Columns are taken one at a time and dropped once converted, to free their memory.
    for (column, role) in df.into_columns().into_iter().zip(&roles) {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let column = &column;
        let name = column.name().trim();
        match role {
            Role::Standard("timestamp") => fill_timestamps(column, rules, &mut tps, &mut problems)?,
            Role::Standard("amount") => fill_amounts(column, &mut tps, &mut problems)?,
            role => {
                let values = text_values(column)?;
                for (i, value) in values.iter().enumerate() {
                    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { continue };
                    if value.len() > max {
                        problems.add(i, too_long(i + first_row, name, value.len(), max));
                        continue;
                    }
                    let tp = &mut tps[i];
                    match role {
                        Role::Standard("touchpoint_id") => tp.touchpoint_id = value.into(),
                        Role::Standard("channel") => {
                            let Ok(channel) = value.parse();
                            tp.channel = Some(channel);
                        }
                        Role::Standard(field) => {
                            if let Some(slot) = tp.text_slot(field) {
                                *slot = Some(value.into());
                            }
                        }
                        Role::Identifier(kind) => {
                            tp.identifiers.insert(kind.clone(), value.into());
                        }
                        Role::Attribute(attribute) => {
                            tp.attributes.insert(attribute.clone(), value.into());
                        }
                    }
                }
            }
        }
        progress.advance(1);
    }
    check_ids(&tps, rules, existing, &mut problems);
    if problems.by_row.is_empty() {
        return Ok((tps, Vec::new()));
    }
    match on_error {
        OnError::Fail => {
            let first = problems.by_row.keys().min().copied().expect("there are problems");
            let mut errors = problems.by_row.remove(&first).expect("the row has problems");
            Err(errors.swap_remove(0))
        }
        OnError::Skip => {
            let mut rejected: Vec<RejectedRow> = problems
                .by_row
                .into_iter()
                .map(|(i, errors)| RejectedRow {
                    row: i + first_row,
                    touchpoint_id: Some(tps[i].touchpoint_id.to_string()).filter(|id| !id.is_empty()),
                    reasons: errors.iter().map(ToString::to_string).collect(),
                })
                .collect();
            rejected.sort_by_key(|r| r.row);
            let mut bad = rejected.iter().map(|r| r.row - first_row).peekable();
            let mut kept = Vec::with_capacity(height - rejected.len());
            for (i, tp) in tps.into_iter().enumerate() {
                if bad.peek() == Some(&i) {
                    bad.next();
                } else {
                    kept.push(tp);
                }
            }
            Ok((kept, rejected))
        }
    }
}

/// Every row needs an id, unique in the frame and new to the engine.
fn check_ids(tps: &[Touchpoint], rules: &Rules, existing: &FxHashMap<Text, u32>, problems: &mut Problems) {
    let column = &rules.columns["touchpoint_id"];
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, tp) in tps.iter().enumerate() {
        if tp.touchpoint_id.is_empty() {
            if !problems.by_row.get(&i).is_some_and(|e| e.iter().any(|e| e.column() == Some(column))) {
                problems.add(i, Error::MissingTouchpointId { row: i + problems.first_row, column: column.clone() });
            }
            continue;
        }
        let first_seen = if existing.contains_key(&tp.touchpoint_id) {
            Some("by a touchpoint ingested before".to_owned())
        } else {
            seen.get(tp.touchpoint_id.as_str()).map(|first| format!("at row {}", first + problems.first_row))
        };
        match first_seen {
            Some(first_seen) => problems.add(
                i,
                Error::DuplicateTouchpointId {
                    row: i + problems.first_row,
                    touchpoint_id: tp.touchpoint_id.to_string(),
                    first_seen,
                },
            ),
            None => {
                seen.insert(&tp.touchpoint_id, i);
            }
        }
    }
}

fn fill_timestamps(column: &Column, rules: &Rules, tps: &mut [Touchpoint], problems: &mut Problems) -> Result<()> {
    let name = column.name().trim();
    let series = column.as_materialized_series();
    // Naive wall-clock times are read in the configured offset.
    let offset_ms = rules.offset.millis();
    match series.dtype() {
        DataType::String => {
            for (i, value) in series.str()?.iter().enumerate() {
                let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { continue };
                match parse_timestamp(value, rules.offset) {
                    Ok(ms) => tps[i].timestamp = Some(ms),
                    Err(message) => problems.field(i, name, message),
                }
            }
        }
        DataType::Datetime(_, _) | DataType::Date => {
            let naive = !matches!(series.dtype(), DataType::Datetime(_, Some(_)));
            let ms = series
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
                .cast(&DataType::Int64)?;
            for (i, value) in ms.i64()?.iter().enumerate() {
                let Some(value) = value else { continue };
                match check_timestamp(if naive { value.saturating_sub(offset_ms) } else { value }) {
                    Ok(ms) => tps[i].timestamp = Some(ms),
                    Err(message) => problems.field(i, name, message),
                }
            }
        }
        dtype if dtype.is_integer() => {
            // Unsigned values past i64 become null in the cast: read them strictly so they are
            // refused, not dropped.
            let values = series.strict_cast(&DataType::Int64).map_err(|_| {
                Error::Schema(format!("column `{name}` holds integers too large to be epoch milliseconds"))
            })?;
            for (i, value) in values.i64()?.iter().enumerate() {
                let Some(value) = value else { continue };
                match check_timestamp(value) {
                    Ok(ms) => tps[i].timestamp = Some(ms),
                    Err(message) => problems.field(i, name, message),
                }
            }
        }
        dtype => {
            return Err(Error::Schema(format!(
                "column `{name}` has type {dtype}; timestamps must be text (ISO 8601), datetimes, dates or epoch milliseconds"
            )))
        }
    }
    Ok(())
}

fn fill_amounts(column: &Column, tps: &mut [Touchpoint], problems: &mut Problems) -> Result<()> {
    let name = column.name().trim();
    let series = column.as_materialized_series();
    if series.dtype().is_primitive_numeric() {
        for (i, value) in series.cast(&DataType::Float64)?.f64()?.iter().enumerate() {
            match value {
                Some(v) if !v.is_finite() => problems.field(i, name, format!("`{v}` is not a finite amount")),
                v => tps[i].amount = v,
            }
        }
        return Ok(());
    }
    for (i, value) in text_values(column)?.iter().enumerate() {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { continue };
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => tps[i].amount = Some(v),
            _ => problems.field(
                i,
                name,
                format!("`{}` is not a number; expected e.g. `120000` or `99.5`", shorten(value)),
            ),
        }
    }
    Ok(())
}

/// `touchpoint_id, profile_id` for every touchpoint, in ingest order.
pub(crate) fn assignments_frame(
    touchpoints: &[Touchpoint],
    cluster_of: &[u32],
    profile_ids: &[Text],
) -> Result<DataFrame> {
    let ids =
        StringChunked::from_iter_values("touchpoint_id".into(), touchpoints.iter().map(|t| t.touchpoint_id.as_str()));
    let profile_column = StringChunked::from_iter_values(
        "profile_id".into(),
        cluster_of.iter().map(|&c| profile_ids[c as usize].as_str()),
    );
    Ok(DataFrame::new(touchpoints.len(), vec![ids.into_column(), profile_column.into_column()])?)
}

/// [`assignments_frame`] from each touchpoint's profile id (a live engine's state).
pub(crate) fn assignments_frame_of(touchpoints: &[Touchpoint], profile_of: &[Text]) -> Result<DataFrame> {
    let ids =
        StringChunked::from_iter_values("touchpoint_id".into(), touchpoints.iter().map(|t| t.touchpoint_id.as_str()));
    let profiles = StringChunked::from_iter_values("profile_id".into(), profile_of.iter().map(Text::as_str));
    Ok(DataFrame::new(touchpoints.len(), vec![ids.into_column(), profiles.into_column()])?)
}

/// The change feed as a table: `seq`, `change` (`created`, `merged`, `split`, `forgotten`),
/// `profile_id`, and `into` (the profiles it went into, joined by `|`; empty otherwise).
pub(crate) fn changes_frame(changes: &[crate::model::Change]) -> Result<DataFrame> {
    use crate::model::ChangeEvent;
    let seq = UInt64Chunked::from_iter_values("seq".into(), changes.iter().map(|c| c.seq));
    let (mut kinds, mut ids, mut into, mut segments) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        let (kind, target, segment) = match &change.event {
            ChangeEvent::Created { .. } => ("created", String::new(), None),
            ChangeEvent::Merged { into, .. } => ("merged", into.clone(), None),
            ChangeEvent::Split { into, .. } => ("split", into.join("|"), None),
            ChangeEvent::Forgotten { .. } => ("forgotten", String::new(), None),
            ChangeEvent::SegmentEntered { segment, .. } => ("segment_entered", String::new(), Some(segment.as_str())),
            ChangeEvent::SegmentExited { segment, .. } => ("segment_exited", String::new(), Some(segment.as_str())),
        };
        kinds.push(kind);
        ids.push(change.event.profile_id().to_owned());
        into.push(target);
        segments.push(segment);
    }
    Ok(DataFrame::new(
        changes.len(),
        vec![
            seq.into_column(),
            StringChunked::from_iter_values("change".into(), kinds.into_iter()).into_column(),
            StringChunked::from_iter_values("profile_id".into(), ids.iter().map(String::as_str)).into_column(),
            StringChunked::from_iter_values("into".into(), into.iter().map(String::as_str)).into_column(),
            StringChunked::from_iter_options("segment".into(), segments.into_iter()).into_column(),
        ],
    )?)
}

/// How list-valued profile fields are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStyle {
    /// As list columns (Parquet, Arrow, DataFrames).
    List,
    /// Joined by `|` into text (CSV).
    Joined,
}

pub(crate) fn list_column<'a>(name: &str, style: ListStyle, rows: impl Iterator<Item = Vec<&'a str>>) -> Column {
    match style {
        ListStyle::List => {
            let rows: Vec<Vec<&str>> = rows.collect();
            let mut builder = ListStringChunkedBuilder::new(name.into(), rows.len(), rows.iter().map(Vec::len).sum());
            for row in &rows {
                builder.append_values_iter(row.iter().copied());
            }
            builder.finish().into_column()
        }
        ListStyle::Joined => StringChunked::from_iter_values(name.into(), rows.map(|r| r.join("|"))).into_column(),
    }
}

pub(crate) fn datetime_column(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values).into_datetime(TimeUnit::Milliseconds, None).into_column()
}

pub(crate) fn text_column<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    StringChunked::from_iter_options(name.into(), values).into_column()
}

/// One row per profile; see [`crate::Engine::profiles_frame`].
/// `custom_attributes` names the custom attribute columns (the same for every chunk of a frame
/// built in chunks, whatever the chunk's profiles carry).
pub(crate) fn profiles_frame(
    profiles: &[&Profile],
    rules: &Rules,
    style: ListStyle,
    custom_attributes: &[String],
) -> Result<DataFrame> {
    let mut columns = vec![
        text_column("profile_id", profiles.iter().map(|p| Some(p.profile_id.as_str()))),
        text_column(
            "status",
            profiles.iter().map(|p| Some(if p.quarantine_reasons.is_empty() { "active" } else { "quarantined" })),
        ),
        StringChunked::from_iter_options(
            "quarantine_reasons".into(),
            profiles.iter().map(|p| (!p.quarantine_reasons.is_empty()).then(|| p.quarantine_reasons.join("; "))),
        )
        .into_column(),
        UInt32Chunked::from_iter_values("touchpoint_count".into(), profiles.iter().map(|p| p.touchpoint_count as u32))
            .into_column(),
        datetime_column("first_seen", profiles.iter().map(|p| p.first_seen)),
        datetime_column("last_seen", profiles.iter().map(|p| p.last_seen)),
        list_column("channels", style, profiles.iter().map(|p| p.channels.iter().map(String::as_str).collect())),
        list_column("sources", style, profiles.iter().map(|p| p.sources.iter().map(Text::as_str).collect())),
    ];
    for rule in &rules.kinds {
        let values: Vec<Vec<String>> = profiles
            .iter()
            .map(|p| {
                p.identifiers_of(&rule.kind)
                    .filter(|id| matches!(id.status, IdentifierStatus::Linked | IdentifierStatus::PartlyRefused))
                    .map(|id| match &id.scope {
                        Some(scope) if !scope.is_empty() => format!("{scope}:{}", id.value),
                        _ => id.value.to_string(),
                    })
                    .collect()
            })
            .collect();
        columns.push(list_column(
            rule.kind.as_str(),
            style,
            values.iter().map(|v| v.iter().map(String::as_str).collect()),
        ));
    }
    let mut attribute_names: Vec<&str> = STANDARD_ATTRIBUTES.to_vec();
    attribute_names.extend(custom_attributes.iter().map(String::as_str).filter(|n| !STANDARD_ATTRIBUTES.contains(n)));
    for name in attribute_names {
        let taken = columns.iter().any(|c| c.name().as_str() == name);
        let column = if taken { format!("attribute_{name}") } else { name.to_owned() };
        fn attribute<'p>(p: &&'p Profile, name: &str) -> Option<&'p crate::model::Attribute> {
            p.attributes.get(name)
        }
        let attribute = |p| attribute(p, name);
        columns.push(text_column(&column, profiles.iter().map(|p| attribute(p).map(|a| a.value.as_str()))));
        columns.push(text_column(
            &format!("{column}_source"),
            profiles.iter().map(|p| attribute(p).and_then(|a| a.source.as_deref())),
        ));
        columns.push(text_column(
            &format!("{column}_touchpoint_id"),
            profiles.iter().map(|p| attribute(p).map(|a| a.touchpoint_id.as_str())),
        ));
    }
    for column in super::trait_columns::trait_columns(profiles, rules, style) {
        let taken = columns.iter().any(|c| c.name() == column.name());
        let renamed = format!("trait_{}", column.name());
        columns.push(if taken { column.with_name(renamed.into()) } else { column });
    }
    Ok(DataFrame::new(profiles.len(), columns)?)
}

//! The records of a linkage job: ids, the table each came from, and the values of the columns
//! the settings use, trimmed and lowercased once.

use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::model::Text;

/// A value as records hold it: trimmed and lowercased; `None` when empty.
pub(crate) fn clean(value: &str) -> Option<Text> {
    let value = value.trim();
    if value.is_empty() {
        None
    } else if value.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Some(Text::from(value.to_lowercase()))
    } else {
        Some(Text::from(value))
    }
}

/// Records from one or more tables, column by column.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    /// Each record's id, as given.
    pub ids: Vec<Text>,
    /// Each record's table (0 for the first input).
    pub table: Vec<u16>,
    /// The columns read, by name.
    pub names: Vec<String>,
    /// Each column's values (trimmed, lowercased; `None` when empty), in `names` order.
    pub columns: Vec<Vec<Option<Text>>>,
}

impl Records {
    /// Reads the `columns` (and the id column) of every table. Column names are matched after
    /// trimming (CSV headers often carry spaces after commas).
    pub(crate) fn from_frames(frames: &[DataFrame], id_column: &str, columns: &[&str]) -> Result<Records> {
        let mut names: Vec<String> = Vec::new();
        for name in columns {
            if !names.iter().any(|n| n == name) {
                names.push((*name).to_owned());
            }
        }
        let mut records = Records { ids: Vec::new(), table: Vec::new(), columns: vec![Vec::new(); names.len()], names };
        for (t, df) in frames.iter().enumerate() {
            let by_name: FxHashMap<&str, &Column> = df.columns().iter().map(|c| (c.name().trim(), c)).collect();
            let find = |name: &str| {
                by_name.get(name).copied().ok_or_else(|| {
                    let have: Vec<&str> = by_name.keys().copied().collect();
                    Error::Schema(format!("input {}: no column `{name}` (it has: {})", t + 1, have.join(", ")))
                })
            };
            let ids = text_values(find(id_column)?)?;
            let start = records.ids.len();
            let mut seen: FxHashSet<&str> = FxHashSet::default();
            for (row, id) in ids.iter().enumerate() {
                let id = id.map(str::trim).filter(|id| !id.is_empty()).ok_or_else(|| Error::InvalidField {
                    row: row + 1,
                    column: id_column.to_owned(),
                    message: format!("input {}: the record id is empty; every record needs one", t + 1),
                })?;
                if !seen.insert(id) {
                    return Err(Error::InvalidField {
                        row: row + 1,
                        column: id_column.to_owned(),
                        message: format!("input {}: duplicate record id `{id}`", t + 1),
                    });
                }
                records.ids.push(id.into());
            }
            records.table.resize(records.ids.len(), t as u16);
            for (name, out) in records.names.iter().zip(records.columns.iter_mut()) {
                let values = text_values(find(name)?)?;
                out.extend(values.iter().map(|v| v.and_then(clean)));
                debug_assert_eq!(out.len() - start, ids.len());
            }
        }
        if records.ids.is_empty() {
            return Err(Error::EmptyInput("the inputs".into()));
        }
        Ok(records)
    }

    /// Records from columns already trimmed and lowercased, all from one table.
    pub(crate) fn from_columns(ids: Vec<Text>, names: Vec<String>, columns: Vec<Vec<Option<Text>>>) -> Result<Records> {
        if ids.is_empty() {
            return Err(Error::EmptyInput("the records".into()));
        }
        debug_assert!(columns.iter().all(|c| c.len() == ids.len()) && names.len() == columns.len());
        Ok(Records { table: vec![0; ids.len()], ids, names, columns })
    }

    /// Appends `other`'s records, read with the same columns.
    pub(crate) fn append(&mut self, other: Records) {
        debug_assert_eq!(self.names, other.names);
        self.ids.extend(other.ids);
        self.table.extend(other.table);
        for (column, more) in self.columns.iter_mut().zip(other.columns) {
            column.extend(more);
        }
    }

    /// How many records there are.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The index of a column read, by name.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// A column's values as text: strings as they are, numbers and booleans printed, nested types
/// refused.
pub(crate) fn text_values(column: &Column) -> Result<StringChunked> {
    let dtype = column.dtype();
    if dtype.is_nested() || matches!(dtype, DataType::Binary | DataType::BinaryOffset) {
        return Err(Error::Schema(format!(
            "column `{}` has type {dtype}; expected text, numbers or dates",
            column.name()
        )));
    }
    let series = column.as_materialized_series();
    let text = if dtype == &DataType::String { series.clone() } else { series.cast(&DataType::String)? };
    Ok(text.str()?.clone())
}

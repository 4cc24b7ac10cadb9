//! Rows given as JSON objects (what the Node package hands over for a batch): read into a
//! DataFrame of text columns, as a CSV file would be, so the same column rules and row errors
//! apply as to any table.

use polars::prelude::*;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A DataFrame from rows of JSON objects (taken: their strings move into the columns): one
/// text column per key, in the order keys are first met (each row's keys in its map's order);
/// a row without a key (or with null) has null there. Numbers and booleans become their text (as a
/// CSV reader would give them). A nested `attributes` or `identifiers` object (a touchpoint's
/// shape) gives a column per key, as a table with those columns would; a key given both nested
/// and at the top, or any other object or list value, is an error naming the row (1-based)
/// and the key. This is how every language's rows become a table: Python lists of dicts and
/// Node arrays of objects come here.
///
/// ```
/// use omnitwin::io::frame_from_rows;
/// let rows = serde_json::json!([
///     {"touchpoint_id": "t1", "email": "an@x.vn", "amount": 120000},
///     {"touchpoint_id": "t2", "phone": "0912 345 678", "attributes": {"tier": "gold"}},
/// ]);
/// let rows: Vec<_> = rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect();
/// let df = frame_from_rows(rows)?;
/// let mut names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
/// names.sort_unstable();
/// assert_eq!(names, ["amount", "email", "phone", "tier", "touchpoint_id"]);
/// assert_eq!(df.column("phone")?.str()?.get(0), None);
/// assert_eq!(df.column("amount")?.str()?.get(0), Some("120000"));
/// assert_eq!(df.column("tier")?.str()?.get(1), Some("gold"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn frame_from_rows(rows: Vec<Map<String, Value>>) -> Result<DataFrame> {
    let height = rows.len();
    let mut names: Vec<String> = Vec::new();
    let mut position: FxHashMap<String, usize> = FxHashMap::default();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        for (name, text) in flat(row, i + 1)? {
            let at = match position.get(&name) {
                Some(&at) => at,
                None => {
                    position.insert(name.clone(), names.len());
                    names.push(name);
                    columns.push(vec![None; height]);
                    names.len() - 1
                }
            };
            columns[at][i] = Some(text);
        }
    }
    let columns: Vec<Column> =
        names.iter().zip(columns).map(|(name, values)| Column::new(PlSmallStr::from_str(name), values)).collect();
    DataFrame::new(height, columns).map_err(|e| Error::DataFrame(e.to_string()))
}

/// A row's fields as (column, text) pairs: nested `attributes` and `identifiers` objects
/// spread into columns of their keys; nulls left out.
fn flat(row: Map<String, Value>, row_number: usize) -> Result<Vec<(String, String)>> {
    let invalid =
        |column: String, message: &str| Error::InvalidField { row: row_number, column, message: message.into() };
    let mut out: Vec<(String, String)> = Vec::with_capacity(row.len());
    let mut nested: Vec<(String, String)> = Vec::new();
    for (name, value) in row {
        match value {
            Value::Object(fields) if name == "attributes" || name == "identifiers" => {
                for (key, value) in fields {
                    let column = format!("{name}.{key}");
                    if let Some(text) = scalar(value).map_err(|m| invalid(column, m))? {
                        nested.push((key, text));
                    }
                }
            }
            value => {
                if let Some(text) = scalar(value).map_err(|m| invalid(name.clone(), m))? {
                    out.push((name, text));
                }
            }
        }
    }
    for (key, text) in nested {
        if out.iter().any(|(name, _)| *name == key) {
            return Err(invalid(key, "given both at the top of the row and inside `attributes` or `identifiers`"));
        }
        out.push((key, text));
    }
    Ok(out)
}

/// A JSON value as a cell's text: `None` for null; lists and objects refused.
fn scalar(value: Value) -> std::result::Result<Option<String>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Array(_) | Value::Object(_) => Err("expected text, a number or a boolean, not a list or an object"),
    }
}

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
/// CSV reader would give them); an object or array value is an error naming the row (1-based)
/// and the key.
///
/// ```
/// use omnitwin::io::frame_from_rows;
/// let rows = serde_json::json!([
///     {"touchpoint_id": "t1", "email": "an@x.vn", "amount": 120000},
///     {"touchpoint_id": "t2", "phone": "0912 345 678"},
/// ]);
/// let rows: Vec<_> = rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect();
/// let df = frame_from_rows(rows)?;
/// let mut names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
/// names.sort_unstable();
/// assert_eq!(names, ["amount", "email", "phone", "touchpoint_id"]);
/// assert_eq!(df.column("phone")?.str()?.get(0), None);
/// assert_eq!(df.column("amount")?.str()?.get(0), Some("120000"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn frame_from_rows(rows: Vec<Map<String, Value>>) -> Result<DataFrame> {
    let height = rows.len();
    let mut names: Vec<String> = Vec::new();
    let mut position: FxHashMap<String, usize> = FxHashMap::default();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        for (name, value) in row {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(Error::InvalidField {
                        row: i + 1,
                        column: name,
                        message: "expected text, a number or a boolean, not a list or an object".into(),
                    })
                }
            };
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

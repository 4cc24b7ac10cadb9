//! Rows given as JSON objects (what the Node package hands over for a batch): read into a
//! DataFrame of text columns, as a CSV file would be, so the same column rules and row errors
//! apply as to any table.

use polars::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A DataFrame from rows of JSON objects: one text column per key, in the order keys are first
/// met (each row's keys in its map's order); a row without a key has null there. Numbers and booleans become their text (as a
/// CSV reader would give them); an object or array value is an error naming the row (1-based)
/// and the key.
///
/// ```
/// use omnitwin::store::frame_from_rows;
/// let rows = serde_json::json!([
///     {"touchpoint_id": "t1", "email": "an@x.vn", "amount": 120000},
///     {"touchpoint_id": "t2", "phone": "0912 345 678"},
/// ]);
/// let rows: Vec<_> = rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect();
/// let df = frame_from_rows(&rows)?;
/// let mut names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
/// names.sort_unstable();
/// assert_eq!(names, ["amount", "email", "phone", "touchpoint_id"]);
/// assert_eq!(df.column("phone")?.str()?.get(0), None);
/// assert_eq!(df.column("amount")?.str()?.get(0), Some("120000"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn frame_from_rows(rows: &[Map<String, Value>]) -> Result<DataFrame> {
    let mut names: Vec<&str> = Vec::new();
    let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        for key in row.keys() {
            position.entry(key.as_str()).or_insert_with(|| {
                names.push(key.as_str());
                names.len() - 1
            });
        }
    }
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(rows.len()); names.len()];
    for (i, row) in rows.iter().enumerate() {
        for (name, column) in names.iter().zip(columns.iter_mut()) {
            let text = match row.get(*name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                Some(Value::Array(_) | Value::Object(_)) => {
                    return Err(Error::InvalidField {
                        row: i + 1,
                        column: (*name).to_owned(),
                        message: "expected text, a number or a boolean, not a list or an object".into(),
                    })
                }
            };
            column.push(text);
        }
    }
    let columns: Vec<Column> =
        names.iter().zip(columns).map(|(name, values)| Column::new(PlSmallStr::from_str(name), values)).collect();
    DataFrame::new(rows.len(), columns).map_err(|e| Error::DataFrame(e.to_string()))
}

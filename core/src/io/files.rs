//! Files in and out: CSV, Parquet and JSON Lines, read as DataFrames with errors that name the
//! file, line and column.

use std::fs::File;
use std::io::{BufWriter, Cursor};
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::model::{OnError, RejectedRow};

/// An input file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// JSON Lines: one JSON object per line.
    Jsonl,
}

impl InputFormat {
    /// The format a file name suggests (`.csv`, `.parquet`/`.pq`, `.jsonl`/`.ndjson`/`.json`).
    pub fn from_path(path: &Path) -> Option<InputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(InputFormat::Csv),
            "parquet" | "pq" => Some(InputFormat::Parquet),
            "jsonl" | "ndjson" | "json" => Some(InputFormat::Jsonl),
            _ => None,
        }
    }
}

/// An output file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// Comma-separated values (list columns joined by `|`).
    Csv,
    /// Apache Parquet (list columns kept as lists).
    Parquet,
}

/// Reads a file into a DataFrame, every CSV column as text (so phone numbers keep their
/// leading zeros). Lines that are not valid UTF-8 fail the read with their line and column
/// or, with [`OnError::Skip`], are left out and returned as rejected rows.
pub fn read_frame(
    path: &Path,
    format: Option<InputFormat>,
    on_error: OnError,
) -> Result<(DataFrame, Vec<RejectedRow>)> {
    let format = format.or_else(|| InputFormat::from_path(path)).ok_or_else(|| Error::Format {
        path: path.to_owned(),
        message: "cannot tell the format from the file name; expected .csv, .parquet or .jsonl (or say which)".into(),
    })?;
    let format_error = |e: PolarsError| Error::Format { path: path.to_owned(), message: e.to_string() };
    if format == InputFormat::Parquet {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(Error::EmptyInput(path.display().to_string()));
        }
        let df = shielded(path, || ParquetReader::new(file).finish())?.map_err(format_error)?;
        return non_empty(df, path).map(|df| (df, Vec::new()));
    }
    let (bytes, mut rejected) = read_text(path, on_error, format == InputFormat::Csv)?;
    let bytes =
        if format == InputFormat::Jsonl { shallow_json_lines(bytes, path, on_error, &mut rejected)? } else { bytes };
    let df = shielded(path, || match format {
        InputFormat::Csv => parse_csv(bytes),
        InputFormat::Jsonl => JsonReader::new(Cursor::new(bytes)).with_json_format(JsonFormat::JsonLines).finish(),
        InputFormat::Parquet => unreachable!("parquet was read above"),
    })?
    .map_err(format_error)?;
    non_empty(df, path).map(|df| (df, rejected))
}

/// Runs a reader of the DataFrame library: a file it cannot read must be an error naming the
/// file, but on some malformed files (the fuzzer found Parquet metadata that does it) the
/// reader panics instead of returning one. The panic is turned into that error here.
fn shielded<T>(path: &Path, read: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no reason given".into());
        Error::Format {
            path: path.to_owned(),
            message: format!("damaged or malformed file: the reader failed ({why})"),
        }
    })
}

/// Reads a text file: refuses an empty one and checks its encoding (see [`valid_utf8_lines`]).
fn read_text(path: &Path, on_error: OnError, header: bool) -> Result<(Vec<u8>, Vec<RejectedRow>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::EmptyInput(path.display().to_string()));
    }
    valid_utf8_lines(bytes, path, on_error, header)
}

/// Parses CSV text with a header row, every column as text (phone numbers keep leading zeros).
fn parse_csv(bytes: Vec<u8>) -> PolarsResult<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(true)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
}

fn non_empty(df: DataFrame, path: &Path) -> Result<DataFrame> {
    if df.height() == 0 {
        Err(Error::EmptyInput(path.display().to_string()))
    } else {
        Ok(df)
    }
}

/// A CSV file read in batches of rows, so that a large file is never held as one DataFrame
/// beside the touchpoints made from it. Each batch is a DataFrame (every column as text) with
/// the 1-based number of its first data row.
pub struct CsvBatches {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    header: std::ops::Range<usize>,
    /// Byte ranges of each batch's rows and the batch's first data row.
    batches: std::vec::IntoIter<(std::ops::Range<usize>, usize)>,
    rows: usize,
    rejected: Vec<RejectedRow>,
}

/// About how many bytes of CSV go into one batch.
const CSV_BATCH_BYTES: usize = 16 << 20;

impl CsvBatches {
    /// Opens a CSV file: checks its encoding (as [`read_frame`] does) and plans the batches,
    /// cutting only at line ends outside quoted fields.
    pub fn open(path: &Path, on_error: OnError) -> Result<CsvBatches> {
        CsvBatches::open_with_batch_bytes(path, on_error, CSV_BATCH_BYTES)
    }

    /// [`CsvBatches::open`] with about `batch_bytes` bytes of CSV per batch.
    pub fn open_with_batch_bytes(path: &Path, on_error: OnError, batch_bytes: usize) -> Result<CsvBatches> {
        let (bytes, rejected) = read_text(path, on_error, true)?;
        let header_end = record_end(&bytes, 0);
        let mut batches = Vec::new();
        let (mut start, mut row) = (header_end, 1);
        while start < bytes.len() {
            let (mut end, mut rows) = (start, 0);
            while end < bytes.len() && end - start < batch_bytes.max(1) {
                end = record_end(&bytes, end);
                rows += 1;
            }
            batches.push((start..end, row));
            row += rows;
            start = end;
        }
        if batches.is_empty() {
            return Err(Error::EmptyInput(path.display().to_string()));
        }
        let rows = row - 1;
        Ok(CsvBatches {
            path: path.to_owned(),
            bytes,
            header: 0..header_end,
            batches: batches.into_iter(),
            rows,
            rejected,
        })
    }

    /// How many data records the file holds (blank lines count too): what to reserve room for
    /// before ingesting the batches.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Lines left out because they were not valid UTF-8 (only with [`OnError::Skip`]).
    pub fn rejected(&self) -> &[RejectedRow] {
        &self.rejected
    }
}

impl Iterator for CsvBatches {
    type Item = Result<(DataFrame, usize)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (range, first_row) = self.batches.next()?;
        let mut piece = Vec::with_capacity(self.header.len() + range.len());
        piece.extend_from_slice(&self.bytes[self.header.clone()]);
        if !piece.ends_with(b"\n") {
            piece.push(b'\n');
        }
        piece.extend_from_slice(&self.bytes[range]);
        let df = shielded(&self.path, || parse_csv(piece))
            .and_then(|df| df.map_err(|e| Error::Format { path: self.path.clone(), message: e.to_string() }));
        Some(df.map(|df| (df, first_row)))
    }
}

/// The end (one past the newline) of the CSV record starting at `start`: a newline inside a
/// quoted field does not end it.
fn record_end(bytes: &[u8], start: usize) -> usize {
    let mut quoted = false;
    for (i, b) in bytes[start..].iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return start + i + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// Checks that `bytes` is UTF-8. When it is not: fails naming the first bad line and field, or
/// (skip mode) drops every bad line and reports it. `header` says the first line is a header
/// (so line `n` is data row `n - 1`).
fn valid_utf8_lines(
    bytes: Vec<u8>,
    path: &Path,
    on_error: OnError,
    header: bool,
) -> Result<(Vec<u8>, Vec<RejectedRow>)> {
    let first_bad = match std::str::from_utf8(&bytes) {
        Ok(_) => return Ok((bytes, Vec::new())),
        Err(e) => e.valid_up_to(),
    };
    let mut kept = Vec::with_capacity(bytes.len());
    let mut rejected = Vec::new();
    let mut line_start = 0;
    for (n, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let line_no = n + 1;
        let line_end = line_start + line.len();
        if line_end <= first_bad || std::str::from_utf8(line).is_ok() {
            kept.extend_from_slice(line);
        } else {
            let bad_at = std::str::from_utf8(line).err().map_or(0, |e| e.valid_up_to());
            if on_error == OnError::Fail || (header && line_no == 1) {
                let column = line[..bad_at].iter().filter(|b| **b == b',').count() + 1;
                let context = &line[bad_at.saturating_sub(10)..(bad_at + 10).min(line.len())];
                return Err(Error::InvalidUtf8 {
                    path: path.to_owned(),
                    line: line_no,
                    column,
                    detail: context.escape_ascii().to_string(),
                });
            }
            rejected.push(RejectedRow {
                row: if header { line_no - 1 } else { line_no },
                touchpoint_id: None,
                reasons: vec![format!("line {line_no}: bytes that are not valid UTF-8 at byte {}", bad_at + 1)],
            });
        }
        line_start = line_end;
    }
    Ok((kept, rejected))
}

/// How deeply a JSON line may nest arrays and objects (serde_json's own limit): the JSON
/// reader recurses once per level, and a line of a hundred thousand `[` would exhaust its stack.
const MAX_JSON_DEPTH: usize = 128;

/// The nesting depth a JSON line reaches (brackets inside strings do not count).
fn json_depth(line: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in line {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// JSON Lines text without lines nested deeper than [`MAX_JSON_DEPTH`]: such a line fails the
/// read, naming it, or with [`OnError::Skip`] is left out and listed in `rejected`.
fn shallow_json_lines(
    bytes: Vec<u8>,
    path: &Path,
    on_error: OnError,
    rejected: &mut Vec<RejectedRow>,
) -> Result<Vec<u8>> {
    let too_deep = |line: &[u8]| json_depth(line) > MAX_JSON_DEPTH;
    if !bytes.split(|b| *b == b'\n').any(too_deep) {
        return Ok(bytes);
    }
    let mut kept = Vec::with_capacity(bytes.len());
    for (n, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        if !too_deep(line) {
            kept.extend_from_slice(line);
            continue;
        }
        let reason = format!("line {}: JSON nested more than {MAX_JSON_DEPTH} levels deep", n + 1);
        if on_error == OnError::Fail {
            return Err(Error::Format { path: path.to_owned(), message: reason });
        }
        rejected.push(RejectedRow { row: n + 1, touchpoint_id: None, reasons: vec![reason] });
    }
    rejected.sort_by_key(|r| r.row);
    Ok(kept)
}

/// Writes a DataFrame as CSV or Parquet.
pub fn write_frame(df: &mut DataFrame, path: &Path, format: OutputFormat) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = BufWriter::new(file);
    let result = match format {
        OutputFormat::Csv => CsvWriter::new(&mut writer).finish(df),
        OutputFormat::Parquet => ParquetWriter::new(&mut writer).finish(df).map(|_| ()),
    };
    result.map_err(|e| Error::Format { path: path.to_owned(), message: e.to_string() })?;
    std::io::Write::flush(&mut writer).map_err(|e| Error::io(path, e))
}

/// Writes a DataFrame to a file in batches of rows, for outputs too large to hold whole.
pub struct FrameWriter {
    path: std::path::PathBuf,
    inner: BatchWriter,
}

enum BatchWriter {
    Csv(Box<polars::io::csv::write::BatchedWriter<BufWriter<File>>>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
}

impl FrameWriter {
    /// Creates the file; `first` gives the schema every batch must have.
    pub fn create(path: &Path, format: OutputFormat, first: &DataFrame) -> Result<FrameWriter> {
        let file = BufWriter::new(File::create(path).map_err(|e| Error::io(path, e))?);
        let format_error = |e: PolarsError| Error::Format { path: path.to_owned(), message: e.to_string() };
        let schema = first.schema();
        let inner = match format {
            OutputFormat::Csv => {
                BatchWriter::Csv(Box::new(CsvWriter::new(file).batched(schema).map_err(format_error)?))
            }
            OutputFormat::Parquet => {
                BatchWriter::Parquet(Box::new(ParquetWriter::new(file).batched(schema).map_err(format_error)?))
            }
        };
        Ok(FrameWriter { path: path.to_owned(), inner })
    }

    /// Appends a batch of rows.
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        match &mut self.inner {
            BatchWriter::Csv(w) => w.write_batch(df),
            BatchWriter::Parquet(w) => w.write_batch(df),
        }
        .map_err(|e| Error::Format { path: self.path.clone(), message: e.to_string() })
    }

    /// Finishes the file (Parquet's footer) and flushes it.
    pub fn finish(self) -> Result<()> {
        match self.inner {
            BatchWriter::Csv(mut w) => w.finish(),
            BatchWriter::Parquet(w) => w.finish().map(|_| ()),
        }
        .map_err(|e| Error::Format { path: self.path.clone(), message: e.to_string() })
    }
}

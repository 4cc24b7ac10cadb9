//! The crate's one error type.
//!
//! Every failure a caller can cause (bad rows, bad config, unknown ids, unreadable files) is a
//! variant here with enough context to act on: the row, the column and what was expected. The
//! bindings map [`ErrorKind`] once to Python exceptions and Node error codes.

use std::path::PathBuf;

/// A shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in omnitwin.
///
/// Row numbers are 1-based and count data rows (a CSV header is not a row).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value in one row and column could not be used.
    #[error("row {row}, column `{column}`: {message}")]
    InvalidField {
        /// 1-based data row.
        row: usize,
        /// Column name as it appears in the input.
        column: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A row has no `touchpoint_id`.
    #[error("row {row}: `{column}` is empty; every touchpoint needs an id")]
    MissingTouchpointId {
        /// 1-based data row.
        row: usize,
        /// The column that holds touchpoint ids (after column mapping).
        column: String,
    },
    /// Two rows share one `touchpoint_id`.
    #[error("row {row}: duplicate touchpoint_id `{touchpoint_id}` (already used {first_seen})")]
    DuplicateTouchpointId {
        /// 1-based data row of the second occurrence.
        row: usize,
        /// The repeated id.
        touchpoint_id: String,
        /// Where the id was first seen ("at row 3", "by a touchpoint ingested before").
        first_seen: String,
    },
    /// The input as a whole does not fit the touchpoint schema.
    #[error("schema: {0}")]
    Schema(String),
    /// The input holds no touchpoints.
    #[error("{0}: the input holds no touchpoints")]
    EmptyInput(String),
    /// A file is not valid UTF-8 text.
    #[error("{path}: line {line}, column {column}: bytes that are not valid UTF-8 ({detail})")]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column (field) on that line.
        column: usize,
        /// The bytes around the fault, escaped.
        detail: String,
    },
    /// The configuration is invalid.
    #[error("config `{field}`: {message}")]
    Config {
        /// Dotted path of the config field.
        field: String,
        /// What was wrong and what is accepted.
        message: String,
    },
    /// A touchpoint id that the engine does not hold.
    #[error("unknown touchpoint `{0}`")]
    UnknownTouchpoint(String),
    /// The durable store could not be opened, read or written (a read-only or full disk, a
    /// damaged file, a store written by a newer version). The engine's data is unchanged.
    #[error("store {path}: {message}")]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A record id that a linkage job does not hold.
    #[error("unknown record `{0}`")]
    UnknownRecord(String),
    /// A profile id that the engine does not hold.
    #[error("unknown profile `{0}`")]
    UnknownProfile(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be parsed or written by the DataFrame layer.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A DataFrame operation failed.
    #[error("dataframe: {0}")]
    DataFrame(String),
    /// JSON could not be read or written.
    #[error("json: {0}")]
    Json(String),
    /// A segment expression could not be read.
    #[error("expression at position {position}: {message}\n  {expression}\n  {caret}", caret = caret(*.position))]
    InvalidExpression {
        /// The expression as given.
        expression: String,
        /// 1-based character position of the fault.
        position: usize,
        /// What was expected there.
        message: String,
    },
    /// An argument of a call (not a row of input) is invalid.
    #[error("argument `{name}`: {message}")]
    InvalidArgument {
        /// The argument's name.
        name: String,
        /// What was expected.
        message: String,
    },
    /// The caller stopped the operation (see [`Progress::cancelled`](crate::progress::Progress::cancelled));
    /// nothing was changed.
    #[error("cancelled by the caller; nothing was changed")]
    Cancelled,
}

/// The category of an [`Error`], stable across versions, for bindings and callers that branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A row or field of the input is invalid.
    InvalidInput,
    /// The input's shape (columns, types, emptiness, encoding) is wrong.
    Schema,
    /// The configuration is invalid.
    Config,
    /// An id that is not in the engine.
    NotFound,
    /// Reading or writing a file failed.
    Io,
    /// The caller stopped the operation.
    Cancelled,
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidField { .. }
            | Error::MissingTouchpointId { .. }
            | Error::DuplicateTouchpointId { .. }
            | Error::InvalidExpression { .. }
            | Error::InvalidArgument { .. } => ErrorKind::InvalidInput,
            Error::Schema(_) | Error::EmptyInput(_) | Error::InvalidUtf8 { .. } | Error::Json(_) => ErrorKind::Schema,
            Error::Format { .. } | Error::DataFrame(_) => ErrorKind::Schema,
            Error::Config { .. } => ErrorKind::Config,
            Error::UnknownTouchpoint(_) | Error::UnknownProfile(_) | Error::UnknownRecord(_) => ErrorKind::NotFound,
            Error::Io { .. } | Error::Store { .. } => ErrorKind::Io,
            Error::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// The 1-based data row this error is about, when it is about one row.
    pub fn row(&self) -> Option<usize> {
        match self {
            Error::InvalidField { row, .. }
            | Error::MissingTouchpointId { row, .. }
            | Error::DuplicateTouchpointId { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The column this error is about, when it is about one column.
    pub fn column(&self) -> Option<&str> {
        match self {
            Error::InvalidField { column, .. } | Error::MissingTouchpointId { column, .. } => Some(column),
            Error::InvalidArgument { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The 1-based character position in an expression this error is about.
    pub fn position(&self) -> Option<usize> {
        match self {
            Error::InvalidExpression { position, .. } => Some(*position),
            _ => None,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { field: field.into(), message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// A `^` under the 1-based character `position`.
fn caret(position: usize) -> String {
    format!("{}^", " ".repeat(position.saturating_sub(1)))
}

impl From<polars::error::PolarsError> for Error {
    fn from(err: polars::error::PolarsError) -> Self {
        Error::DataFrame(err.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Json(err.to_string())
    }
}

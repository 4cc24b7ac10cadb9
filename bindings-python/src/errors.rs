//! The Python exceptions: one base, `OmnitwinError`, and a subclass per core
//! [`omnitwin::ErrorKind`]; each carries `kind`, `row`, `column` and `position` (in a segment
//! expression) when the core error has them.
//! A panic in the core is caught at the boundary and raised as `InternalError`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(omnitwin, OmnitwinError, PyException, "The base class of every error omnitwin raises.");
create_exception!(
    omnitwin,
    InvalidInputError,
    OmnitwinError,
    "A row or field of the input is invalid; `row` (1-based) and `column` say where."
);
create_exception!(
    omnitwin,
    SchemaError,
    OmnitwinError,
    "The input's shape (columns, types, emptiness, encoding) does not fit the touchpoint schema."
);
create_exception!(omnitwin, ConfigError, OmnitwinError, "The configuration (or a settings or model file) is invalid.");
create_exception!(
    omnitwin,
    NotFoundError,
    OmnitwinError,
    "An id (touchpoint, profile, record) the engine does not hold."
);
create_exception!(omnitwin, IoError, OmnitwinError, "Reading or writing a file failed.");
create_exception!(
    omnitwin,
    InternalError,
    OmnitwinError,
    "A bug in omnitwin (a Rust panic, caught before it reached Python); please report it."
);

/// The Python exception for a core error, with `kind`, `row` and `column` set on it.
pub(crate) fn to_py(err: omnitwin::Error) -> PyErr {
    use omnitwin::ErrorKind as K;
    let message = err.to_string();
    let (exception, kind) = match err.kind() {
        K::InvalidInput => (InvalidInputError::new_err(message), "invalid_input"),
        K::Schema => (SchemaError::new_err(message), "schema"),
        K::Config => (ConfigError::new_err(message), "config"),
        K::NotFound => (NotFoundError::new_err(message), "not_found"),
        K::Io => (IoError::new_err(message), "io"),
        _ => (OmnitwinError::new_err(message), "other"),
    };
    Python::attach(|py| {
        let value = exception.value(py);
        // Setting attributes on a fresh exception instance cannot fail short of memory
        // exhaustion; the exception is raised either way.
        let _ = value.setattr("kind", kind);
        let _ = value.setattr("row", err.row());
        let _ = value.setattr("column", err.column());
        let _ = value.setattr("position", err.position());
    });
    exception
}

/// A `ConfigError` for a value given from Python that the core cannot read as `what`.
pub(crate) fn config_error(what: &str, message: impl std::fmt::Display) -> PyErr {
    to_py(omnitwin::Error::Config { field: what.to_owned(), message: message.to_string() })
}

/// The `InternalError` for a panic payload.
pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    InternalError::new_err(format!("internal error (a bug in omnitwin, please report it): {detail}"))
}

/// An `InternalError` with a message of its own (an engine a panic left unusable).
pub(crate) fn internal(message: String) -> PyErr {
    InternalError::new_err(message)
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("OmnitwinError", py.get_type::<OmnitwinError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("IoError", py.get_type::<IoError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

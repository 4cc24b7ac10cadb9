//! The JavaScript errors: one base class, `OmnitwinError`, and a subclass per core
//! [`omnitwin::ErrorKind`] (defined in `index.js`), each with `code`, `kind`, `row`, `column` and `position`.
//! A wrong argument from JavaScript is a `TypeError`; a panic in the core is caught at the
//! boundary and thrown as `InternalError`, never a crashed process.

use napi::bindgen_prelude::{Function, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, Status};

/// Why a call failed, before it becomes a JavaScript error (which needs the JavaScript thread).
#[derive(Debug)]
pub enum Failure {
    /// The core refused: bad input, config, missing file…
    Core(omnitwin::Error),
    /// The call was used wrongly from JavaScript (a `TypeError`).
    Usage(String),
    /// A panic in the core, or an engine left unusable by one.
    Internal(String),
}

impl From<omnitwin::Error> for Failure {
    fn from(err: omnitwin::Error) -> Failure {
        Failure::Core(err)
    }
}

/// A [`Failure`] from a caught panic's payload.
pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Failure {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    Failure::Internal(format!("internal error (a bug in omnitwin, please report it): {detail}"))
}

/// A `ConfigError` for a value from JavaScript the core cannot read as `what`.
pub(crate) fn config(what: &str, message: impl std::fmt::Display) -> Failure {
    Failure::Core(omnitwin::Error::Config { field: what.to_owned(), message: message.to_string() })
}

/// The class name, `code` and `kind` of a failure.
fn describe(failure: &Failure) -> (&'static str, &'static str, &'static str) {
    use omnitwin::ErrorKind as K;
    match failure {
        Failure::Core(err) => match err.kind() {
            K::InvalidInput => ("InvalidInputError", "OMNITWIN_INVALID_INPUT", "invalid_input"),
            K::Schema => ("SchemaError", "OMNITWIN_SCHEMA", "schema"),
            K::Config => ("ConfigError", "OMNITWIN_CONFIG", "config"),
            K::NotFound => ("NotFoundError", "OMNITWIN_NOT_FOUND", "not_found"),
            K::Io => ("IoError", "OMNITWIN_IO", "io"),
            _ => ("OmnitwinError", "OMNITWIN_ERROR", "other"),
        },
        Failure::Usage(_) => ("TypeError", "OMNITWIN_INVALID_ARGUMENT", "invalid_argument"),
        Failure::Internal(_) => ("InternalError", "OMNITWIN_INTERNAL", "internal"),
    }
}

/// The JavaScript error for a failure, thrown (or the promise rejected) by returning it.
pub(crate) fn to_js(env: &Env, failure: Failure) -> napi::Error {
    let (class, code, kind) = describe(&failure);
    let (message, place) = match &failure {
        Failure::Core(err) => (
            err.to_string(),
            Place {
                row: err.row().map(|r| r as u32),
                column: err.column().map(str::to_owned),
                position: err.position().map(|p| p as u32),
            },
        ),
        Failure::Usage(message) | Failure::Internal(message) => (message.clone(), Place::default()),
    };
    match build(env, class, code, kind, &message, place) {
        Ok(error) => napi::Error::from(error),
        // Building the object failed (the environment is shutting down): a plain error still
        // carries the message and code.
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{code}: {message}")),
    }
}

/// Where an error is: the input's row and column, or the position in an expression.
#[derive(Default)]
struct Place {
    row: Option<u32>,
    column: Option<String>,
    position: Option<u32>,
}

/// `new Class(message)` with `code`, `kind`, `row`, `column`, `position` set: the class from the registry
/// `index.js` puts on `globalThis[Symbol.for("omnitwin.errors")]` (`TypeError` from the global
/// object; a plain `Error` when the addon is loaded without `index.js`).
fn build<'env>(
    env: &'env Env,
    class: &str,
    code: &str,
    kind: &str,
    message: &str,
    place: Place,
) -> napi::Result<Unknown<'env>> {
    let global = env.get_global()?;
    let registry: Option<Object> = global.get_property(env.symbol_for("omnitwin.errors")?)?;
    let constructor: Option<Function<String, Unknown>> = match (class, registry) {
        ("TypeError", _) => global.get_named_property("TypeError")?,
        (_, Some(registry)) => registry.get_named_property(class)?,
        (_, None) => None,
    };
    let error = match constructor {
        Some(constructor) => constructor.new_instance(message.to_owned())?,
        None => env.create_error(napi::Error::new(Status::GenericFailure, message.to_owned()))?.to_unknown(),
    };
    let mut object: Object = napi::bindgen_prelude::FromNapiValue::from_unknown(error)?;
    object.set_named_property("code", code)?;
    object.set_named_property("kind", kind)?;
    object.set_named_property("row", place.row)?;
    object.set_named_property("column", place.column)?;
    object.set_named_property("position", place.position)?;
    Ok(object.to_unknown())
}

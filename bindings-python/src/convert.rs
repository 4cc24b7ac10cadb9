//! Every conversion between Python and the core, in one place: DataFrames through the Arrow C
//! stream interface (no copy through Python objects), structured values through serde (the core's
//! own field names), and the boundary helper that releases the interpreter lock and catches
//! panics.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors;

/// The capsule name the Arrow PyCapsule interface gives a C stream.
const STREAM: &CStr = c"arrow_array_stream";

/// Runs core work with the interpreter lock released (other Python threads go on, rayon uses
/// every core) and turns a core error or a panic into a Python exception.
pub(crate) fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> omnitwin::Result<T> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(errors::to_py(err)),
        Err(panic) => Err(errors::from_panic(panic)),
    }
}

/// A DataFrame from any object that exports the Arrow PyCapsule stream interface
/// (`__arrow_c_stream__`): polars and pyarrow tables, pandas ≥ 2.2 frames, DuckDB results.
/// The data is read from the producer's buffers as they are, with the lock released.
pub(crate) fn frame_from_arrow(data: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_stream__() did not return a PyCapsule"))?;
    let pointer = capsule
        .pointer_checked(Some(STREAM))
        .map_err(|_| PyValueError::new_err("__arrow_c_stream__() returned a capsule not named 'arrow_array_stream'"))?;
    // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream` (the Arrow
    // PyCapsule interface). Moving it out and leaving an empty (released) stream in its place
    // is how the interface hands a stream over: the capsule's destructor then releases nothing.
    #[allow(unsafe_code)]
    let stream = unsafe { std::ptr::replace(pointer.cast::<ArrowArrayStream>().as_ptr(), ArrowArrayStream::empty()) };
    data.py().detach(|| read_stream(stream)).map_err(|e| errors::to_py(omnitwin::Error::DataFrame(e.to_string())))
}

/// Reads a C stream of record batches (struct arrays) into one DataFrame.
fn read_stream(stream: ArrowArrayStream) -> PolarsResult<DataFrame> {
    // SAFETY: the stream came from a producer of the Arrow C stream interface, which promises
    // a valid schema and arrays that follow the C data interface.
    #[allow(unsafe_code)]
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream))? };
    let ArrowDataType::Struct(fields) = reader.field().dtype.clone() else {
        polars_bail!(ComputeError: "the Arrow stream holds {:?}, not a table (a stream of record batches)", reader.field().dtype)
    };
    let mut frame: Option<DataFrame> = None;
    loop {
        // SAFETY: as above; each array follows the C data interface.
        #[allow(unsafe_code)]
        let Some(array) = (unsafe { reader.next() }) else {
            break;
        };
        let array = array?;
        let Some(batch) = array.as_any().downcast_ref::<StructArray>() else {
            polars_bail!(ComputeError: "the Arrow stream yielded {:?}, not a record batch", array.dtype())
        };
        let batch = DataFrame::try_from(batch.clone())?;
        match &mut frame {
            Some(all) => {
                all.vstack_mut_owned(batch)?;
            }
            None => frame = Some(batch),
        }
    }
    match frame {
        Some(frame) => Ok(frame),
        // No batch at all: an empty table with the stream's columns.
        None => {
            let schema: Schema = fields.iter().map(|f| (f.name.clone(), DataType::from_arrow_field(f))).collect();
            Ok(DataFrame::empty_with_schema(&schema))
        }
    }
}

/// A DataFrame handed to Python through the Arrow PyCapsule stream interface: any Arrow
/// consumer (polars, pyarrow, pandas, DuckDB) reads it without a copy.
#[pyclass(module = "omnitwin", name = "ArrowStream", frozen)]
pub(crate) struct ArrowStream {
    stream: Mutex<Option<ArrowArrayStream>>,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow C stream of the table, once (a stream is consumed by reading it).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // Consumers may ask for another schema; the interface lets a producer keep its own.
        let _ = requested_schema;
        let stream = self
            .stream
            .lock()
            .map_err(|_| PyValueError::new_err("the stream's lock was poisoned"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already read"))?;
        PyCapsule::new_with_value(py, stream, STREAM)
    }
}

/// Exports a DataFrame as an [`ArrowStream`] of record batches sharing the frame's buffers.
fn arrow_stream(mut df: DataFrame) -> ArrowStream {
    df.rechunk_mut();
    let fields: Vec<ArrowField> = df.columns().iter().map(|c| c.field().to_arrow(CompatLevel::newest())).collect();
    let dtype = ArrowDataType::Struct(fields.clone());
    let batches: Vec<PolarsResult<Box<dyn Array>>> = df
        .iter_chunks(CompatLevel::newest(), false)
        .map(|batch| {
            let length = batch.len();
            let array: Box<dyn Array> = Box::new(StructArray::new(dtype.clone(), length, batch.into_arrays(), None));
            Ok(array)
        })
        .collect();
    let field = ArrowField::new(PlSmallStr::EMPTY, dtype, false);
    ArrowStream { stream: Mutex::new(Some(export_iterator(Box::new(batches.into_iter()), field))) }
}

/// A core DataFrame as a polars DataFrame in Python.
pub(crate) fn frame_to_polars(py: Python<'_>, df: DataFrame) -> PyResult<Bound<'_, PyAny>> {
    let stream = Bound::new(py, arrow_stream(df))?;
    py.import("polars")?.getattr("DataFrame")?.call1((stream,))
}

/// A Python value (dict, list, str, number, None) read as a core type through serde, so that
/// field names and validation are the core's; `what` names the value in the error.
pub(crate) fn from_python<T: DeserializeOwned>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let json = json_of(value)?;
    serde_json::from_str(&json).map_err(|e| errors::config_error(what, e))
}

/// A Python value as JSON text (for core readers that take JSON: config, model).
pub(crate) fn json_of(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = value.py().import("json")?.call_method1("dumps", (value,))?;
    text.extract::<String>()
}

/// A core value as plain Python data (dicts, lists, str, numbers, None), with the core's field
/// names.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value).map_err(|e| errors::to_py(omnitwin::Error::Json(e.to_string())))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// A list of dicts (one per touchpoint) as a DataFrame, built by polars in Python: the same
/// columns-to-touchpoints rules then apply as to any DataFrame.
pub(crate) fn frame_from_rows(rows: &Bound<'_, PyList>) -> PyResult<DataFrame> {
    let py = rows.py();
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("infer_schema_length", py.None())?;
    let df = py.import("polars")?.getattr("DataFrame")?.call((rows,), Some(&kwargs))?;
    frame_from_arrow(&df)
}

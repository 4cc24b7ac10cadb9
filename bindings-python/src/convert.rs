//! Every conversion between Python and the core, in one place: DataFrames through the Arrow C
//! stream interface (no copy through Python objects), structured values through serde (the core's
//! own field names), and the boundary helper that releases the interpreter lock and catches
//! panics.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

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

/// Runs quick core work with the interpreter lock released (other Python threads go on) and
/// turns a core error or a panic into a Python exception.
pub(crate) fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> omnitwin::Result<T> + Send) -> PyResult<T> {
    outcome(py.detach(|| catch_unwind(AssertUnwindSafe(work))))
}

/// A core result, or a caught panic, as a Python result.
fn outcome<T>(result: std::thread::Result<omnitwin::Result<T>>) -> PyResult<T> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(errors::to_py(err)),
        Err(panic) => Err(errors::from_panic(panic)),
    }
}

/// The [`Progress`](omnitwin::progress::Progress) a long call runs with: it tells the core
/// when the user pressed Ctrl-C, and keeps the stage and count the core reports, for the
/// calling thread to show.
#[derive(Default)]
pub(crate) struct Interrupt {
    cancel: AtomicBool,
    /// The current stage, its total (when known) and the units done.
    stage: Mutex<(String, Option<u64>, u64)>,
}

impl omnitwin::progress::Progress for Interrupt {
    fn stage(&self, name: &str, total: Option<u64>) {
        if let Ok(mut stage) = self.stage.lock() {
            *stage = (name.to_owned(), total, 0);
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(mut stage) = self.stage.lock() {
            stage.2 += done;
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl Interrupt {
    /// One line saying where the work is: `omnitwin: normalizing 40%`.
    fn status(&self) -> Option<String> {
        let (name, total, done) = self.stage.lock().ok()?.clone();
        if name.is_empty() {
            return None;
        }
        Some(match total {
            Some(total) if total > 0 => format!("omnitwin: {name} {}%", (done * 100 / total).min(100)),
            _ => format!("omnitwin: {name}"),
        })
    }
}

/// Shows progress lines on `sys.stderr` (a notebook shows them under the cell), rewriting one
/// line in place.
struct ProgressLine {
    shown: String,
}

impl ProgressLine {
    fn show(&mut self, py: Python<'_>, status: Option<String>) {
        let Some(status) = status.filter(|s| *s != self.shown) else { return };
        let width = self.shown.chars().count();
        let line = format!("\r{status:<width$}");
        // Progress is a courtesy: a closed or odd stderr must not fail the call.
        let _ = py.import("sys").and_then(|sys| sys.getattr("stderr")?.call_method1("write", (line,)).map(drop));
        self.shown = status;
    }

    fn finish(&self, py: Python<'_>) {
        if !self.shown.is_empty() {
            let _ = py.import("sys").and_then(|sys| sys.getattr("stderr")?.call_method1("write", ("\n",)).map(drop));
        }
    }
}

/// How often a waiting call looks for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A core object shared with worker threads, which a panic (a bug) while a call held it may
/// have left half-changed.
pub(crate) trait Recover {
    /// What the object is called in messages (`engine`, `linker`).
    const NAME: &'static str;
    /// Puts the object back in a state that can be trusted; `Err` says why it cannot be (it
    /// then stays unusable).
    fn recover(&mut self) -> Result<(), String>;
}

impl Recover for omnitwin::Engine {
    const NAME: &'static str = "engine";
    fn recover(&mut self) -> Result<(), String> {
        if self.store_path().is_none() {
            return Err(
                "it holds no store to reopen (an engine in memory may be half-changed): create a new Engine".into()
            );
        }
        self.reopen().map_err(|e| format!("reopening its store failed: {e}"))
    }
}

impl Recover for omnitwin::matching::Linker {
    const NAME: &'static str = "linker";
    fn recover(&mut self) -> Result<(), String> {
        Err("a linker may be half-changed: create a new Linker".into())
    }
}

/// After a panic poisoned `shared`'s lock: recovers the object (a durable engine is reopened
/// from its store) and clears the poison; or says why the object stays unusable.
fn recover_poisoned<S: Recover>(shared: &RwLock<S>) -> Result<(), String> {
    let mut object = match shared.write() {
        Ok(_) => return Ok(()), // another call recovered it meanwhile
        Err(poisoned) => poisoned.into_inner(),
    };
    object.recover().map_err(|why| {
        format!(
            "the {} is unusable: an earlier call stopped inside the core with an internal error (a bug in omnitwin, \
             please report it), and {why}",
            S::NAME
        )
    })?;
    drop(object);
    shared.clear_poison();
    Ok(())
}

/// `shared` read-locked, recovered first if a panic poisoned it.
fn read_locked<S: Recover>(shared: &RwLock<S>) -> Result<RwLockReadGuard<'_, S>, String> {
    if let Ok(object) = shared.read() {
        return Ok(object);
    }
    recover_poisoned(shared)?;
    shared.read().map_err(|_| format!("the {} is unusable after an internal error", S::NAME))
}

/// `shared` write-locked, recovered first if a panic poisoned it.
fn write_locked<S: Recover>(shared: &RwLock<S>) -> Result<RwLockWriteGuard<'_, S>, String> {
    if let Ok(object) = shared.write() {
        return Ok(object);
    }
    recover_poisoned(shared)?;
    shared.write().map_err(|_| format!("the {} is unusable after an internal error", S::NAME))
}

/// Runs `work` on a core object shared with worker threads ([`run_interruptible`]), the object
/// read-locked by the worker (never by a thread holding the interpreter lock: a call waiting
/// for the object never holds up the one working on it). An object a panic left poisoned is
/// recovered first ([`Recover`]), or the call raises `InternalError` saying why it cannot be.
pub(crate) fn read_shared<S: Recover + Send + Sync + 'static, T: Send + 'static>(
    py: Python<'_>,
    shared: &Arc<RwLock<S>>,
    show_progress: bool,
    work: impl FnOnce(&S, &Interrupt) -> omnitwin::Result<T> + Send + 'static,
) -> PyResult<T> {
    let shared = Arc::clone(shared);
    run_interruptible(py, false, show_progress, move |interrupt| match read_locked(&shared) {
        Ok(object) => work(&object, interrupt).map(Ok),
        Err(why) => Ok(Err(why)),
    })?
    .map_err(errors::internal)
}

/// [`read_shared`] with the object to itself (write-locked).
pub(crate) fn write_shared<S: Recover + Send + Sync + 'static, T: Send + 'static>(
    py: Python<'_>,
    shared: &Arc<RwLock<S>>,
    show_progress: bool,
    work: impl FnOnce(&mut S, &Interrupt) -> omnitwin::Result<T> + Send + 'static,
) -> PyResult<T> {
    let shared = Arc::clone(shared);
    run_interruptible(py, true, show_progress, move |interrupt| match write_locked(&shared) {
        Ok(mut object) => work(&mut object, interrupt).map(Ok),
        Err(why) => Ok(Err(why)),
    })?
    .map_err(errors::internal)
}

/// Runs long core work on a thread of its own while the calling thread, with the interpreter
/// lock released, waits for it and looks for Ctrl-C every 100 ms. On Ctrl-C the work is told
/// to stop ([`Interrupt`]). Work that changes the engine (`changes`: ingesting) is waited for:
/// it stops at its next check without changing anything and `KeyboardInterrupt` is raised (or,
/// had it already finished, its result is returned). Other work (resolving, whose result is a
/// cache) is left to finish in the background and `KeyboardInterrupt` is raised at once.
///
/// With `show_progress`, the stage the core reports is shown on `sys.stderr` as it goes.
pub(crate) fn run_interruptible<T: Send + 'static>(
    py: Python<'_>,
    changes: bool,
    show_progress: bool,
    work: impl FnOnce(&Interrupt) -> omnitwin::Result<T> + Send + 'static,
) -> PyResult<T> {
    let state = Arc::new(Interrupt::default());
    let interrupt = Arc::clone(&state);
    let mut line = show_progress.then(|| ProgressLine { shown: String::new() });
    let result = wait_for(py, changes, &state, &mut line, work, interrupt);
    if let Some(line) = &line {
        line.finish(py);
    }
    result
}

/// The body of [`run_interruptible`].
fn wait_for<T: Send + 'static>(
    py: Python<'_>,
    changes: bool,
    state: &Interrupt,
    line: &mut Option<ProgressLine>,
    work: impl FnOnce(&Interrupt) -> omnitwin::Result<T> + Send + 'static,
    interrupt: Arc<Interrupt>,
) -> PyResult<T> {
    let (done, result) = mpsc::channel();
    std::thread::Builder::new()
        .name("omnitwin".into())
        .spawn(move || {
            // The receiver may be gone (the caller was interrupted); the result is then unwanted.
            let _ = done.send(catch_unwind(AssertUnwindSafe(|| work(&interrupt))));
        })
        .map_err(|e| errors::to_py(omnitwin::Error::Io { path: "(a worker thread)".into(), source: e }))?;
    // The receiver is `Send` but not `Sync`: it goes into each wait and comes back out.
    let wait = |result: mpsc::Receiver<_>, timeout| {
        py.detach(move || {
            let got = result.recv_timeout(timeout);
            (got, result)
        })
    };
    let mut result = result;
    loop {
        let (got, back) = wait(result, SIGNAL_CHECK);
        result = back;
        match got {
            Ok(finished) => return outcome(finished),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(errors::from_panic(Box::new("the worker thread ended without a result")))
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(line) = line.as_mut() {
                    line.show(py, state.status());
                }
                if let Err(interrupted) = py.check_signals() {
                    state.cancel.store(true, Ordering::Relaxed);
                    if !changes {
                        return Err(interrupted);
                    }
                    return match py.detach(move || result.recv()) {
                        Ok(Ok(Err(omnitwin::Error::Cancelled))) | Err(_) => Err(interrupted),
                        Ok(finished) => outcome(finished),
                    };
                }
            }
        }
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
/// A time argument as Python gave it: epoch milliseconds, or text for the core to read in the
/// config's timezone (a `datetime` becomes its ISO text: aware ones keep their offset, naive
/// ones are read in the config's timezone, like naive timestamps in the input).
pub(crate) enum TimeArg {
    Millis(i64),
    Text(String),
}

impl TimeArg {
    /// Reads an `int`, a `str` or anything with `isoformat` (datetime, date, pandas Timestamp).
    pub(crate) fn of(value: &Bound<'_, PyAny>, name: &str) -> PyResult<TimeArg> {
        if value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!("{name}: expected a time, got a bool")));
        }
        if let Ok(millis) = value.extract::<i64>() {
            return Ok(TimeArg::Millis(millis));
        }
        if let Ok(text) = value.extract::<String>() {
            return Ok(TimeArg::Text(text));
        }
        if value.hasattr("hour")? && value.hasattr("isoformat")? {
            let text = value.call_method1("isoformat", (" ", "milliseconds"))?;
            return Ok(TimeArg::Text(text.extract()?));
        }
        if value.hasattr("isoformat")? {
            return Ok(TimeArg::Text(value.call_method0("isoformat")?.extract()?));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{name}: expected a datetime, ISO 8601 text or epoch milliseconds, got {}",
            value.get_type().name()?
        )))
    }

    /// The time in epoch milliseconds, text read by the engine.
    pub(crate) fn millis(self, engine: &omnitwin::Engine, name: &str) -> omnitwin::Result<i64> {
        match self {
            TimeArg::Millis(millis) => Ok(millis),
            TimeArg::Text(text) => engine.read_time(name, &text),
        }
    }
}

pub(crate) fn from_python<T: DeserializeOwned>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let json = json_of(value)?;
    serde_json::from_str(&json).map_err(|e| errors::config_error(what, e))
}

/// A Python value as JSON text (for core readers that take JSON: config, model, touchpoints,
/// rows). Values JSON has no form for (`datetime`, `date`, `Decimal`) become their text
/// (`str()`), which the core reads as it reads the same text in a CSV file.
pub(crate) fn json_of(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = value.py();
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("default", py.import("builtins")?.getattr("str")?)?;
    let text = py.import("json")?.call_method("dumps", (value,), Some(&kwargs))?;
    text.extract::<String>()
}

/// A core value as plain Python data (dicts, lists, str, numbers, None), with the core's field
/// names.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value).map_err(|e| errors::to_py(omnitwin::Error::Json(e.to_string())))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// A core value as an instance of one of the package's dict classes (`omnitwin._display`:
/// `Profile`, `Explanation`), which notebooks show as HTML; `None` stays `None`.
pub(crate) fn to_python_as<'py>(py: Python<'py>, value: &impl Serialize, class: &str) -> PyResult<Bound<'py, PyAny>> {
    let plain = to_python(py, value)?;
    if plain.is_none() {
        return Ok(plain);
    }
    py.import("omnitwin._display")?.getattr(class)?.call1((plain,))
}

/// A list of dicts as a table, by the core's one conversion of rows
/// ([`omnitwin::io::frame_from_rows`]: every value as text, as a CSV file gives it; nested
/// `attributes` and `identifiers` spread into columns), as Node's arrays of objects are.
pub(crate) fn frame_from_rows(rows: &Bound<'_, PyList>) -> PyResult<DataFrame> {
    let json = json_of(rows.as_any())?;
    let py = rows.py();
    run(py, move || {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&json).map_err(|e| omnitwin::Error::Json(e.to_string()))?;
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| match row {
                serde_json::Value::Object(fields) => Ok(fields),
                _ => Err(omnitwin::Error::InvalidField {
                    row: i + 1,
                    column: "(row)".into(),
                    message: "expected a dict of a touchpoint's fields".into(),
                }),
            })
            .collect::<omnitwin::Result<Vec<_>>>()?;
        omnitwin::io::frame_from_rows(rows)
    })
}

//! `omnitwin.Engine`: the core [`omnitwin::Engine`], verb for verb, behind a read–write lock
//! (many Python threads may read while one ingests) and with the interpreter lock released
//! during every call into the core.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use omnitwin::io::read_frame;
use omnitwin::matching::Model;
use omnitwin::{Config, IdKind, Identifier, IngestReport, OnError};
use polars::prelude::DataFrame;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::convert::{
    frame_from_arrow, frame_from_rows, frame_to_polars, from_python, json_of, read_shared, run, to_python,
    to_python_as, write_shared, Interrupt, TimeArg,
};
use crate::errors;

/// A table as Python gave it: read already, or a file to read.
pub(crate) enum Input {
    Frame(DataFrame),
    File(PathBuf),
}

impl Input {
    /// Reads `data`: a table (anything with `__arrow_c_stream__`), a file path, or a list of
    /// dicts.
    pub(crate) fn of(data: &Bound<'_, PyAny>) -> PyResult<Input> {
        if data.is_instance_of::<PyString>() || data.hasattr("__fspath__")? {
            return Ok(Input::File(data.extract()?));
        }
        if let Ok(rows) = data.cast::<PyList>() {
            return frame_from_rows(rows).map(Input::Frame);
        }
        if data.hasattr("__arrow_c_stream__")? {
            return frame_from_arrow(data).map(Input::Frame);
        }
        Err(PyTypeError::new_err(format!(
            "expected a table (a polars, pandas >= 2.2, pyarrow or DuckDB table: anything with \
             __arrow_c_stream__), a file path (.csv, .parquet, .jsonl) or a list of dicts; got {}",
            data.get_type().name()?
        )))
    }

    /// The table itself, reading the file when it is one (every CSV column as text).
    pub(crate) fn into_frame(self) -> omnitwin::Result<DataFrame> {
        match self {
            Input::Frame(df) => Ok(df),
            Input::File(path) => read_frame(&path, None, OnError::Fail).map(|(df, _)| df),
        }
    }
}

/// The omnitwin engine: holds touchpoints and resolves them into profiles.
#[pyclass(module = "omnitwin", name = "Engine", frozen)]
pub(crate) struct Engine {
    /// Shared with the worker thread of each call, which may outlive an interrupted call.
    inner: Arc<RwLock<omnitwin::Engine>>,
    /// Whether long calls show their stage on `sys.stderr`.
    progress: bool,
}

impl Engine {
    fn with(engine: omnitwin::Engine, progress: bool) -> Engine {
        Engine { inner: Arc::new(RwLock::new(engine)), progress }
    }

    /// Runs `work` on the engine on a worker thread ([`run_interruptible`]: the interpreter
    /// lock released, Ctrl-C heard), sharing the engine with other readers. The engine's lock is
    /// taken by the worker, never by a thread holding the interpreter lock: a call waiting for
    /// the engine never holds up the one working on it.
    fn reading<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&omnitwin::Engine, &Interrupt) -> omnitwin::Result<T> + Send + 'static,
    ) -> PyResult<T> {
        read_shared(py, &self.inner, self.progress, work)
    }

    /// A profile read now (`as_of` absent) or as of a time (converted here, text read by the
    /// core), as an `omnitwin.Profile` with its card.
    fn profile_at<'py>(
        &self,
        py: Python<'py>,
        as_of: Option<&Bound<'py, PyAny>>,
        read: impl for<'e> FnOnce(&'e omnitwin::Engine, Option<i64>) -> Option<omnitwin::ProfileRef<'e>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>> {
        let as_of = as_of.map(|t| TimeArg::of(t, "as_of")).transpose()?;
        let card = self.reading(py, move |engine, _| {
            let at = as_of.map(|t| t.millis(engine, "as_of")).transpose()?;
            Ok(with_card(engine, read(engine, at)))
        })?;
        profile_to_python(py, card)
    }

    /// [`Engine::reading`] with the engine to itself.
    fn writing<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut omnitwin::Engine, &Interrupt) -> omnitwin::Result<T> + Send + 'static,
    ) -> PyResult<T> {
        write_shared(py, &self.inner, self.progress, work)
    }

    /// Ingests `data` (see [`Input::of`]) into the engine.
    pub(crate) fn ingest_input(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        on_error: &str,
    ) -> PyResult<IngestReport> {
        let on_error: OnError = from_python(&PyString::new(py, on_error).into_any(), "on_error")?;
        let input = Input::of(data)?;
        self.writing(py, move |engine, interrupt| match input {
            Input::Frame(df) => engine.ingest_frame_with_progress(df, on_error, interrupt),
            Input::File(path) => engine.ingest_file(&path, None, on_error, interrupt),
        })
    }

    /// The assignments as a polars DataFrame.
    pub(crate) fn assignments_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let df = self.reading(py, move |engine, _| engine.assignments_frame())?;
        frame_to_polars(py, df)
    }
}

/// The identifier given to `lookup` or `forget` as one `kind=value` keyword (with `scope` for
/// kinds scoped by source); `None` when no keyword was given.
fn one_identifier(
    verb: &str,
    scope: Option<String>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<Identifier>> {
    let given: Vec<(String, String)> = match kwargs {
        Some(kwargs) => kwargs.iter().map(|(k, v)| Ok((k.extract()?, v.extract()?))).collect::<PyResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    match given.as_slice() {
        [] => Ok(None),
        [(kind, value)] => {
            let kind: IdKind = kind.parse().map_err(|e| errors::config_error(verb, e))?;
            Ok(Some(match scope {
                Some(scope) => Identifier::scoped(kind, scope, value.as_str()),
                None => Identifier::new(kind, value.as_str()),
            }))
        }
        _ => Err(PyTypeError::new_err(format!(
            "{verb}() takes exactly one identifier, as kind=value (email=..., phone=..., customer_id=...); got {}",
            given.len()
        ))),
    }
}

/// A profile with its HTML card (timeline included), made while the engine is at hand.
fn with_card(
    engine: &omnitwin::Engine,
    profile: Option<omnitwin::ProfileRef<'_>>,
) -> Option<(omnitwin::Profile, String)> {
    profile.map(|p| {
        let html = engine.profile_html(&p);
        (p.into_owned(), html)
    })
}

/// A profile as an `omnitwin.Profile` (a dict) that shows its card in notebooks; `None` stays
/// `None`.
fn profile_to_python(py: Python<'_>, card: Option<(omnitwin::Profile, String)>) -> PyResult<Bound<'_, PyAny>> {
    let Some((profile, html)) = card else { return Ok(py.None().into_bound(py)) };
    let object = to_python_as(py, &profile, "Profile")?;
    object.setattr("_html", html)?;
    Ok(object)
}

/// The error of a lock whose holder panicked (the panic itself was raised as `InternalError`).
/// A config given from Python (a dict in the shape of the JSON config), read by the core.
fn config_arg(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Config>> {
    config
        .map(|config| {
            let json = json_of(config)?;
            run(py, || Config::from_json_str(&json))
        })
        .transpose()
}

/// A store opened by `open` (off the interpreter lock), what opening rebuilt said as Python
/// warnings too, where notebooks show them.
fn opened(
    py: Python<'_>,
    progress: bool,
    open: impl FnOnce() -> omnitwin::Result<omnitwin::Engine> + Send,
) -> PyResult<Engine> {
    let engine = run(py, open)?;
    for warning in engine.warnings() {
        let text = std::ffi::CString::new(format!("omnitwin store: {warning}")).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyRuntimeWarning>(), &text, 1)?;
    }
    Ok(Engine::with(engine, progress))
}

#[pymethods]
impl Engine {
    /// An empty engine. `config` is a dict in the shape of the JSON config (every field
    /// optional); it is validated here. With `progress=True`, long calls show their stage on
    /// `sys.stderr`.
    #[new]
    #[pyo3(signature = (config=None, progress=false))]
    pub(crate) fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>, progress: bool) -> PyResult<Engine> {
        let config = match config {
            None => Config::default(),
            Some(config) => {
                let json = json_of(config)?;
                run(py, || Config::from_json_str(&json))?
            }
        };
        run(py, || omnitwin::Engine::new(config)).map(|e| Engine::with(e, progress))
    }

    /// An empty engine with the config in a JSON file.
    #[staticmethod]
    #[pyo3(signature = (path, progress=false))]
    fn from_json(py: Python<'_>, path: PathBuf, progress: bool) -> PyResult<Engine> {
        let config = run(py, || Config::from_json_file(&path))?;
        run(py, || omnitwin::Engine::new(config)).map(|e| Engine::with(e, progress))
    }

    /// An engine on an existing durable store (an SQLite file) that carries on where it
    /// stopped: the stored touchpoints are resolved again with the stored model (the same
    /// profiles and ids) and the change feed continues. Every ingest is committed before it
    /// returns. With `config=None` the store opens with the config it was created with; a
    /// given config must be the store's. A missing store is an `IoError` unless
    /// `create=True`, which creates it (with `config`, or the default config).
    #[staticmethod]
    #[pyo3(signature = (path, config=None, create=false, progress=false))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        config: Option<&Bound<'_, PyAny>>,
        create: bool,
        progress: bool,
    ) -> PyResult<Engine> {
        let config = config_arg(py, config)?;
        opened(py, progress, move || match create {
            true => omnitwin::Engine::open_or_create(&path, config),
            false => omnitwin::Engine::open(&path, config),
        })
    }

    /// `open(path)`: an existing store with the config it was created with.
    #[staticmethod]
    #[pyo3(signature = (path, progress=false))]
    fn open_existing(py: Python<'_>, path: PathBuf, progress: bool) -> PyResult<Engine> {
        opened(py, progress, move || omnitwin::Engine::open_existing(&path))
    }

    /// `open(path, config, create=True)`: the store at `path`, created when missing.
    #[staticmethod]
    #[pyo3(signature = (path, config=None, progress=false))]
    fn open_or_create(
        py: Python<'_>,
        path: PathBuf,
        config: Option<&Bound<'_, PyAny>>,
        progress: bool,
    ) -> PyResult<Engine> {
        let config = config_arg(py, config)?;
        opened(py, progress, move || omnitwin::Engine::open_or_create(&path, config))
    }

    /// An existing store opened to read it while another process may have it open for
    /// writing: the engine holds what was committed when it opened and refuses every write.
    #[staticmethod]
    #[pyo3(signature = (path, progress=false))]
    fn open_read_only(py: Python<'_>, path: PathBuf, progress: bool) -> PyResult<Engine> {
        opened(py, progress, move || omnitwin::Engine::open_read_only(&path))
    }

    /// Closes the store: its connection and writer lock are released, so another engine or
    /// process can open it. The engine keeps what it holds for reading; writes are refused.
    /// `with ot.Engine.open(path) as engine:` closes it at the end of the block.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| {
            engine.close();
            Ok(())
        })
    }

    /// Opens the store again in place of what the engine holds, as it was opened (for
    /// writing, or read-only): a reader sees what was committed since it opened. If opening
    /// fails the engine stays closed (it reads, writes are refused).
    fn reopen(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| engine.reopen())
    }

    /// Panics while holding the engine for writing, for the test that the engine recovers
    /// (debug builds only: the test suite's).
    #[cfg(debug_assertions)]
    fn _panic_while_writing_for_tests(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| -> omnitwin::Result<()> {
            let _ = engine.len();
            panic!("a panic raised on purpose by the test suite, holding the engine")
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// What opening the store found wrong with its derived state (a damaged model, RFM scale
    /// or config) and rebuilt, one sentence each; empty when it opened clean. Also issued as
    /// Python warnings (`RuntimeWarning`) when the store opens.
    fn warnings(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.reading(py, move |engine, _| Ok(engine.warnings().to_vec()))
    }

    /// The store's file, or `None` for an engine without one.
    fn store_path(&self, py: Python<'_>) -> PyResult<Option<PathBuf>> {
        self.reading(py, move |engine, _| Ok(engine.store_path().map(std::path::Path::to_owned)))
    }

    /// Whether the engine was opened with `open_read_only`.
    fn is_read_only(&self, py: Python<'_>) -> PyResult<bool> {
        self.reading(py, move |engine, _| Ok(engine.is_read_only()))
    }

    /// Checks the engine and its store (SQLite's integrity check, the store against the
    /// engine, every invariant of the derived state, a resolution from scratch); returns
    /// `path`, `touchpoints`, `changes`, `profiles`, `problems` (empty when all holds) and
    /// `rebuilt_on_open`.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let check = self.reading(py, move |engine, _| engine.check())?;
        to_python(py, &check)
    }

    /// Rebuilds the derived state from the touchpoints (a model the engine trained is trained
    /// again; one set with `set_model` is kept), records what moved in the change feed,
    /// compacts the file and checks everything; returns the check.
    fn rebuild<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let check = self.writing(py, move |engine, _| engine.rebuild())?;
        to_python(py, &check)
    }

    /// Trains a new matching model on every touchpoint held and adopts it; profiles it moves
    /// are recorded in the change feed (and committed, on a store).
    fn retrain(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| engine.retrain())
    }

    /// Rewrites the store's file without free pages and folds its log in.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| engine.compact())
    }

    /// Adds touchpoints: a table (polars, pandas >= 2.2, pyarrow, DuckDB), a file path (.csv,
    /// .parquet, .jsonl) or a list of dicts. `on_error="fail"` (all or nothing, the first bad
    /// row raises) or `"skip"` (bad rows are left out and listed in the report). Returns the
    /// report: `accepted` and `rejected` rows with their reasons.
    #[pyo3(signature = (data, on_error="fail"))]
    fn ingest<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>, on_error: &str) -> PyResult<Bound<'py, PyAny>> {
        let report = self.ingest_input(py, data, on_error)?;
        to_python(py, &report)
    }

    /// Ingests one touchpoint (a dict with the touchpoint fields; `timestamp` in epoch
    /// milliseconds or as text, read in the config's timezone when it has no offset; custom
    /// values under `attributes`) and resolves it at once. Returns what
    /// happened: `profile_id`, `changes` (profiles created, merged into the older one, split)
    /// and `refused` links. The first call makes the engine live: the matching model is fixed
    /// from then on and every ingest updates profiles in place, recording the changes (see
    /// `changes`). Profiles end exactly as one batch of the same touchpoints would give.
    fn ingest_one<'py>(&self, py: Python<'py>, touchpoint: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let json = json_of(touchpoint)?;
        let outcome = self.writing(py, move |engine, _| {
            let value = serde_json::from_str(&json).map_err(|e| omnitwin::Error::Json(e.to_string()))?;
            let touchpoint = engine.touchpoint_from_json(value)?;
            engine.ingest_one(touchpoint)
        })?;
        to_python(py, &outcome)
    }

    /// The change feed after position `since` (0 for all): dicts with `seq`, `change`
    /// (`created`, `merged`, `split`), `profile_id` and, for merges and splits, `into`. Empty
    /// until the engine is live.
    #[pyo3(signature = (since=0))]
    fn changes<'py>(&self, py: Python<'py>, since: u64) -> PyResult<Bound<'py, PyAny>> {
        let changes = self.reading(py, move |engine, _| Ok(engine.changes(since).to_vec()))?;
        to_python(py, &changes)
    }

    /// Forgets a person (right to erasure): `forget(profile_id="P…")` or one identifier,
    /// `forget(email="an@x.vn")` / `forget(customer_id="C-17", scope="eshop")`. Removes every
    /// touchpoint of that person's profile(s), resolves the rest again (recording splits), takes
    /// their values out of the model's name counts and, on a durable store, compacts the file so
    /// the erased values are nowhere in it. With `suppress=True` the person's identifiers go on
    /// the suppression list (salted digests): their touchpoints are refused from then on.
    /// Returns `profiles`, `touchpoints` and `changes`.
    #[pyo3(signature = (profile_id=None, scope=None, suppress=false, **identifier))]
    fn forget<'py>(
        &self,
        py: Python<'py>,
        profile_id: Option<String>,
        scope: Option<String>,
        suppress: bool,
        identifier: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target = match (profile_id, one_identifier("forget", scope, identifier)?) {
            (Some(id), None) => omnitwin::ForgetTarget::Profile(id),
            (None, Some(identifier)) => omnitwin::ForgetTarget::Identifier(identifier),
            _ => {
                return Err(PyTypeError::new_err(
                    "forget() takes a profile_id or exactly one identifier as kind=value, not both",
                ))
            }
        };
        let report =
            self.writing(
                py,
                move |engine, _| {
                    if suppress {
                        engine.forget_and_suppress(target)
                    } else {
                        engine.forget(target)
                    }
                },
            )?;
        to_python(py, &report)
    }

    /// The change feed after position `since` as a polars DataFrame: `seq`, `change`,
    /// `profile_id`, `into` (joined by `|`), to export the change log.
    #[pyo3(signature = (since=0))]
    fn changes_frame<'py>(&self, py: Python<'py>, since: u64) -> PyResult<Bound<'py, PyAny>> {
        let df = self.reading(py, move |engine, _| engine.changes_frame(since))?;
        frame_to_polars(py, df)
    }

    /// Makes the engine live without ingesting anything: resolves what it holds, fixes the
    /// model and starts the change feed with every profile created (and every segment
    /// membership, when the config has segments).
    fn go_live(&self, py: Python<'_>) -> PyResult<()> {
        self.writing(py, move |engine, _| engine.go_live())
    }

    /// Evaluates every profile's segments again (time-dependent traits move as `as_of` moves)
    /// and records the entries and exits in the change feed; returns how many.
    fn refresh_segments(&self, py: Python<'_>) -> PyResult<usize> {
        self.writing(py, move |engine, _| engine.refresh_segments())
    }

    /// What a config change would do: resolves a copy of the touchpoints under `config` (a
    /// dict, as for `Engine(config)`) and returns the profiles before and after and the merges
    /// and splits, as the feed would record them; the engine is not changed.
    fn simulate<'py>(&self, py: Python<'py>, config: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let json = json_of(config)?;
        let report = self.reading(py, move |engine, _| engine.simulate(Config::from_json_str(&json)?))?;
        to_python(py, &report)
    }

    /// Adopts a new config: the touchpoints are resolved under it; on a live engine the merges
    /// and splits go to the change feed; a durable store keeps the new config.
    fn apply_config(&self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = json_of(config)?;
        self.writing(py, move |engine, _| engine.apply_config(Config::from_json_str(&json)?))
    }

    /// Resolves everything ingested (if not already resolved) and returns the report.
    fn resolve<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.reading(py, move |engine, _| Ok(engine.resolve().clone()))?;
        to_python(py, &report)
    }

    /// Every touchpoint with its profile: a polars DataFrame with `touchpoint_id`, `profile_id`.
    fn assignments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.assignments_frame(py)
    }

    /// Every profile, one row each, sorted by profile id: a polars DataFrame with ids, status,
    /// counts, first and last seen, channels, identifiers by kind (lists), and each attribute
    /// with its source and touchpoint.
    fn profiles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let df = self.reading(py, move |engine, _| engine.profiles_frame())?;
        frame_to_polars(py, df)
    }

    /// A profile by id (a dict: identifiers, attributes with provenance, channels, timeline
    /// bounds), or `None`. With `as_of` (a datetime, ISO 8601 text or epoch milliseconds), the
    /// profile as it was then: built from the touchpoints acknowledged by that time, an id the
    /// feed had reported merged by then leading to the survivor (`None` for an id not handed out
    /// yet).
    #[pyo3(signature = (profile_id, as_of=None))]
    fn profile<'py>(
        &self,
        py: Python<'py>,
        profile_id: String,
        as_of: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.profile_at(py, as_of, move |engine, at| match at {
            Some(t) => engine.profile_as_of(&profile_id, t),
            None => engine.profile(&profile_id),
        })
    }

    /// The profile a touchpoint belongs to, or `None` for an unknown touchpoint. With `as_of`,
    /// the profile it belonged to then, as it was (`None` when the touchpoint was not
    /// acknowledged by then).
    #[pyo3(signature = (touchpoint_id, as_of=None))]
    fn profile_of<'py>(
        &self,
        py: Python<'py>,
        touchpoint_id: String,
        as_of: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.profile_at(py, as_of, move |engine, at| match at {
            Some(t) => engine.profile_of_as_of(&touchpoint_id, t),
            None => engine.profile_of(&touchpoint_id),
        })
    }

    /// When the engine took a touchpoint in (epoch milliseconds; for a durable store, when it
    /// was committed), or `None` for an unknown touchpoint: the times `as_of` is asked at.
    fn acknowledged_at(&self, py: Python<'_>, touchpoint_id: String) -> PyResult<Option<i64>> {
        self.reading(py, move |engine, _| Ok(engine.acknowledged_at(&touchpoint_id)))
    }

    /// The profile one identifier belongs to, from a raw value normalized like any input:
    /// `lookup(email="An@Gmail.com")`, `lookup(phone="0912 345 678")`,
    /// `lookup(customer_id="C-17", scope="eshop")`. `None` when nobody has it (or it is blocked
    /// or shared).
    #[pyo3(signature = (scope=None, **identifier))]
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        scope: Option<String>,
        identifier: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(identifier) = one_identifier("lookup", scope, identifier)? else {
            return Err(PyTypeError::new_err(
                "lookup() takes exactly one identifier, as kind=value (email=..., phone=..., customer_id=...); got 0",
            ));
        };
        let card = self.reading(py, move |engine, _| Ok(with_card(engine, engine.lookup(&identifier))))?;
        profile_to_python(py, card)
    }

    /// Why two touchpoints are, or are not, in one profile: the chain of links (shared
    /// identifiers, probabilistic matches, refusals) and the match score of the pair.
    fn explain<'py>(&self, py: Python<'py>, touchpoint_a: String, touchpoint_b: String) -> PyResult<Bound<'py, PyAny>> {
        let explanation = self.reading(py, move |engine, _| engine.explain(&touchpoint_a, &touchpoint_b))?;
        to_python_as(py, &explanation, "Explanation")
    }

    /// A touchpoint by id, as ingested (a dict), or `None`.
    fn touchpoint<'py>(&self, py: Python<'py>, touchpoint_id: String) -> PyResult<Bound<'py, PyAny>> {
        let touchpoint = self.reading(py, move |engine, _| Ok(engine.touchpoint(&touchpoint_id).cloned()))?;
        to_python(py, &touchpoint)
    }

    /// The matching model of the last resolution (resolving first if needed), as a dict that
    /// `set_model` takes back (and `json.dump` saves); `None` when matching is off.
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let model = self.reading(py, move |engine, _| Ok(engine.model().cloned()))?;
        to_python(py, &model)
    }

    /// Uses a saved matching model (a dict, as `model()` returns) instead of training one on
    /// the input; it must have the config's matching comparisons.
    fn set_model(&self, py: Python<'_>, model: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = json_of(model)?;
        self.writing(py, move |engine, _| engine.set_model(Model::from_json(&json)?))
    }

    /// The ids of the profiles in a segment given by an expression (the segment language:
    /// `'rfm.recency_score >= 4 and channels contains "store"'`), sorted. With a contact
    /// `channel` (`"email"`, `"sms"`, `"zalo"`), only profiles that consented to `purpose`
    /// (`"marketing"` when not given) on it.
    #[pyo3(signature = (expression, channel=None, purpose=None))]
    fn segment(
        &self,
        py: Python<'_>,
        expression: String,
        channel: Option<String>,
        purpose: Option<String>,
    ) -> PyResult<Vec<String>> {
        self.reading(py, move |engine, _| {
            let segment = omnitwin::Segment::parse(&expression)?.for_campaign(channel.as_deref(), purpose.as_deref());
            engine.segment(&segment)
        })
    }

    /// The ids of the profiles in a segment the config names, sorted (with the consent it
    /// requires).
    fn segment_members(&self, py: Python<'_>, name: String) -> PyResult<Vec<String>> {
        self.reading(py, move |engine, _| engine.segment_members(&name))
    }

    /// The RFM scale scores are given against (quintile breakpoints over buyers), as a dict
    /// that `set_rfm_scale` takes back.
    fn rfm_scale<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let scale = self.reading(py, move |engine, _| Ok(engine.rfm_scale()))?;
        to_python(py, &scale)
    }

    /// Fixes the RFM scale (a dict, as `rfm_scale()` returns) instead of computing it from the
    /// profiles held.
    fn set_rfm_scale(&self, py: Python<'_>, scale: &Bound<'_, PyAny>) -> PyResult<()> {
        let scale: omnitwin::RfmScale = from_python(scale, "rfm_scale")?;
        self.writing(py, move |engine, _| engine.set_rfm_scale(scale))
    }

    /// The omnichannel report: customers by number of channels, channel-to-channel journeys,
    /// the journey funnel, revenue by channel and by first/last touch, identity health. A
    /// `Report` (a dict of tables, each a list of rows; `frames()` gives them as polars
    /// DataFrames) that a notebook shows as charts.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.reading(py, move |engine, _| Ok(engine.report()))?;
        to_python_as(py, &report, "Report")
    }

    /// The engine's config, with every default filled in, as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let config = self.reading(py, move |engine, _| Ok(engine.config().clone()))?;
        to_python(py, &config)
    }

    /// The identifier kinds the engine links on, strongest first.
    fn identifier_kinds(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.reading(py, move |engine, _| Ok(engine.identifier_kinds().iter().map(|k| k.as_str().to_owned()).collect()))
    }

    /// Writes every profile to a file: `format="parquet"` (list columns kept) or `"csv"` (lists
    /// joined by `|`).
    #[pyo3(signature = (path, format="parquet"))]
    fn write_profiles(&self, py: Python<'_>, path: PathBuf, format: &str) -> PyResult<()> {
        let format = from_python(&PyString::new(py, format).into_any(), "format")?;
        self.reading(py, move |engine, _| engine.write_profiles(&path, format))
    }

    /// How many touchpoints the engine holds.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, move |engine, _| Ok(engine.len()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<omnitwin.Engine: {} touchpoints>", self.__len__(py)?))
    }
}

//! `Engine`: the core [`omnitwin::Engine`], verb for verb, shared by the JavaScript object and
//! the async tasks it starts (many readers, one writer). Cheap calls are synchronous; heavy ones
//! (batch ingest, resolve, going live, forgetting, opening a store, writing files) return
//! promises and run on libuv's worker threads, off the event loop.

use std::sync::{Arc, RwLock};

use napi::bindgen_prelude::{AsyncTask, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;
use omnitwin::progress::NoProgress;
use omnitwin::{Config, ForgetTarget, IdKind, Identifier, OnError};
use serde_json::{Map, Value};

use crate::assignments::Assignments;
use crate::case::snake;
use crate::convert::{
    from_js, guard, model_of, object_json, reading, stringify, sync, touchpoint_fields, writing, AsOf, Job, Json,
    Shared,
};
use crate::errors::{self, Failure};

/// Options of [`Engine::ingest`].
#[napi(object)]
pub struct IngestOptions {
    /// `"fail"` (the default: all or nothing, the first bad row rejects the promise) or
    /// `"skip"` (bad rows are left out and listed in the report).
    #[napi(ts_type = "'fail' | 'skip'")]
    pub on_error: Option<String>,
}

/// Options of [`Engine::open`].
#[napi(object)]
pub struct OpenOptions {
    /// Create the store when there is none at the path (by default a missing store is an
    /// error, so that a mistyped path never gives an empty store).
    pub create: Option<bool>,
}

/// Options of [`Engine::forget`].
#[napi(object)]
pub struct ForgetOptions {
    /// Also put the person's identifiers on the suppression list (salted digests): their
    /// touchpoints are refused from then on.
    pub suppress: Option<bool>,
}

/// Options of [`Engine::segment`].
#[napi(object)]
pub struct SegmentOptions {
    /// A contact channel (`"email"`, `"sms"`, `"zalo"`, `"phone"`): only profiles that
    /// consented to `purpose` on it.
    pub channel: Option<String>,
    /// The purpose consent is checked for (`"marketing"` by default).
    pub purpose: Option<String>,
}

/// Touchpoints for a batch: rows read already, or a file to read.
pub(crate) enum Batch {
    /// An array of row objects as JSON text (`JSON.stringify`'s, made on the JavaScript
    /// thread, read on the worker): one text, or consecutive slices of the array (`index.js`
    /// stringifies a big array a slice at a time between turns of the event loop); and whether
    /// they are touchpoints (field names mapped).
    Rows {
        json: Vec<String>,
        touchpoints: bool,
    },
    File(std::path::PathBuf),
}

impl Batch {
    /// Ingests the batch into `engine`.
    pub(crate) fn into_engine(
        self,
        engine: &mut omnitwin::Engine,
        on_error: OnError,
    ) -> Result<omnitwin::IngestReport, Failure> {
        Ok(match self {
            Batch::File(path) => engine.ingest_file(&path, None, on_error, &NoProgress)?,
            Batch::Rows { json, touchpoints } => {
                let rows = rows_of(&json, touchpoints)?;
                drop(json);
                let df = omnitwin::io::frame_from_rows(rows)?;
                engine.ingest_frame(df, on_error)?
            }
        })
    }

    /// The batch as one table, its columns as given (a linker's records).
    pub(crate) fn into_frame(self) -> Result<omnitwin::DataFrame, Failure> {
        Ok(match self {
            Batch::File(path) => omnitwin::io::read_frame(&path, None, OnError::Fail)?.0,
            Batch::Rows { json, touchpoints } => omnitwin::io::frame_from_rows(rows_of(&json, touchpoints)?)?,
        })
    }
}

/// `resolve(data, config)`: an engine, the batch ingested, its assignments.
pub(crate) fn resolve_once(data: Unknown<'_>, config: Option<Object<'_>>) -> AsyncTask<Job<Assignments>> {
    let (batch, config) = match guard(|| Ok((batch_of(data, true)?, config_of(config)?))) {
        Ok(given) => given,
        Err(failure) => return Job::failed(failure),
    };
    Job::new(move || {
        let mut engine = omnitwin::Engine::new(config)?;
        batch.into_engine(&mut engine, OnError::Fail)?;
        Ok(Assignments::of(engine.assignments()))
    })
}

/// The omnitwin engine: holds touchpoints and resolves them into profiles.
#[napi]
pub struct Engine {
    inner: Shared<omnitwin::Engine>,
}

impl Engine {
    fn with(engine: omnitwin::Engine) -> Engine {
        Engine { inner: Arc::new(RwLock::new(engine)) }
    }

    /// A job reading the engine.
    fn read_job<T: serde::Serialize>(
        &self,
        work: impl FnOnce(&omnitwin::Engine) -> Result<T, Failure> + Send + 'static,
    ) -> AsyncTask<Job<Json>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || reading(&inner, |engine| Json::of(&work(engine)?)))
    }

    /// A job changing the engine.
    fn write_job<T: serde::Serialize>(
        &self,
        work: impl FnOnce(&mut omnitwin::Engine) -> Result<T, Failure> + Send + 'static,
    ) -> AsyncTask<Job<Json>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || writing(&inner, |engine| Json::of(&work(engine)?)))
    }
}

impl Engine {
    /// A job opening a store with the config given (read here, on the JavaScript thread).
    fn opening(
        config: Option<Object<'_>>,
        open: impl FnOnce(Option<Config>) -> omnitwin::Result<omnitwin::Engine> + Send + 'static,
    ) -> AsyncTask<Job<Engine>> {
        let config = match config.map(|c| guard(|| config_of(Some(c)))).transpose() {
            Ok(config) => config,
            Err(failure) => return Job::failed(failure),
        };
        Job::new(move || Ok(Engine::with(open(config)?)))
    }
}

/// A config from JavaScript (camelCase or snake_case fields), or the default.
fn config_of(config: Option<Object<'_>>) -> Result<Config, Failure> {
    match config {
        None => Ok(Config::default()),
        Some(config) => from_js(Value::Object(object_json(&config, "config")?), "config"),
    }
}

/// `onError` as the core reads it.
fn on_error_of(options: Option<IngestOptions>) -> Result<OnError, Failure> {
    match options.and_then(|o| o.on_error) {
        None => Ok(OnError::Fail),
        Some(text) => from_js(Value::String(text), "onError"),
    }
}

/// The identifier of `{ email: "…" }`, `{ customerId: "C-17", scope: "eshop" }` (one kind,
/// camelCase or snake_case, and an optional `scope`).
fn identifier_of(verb: &str, given: Map<String, Value>) -> Result<Identifier, Failure> {
    let mut scope = None;
    let mut kinds = Vec::new();
    for (key, value) in given {
        let Value::String(value) = value else {
            return Err(Failure::Usage(format!("{verb}(): `{key}` must be a string")));
        };
        if key == "scope" {
            scope = Some(value);
        } else {
            kinds.push((key, value));
        }
    }
    let [(kind, value)] = <[(String, String); 1]>::try_from(kinds).map_err(|kinds| {
        Failure::Usage(format!(
            "{verb}() takes exactly one identifier, as {{ kind: value }} ({{ email }}, {{ phone }}, {{ customerId, scope }}); got {}",
            kinds.len()
        ))
    })?;
    let kind: IdKind = snake(&kind).parse().map_err(|e| errors::config(verb, e))?;
    Ok(match scope {
        Some(scope) => Identifier::scoped(kind, scope, value.as_str()),
        None => Identifier::new(kind, value.as_str()),
    })
}

/// A batch from JavaScript: a file path, or an array of plain objects (for touchpoints,
/// `touchpoints`, camelCase or snake_case names for the standard fields; other names as given).
pub(crate) fn batch_of(data: Unknown<'_>, touchpoints: bool) -> Result<Batch, Failure> {
    match data.get_type().map_err(|e| Failure::Usage(e.reason.clone()))? {
        ValueType::String => {
            let path: String = napi::bindgen_prelude::FromNapiValue::from_unknown(data)
                .map_err(|e| Failure::Usage(e.reason.clone()))?;
            Ok(Batch::File(path.into()))
        }
        ValueType::Object if data.is_array().unwrap_or(false) => {
            // One `JSON.stringify` (native in V8) instead of one napi call per field: the rows
            // are read from the text on the worker thread. `Date`s become ISO 8601 text.
            Ok(Batch::Rows { json: vec![stringify(data)?], touchpoints })
        }
        ValueType::Object => {
            stringified_slices(&data)?.map(|json| Batch::Rows { json, touchpoints }).ok_or_else(not_a_batch)
        }
        _ => Err(not_a_batch()),
    }
}

/// What a batch argument that is neither rows nor a path gets.
fn not_a_batch() -> Failure {
    Failure::Usage("expected an array of touchpoints (plain objects) or a file path (.csv, .parquet, .jsonl)".into())
}

/// The slices of a big array as `index.js` stringified them (JSON array texts, in order, under
/// the registered symbol `omnitwin.rows`); `None` for any other object.
fn stringified_slices(data: &Unknown<'_>) -> Result<Option<Vec<String>>, Failure> {
    let failed = |e: napi::Error| Failure::Usage(e.reason.clone());
    let env = Env::from_raw(data.value().env);
    let key: Unknown = env.run_script("Symbol.for('omnitwin.rows')").map_err(failed)?;
    let object: Object = napi::bindgen_prelude::FromNapiValue::from_unknown(*data).map_err(failed)?;
    object.get_property_unchecked(key).map_err(failed)
}

/// The rows of a batch from their JSON texts (slices of one array, in order): each a plain
/// object (a touchpoint's standard field names mapped to the core's when `touchpoints`), rows
/// numbered across the slices.
fn rows_of(json: &[String], touchpoints: bool) -> Result<Vec<Map<String, Value>>, Failure> {
    let mut out = Vec::new();
    for text in json {
        let rows: Vec<Value> = serde_json::from_str(text).map_err(|e| Failure::Usage(format!("the rows: {e}")))?;
        out.reserve(rows.len());
        for row in rows {
            match row {
                Value::Object(fields) => out.push(if touchpoints { touchpoint_fields(fields) } else { fields }),
                _ => return Err(Failure::Usage(format!("row {}: expected a plain object", out.len() + 1))),
            }
        }
    }
    Ok(out)
}

#[napi]
impl Engine {
    /// An empty engine. `config` has the fields of the JSON config (every one optional), in
    /// camelCase or snake_case; it is validated here.
    #[napi(catch_unwind, constructor)]
    pub fn new(env: Env, config: Option<Object>) -> napi::Result<Engine> {
        sync(&env, || Ok(Engine::with(omnitwin::Engine::new(config_of(config)?)?)))
    }

    /// An empty engine with the config in a JSON file (camelCase or snake_case fields).
    #[napi(catch_unwind, factory)]
    pub fn from_json(env: Env, path: String) -> napi::Result<Engine> {
        sync(&env, || {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| omnitwin::Error::Io { path: path.clone().into(), source: e })?;
            let json: Value = serde_json::from_str(&text).map_err(|e| errors::config(&path, e))?;
            Ok(Engine::with(omnitwin::Engine::new(from_js(json, &path)?)?))
        })
    }

    /// An engine on an existing durable store (an SQLite file) that carries on where it
    /// stopped: the stored touchpoints are resolved again with the stored model (the same
    /// profiles and ids) and the change feed continues. Every ingest is committed before it
    /// returns. Without `config` the store opens with the config it was created with; a given
    /// config must be the store's. A missing store rejects with an `IoError` unless
    /// `{ create: true }`, which creates it (with `config`, or the default config).
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, config?: Config | null, options?: OpenOptions",
        ts_return_type = "Promise<Engine>"
    )]
    pub fn open(path: String, config: Option<Object>, options: Option<OpenOptions>) -> AsyncTask<Job<Engine>> {
        let create = options.and_then(|o| o.create).unwrap_or(false);
        Engine::opening(config, move |config| match create {
            true => omnitwin::Engine::open_or_create(&path, config),
            false => omnitwin::Engine::open(&path, config),
        })
    }

    /// `open(path)`: an existing store with the config it was created with.
    #[napi(catch_unwind, ts_return_type = "Promise<Engine>")]
    pub fn open_existing(path: String) -> AsyncTask<Job<Engine>> {
        Job::new(move || Ok(Engine::with(omnitwin::Engine::open_existing(&path)?)))
    }

    /// `open(path, config, { create: true })`: the store at `path`, created when missing.
    #[napi(catch_unwind, ts_args_type = "path: string, config?: Config | null", ts_return_type = "Promise<Engine>")]
    pub fn open_or_create(path: String, config: Option<Object>) -> AsyncTask<Job<Engine>> {
        Engine::opening(config, move |config| omnitwin::Engine::open_or_create(&path, config))
    }

    /// An existing store opened to read it while another process may have it open for
    /// writing: the engine holds what was committed when it opened and refuses every write.
    #[napi(catch_unwind, ts_return_type = "Promise<Engine>")]
    pub fn open_read_only(path: String) -> AsyncTask<Job<Engine>> {
        Job::new(move || Ok(Engine::with(omnitwin::Engine::open_read_only(&path)?)))
    }

    /// Closes the store, off the event loop once calls in flight are done: its connection and
    /// writer lock are released, so another engine or process can open it. The engine keeps
    /// what it holds for reading; writes are refused.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| {
            engine.close();
            Ok(())
        })
    }

    /// Opens the store again in place of what the engine holds, as it was opened (for
    /// writing, or read-only), off the event loop: a reader sees what was committed since it
    /// opened. If opening fails the engine stays closed (it reads, writes are refused).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn reopen(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.reopen()?))
    }

    /// Panics while holding the engine for writing, for the test that the engine recovers
    /// (debug builds only: the test suite's).
    #[cfg(debug_assertions)]
    #[napi(catch_unwind, js_name = "_panicWhileWritingForTests")]
    pub fn panic_while_writing_for_tests(&self, env: Env) -> napi::Result<()> {
        sync(&env, || {
            writing(&self.inner, |engine| -> Result<(), Failure> {
                let _ = engine.len();
                panic!("a panic raised on purpose by the test suite, holding the engine")
            })
        })
    }

    /// What opening the store found wrong with its derived state (a damaged model, RFM scale
    /// or config) and rebuilt, one sentence each; empty when it opened clean.
    #[napi(catch_unwind)]
    pub fn warnings(&self, env: Env) -> napi::Result<Vec<String>> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.warnings().to_vec())))
    }

    /// The store's file, or `null` for an engine without one.
    #[napi(catch_unwind)]
    pub fn store_path(&self, env: Env) -> napi::Result<Option<String>> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.store_path().map(|p| p.display().to_string()))))
    }

    /// Whether the engine was opened with `openReadOnly`.
    #[napi(catch_unwind)]
    pub fn is_read_only(&self, env: Env) -> napi::Result<bool> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.is_read_only())))
    }

    /// Checks the engine and its store off the event loop (SQLite's integrity check, the store
    /// against the engine, every invariant of the derived state, a resolution from scratch).
    #[napi(catch_unwind, ts_return_type = "Promise<StoreCheck>")]
    pub fn check(&self) -> AsyncTask<Job<Json>> {
        self.read_job(|engine| Ok(engine.check()?))
    }

    /// Rebuilds the derived state from the touchpoints (a model the engine trained is trained
    /// again; one set with `setModel` is kept), records what moved in the change feed, compacts
    /// the file and checks everything.
    #[napi(catch_unwind, ts_return_type = "Promise<StoreCheck>")]
    pub fn rebuild(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.rebuild()?))
    }

    /// Trains a new matching model on every touchpoint held and adopts it, off the event loop;
    /// profiles it moves are recorded in the change feed (and committed, on a store).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn retrain(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.retrain()?))
    }

    /// Rewrites the store's file without free pages and folds its log in, off the event loop.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn compact(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.compact()?))
    }

    /// Adds touchpoints, off the event loop: an array of plain objects (the touchpoint fields,
    /// other keys kept as custom attributes) or a file path (.csv, .parquet, .jsonl). Resolves
    /// with the report: `accepted` and `rejected` rows with their reasons.
    #[napi(
        catch_unwind,
        ts_args_type = "data: Array<Touchpoint> | string, options?: IngestOptions",
        ts_return_type = "Promise<IngestReport>"
    )]
    pub fn ingest(&self, data: Unknown, options: Option<IngestOptions>) -> AsyncTask<Job<Json>> {
        match guard(|| Ok((batch_of(data, true)?, on_error_of(options)?))) {
            Ok((batch, on_error)) => self.write_job(move |engine| batch.into_engine(engine, on_error)),
            Err(failure) => Job::failed(failure),
        }
    }

    /// Ingests one touchpoint and resolves it at once (`timestamp` as a `Date`, epoch
    /// milliseconds or text). Returns what happened: `profileId`, `changes` (profiles created,
    /// merged into the older one, split) and `refused` links. The first call makes the engine
    /// live: the matching model is fixed from then on and every ingest updates profiles in
    /// place, recording the changes (see `changes`). Profiles end exactly as one batch of the
    /// same touchpoints would give.
    #[napi(catch_unwind, ts_args_type = "touchpoint: Touchpoint", ts_return_type = "IngestOutcome")]
    pub fn ingest_one(&self, env: Env, touchpoint: Object) -> napi::Result<Json> {
        sync(&env, || {
            let fields = touchpoint_fields(object_json(&touchpoint, "touchpoint")?);
            writing(&self.inner, |engine| {
                let touchpoint = engine.touchpoint_from_json(Value::Object(fields))?;
                Json::of(&engine.ingest_one(touchpoint)?)
            })
        })
    }

    /// The change feed after position `since` (0, the default, for all): `seq`, `change`
    /// (`created`, `merged`, `split`, `forgotten`), `profileId` and, for merges and splits,
    /// `into`. Empty until the engine is live.
    #[napi(catch_unwind, ts_return_type = "Array<Change>")]
    pub fn changes(&self, env: Env, since: Option<i64>) -> napi::Result<Json> {
        sync(&env, || {
            let since = u64::try_from(since.unwrap_or(0)).map_err(|_| errors::config("since", "must be 0 or more"))?;
            reading(&self.inner, |engine| Json::of(&engine.changes(since)))
        })
    }

    /// Makes the engine live without ingesting anything: resolves what it holds, fixes the
    /// model and starts the change feed with every profile created (and every segment
    /// membership, when the config has segments).
    #[napi(catch_unwind, ts_return_type = "Promise<null>")]
    pub fn go_live(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.go_live()?))
    }

    /// Evaluates every profile's segments again, off the event loop (time-dependent traits
    /// move as `asOf` moves), records the entries and exits in the change feed, and resolves
    /// with how many.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn refresh_segments(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|engine| Ok(engine.refresh_segments()?))
    }

    /// Forgets a person (right to erasure): `{ profileId }` or one identifier (`{ email }`,
    /// `{ customerId, scope }`). Removes every touchpoint of that person's profile(s), resolves
    /// the rest again (recording splits), takes their values out of the model's name counts
    /// and, on a durable store, compacts the file so the erased values are nowhere in it. With
    /// `{ suppress: true }` their identifiers are refused from then on. Resolves with
    /// `profiles`, `touchpoints` and `changes`.
    #[napi(
        catch_unwind,
        ts_args_type = "target: ForgetTarget, options?: ForgetOptions",
        ts_return_type = "Promise<ForgetReport>"
    )]
    pub fn forget(&self, target: Object, options: Option<ForgetOptions>) -> AsyncTask<Job<Json>> {
        let suppress = options.and_then(|o| o.suppress).unwrap_or(false);
        let target = guard(|| {
            let mut given = object_json(&target, "forget")?;
            let profile = given.remove("profileId").or_else(|| given.remove("profile_id"));
            match (profile, given.is_empty()) {
                (Some(Value::String(id)), true) => Ok(ForgetTarget::Profile(id)),
                (None, false) => Ok(ForgetTarget::Identifier(identifier_of("forget", given)?)),
                _ => Err(Failure::Usage(
                    "forget() takes { profileId } or exactly one identifier ({ email }, { customerId, scope }), not both"
                        .into(),
                )),
            }
        });
        match target {
            Ok(target) => self.write_job(move |engine| {
                Ok(if suppress { engine.forget_and_suppress(target)? } else { engine.forget(target)? })
            }),
            Err(failure) => Job::failed(failure),
        }
    }

    /// What a config change would do (off the event loop): resolves a copy of the touchpoints
    /// under `config` and reports the profiles before and after and the merges and splits, as
    /// the feed would record them; the engine is not changed.
    #[napi(catch_unwind, ts_args_type = "config: Config", ts_return_type = "Promise<SimulationReport>")]
    pub fn simulate(&self, config: Object) -> AsyncTask<Job<Json>> {
        match config_of(Some(config)) {
            Ok(config) => self.read_job(move |engine| Ok(engine.simulate(config)?)),
            Err(failure) => Job::failed(failure),
        }
    }

    /// Adopts a new config (off the event loop): the touchpoints are resolved under it; on a
    /// live engine the merges and splits go to the change feed; a durable store keeps it.
    #[napi(catch_unwind, ts_args_type = "config: Config", ts_return_type = "Promise<null>")]
    pub fn apply_config(&self, config: Object) -> AsyncTask<Job<Json>> {
        match config_of(Some(config)) {
            Ok(config) => self.write_job(move |engine| Ok(engine.apply_config(config)?)),
            Err(failure) => Job::failed(failure),
        }
    }

    /// Resolves everything ingested (if not already resolved), off the event loop, and
    /// resolves with the report.
    #[napi(catch_unwind, ts_return_type = "Promise<ResolveReport>")]
    pub fn resolve(&self) -> AsyncTask<Job<Json>> {
        self.read_job(|engine| Ok(engine.resolve().clone()))
    }

    /// Every touchpoint with its profile: `{ touchpointId, profileId }` in ingest order.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<Assignment>>")]
    pub fn assignments(&self) -> AsyncTask<Job<Assignments>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || reading(&inner, |engine| Ok(Assignments::of(engine.assignments()))))
    }

    /// Every profile, sorted by profile id.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<Profile>>")]
    pub fn profiles(&self) -> AsyncTask<Job<Json>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || reading(&inner, |engine| Json::of_list(engine.profiles())))
    }

    /// A profile by id (a merged-away id leads to the profile it joined), or `null`. With
    /// `{ asOf }` (a `Date`, ISO 8601 text or epoch milliseconds), the profile as it was then:
    /// built from the touchpoints acknowledged by that time, an id the feed had reported merged
    /// by then leading to the survivor (`null` for an id not handed out yet).
    #[napi(
        catch_unwind,
        ts_args_type = "profileId: string, options?: HistoryOptions",
        ts_return_type = "Profile | null"
    )]
    pub fn profile(&self, env: Env, profile_id: String, options: Option<Object>) -> napi::Result<Json> {
        sync(&env, || {
            let as_of = AsOf::of(options.as_ref(), "profile")?;
            reading(&self.inner, |engine| match as_of {
                Some(t) => Json::of(&engine.profile_as_of(&profile_id, t.millis(engine)?)),
                None => Json::of(&engine.profile(&profile_id)),
            })
        })
    }

    /// The profile a touchpoint belongs to, or `null` for an unknown touchpoint. With
    /// `{ asOf }`, the profile it belonged to then, as it was (`null` when the touchpoint was
    /// not acknowledged by then).
    #[napi(
        catch_unwind,
        ts_args_type = "touchpointId: string, options?: HistoryOptions",
        ts_return_type = "Profile | null"
    )]
    pub fn profile_of(&self, env: Env, touchpoint_id: String, options: Option<Object>) -> napi::Result<Json> {
        sync(&env, || {
            let as_of = AsOf::of(options.as_ref(), "profileOf")?;
            reading(&self.inner, |engine| match as_of {
                Some(t) => Json::of(&engine.profile_of_as_of(&touchpoint_id, t.millis(engine)?)),
                None => Json::of(&engine.profile_of(&touchpoint_id)),
            })
        })
    }

    /// When the engine took a touchpoint in (epoch milliseconds; for a durable store, when it
    /// was committed), or `null` for an unknown touchpoint: the times `asOf` is asked at.
    #[napi(catch_unwind)]
    pub fn acknowledged_at(&self, env: Env, touchpoint_id: String) -> napi::Result<Option<i64>> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.acknowledged_at(&touchpoint_id))))
    }

    /// The profile one identifier belongs to, from a raw value normalized like any input:
    /// `lookup({ email: 'An@Gmail.com' })`, `lookup({ phone: '0912 345 678' })`,
    /// `lookup({ customerId: 'C-17', scope: 'eshop' })`. `null` when nobody has it (or it is
    /// blocked or shared).
    #[napi(catch_unwind, ts_args_type = "identifier: IdentifierQuery", ts_return_type = "Profile | null")]
    pub fn lookup(&self, env: Env, identifier: Object) -> napi::Result<Json> {
        sync(&env, || {
            let identifier = identifier_of("lookup", object_json(&identifier, "lookup")?)?;
            reading(&self.inner, |engine| Json::of(&engine.lookup(&identifier)))
        })
    }

    /// Why two touchpoints are, or are not, in one profile: the chain of links (shared
    /// identifiers, probabilistic matches, refusals) and the match score of the pair.
    #[napi(catch_unwind, ts_return_type = "Explanation")]
    pub fn explain(&self, env: Env, touchpoint_a: String, touchpoint_b: String) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |engine| Json::of(&engine.explain(&touchpoint_a, &touchpoint_b)?)))
    }

    /// A profile as an HTML card with its timeline: identifiers with how each took part in
    /// linking, attributes with provenance, touchpoints.
    #[napi(catch_unwind, ts_args_type = "profile: Profile")]
    pub fn profile_html(&self, env: Env, profile: Object) -> napi::Result<String> {
        sync(&env, || {
            let profile: omnitwin::Profile = from_js(Value::Object(object_json(&profile, "profile")?), "profile")?;
            reading(&self.inner, |engine| Ok(engine.profile_html(&profile)))
        })
    }

    /// A touchpoint by id, as ingested, or `null`.
    #[napi(catch_unwind, ts_return_type = "Touchpoint | null")]
    pub fn touchpoint(&self, env: Env, touchpoint_id: String) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |engine| Json::of(&engine.touchpoint(&touchpoint_id))))
    }

    /// The matching model of the last resolution (resolving first if needed), an object that
    /// `setModel` takes back (and `JSON.stringify` saves); `null` when matching is off.
    #[napi(catch_unwind, ts_return_type = "Model | null")]
    pub fn model(&self, env: Env) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |engine| Json::of(&engine.model())))
    }

    /// Uses a saved matching model (as `model()` returns it) instead of training one on the
    /// input; it must have the config's matching comparisons.
    #[napi(catch_unwind, ts_args_type = "model: Model")]
    pub fn set_model(&self, env: Env, model: Object) -> napi::Result<()> {
        sync(&env, || {
            let model = model_of(&model)?;
            writing(&self.inner, |engine| Ok(engine.set_model(model)?))
        })
    }

    /// The ids of the profiles in a segment given by an expression (the segment language:
    /// `'rfm.recency_score >= 4 and channels contains "store"'`), sorted, evaluated off the
    /// event loop. A bad expression rejects with an `InvalidInputError` whose `position` points
    /// at the fault.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<string>>")]
    pub fn segment(&self, expression: String, options: Option<SegmentOptions>) -> AsyncTask<Job<Json>> {
        self.read_job(move |engine| {
            let (channel, purpose) = options.map_or((None, None), |o| (o.channel, o.purpose));
            let segment = omnitwin::Segment::parse(&expression)?.for_campaign(channel.as_deref(), purpose.as_deref());
            Ok(engine.segment(&segment)?)
        })
    }

    /// The ids of the profiles in a segment the config names, sorted (with the consent it
    /// requires), evaluated off the event loop.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<string>>")]
    pub fn segment_members(&self, name: String) -> AsyncTask<Job<Json>> {
        self.read_job(move |engine| Ok(engine.segment_members(&name)?))
    }

    /// The RFM scale scores are given against (quintile breakpoints over buyers), an object
    /// that `setRfmScale` takes back.
    #[napi(catch_unwind, ts_return_type = "RfmScale")]
    pub fn rfm_scale(&self, env: Env) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |engine| Json::of(&engine.rfm_scale())))
    }

    /// Fixes the RFM scale (as `rfmScale()` returns it) instead of computing it from the
    /// profiles held.
    #[napi(catch_unwind, ts_args_type = "scale: RfmScale")]
    pub fn set_rfm_scale(&self, env: Env, scale: Object) -> napi::Result<()> {
        sync(&env, || {
            let scale: omnitwin::RfmScale = from_js(Value::Object(object_json(&scale, "rfmScale")?), "rfmScale")?;
            writing(&self.inner, |engine| Ok(engine.set_rfm_scale(scale)?))
        })
    }

    /// The omnichannel report, off the event loop: customers by number of channels,
    /// channel-to-channel journeys, the journey funnel, revenue by channel and by first/last
    /// touch, identity health (`reportHtml(report)` draws it as a page).
    #[napi(catch_unwind, ts_return_type = "Promise<OmnichannelReport>")]
    pub fn report(&self) -> AsyncTask<Job<Json>> {
        self.read_job(|engine| Ok(engine.report()))
    }

    /// The engine's config, with every default filled in.
    #[napi(catch_unwind, ts_return_type = "Config")]
    pub fn config(&self, env: Env) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |engine| Json::of(engine.config())))
    }

    /// The identifier kinds the engine links on, strongest first.
    #[napi(catch_unwind)]
    pub fn identifier_kinds(&self, env: Env) -> napi::Result<Vec<String>> {
        sync(&env, || {
            reading(&self.inner, |engine| Ok(engine.identifier_kinds().iter().map(|k| k.as_str().to_owned()).collect()))
        })
    }

    /// Writes every profile to a file, off the event loop: `"parquet"` (the default; list
    /// columns kept) or `"csv"` (lists joined by `|`).
    #[napi(catch_unwind, ts_args_type = "path: string, format?: 'parquet' | 'csv'", ts_return_type = "Promise<null>")]
    pub fn write_profiles(&self, path: String, format: Option<String>) -> AsyncTask<Job<Json>> {
        match from_js(Value::String(format.unwrap_or_else(|| "parquet".into())), "format") {
            Ok(format) => self.read_job(move |engine| Ok(engine.write_profiles(std::path::Path::new(&path), format)?)),
            Err(failure) => Job::failed(failure),
        }
    }

    /// How many touchpoints the engine holds.
    #[napi(catch_unwind)]
    pub fn len(&self, env: Env) -> napi::Result<u32> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.len() as u32)))
    }

    /// Whether the engine holds no touchpoint.
    #[napi(catch_unwind)]
    pub fn is_empty(&self, env: Env) -> napi::Result<bool> {
        sync(&env, || reading(&self.inner, |engine| Ok(engine.is_empty())))
    }
}

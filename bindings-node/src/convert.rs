//! Every conversion between JavaScript and the core, in one place: values through serde (the
//! core's own types, with camelCase field names on the JavaScript side, see [`crate::case`]),
//! objects in through `JSON.stringify` and out through `JSON.parse`, the boundary that catches panics, and the async task
//! that runs heavy calls off the event loop.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLock};

use napi::bindgen_prelude::{JsObjectValue, Object, ToNapiValue, TypeName, Unknown};
use napi::{Env, JsValue, Task};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::case::{snake, Camel, Snake};
use crate::errors::{self, Failure};

/// A value from JavaScript read as a core type through serde (camelCase or snake_case field
/// names); `what` names the value in the error.
pub(crate) fn from_js<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, Failure> {
    T::deserialize(Snake(value)).map_err(|e| errors::config(what, e))
}

/// A matching model from JavaScript (as `model()` gave it), read through the core's own
/// reader, which checks what serde cannot (the prior, the name counts).
pub(crate) fn model_of(model: &Object<'_>) -> Result<omnitwin::matching::Model, Failure> {
    let model: omnitwin::matching::Model = from_js(Value::Object(object_json(model, "model")?), "model")?;
    Ok(model.checked()?)
}

/// Runs core work, a panic caught and turned into `InternalError`.
pub(crate) fn guard<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| Err(errors::from_panic(panic)))
}

/// [`guard`] for a synchronous call: a failure becomes the JavaScript error it throws.
pub(crate) fn sync<T>(env: &Env, work: impl FnOnce() -> Result<T, Failure>) -> napi::Result<T> {
    guard(work).map_err(|failure| errors::to_js(env, failure))
}

/// A core object shared by a JavaScript object and the async tasks it started: many readers,
/// one writer.
pub(crate) type Shared<T> = Arc<RwLock<T>>;

/// A core object shared by a JavaScript object and its tasks, which a panic (a bug) while a
/// call held it may have left half-changed.
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
/// from its store) and clears the poison; or fails with why the object stays unusable.
fn recover_poisoned<S: Recover>(shared: &Shared<S>) -> Result<(), Failure> {
    let mut object = match shared.write() {
        Ok(_) => return Ok(()), // another call recovered it meanwhile
        Err(poisoned) => poisoned.into_inner(),
    };
    object.recover().map_err(|why| {
        Failure::Internal(format!(
            "the {} is unusable: an earlier call stopped inside the core with an internal error (a bug in omnitwin, \
             please report it), and {why}",
            S::NAME
        ))
    })?;
    drop(object);
    shared.clear_poison();
    Ok(())
}

/// The failure of a lock still poisoned after its recovery.
fn unusable<S: Recover>() -> Failure {
    Failure::Internal(format!("the {} is unusable after an internal error", S::NAME))
}

/// Runs `work` on the shared object, read-locked; recovered first if a panic poisoned it.
pub(crate) fn reading<S: Recover, T>(
    shared: &Shared<S>,
    work: impl FnOnce(&S) -> Result<T, Failure>,
) -> Result<T, Failure> {
    if shared.is_poisoned() {
        recover_poisoned(shared)?;
    }
    let object = shared.read().map_err(|_| unusable::<S>())?;
    work(&object)
}

/// Runs `work` on the shared object, write-locked; recovered first if a panic poisoned it.
pub(crate) fn writing<S: Recover, T>(
    shared: &Shared<S>,
    work: impl FnOnce(&mut S) -> Result<T, Failure>,
) -> Result<T, Failure> {
    if shared.is_poisoned() {
        recover_poisoned(shared)?;
    }
    let mut object = shared.write().map_err(|_| unusable::<S>())?;
    work(&mut object)
}

/// A call's result as JSON text (camelCase field names; an async call's written on the worker
/// thread) turned into JavaScript values by V8's own `JSON.parse`: building values through napi
/// calls, one at a time, took 2.5–5 s on the event loop for a million assignment objects, and
/// made a profile from `lookup` cost 65 µs where text and `JSON.parse` take 40. A result too
/// long for one JavaScript string (V8 caps them near 512 MiB) is an array cut into chunks of
/// whole elements, each parsed on its own and copied into one array.
pub struct Json(JsonText);

/// The text of a [`Json`] result.
enum JsonText {
    Whole(String),
    /// JSON arrays whose elements, in order, make the result.
    Chunks(Vec<String>),
}

/// Results up to this many bytes of JSON are parsed in one go; longer arrays in chunks of
/// about [`JSON_CHUNK`] bytes.
const JSON_WHOLE: usize = 256 << 20;
/// 1 MiB in builds with debug assertions (the test suite's), so that its larger results go
/// through the chunked path too.
const JSON_CHUNK: usize = if cfg!(debug_assertions) { 1 << 20 } else { 64 << 20 };

impl Json {
    /// A list of core values as a JSON array with camelCase field names, written element by
    /// element (and cut into chunks when long): no copy of the values, no second pass.
    pub(crate) fn of_list<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<Json, Failure> {
        let mut chunks = Vec::new();
        let mut chunk = String::from("[");
        for item in items {
            if chunk.len() > JSON_CHUNK {
                chunk.push(']');
                chunks.push(std::mem::replace(&mut chunk, String::from("[")));
            }
            if chunk.len() > 1 {
                chunk.push(',');
            }
            let text = serde_json::to_string(&Camel(&item))
                .map_err(|e| Failure::Core(omnitwin::Error::Json(e.to_string())))?;
            chunk.push_str(&text);
        }
        chunk.push(']');
        if chunks.is_empty() {
            return Ok(Json(JsonText::Whole(chunk)));
        }
        chunks.push(chunk);
        Ok(Json(JsonText::Chunks(chunks)))
    }

    /// A core value as JSON text with camelCase field names.
    pub(crate) fn of(value: &impl Serialize) -> Result<Json, Failure> {
        let json = |e: serde_json::Error| Failure::Core(omnitwin::Error::Json(e.to_string()));
        let text = serde_json::to_string(&Camel(value)).map_err(json)?;
        if text.len() <= JSON_WHOLE {
            return Ok(Json(JsonText::Whole(text)));
        }
        // Rare (hundreds of thousands of profiles): split the array by its elements.
        let Value::Array(items) = serde_json::from_str::<Value>(&text).map_err(json)? else {
            return Err(Failure::Internal(format!("a result of {} bytes that is not a list", text.len())));
        };
        drop(text);
        Json::of_list(items)
    }
}

impl TypeName for Json {
    fn type_name() -> &'static str {
        "Json"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl ToNapiValue for Json {
    // SAFETY: `env` is the environment napi called this conversion with (its contract); values
    // are made by `JSON.parse` and napi's safe `Array`, and handed back as their raw handles in
    // that same environment.
    #[allow(unsafe_code)]
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        let js = Env::from_raw(env);
        match value.0 {
            JsonText::Whole(text) => Ok(json_functions(&js)?.parse.borrow_back(&js)?.call(text)?.raw()),
            JsonText::Chunks(chunks) => {
                let json: Object = js.get_global()?.get_named_property("JSON")?;
                let parse_list: napi::bindgen_prelude::Function<String, napi::bindgen_prelude::Array> =
                    json.get_named_property("parse")?;
                let mut all = js.create_array(0)?;
                let mut next = 0;
                for chunk in chunks {
                    let part = parse_list.call(chunk)?;
                    for i in 0..part.len() {
                        let item: Unknown =
                            part.get(i)?.ok_or_else(|| napi::Error::from_reason("a hole in a parsed list"))?;
                        all.set(next, item)?;
                        next += 1;
                    }
                }
                unsafe { napi::bindgen_prelude::Array::to_napi_value(env, all) }
            }
        }
    }
}

/// Heavy work on a libuv worker thread: the promise a method returns resolves with its value
/// ([`Json`], or a class instance) or rejects with the JavaScript error.
pub struct Job<T> {
    work: Option<Box<dyn FnOnce() -> Result<T, Failure> + Send>>,
}

impl<T> Job<T> {
    /// A job that runs `work` (panics caught).
    pub(crate) fn new(
        work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
    ) -> napi::bindgen_prelude::AsyncTask<Job<T>>
    where
        Job<T>: Task,
    {
        napi::bindgen_prelude::AsyncTask::new(Job { work: Some(Box::new(work)) })
    }

    /// A job that rejects with `failure`: an async method's bad arguments reject its promise
    /// rather than throw.
    pub(crate) fn failed(failure: Failure) -> napi::bindgen_prelude::AsyncTask<Job<T>>
    where
        Job<T>: Task,
        T: 'static,
    {
        Job::new(move || Err(failure))
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Job<T> {
    type Output = Result<T, Failure>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self.work.take();
        Ok(guard(move || match work {
            Some(work) => work(),
            None => Err(Failure::Internal("the job ran twice".into())),
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|failure| errors::to_js(&env, failure))
    }
}

/// A plain object from JavaScript as JSON, its field names as given, through
/// `JSON.stringify` (as batches cross, see [`stringify`]): a `Date` becomes ISO 8601 text (which
/// the core reads for `timestamp`), `undefined` is left out, whole numbers stay integers.
pub(crate) fn object_json(object: &Object<'_>, what: &str) -> Result<Map<String, Value>, Failure> {
    let json = stringify(object.to_unknown())?;
    match serde_json::from_str(&json) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(Failure::Usage(format!("{what}: expected a plain object"))),
        Err(e) => Err(Failure::Usage(format!("{what}: {e}"))),
    }
}

/// `JSON.stringify(value)`: one call, native in V8, instead of one napi call per field.
pub(crate) fn stringify(value: Unknown<'_>) -> Result<String, Failure> {
    let failed = |e: napi::Error| Failure::Usage(format!("cannot be read as JSON: {}", e.reason));
    let env = Env::from_raw(value.value().env);
    let stringify = json_functions(&env).and_then(|f| f.stringify.borrow_back(&env)).map_err(failed)?;
    stringify.call(value.raw()).map_err(failed)
}

/// V8's `JSON.stringify` and `JSON.parse` of one JavaScript environment (the main thread's or
/// a worker's), looked up once and kept as references in the addon's instance data: looking
/// the global `JSON` and its method up by name took about 3% of an `ingestOne`.
struct JsonFunctions {
    stringify: napi::bindgen_prelude::FunctionRef<napi::sys::napi_value, String>,
    parse: napi::bindgen_prelude::FunctionRef<String, Unknown<'static>>,
}

/// The [`JsonFunctions`] of `env`, looked up on its first call.
fn json_functions(env: &Env) -> napi::Result<&'static JsonFunctions> {
    if let Some(kept) = env.get_instance_data::<JsonFunctions>()? {
        return Ok(kept);
    }
    let json: Object = env.get_global()?.get_named_property("JSON")?;
    let stringify: napi::bindgen_prelude::Function<napi::sys::napi_value, String> =
        json.get_named_property("stringify")?;
    let parse: napi::bindgen_prelude::Function<String, Unknown<'static>> = json.get_named_property("parse")?;
    let functions = JsonFunctions { stringify: stringify.create_ref()?, parse: parse.create_ref()? };
    // Dropped with the environment, whose teardown runs this finalizer.
    env.set_instance_data(functions, (), |_| {})?;
    match env.get_instance_data::<JsonFunctions>()? {
        Some(kept) => Ok(kept),
        None => Err(napi::Error::from_reason("the addon's instance data was not kept")),
    }
}

/// The `asOf` option of a history call (`{ asOf: Date | number | string }`, a `Date` arriving
/// as ISO text): epoch milliseconds, or text the engine reads in the config's timezone.
pub(crate) enum AsOf {
    Millis(i64),
    Text(String),
}

impl AsOf {
    /// Reads the options object of `what` (`null`/absent: no time, the present).
    pub(crate) fn of(options: Option<&Object<'_>>, what: &str) -> Result<Option<AsOf>, Failure> {
        let Some(options) = options else { return Ok(None) };
        let mut fields = object_json(options, what)?;
        let as_of = fields.remove("asOf");
        if let Some(key) = fields.keys().next() {
            return Err(Failure::Usage(format!("{what}: unknown option `{key}` (expected `asOf`)")));
        }
        match as_of {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(AsOf::Text(text))),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(millis) => Ok(Some(AsOf::Millis(millis))),
                None => Err(Failure::Usage(format!("{what}: `asOf` must be whole epoch milliseconds, got {n}"))),
            },
            Some(other) => Err(Failure::Usage(format!(
                "{what}: `asOf` must be a Date, ISO 8601 text or epoch milliseconds, got {other}"
            ))),
        }
    }

    /// The time in epoch milliseconds, text read by the engine.
    pub(crate) fn millis(self, engine: &omnitwin::Engine) -> omnitwin::Result<i64> {
        match self {
            AsOf::Millis(millis) => Ok(millis),
            AsOf::Text(text) => engine.read_time("asOf", &text),
        }
    }
}

/// A touchpoint's field names as the core reads them: camelCase names of standard columns
/// become snake_case (`touchpointId` → `touchpoint_id`); other names (custom attributes) stay.
pub(crate) fn touchpoint_fields(fields: Map<String, Value>) -> Map<String, Value> {
    fields
        .into_iter()
        .map(|(key, value)| {
            if !key.bytes().any(|b| b.is_ascii_uppercase()) {
                return (key, value);
            }
            let renamed = snake(&key);
            let standard = omnitwin::model::STANDARD_COLUMNS.contains(&renamed.as_str())
                || renamed == "identifiers"
                || renamed == "attributes";
            (if standard { renamed } else { key }, value)
        })
        .collect()
}

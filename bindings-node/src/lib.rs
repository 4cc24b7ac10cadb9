//! The Node binding of omnitwin, built by napi-rs as the `omnitwin` npm package's native addon.
//! Conversion of types and errors only: every verb runs in the core. `index.js` loads it and
//! adds the error classes; `index.d.ts` (generated from this source by `napi build`, with the
//! data types of `types.d.ts`) types it.

mod assignments;
mod case;
mod convert;
mod engine;
mod errors;
mod linker;

use napi::bindgen_prelude::{AsyncTask, Object};
use napi::Env;
use napi_derive::napi;
use omnitwin::normalize::{self, PhoneRegion};
use serde_json::Value;

use crate::convert::{from_js, object_json, sync, Job, Json};
#[cfg(debug_assertions)]
use crate::errors::Failure;

pub use engine::{Engine, ForgetOptions, IngestOptions};

/// mimalloc for the addon's own allocations (V8 keeps its own): a batch of rows builds many
/// small strings, on which glibc's allocator spent about a quarter of the time. Built without
/// transparent huge pages (see the workspace `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use linker::Linker;

/// Resolves touchpoints in one call, off the event loop (an `Engine`, `ingest`, `assignments`):
/// an array of plain objects or a file path in, `{ touchpointId, profileId }` rows out.
#[napi(
    catch_unwind,
    ts_args_type = "data: Array<Touchpoint> | string, config?: Config",
    ts_return_type = "Promise<Array<Assignment>>"
)]
pub fn resolve(
    data: napi::bindgen_prelude::Unknown,
    config: Option<Object>,
) -> AsyncTask<Job<assignments::Assignments>> {
    engine::resolve_once(data, config)
}

/// The canonical form of an email address (`display`, `canonical`), or `null` when it is
/// not one.
#[napi(catch_unwind, ts_return_type = "NormalizedEmail | null")]
pub fn normalize_email(env: Env, text: String) -> napi::Result<Json> {
    sync(&env, || Json::of(&normalize::normalize_email(&text)))
}

/// The E.164 form of a phone number, read in `region` (ISO 3166-1 alpha-2, `"VN"` by default)
/// when it has no country code; `null` when it is not a number.
#[napi(catch_unwind, ts_return_type = "NormalizedPhone | null")]
pub fn normalize_phone(env: Env, text: String, region: Option<String>) -> napi::Result<Json> {
    sync(&env, || {
        let region: PhoneRegion =
            region.as_deref().unwrap_or("VN").parse().map_err(|e| crate::errors::config("region", e))?;
        Json::of(&normalize::normalize_phone(&text, region))
    })
}

/// A person's name folded for matching, or `null` when empty.
#[napi(catch_unwind, ts_return_type = "NormalizedName | null")]
pub fn normalize_name(env: Env, text: String) -> napi::Result<Json> {
    sync(&env, || Json::of(&normalize::normalize_name(&text)))
}

/// A street address folded for matching, or `null` when empty.
#[napi(catch_unwind)]
pub fn normalize_address(env: Env, text: String) -> napi::Result<Option<String>> {
    sync(&env, || Ok(normalize::normalize_address(&text)))
}

/// A date of birth as `YYYY-MM-DD`, or `null` when it is not a plausible one.
#[napi(catch_unwind)]
pub fn normalize_date_of_birth(env: Env, text: String) -> napi::Result<Option<String>> {
    sync(&env, || Ok(normalize::normalize_date_of_birth(&text).ok()))
}

/// A gender as `female`, `male` or `other`, or `null` when unknown.
#[napi(catch_unwind)]
pub fn normalize_gender(env: Env, text: String) -> napi::Result<Option<String>> {
    sync(&env, || Ok(normalize::normalize_gender(&text).map(str::to_owned)))
}

/// A profile (as `Engine.profile` returns it) as an HTML card: identifiers with how each took
/// part in linking, attributes with provenance, touchpoint ids (`Engine.profileHtml` adds the
/// timeline).
#[napi(catch_unwind, ts_args_type = "profile: Profile")]
pub fn profile_html(env: Env, profile: Object) -> napi::Result<String> {
    sync(&env, || {
        let profile: omnitwin::Profile = from_js(Value::Object(object_json(&profile, "profile")?), "profile")?;
        Ok(omnitwin::html::profile(&profile, &[]))
    })
}

/// An explanation (as `Engine.explain` returns it) as HTML: the chain of links and the
/// match-weight waterfall as an inline chart.
#[napi(catch_unwind, ts_args_type = "explanation: Explanation")]
pub fn explanation_html(env: Env, explanation: Object) -> napi::Result<String> {
    sync(&env, || {
        let explanation: omnitwin::Explanation =
            from_js(Value::Object(object_json(&explanation, "explanation")?), "explanation")?;
        Ok(omnitwin::html::explanation(&explanation))
    })
}

/// The omnichannel report (as `Engine.report` gives it) as one self-contained HTML page with
/// charts, which opens offline.
#[napi(catch_unwind, ts_args_type = "report: OmnichannelReport")]
pub fn report_html(env: Env, report: Object) -> napi::Result<String> {
    sync(&env, || {
        let report: omnitwin::OmnichannelReport = from_js(Value::Object(object_json(&report, "report")?), "report")?;
        Ok(omnitwin::html::report(&report))
    })
}

/// A linker's pair explanation (as `Linker.explain` returns it) as the match-weight waterfall,
/// an inline SVG chart.
#[napi(catch_unwind, ts_args_type = "explanation: PairExplanation")]
pub fn pair_explanation_html(env: Env, explanation: Object) -> napi::Result<String> {
    sync(&env, || {
        let explanation: omnitwin::matching::PairExplanation =
            from_js(Value::Object(object_json(&explanation, "explanation")?), "explanation")?;
        Ok(omnitwin::html::waterfall(&explanation))
    })
}

/// The package version.
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Panics inside the core boundary, for the test that a panic reaches JavaScript as
/// `InternalError` (debug-assertion builds only: the test suite's).
#[cfg(debug_assertions)]
#[napi(catch_unwind, js_name = "_panicForTests")]
pub fn panic_for_tests(env: Env) -> napi::Result<()> {
    sync(&env, || -> Result<(), Failure> { panic!("a panic raised on purpose by the test suite") })
}

/// The same panic inside an async job, for the test that it rejects the promise.
#[cfg(debug_assertions)]
#[napi(catch_unwind, js_name = "_panicInJobForTests", ts_return_type = "Promise<null>")]
pub fn panic_in_job_for_tests() -> AsyncTask<Job<Json>> {
    Job::new(|| -> Result<Json, Failure> { panic!("a panic raised on purpose by the test suite, in a job") })
}

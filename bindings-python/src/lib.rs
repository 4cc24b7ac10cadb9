//! The Python binding of omnitwin, built by maturin as `omnitwin._omnitwin` and re-exported by
//! the `omnitwin` package. Conversion of types and errors only: every verb runs in the core.

mod convert;
mod engine;
mod errors;
mod linker;

use omnitwin::normalize::{self, PhoneRegion};
use pyo3::prelude::*;

use crate::convert::{from_python, run, to_python};

/// Resolves touchpoints in one call and returns the assignments (a polars DataFrame with
/// `touchpoint_id`, `profile_id`): `Engine(config)`, `ingest(data)`, `assignments()`.
#[pyfunction]
#[pyo3(signature = (data, config=None))]
fn resolve<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let engine = Bound::new(py, engine::Engine::new(py, config, false)?)?;
    engine.get().ingest_input(py, data, "fail")?;
    engine.get().assignments_frame(py)
}

/// The canonical form of an email address (a dict: `value`, `provider`, …), or `None` when it
/// is not one.
#[pyfunction]
fn normalize_email<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let normalized = run(py, || Ok(normalize::normalize_email(text)))?;
    to_python(py, &normalized)
}

/// The E.164 form of a phone number (a dict), read in `region` (ISO 3166-1 alpha-2) when it has
/// no country code; `None` when it is not a number.
#[pyfunction]
#[pyo3(signature = (text, region="VN"))]
fn normalize_phone<'py>(py: Python<'py>, text: &str, region: &str) -> PyResult<Bound<'py, PyAny>> {
    let region: PhoneRegion = region.parse().map_err(|e| errors::config_error("region", e))?;
    let normalized = run(py, || Ok(normalize::normalize_phone(text, region)))?;
    to_python(py, &normalized)
}

/// A person's name folded for matching (a dict), or `None` when empty.
#[pyfunction]
fn normalize_name<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let normalized = run(py, || Ok(normalize::normalize_name(text)))?;
    to_python(py, &normalized)
}

/// A street address folded for matching, or `None` when empty.
#[pyfunction]
fn normalize_address(py: Python<'_>, text: &str) -> PyResult<Option<String>> {
    run(py, || Ok(normalize::normalize_address(text)))
}

/// A date of birth as `YYYY-MM-DD`, or `None` when it is not a plausible one.
#[pyfunction]
fn normalize_date_of_birth(py: Python<'_>, text: &str) -> PyResult<Option<String>> {
    run(py, || Ok(normalize::normalize_date_of_birth(text).ok()))
}

/// A gender as `female`, `male` or `other`, or `None` when unknown.
#[pyfunction]
fn normalize_gender(py: Python<'_>, text: &str) -> PyResult<Option<&'static str>> {
    run(py, || Ok(normalize::normalize_gender(text)))
}

/// A profile (as `Engine.profile` returns it) as an HTML card: identifiers with how each took
/// part in linking, attributes with provenance, touchpoint ids (the engine's own cards, which
/// `Profile._repr_html_` shows, add the timeline).
#[pyfunction]
fn profile_html(py: Python<'_>, profile: &Bound<'_, PyAny>) -> PyResult<String> {
    let profile: omnitwin::Profile = from_python(profile, "profile")?;
    run(py, || Ok(omnitwin::html::profile(&profile, &[])))
}

/// An explanation (as `Engine.explain` returns it) as HTML: the chain of links and the
/// match-weight waterfall as an inline chart.
#[pyfunction]
fn explanation_html(py: Python<'_>, explanation: &Bound<'_, PyAny>) -> PyResult<String> {
    let explanation: omnitwin::Explanation = from_python(explanation, "explanation")?;
    run(py, || Ok(omnitwin::html::explanation(&explanation)))
}

/// The omnichannel report (as `Engine.report` returns it) as one self-contained HTML page
/// with charts, which opens offline.
#[pyfunction]
fn report_html(py: Python<'_>, report: &Bound<'_, PyAny>) -> PyResult<String> {
    let report: omnitwin::OmnichannelReport = from_python(report, "report")?;
    run(py, || Ok(omnitwin::html::report(&report)))
}

/// A linker's pair explanation (as `Linker.explain` returns it) as the match-weight waterfall,
/// an inline SVG chart.
#[pyfunction]
fn pair_explanation_html(py: Python<'_>, explanation: &Bound<'_, PyAny>) -> PyResult<String> {
    let explanation: omnitwin::matching::PairExplanation = from_python(explanation, "explanation")?;
    run(py, || Ok(omnitwin::html::waterfall(&explanation)))
}

/// Panics inside the core boundary, for the test that a panic reaches Python as
/// `InternalError` (debug builds only: the test suite's).
#[cfg(debug_assertions)]
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    run(py, || -> omnitwin::Result<()> { panic!("a panic raised on purpose by the test suite") })
}

/// The module: the engine, the one-shot `resolve`, the normalizers and the exceptions.
#[pymodule]
fn _omnitwin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_class::<linker::Linker>()?;
    m.add_class::<convert::ArrowStream>()?;
    m.add_function(wrap_pyfunction!(resolve, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_email, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_phone, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_name, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_address, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_date_of_birth, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_gender, m)?)?;
    m.add_function(wrap_pyfunction!(profile_html, m)?)?;
    m.add_function(wrap_pyfunction!(explanation_html, m)?)?;
    m.add_function(wrap_pyfunction!(pair_explanation_html, m)?)?;
    m.add_function(wrap_pyfunction!(report_html, m)?)?;
    #[cfg(debug_assertions)]
    m.setattr("_panic_for_tests", wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)
}

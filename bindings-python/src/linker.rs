//! `omnitwin.Linker`: probabilistic record linkage on any tables (the core's
//! [`omnitwin::matching::Linker`]), verb for verb: train, predict, cluster, explain, model.

use std::sync::{Arc, RwLock};

use omnitwin::matching::{Model, ScoredPair, Settings};
use polars::prelude::*;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{frame_to_polars, from_python, json_of, read_shared, run, to_python, to_python_as, write_shared};
use crate::engine::Input;

/// Links or deduplicates records of one or more tables under Splink-style settings.
#[pyclass(module = "omnitwin", name = "Linker", frozen)]
pub(crate) struct Linker {
    inner: Arc<RwLock<omnitwin::matching::Linker>>,
}

impl Linker {
    fn reading<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&omnitwin::matching::Linker) -> omnitwin::Result<T> + Send + 'static,
    ) -> PyResult<T> {
        read_shared(py, &self.inner, false, move |linker, _| work(linker))
    }

    fn writing<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut omnitwin::matching::Linker) -> omnitwin::Result<T> + Send + 'static,
    ) -> PyResult<T> {
        write_shared(py, &self.inner, false, move |linker, _| work(linker))
    }
}

/// Scored pairs as a DataFrame: `left`, `right`, `match_weight`, `match_probability`,
/// `blocking_rule`.
fn pairs_frame(pairs: &[ScoredPair]) -> omnitwin::Result<DataFrame> {
    df!(
        "left" => pairs.iter().map(|p| p.left.as_str()).collect::<Vec<_>>(),
        "right" => pairs.iter().map(|p| p.right.as_str()).collect::<Vec<_>>(),
        "match_weight" => pairs.iter().map(|p| p.match_weight).collect::<Vec<_>>(),
        "match_probability" => pairs.iter().map(|p| p.match_probability).collect::<Vec<_>>(),
        "blocking_rule" => pairs.iter().map(|p| p.blocking_rule as u32).collect::<Vec<_>>(),
    )
    .map_err(|e| omnitwin::Error::DataFrame(e.to_string()))
}

#[pymethods]
impl Linker {
    /// A linker over `tables` (one for dedupe, two or more for linking): each a table
    /// (polars, pandas >= 2.2, pyarrow, DuckDB), a file path or a list of dicts. `settings` is
    /// a dict in the shape of the JSON settings (`link_type`, `unique_id_column`,
    /// `comparisons`, `blocking_rules`, `threshold`, `training`).
    #[new]
    #[pyo3(signature = (settings, *tables))]
    fn new(py: Python<'_>, settings: &Bound<'_, PyAny>, tables: &Bound<'_, PyTuple>) -> PyResult<Linker> {
        let json = json_of(settings)?;
        let inputs = tables.iter().map(|t| Input::of(&t)).collect::<PyResult<Vec<_>>>()?;
        let linker = run(py, || {
            let settings = Settings::from_json(&json)?;
            let frames = inputs.into_iter().map(Input::into_frame).collect::<omnitwin::Result<Vec<_>>>()?;
            omnitwin::matching::Linker::new(settings, &frames)
        })?;
        Ok(Linker { inner: Arc::new(RwLock::new(linker)) })
    }

    /// Trains the model without labels (u from random pairs, m by EM per blocking rule, the
    /// prior); returns the training report.
    fn train<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.writing(py, |linker| linker.train())?;
        to_python(py, &report)
    }

    /// Trains the model from pairs of record ids known to be one person.
    fn train_from_labels<'py>(&self, py: Python<'py>, matches: Vec<(String, String)>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.writing(py, move |linker| {
            let pairs: Vec<(&str, &str)> = matches.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            linker.train_from_labels(&pairs)
        })?;
        to_python(py, &report)
    }

    /// The pairs at or above the threshold, scored: a polars DataFrame (`left`, `right`,
    /// `match_weight`, `match_probability`, `blocking_rule`).
    fn predict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let df = self.reading(py, |linker| pairs_frame(&linker.predict()?))?;
        frame_to_polars(py, df)
    }

    /// Each record's cluster (the smallest record id in it), joined by `pairs` (a DataFrame as
    /// `predict()` returns; by default the linker's own prediction): a polars DataFrame with
    /// `record_id`, `cluster_id`, in input order.
    #[pyo3(signature = (pairs=None))]
    fn cluster<'py>(&self, py: Python<'py>, pairs: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let given: Option<Vec<ScoredPair>> = match pairs {
            Some(pairs) => Some(from_python(&pairs.call_method0("to_dicts")?, "pairs")?),
            None => None,
        };
        let clusters = self.reading(py, move |linker| {
            let pairs = match given {
                Some(pairs) => pairs,
                None => linker.predict()?,
            };
            linker.cluster(&pairs)
        })?;
        let df = run(py, || {
            df!(
                "record_id" => clusters.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
                "cluster_id" => clusters.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
            )
            .map_err(|e| omnitwin::Error::DataFrame(e.to_string()))
        })?;
        frame_to_polars(py, df)
    }

    /// Why two records score as they do: each comparison's level and weight, the blocking
    /// rule, the probability against the threshold, and the chain when joined through others.
    fn explain<'py>(&self, py: Python<'py>, left: String, right: String) -> PyResult<Bound<'py, PyAny>> {
        let explanation = self.reading(py, move |linker| linker.explain(&left, &right))?;
        to_python_as(py, &explanation, "PairExplanation")
    }

    /// Candidate pairs per blocking rule (each pair counted for its first rule only).
    fn candidate_pairs(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        self.reading(py, |linker| Ok(linker.candidate_pairs()))
    }

    /// The trained or given model, as a dict `set_model` takes back; `None` before training.
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let model = self.reading(py, |linker| Ok(linker.model().cloned()))?;
        to_python(py, &model)
    }

    /// Uses a saved model (a dict, as `model()` returns); its comparisons must be the settings'.
    fn set_model(&self, py: Python<'_>, model: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = json_of(model)?;
        self.writing(py, move |linker| linker.set_model(Model::from_json(&json)?))
    }

    /// How many records the linker holds.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, |linker| Ok(linker.records()))
    }
}

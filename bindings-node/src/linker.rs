//! `Linker`: probabilistic record linkage on any tables (the core's
//! [`omnitwin::matching::Linker`]), verb for verb: train, predict, cluster, explain, model.
//! Building, training, predicting and clustering run off the event loop.

use std::sync::{Arc, RwLock};

use napi::bindgen_prelude::{Array, AsyncTask, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use omnitwin::matching::{ScoredPair, Settings};
use serde_json::Value;

use crate::convert::{from_js, guard, model_of, object_json, reading, sync, writing, Job, Json, Shared};
use crate::engine::batch_of;
use crate::errors::Failure;

/// Links or deduplicates records of one or more tables under Splink-style settings.
#[napi]
pub struct Linker {
    inner: Shared<omnitwin::matching::Linker>,
}

/// A record's cluster, as `cluster()` gives it.
#[derive(serde::Serialize)]
struct ClusterRow {
    record_id: String,
    cluster_id: String,
}

impl Linker {
    fn read_job<T: serde::Serialize>(
        &self,
        work: impl FnOnce(&omnitwin::matching::Linker) -> Result<T, Failure> + Send + 'static,
    ) -> AsyncTask<Job<Json>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || reading(&inner, |linker| Json::of(&work(linker)?)))
    }

    fn write_job<T: serde::Serialize>(
        &self,
        work: impl FnOnce(&mut omnitwin::matching::Linker) -> Result<T, Failure> + Send + 'static,
    ) -> AsyncTask<Job<Json>> {
        let inner = Arc::clone(&self.inner);
        Job::new(move || writing(&inner, |linker| Json::of(&work(linker)?)))
    }
}

#[napi]
impl Linker {
    /// A linker over `tables` (one for dedupe, two or more for linking), built off the event
    /// loop: each an array of plain objects (column names as given) or a file path. `settings`
    /// has the fields of the JSON settings (`linkType`, `uniqueIdColumn`, `comparisons`,
    /// `blockingRules`, `threshold`, `training`), camelCase or snake_case.
    #[napi(
        catch_unwind,
        ts_args_type = "settings: LinkSettings, tables: Array<Array<Record<string, unknown>> | string>",
        ts_return_type = "Promise<Linker>"
    )]
    pub fn create(settings: Object, tables: Array) -> AsyncTask<Job<Linker>> {
        let given = guard(|| {
            let settings: Settings = from_js(Value::Object(object_json(&settings, "settings")?), "settings")?;
            let mut batches = Vec::new();
            for i in 0..tables.len() {
                let table: Unknown =
                    tables.get(i).ok().flatten().ok_or_else(|| {
                        Failure::Usage(format!("tables[{i}]: expected an array of rows or a file path"))
                    })?;
                batches.push(batch_of(table, false)?);
            }
            Ok((settings, batches))
        });
        let (settings, tables) = match given {
            Ok(given) => given,
            Err(failure) => return Job::failed(failure),
        };
        Job::new(move || {
            let frames = tables.into_iter().map(|t| t.into_frame()).collect::<Result<Vec<_>, _>>()?;
            let linker = omnitwin::matching::Linker::new(settings, &frames)?;
            Ok(Linker { inner: Arc::new(RwLock::new(linker)) })
        })
    }

    /// Trains the model without labels (u from random pairs, m by EM per blocking rule, the
    /// prior); resolves with the training report.
    #[napi(catch_unwind, ts_return_type = "Promise<TrainingReport>")]
    pub fn train(&self) -> AsyncTask<Job<Json>> {
        self.write_job(|linker| Ok(linker.train()?))
    }

    /// Trains the model from pairs of record ids known to be one person.
    #[napi(catch_unwind, ts_return_type = "Promise<TrainingReport>")]
    pub fn train_from_labels(&self, matches: Vec<Vec<String>>) -> AsyncTask<Job<Json>> {
        self.write_job(move |linker| {
            let pairs = matches
                .iter()
                .map(|pair| match pair.as_slice() {
                    [a, b] => Ok((a.as_str(), b.as_str())),
                    _ => Err(Failure::Usage("trainFromLabels(): each match is a pair [leftId, rightId]".into())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(linker.train_from_labels(&pairs)?)
        })
    }

    /// The pairs at or above the threshold, scored: `left`, `right`, `matchWeight`,
    /// `matchProbability`, `blockingRule`.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<ScoredPair>>")]
    pub fn predict(&self) -> AsyncTask<Job<Json>> {
        self.read_job(|linker| Ok(linker.predict()?))
    }

    /// Each record's cluster (the smallest record id in it), joined by `pairs` (as `predict()`
    /// gives them; by default the linker's own prediction): `{ recordId, clusterId }` in input
    /// order.
    #[napi(
        catch_unwind,
        ts_args_type = "pairs?: Array<ScoredPair>",
        ts_return_type = "Promise<Array<ClusterAssignment>>"
    )]
    pub fn cluster(&self, pairs: Option<Vec<Object>>) -> AsyncTask<Job<Json>> {
        let given = pairs
            .map(|pairs| {
                guard(|| pairs.iter().map(|p| from_js(Value::Object(object_json(p, "pairs")?), "pairs")).collect())
            })
            .transpose();
        let given: Option<Vec<ScoredPair>> = match given {
            Ok(given) => given,
            Err(failure) => return Job::failed(failure),
        };
        self.read_job(move |linker| {
            let pairs = match given {
                Some(pairs) => pairs,
                None => linker.predict()?,
            };
            let clusters = linker.cluster(&pairs)?;
            Ok(clusters
                .into_iter()
                .map(|(record, cluster)| ClusterRow { record_id: record.into(), cluster_id: cluster.into() })
                .collect::<Vec<_>>())
        })
    }

    /// Why two records score as they do: each comparison's level and weight, the blocking
    /// rule, the probability against the threshold, and the chain when joined through others.
    #[napi(catch_unwind, ts_return_type = "PairExplanation")]
    pub fn explain(&self, env: Env, left: String, right: String) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |linker| Json::of(&linker.explain(&left, &right)?)))
    }

    /// Candidate pairs per blocking rule (each pair counted for its first rule only).
    #[napi(catch_unwind)]
    pub fn candidate_pairs(&self, env: Env) -> napi::Result<Vec<f64>> {
        sync(&env, || {
            reading(&self.inner, |linker| Ok(linker.candidate_pairs().into_iter().map(|n| n as f64).collect()))
        })
    }

    /// The trained or given model, an object `setModel` takes back; `null` before training.
    #[napi(catch_unwind, ts_return_type = "Model | null")]
    pub fn model(&self, env: Env) -> napi::Result<Json> {
        sync(&env, || reading(&self.inner, |linker| Json::of(&linker.model())))
    }

    /// Uses a saved model (as `model()` returns it); its comparisons must be the settings'.
    #[napi(catch_unwind, ts_args_type = "model: Model")]
    pub fn set_model(&self, env: Env, model: Object) -> napi::Result<()> {
        sync(&env, || {
            let model = model_of(&model)?;
            writing(&self.inner, |linker| Ok(linker.set_model(model)?))
        })
    }

    /// How many records the linker holds.
    #[napi(catch_unwind)]
    pub fn len(&self, env: Env) -> napi::Result<u32> {
        sync(&env, || reading(&self.inner, |linker| Ok(linker.records() as u32)))
    }
}

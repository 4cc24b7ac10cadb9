//! What-if: the merges and splits a config change would cause on the touchpoints held,
//! computed without touching the engine; and applying it, which records them in the feed.

use serde::{Deserialize, Serialize};

use super::live::diff;
use super::Engine;
use crate::config::Config;
use crate::error::Result;
use crate::model::ChangeEvent;
use crate::model::Text;

/// What a config change would do to the profiles (see [`Engine::simulate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationReport {
    /// Profiles now.
    pub profiles_before: usize,
    /// Profiles under the new config.
    pub profiles_after: usize,
    /// Touchpoints whose profile id would change.
    pub touchpoints_moved: usize,
    /// The changes, as the feed would record them: new profiles, merges, splits.
    pub changes: Vec<ChangeEvent>,
}

impl Engine {
    /// The profiles the touchpoints held would resolve into under `config`, as an engine of
    /// its own (the matching model kept when it fits the new config's comparisons).
    fn resolved_under(&self, config: Config) -> Result<Engine> {
        let mut other = Engine::new(config)?;
        if let Some(model) = self.model.as_deref() {
            if model.check_fits(&other.rules.config.matching.comparisons).is_ok() {
                other.model = Some(std::sync::Arc::new(model.clone()));
            }
        }
        other.append_raw(self.touchpoints.clone());
        other.resolve();
        Ok(other)
    }

    /// Reports the merges and splits `config` would cause on the touchpoints held, without
    /// changing anything (the engine and its store stay as they are). Resolves a copy of the
    /// touchpoints: it needs memory for them twice.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Touchpoint};
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.ingest([
    ///     Touchpoint { phone: Some("0912 345 678".into()), ..Touchpoint::new("a") },
    ///     Touchpoint { phone: Some("+84912345678".into()), ..Touchpoint::new("b") },
    /// ])?;
    /// // What if phones stopped linking?
    /// let stricter = Config::from_json_str(r#"{"identifiers": {"phone": {"enabled": false}}}"#)?;
    /// let what_if = engine.simulate(stricter)?;
    /// assert_eq!((what_if.profiles_before, what_if.profiles_after), (1, 2));
    /// assert_eq!(engine.resolve().profiles, 1, "nothing changed");
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn simulate(&self, config: Config) -> Result<SimulationReport> {
        let other = self.resolved_under(config)?;
        let before = self.assignments();
        let after = other.assignments();
        let old: Vec<Text> = before.iter().map(|a| Text::from(a.profile_id.as_str())).collect();
        let new: Vec<Text> = after.iter().map(|a| Text::from(a.profile_id.as_str())).collect();
        let count = |ids: &[Text]| ids.iter().collect::<rustc_hash::FxHashSet<_>>().len();
        Ok(SimulationReport {
            profiles_before: count(&old),
            profiles_after: count(&new),
            touchpoints_moved: old.iter().zip(&new).filter(|(a, b)| a != b).count(),
            changes: diff(old.iter().map(Some).zip(new.iter())),
        })
    }

    /// Adopts a new config (validated first): the touchpoints held are resolved under it and,
    /// on a live engine, the merges and splits it causes go to the change feed (what
    /// [`Engine::simulate`] reported). A durable store records the new config, so it reopens
    /// with it.
    pub fn apply_config(&mut self, config: Config) -> Result<()> {
        self.writable()?;
        let rules = config.compile()?;
        let model = self.model.as_ref().filter(|m| m.check_fits(&rules.config.matching.comparisons).is_ok()).cloned();
        if model.is_none() {
            self.model_origin = super::durable::ModelOrigin::default();
        }
        self.rules = rules;
        self.model = model;
        self.rules_changed()
    }
}

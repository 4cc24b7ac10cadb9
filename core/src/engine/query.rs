//! Questions about one profile or a segment: by id, by touchpoint, by identifier; segment
//! members; the omnichannel report.

use super::{live, Engine};
use crate::error::{Error, Result};
use crate::model::{Identifier, Profile, ProfileRef, Text, Touchpoint};
use crate::prepare::{identifier_value, scope_of, IdValue, SCOPE_SEPARATOR};
use crate::progress::NoProgress;

impl Engine {
    /// A profile by id. On a live engine, the id of a profile merged into another leads to
    /// the survivor.
    pub fn profile(&self, profile_id: &str) -> Option<ProfileRef<'_>> {
        if let Some(live) = self.stale_live() {
            let id = live.current_id(profile_id)?;
            return self.live_profile(live, &id);
        }
        // A live engine knows where merged-away ids went.
        let current = self.live.as_ref().and_then(|live| live.current_id(profile_id));
        let profile_id = current.as_deref().unwrap_or(profile_id);
        let r = self.resolved(&NoProgress);
        let &c = r.by_id().get(profile_id)?;
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[c as usize]))
    }

    /// The profile a touchpoint belongs to.
    pub fn profile_of(&self, touchpoint_id: &str) -> Option<ProfileRef<'_>> {
        let &tp = self.index.get(touchpoint_id)?;
        if let Some(live) = self.stale_live() {
            return self.live_profile(live, &live.profile_of[tp as usize]);
        }
        let c = self.resolved(&NoProgress).graph.cluster_of[tp as usize];
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[c as usize]))
    }

    /// The profile an identifier belongs to, from a raw value (normalized here like any input:
    /// `lookup(&Identifier::new(IdKind::Phone, "0912 345 678"))`). For kinds scoped by source,
    /// give the source as the identifier's scope. Blocked and shared identifiers identify nobody
    /// and return `None`.
    pub fn lookup(&self, identifier: &Identifier) -> Option<ProfileRef<'_>> {
        let (kind_index, key) = self.identifier_key(identifier)?;
        let kind_index = kind_index as usize;
        if let Some(live) = self.stale_live() {
            let owner = live.identifier_owner(kind_index as u16, &key, &self.touchpoints)?;
            return self.live_profile(live, &live.profile_of[owner as usize]);
        }
        let r = self.resolved(&NoProgress);
        let id = r.graph.interner.get(kind_index as u16, &key)?;
        if !r.graph.links(id) {
            return None;
        }
        // The identifier's first member anchors it; members refused a link stay elsewhere.
        let owner = *r.graph.members.get(id as usize).first()?;
        Some(ProfileRef::Borrowed(&self.built_profiles(&NoProgress)[r.graph.cluster_of[owner as usize] as usize]))
    }

    /// An identifier as the engine interns it: its kind's index and its key (normalized value,
    /// scoped by source for scoped kinds). `None` for a kind the engine does not link on or an
    /// invalid value.
    pub(super) fn identifier_key(&self, identifier: &Identifier) -> Option<(u16, Text)> {
        let kind_index = self.rules.kind_index(&identifier.kind)?;
        let rule = &self.rules.kinds[kind_index];
        let IdValue::Valid(value) = identifier_value(&identifier.kind, &identifier.value, self.rules.region) else {
            return None;
        };
        let (scope, value) = match (&identifier.scope, rule.scope) {
            (_, crate::config::Scope::None) => (None, value.as_str()),
            (Some(scope), _) => (Some(scope.as_str()), value.as_str()),
            (None, _) => scope_of(rule, &value, None),
        };
        let key: Text = match scope {
            Some(scope) => format!("{scope}{SCOPE_SEPARATOR}{value}").into(),
            None => value.into(),
        };
        Some((kind_index as u16, key))
    }

    /// The live state, when it is ahead of the batch resolution (which is then not computed).
    pub(super) fn stale_live(&self) -> Option<&live::Live> {
        self.live.as_deref().filter(|_| self.resolution.get().is_none())
    }

    /// The profile of the live state with id `profile_id`: the one built since its component
    /// last changed (shared, not copied), else built from the components it lies in (an
    /// identifier's status in the profile, linked or partly refused, depends on its touchpoints
    /// in other profiles too) and kept.
    pub(super) fn live_profile(&self, live: &live::Live, profile_id: &str) -> Option<ProfileRef<'_>> {
        let ctx = self.live_context();
        let built = live.built_profile(profile_id);
        if let Some(profile) = built.as_ref().filter(|p| p.traits.as_of == ctx.as_of) {
            return Some(ProfileRef::Shared(std::sync::Arc::clone(profile)));
        }
        let tps = live.profile_touchpoints(profile_id)?;
        let profile = match built {
            Some(built) => {
                // Built before the latest arrival moved `as_of`: time-dependent traits again.
                let mut profile = Profile::clone(&built);
                let members: Vec<&Touchpoint> = tps.iter().map(|&tp| &self.touchpoints[tp as usize]).collect();
                crate::twin::enrich(&mut profile, &members, &self.rules.twin, &ctx);
                profile
            }
            None => {
                let first = *tps.first()?;
                let part =
                    live.resolve_part(live.component(&tps), &self.touchpoints, &self.rules, self.model.as_ref(), false);
                let r = &part.resolution;
                let c = r.graph.cluster_of[part.local(first) as usize];
                crate::twin::build_some_profiles(&part.touchpoints, &r.graph, &self.rules, &r.profile_ids, &[c], &ctx)
                    .pop()?
            }
        };
        let profile = std::sync::Arc::new(profile);
        live.keep_built(std::sync::Arc::clone(&profile));
        Some(ProfileRef::Shared(profile))
    }

    /// On a live engine whose batch resolution is not computed: the touchpoints connected to
    /// `tps` through any identifier or match, resolved on their own (for explanations).
    pub(super) fn live_part(&self, tps: &[u32]) -> Option<live::Part> {
        let live = self.stale_live()?;
        Some(live.resolve_part(live.neighbourhood(tps), &self.touchpoints, &self.rules, self.model.as_ref(), true))
    }

    /// The ids of the profiles in a segment, sorted, evaluated on every profile in parallel.
    /// A `traits.<name>` the config does not define is an error naming its position.
    ///
    /// ```
    /// use omnitwin::{Config, Engine, Segment, Touchpoint};
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.ingest([
    ///     Touchpoint { email: Some("an@x.vn".into()), event_type: Some("purchase".into()), amount: Some(500_000.0),
    ///                  channel: Some("store".parse().unwrap()), timestamp: Some(1_700_000_000_000), ..Touchpoint::new("t1") },
    ///     Touchpoint { email: Some("binh@x.vn".into()), event_type: Some("page_view".into()), ..Touchpoint::new("t2") },
    /// ])?;
    /// let buyers = engine.segment(&Segment::parse(r#"orders >= 1 and channels contains "store""#)?)?;
    /// assert_eq!(buyers, vec![engine.profile_of("t1").unwrap().profile_id.clone()]);
    /// // A campaign by email reaches only those who agreed to it.
    /// let email = Segment::parse("orders >= 1")?.requiring_consent("marketing", "email");
    /// assert!(engine.segment(&email)?.is_empty());
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn segment(&self, segment: &crate::Segment) -> Result<Vec<String>> {
        self.check_traits(segment)?;
        use rayon::prelude::*;
        let mut ids: Vec<String> = self
            .built_profiles(&NoProgress)
            .par_iter()
            .filter(|p| segment.matches(p))
            .map(|p| p.profile_id.clone())
            .collect();
        ids.par_sort_unstable();
        Ok(ids)
    }

    /// The ids of the profiles in a segment named in the config, sorted (with the consent it
    /// requires).
    pub fn segment_members(&self, name: &str) -> Result<Vec<String>> {
        let Some(found) = self.rules.twin.segments.iter().find(|s| s.name == name) else {
            let names: Vec<&str> = self.rules.twin.segments.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::config(
                "segments",
                format!(
                    "no segment named `{name}`; the config defines: {}",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                ),
            ));
        };
        self.segment(&found.expression)
    }

    /// Refuses an expression that reads a user-defined trait the config does not define.
    pub(super) fn check_traits(&self, segment: &crate::Segment) -> Result<()> {
        match segment.undefined_trait(self.rules.config.traits.custom.keys().map(String::as_str)) {
            None => Ok(()),
            Some(e) => Err(Error::InvalidExpression {
                expression: segment.to_string(),
                position: e.position,
                message: e.message,
            }),
        }
    }

    /// The omnichannel report over every profile: customers by number of channels, the
    /// channel-to-channel transitions of journeys, the journey funnel, revenue by channel and
    /// by first and last touch, and identity health; [`crate::html::report`] draws it.
    pub fn report(&self) -> crate::twin::OmnichannelReport {
        use rayon::prelude::*;
        let r = self.resolved(&NoProgress);
        let built = self.built_profiles(&NoProgress);
        let as_of = self.twin_context(r).as_of;
        let profiles = built.par_iter().enumerate().map(|(c, profile)| {
            let tps: Vec<&Touchpoint> =
                r.graph.clusters.get(c).iter().map(|&i| &self.touchpoints[i as usize]).collect();
            (profile, tps)
        });
        crate::twin::build_report(profiles, &self.rules.twin, r.report.clone(), as_of)
    }
}

//! A profile as the engine hands it out, without copying it.

use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::Profile;

/// A profile the engine gives out: borrowed from its batch resolution, shared with the live
/// state's profiles built since their component last changed, or built for this call. Reading
/// one never copies the profile (on a live engine a copy was most of a `lookup`); it reads as a
/// [`Profile`] through `Deref`, and [`ProfileRef::into_owned`] gives a copy to keep.
///
/// ```
/// use omnitwin::{Config, Engine, IdKind, Identifier, Touchpoint};
///
/// let mut engine = Engine::new(Config::default())?;
/// engine.ingest_one(Touchpoint { email: Some("an@gmail.com".into()), ..Touchpoint::new("t1") })?;
/// let found = engine.lookup(&Identifier::new(IdKind::Email, "An@Gmail.com")).unwrap();
/// assert_eq!(found.touchpoint_ids, ["t1"]);
/// let kept: omnitwin::Profile = found.into_owned();
/// assert_eq!(kept.touchpoint_count, 1);
/// # Ok::<(), omnitwin::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum ProfileRef<'a> {
    /// Part of the engine's batch resolution.
    Borrowed(&'a Profile),
    /// Shared with the engine's live state, or built for this call alone.
    Shared(Arc<Profile>),
}

impl ProfileRef<'_> {
    /// The profile as a value of its own (a copy, unless no one else holds it).
    pub fn into_owned(self) -> Profile {
        match self {
            ProfileRef::Borrowed(profile) => profile.clone(),
            ProfileRef::Shared(profile) => Arc::try_unwrap(profile).unwrap_or_else(|shared| Profile::clone(&shared)),
        }
    }
}

impl Deref for ProfileRef<'_> {
    type Target = Profile;

    fn deref(&self) -> &Profile {
        match self {
            ProfileRef::Borrowed(profile) => profile,
            ProfileRef::Shared(profile) => profile,
        }
    }
}

impl AsRef<Profile> for ProfileRef<'_> {
    fn as_ref(&self) -> &Profile {
        self
    }
}

impl PartialEq for ProfileRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl PartialEq<Profile> for ProfileRef<'_> {
    fn eq(&self, other: &Profile) -> bool {
        **self == *other
    }
}

/// Written as the profile it refers to.
impl Serialize for ProfileRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Profile::serialize(self, serializer)
    }
}

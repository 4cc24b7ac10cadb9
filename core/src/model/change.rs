//! The change feed's entries: what each write did to the profiles, as downstream systems read it.

use serde::{Deserialize, Serialize};

/// What a change did to the profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeEvent {
    /// A new profile.
    Created {
        /// Its id.
        profile_id: String,
    },
    /// A profile joined another: its id now leads to `into` (the older profile's id).
    Merged {
        /// The id merged away.
        profile_id: String,
        /// The surviving profile.
        into: String,
    },
    /// A profile came apart (an identifier that held it together turned out shared, a
    /// per-profile limit now refuses a link): its touchpoints are now in the `into` profiles.
    Split {
        /// The profile that split.
        profile_id: String,
        /// The profiles its touchpoints are in now (it may be one of them).
        into: Vec<String>,
    },
    /// A person was forgotten ([`crate::Engine::forget`]): the profile and everything in it
    /// are gone; downstream systems delete it too.
    Forgotten {
        /// The profile forgotten.
        profile_id: String,
    },
    /// A profile became a member of a segment named in the config (its traits changed, it
    /// was created or merged, or [`crate::Engine::refresh_segments`] found it).
    SegmentEntered {
        /// The profile.
        profile_id: String,
        /// The segment's name.
        segment: String,
    },
    /// A profile left a segment (a profile merged away leaves all of its segments; a
    /// forgotten one leaves with the `forgotten` change).
    SegmentExited {
        /// The profile.
        profile_id: String,
        /// The segment's name.
        segment: String,
    },
}

impl ChangeEvent {
    /// The profile the change is about.
    pub fn profile_id(&self) -> &str {
        match self {
            ChangeEvent::Created { profile_id }
            | ChangeEvent::Merged { profile_id, .. }
            | ChangeEvent::Split { profile_id, .. }
            | ChangeEvent::Forgotten { profile_id }
            | ChangeEvent::SegmentEntered { profile_id, .. }
            | ChangeEvent::SegmentExited { profile_id, .. } => profile_id,
        }
    }
}

/// One entry of the change feed: `{"seq": 3, "change": "merged", "profile_id": …, "into": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Change {
    /// Its position in the feed, from 1: read on with [`crate::Engine::changes`]`(seq)`.
    pub seq: u64,
    /// What changed.
    #[serde(flatten)]
    pub event: ChangeEvent,
}

/// Written as one flat struct (what `#[serde(flatten)]` reads back), not as a map, so that
/// serializers that rename struct fields (the Node package's camelCase) see every field.
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = match &self.event {
            ChangeEvent::Created { .. } | ChangeEvent::Forgotten { .. } => 3,
            _ => 4,
        };
        let mut out = serializer.serialize_struct("Change", fields)?;
        out.serialize_field("seq", &self.seq)?;
        let change = match &self.event {
            ChangeEvent::Created { .. } => "created",
            ChangeEvent::Merged { .. } => "merged",
            ChangeEvent::Split { .. } => "split",
            ChangeEvent::Forgotten { .. } => "forgotten",
            ChangeEvent::SegmentEntered { .. } => "segment_entered",
            ChangeEvent::SegmentExited { .. } => "segment_exited",
        };
        out.serialize_field("change", change)?;
        out.serialize_field("profile_id", self.event.profile_id())?;
        match &self.event {
            ChangeEvent::Merged { into, .. } => out.serialize_field("into", into)?,
            ChangeEvent::Split { into, .. } => out.serialize_field("into", into)?,
            ChangeEvent::SegmentEntered { segment, .. } | ChangeEvent::SegmentExited { segment, .. } => {
                out.serialize_field("segment", segment)?
            }
            _ => {}
        }
        out.end()
    }
}

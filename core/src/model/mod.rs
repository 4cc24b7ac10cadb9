//! The domain's types: touchpoints in, identifiers between, profiles out. Serde on all of them.

mod change;
mod channel;
mod identifier;
mod ingest;
mod profile;
mod profile_ref;
mod touchpoint;
mod traits;

pub use change::{Change, ChangeEvent};
pub use channel::Channel;
pub use identifier::{IdKind, Identifier};
pub use ingest::{IngestReport, OnError, RejectedRow};
pub use profile::{Attribute, IdentifierStatus, ObservedValue, Profile, ProfileIdentifier, ProfileStatus};
pub use profile_ref::ProfileRef;
pub use touchpoint::{Text, Touchpoint, STANDARD_COLUMNS};
pub(crate) use traits::consent_for;
pub use traits::{AbandonedCart, CartItem, Consent, Journey, JourneyStage, Rfm, StageTransition, TraitValue, Traits};

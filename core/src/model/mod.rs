//! The domain's types: touchpoints in, identifiers between, profiles out. Serde on all of them.

mod channel;
mod identifier;
mod profile;
mod profile_ref;
mod touchpoint;
mod traits;

pub use channel::Channel;
pub use identifier::{IdKind, Identifier};
pub use profile::{Attribute, IdentifierStatus, ObservedValue, Profile, ProfileIdentifier, ProfileStatus};
pub use profile_ref::ProfileRef;
pub use touchpoint::{Text, Touchpoint, STANDARD_COLUMNS};
pub use traits::{AbandonedCart, CartItem, Consent, Journey, JourneyStage, Rfm, StageTransition, TraitValue, Traits};

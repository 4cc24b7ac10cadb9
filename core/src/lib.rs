//! # omnitwin
//!
//! A customer data platform engine: it takes **touchpoints** from every channel (store tills,
//! the website, marketplaces, social messaging, email, the hotline, the app) and resolves them
//! into **profiles**, one per real customer, with every identifier and attribute, where each
//! value came from, and why records were joined.
//!
//! ```
//! use omnitwin::{Config, Engine, Touchpoint};
//!
//! let mut engine = Engine::new(Config::default())?;
//! engine.ingest([
//!     Touchpoint { email: Some("an.nguyen+shop@gmail.com".into()), full_name: Some("Nguyễn An".into()), ..Touchpoint::new("web-1") },
//!     Touchpoint { email: Some("AnNguyen@gmail.com".into()), phone: Some("0912.345.678".into()), ..Touchpoint::new("pos-1") },
//!     Touchpoint { phone: Some("+84 912 345 678".into()), full_name: Some("Nguyen An".into()), ..Touchpoint::new("zalo-1") },
//!     Touchpoint { phone: Some("0000000000".into()), ..Touchpoint::new("pos-2") }, // junk: links nothing
//! ])?;
//! assert_eq!(engine.resolve().profiles, 2);
//! let profile = engine.profile_of("zalo-1").unwrap();
//! assert_eq!(profile.touchpoint_count, 3);
//! assert_eq!(profile.attribute("full_name"), Some("Nguyễn An"));
//! # Ok::<(), omnitwin::Error>(())
//! ```
//!
//! The pipeline: [`normalize`] (emails, phones, names, addresses) → the identity graph with
//! merge protection → profiles with survivorship and provenance, all behind [`Engine`].

// Unit tests share the examples' synthetic data generator, which names the crate as users do.
#[cfg(test)]
extern crate self as omnitwin;

pub mod config;
mod engine;
pub mod error;
mod graph;
pub mod html;
pub mod io;
pub mod matching;
pub mod model;
pub mod normalize;
mod parallel;
mod prepare;
pub mod progress;
mod store;
mod twin;

pub use config::Config;
pub use engine::{
    Assignment, Engine, Explanation, ForgetReport, ForgetTarget, IngestOutcome, LinkStep, SimulationReport, StepStatus,
    StoreCheck,
};
pub use error::{Error, ErrorKind, Result};
pub use graph::{LinkStats, SharedFinding};
pub use matching::{MatchingReport, ModelSource};
pub use model::{
    Change, ChangeEvent, Channel, IdKind, Identifier, IngestReport, OnError, Profile, ProfileRef, ProfileStatus,
    RejectedRow, Touchpoint,
};
pub use polars::prelude::DataFrame;
pub use twin::{
    Aggregate, CartFields, ChannelCountRow, ChannelTransition, ConsentSettings, CustomTrait, EventClasses, FunnelRow,
    OmnichannelReport, QuarantineReport, ResolveReport, RevenueRow, RfmScale, Segment, SegmentSettings,
    SharedIdentifierReport, TraitSettings,
};

/// The README's Rust example, compiled and run as a doc test so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

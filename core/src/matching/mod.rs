//! Probabilistic record linkage (Fellegi–Sunter): comparisons with levels, blocking rules,
//! training without labels (u from random pairs, m by expectation–maximisation), scoring,
//! clustering and explanations, on any table with any columns.
//!
//! ```
//! use omnitwin::matching::{Linker, Settings};
//! use omnitwin::DataFrame;
//! use polars::prelude::*;
//!
//! let df = df!(
//!     "unique_id" => ["1", "2", "3", "4"],
//!     "surname" => ["nguyen", "nguyen", "tran", "tran"],
//!     "given_name" => ["an", "an", "binh", "minh"],
//!     "dob" => ["1990-01-02", "1990-01-02", "1985-05-05", "1971-09-09"]
//! ).unwrap();
//! let settings = Settings::from_json(r#"{
//!     "comparisons": [
//!         {"column": "given_name", "levels": ["exact", {"jaro_winkler": 0.9}]},
//!         {"column": "dob", "levels": ["exact"]}
//!     ],
//!     "blocking_rules": [["surname"]],
//!     "training": {"u_sample_pairs": 100}
//! }"#).unwrap();
//! let mut linker = Linker::new(settings, &[df]).unwrap();
//! linker.train().unwrap();
//! let pairs = linker.predict().unwrap();
//! let clusters = linker.cluster(&pairs).unwrap();
//! assert_eq!(clusters[0].1, clusters[1].1);
//! assert_ne!(clusters[2].1, clusters[3].1);
//! ```

mod blocking;
mod comparison;
mod linker;
mod model;
mod records;
mod settings;
mod similarity;

pub use linker::{ComparisonPart, Linker, PairExplanation, ScoredPair, TrainingReport};
pub use model::{probability, ComparisonModel, LevelModel, Model};
pub use settings::{ComparisonSpec, LevelSpec, LinkType, Settings, TrainingSettings};

//! Probabilistic record linkage (Fellegi–Sunter): comparisons with levels, blocking rules,
//! training without labels (u over every pair of records, or random ones; m by
//! expectation–maximisation), scoring, clustering and explanations, on any table with any
//! columns.
//!
//! ```
//! use omnitwin::matching::{Linker, Settings};
//! use polars::prelude::*;
//!
//! // 40 people, each written twice: the second time with the given name misspelt.
//! let given = ["an", "binh", "chau", "dung", "giang", "hoa", "khanh", "linh"];
//! let surnames = ["nguyen", "tran", "le", "pham", "vu"];
//! let (mut ids, mut first, mut last, mut dob) = (vec![], vec![], vec![], vec![]);
//! for p in 0..40 {
//!     for copy in 0..2 {
//!         ids.push(format!("{p}-{copy}"));
//!         let name = given[p % 8];
//!         first.push(if copy == 0 { name.to_owned() } else { format!("{name}h") });
//!         last.push(surnames[p % 5].to_owned());
//!         dob.push(format!("19{}-0{}-1{}", 50 + p, 1 + p % 9, p % 10));
//!     }
//! }
//! let df = df!("unique_id" => ids, "given_name" => first, "surname" => last, "dob" => dob).unwrap();
//! let settings = Settings::from_json(r#"{
//!     "comparisons": [
//!         {"column": "given_name", "levels": ["exact", {"jaro_winkler": 0.85}]},
//!         {"column": "dob", "levels": ["exact", {"within_years": 1}]}
//!     ],
//!     "blocking_rules": [["surname"]],
//!     "training": {"u_sample_pairs": 3000}
//! }"#).unwrap();
//! let mut linker = Linker::new(settings, &[df]).unwrap();
//! linker.train().unwrap();
//! let pairs = linker.predict().unwrap();
//! let clusters = linker.cluster(&pairs).unwrap();
//! assert_eq!(clusters[0].1, clusters[1].1, "a person's two records join");
//! assert_ne!(clusters[0].1, clusters[2].1, "two people stay apart");
//! let why = linker.explain("0-0", "0-1").unwrap();
//! assert!(why.linked && why.match_probability >= 0.9);
//! ```

mod blocking;
mod comparison;
mod linker;
mod model;
mod records;
mod report;
mod settings;
mod similarity;
mod touchpoints;
mod u_estimate;
mod value_pairs;

pub(crate) use linker::Plan;
pub use linker::{ChainLink, ComparisonPart, Linker, PairExplanation, ScoredPair, TrainingReport};
pub use model::{probability, ComparisonModel, LevelModel, Model, TermFrequencies};
pub(crate) use records::text_values;
pub use report::{MatchingReport, ModelSource};
pub use settings::{ComparisonSpec, LevelSpec, LinkType, Settings, TrainingSettings};
pub(crate) use touchpoints::touchpoint_records;
pub use touchpoints::{TouchpointMatching, TOUCHPOINT_COLUMNS};

//! Import and export: DataFrames and files (CSV, Parquet, JSON Lines) in and out, through polars.

pub(crate) mod frame;
mod files;

pub use files::{read_frame, write_frame, InputFormat, OutputFormat};

//! Import and export: DataFrames and files (CSV, Parquet, JSON Lines) in and out, through polars.

mod files;
pub(crate) mod frame;

pub use files::{read_frame, write_frame, CsvBatches, FrameWriter, InputFormat, OutputFormat};
pub use polars::prelude::DataType;

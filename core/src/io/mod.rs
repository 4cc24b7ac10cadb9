//! Data in and out: files (CSV, Parquet, JSON Lines), DataFrames and rows, through polars, and
//! the conversion between their columns and touchpoints or profiles.

mod files;
pub(crate) mod frame;
mod rows;
mod trait_columns;

pub use files::{read_frame, write_frame, CsvBatches, FrameWriter, InputFormat, OutputFormat};
pub use polars::prelude::DataType;
pub use rows::frame_from_rows;

//! Import and export: DataFrames and files (CSV, Parquet, JSON Lines) in and out, through polars;
//! and the durable embedded store (SQLite) behind [`crate::Engine::open`].

mod checkpoint;
mod checksum;
mod files;
pub(crate) mod frame;
mod lock;
mod rows;
mod sqlite;
mod trait_columns;
mod wal;

pub use files::{read_frame, write_frame, CsvBatches, FrameWriter, InputFormat, OutputFormat};
pub use polars::prelude::DataType;
pub use rows::frame_from_rows;
#[cfg(test)]
pub(crate) use sqlite::{fail_store_writes, Step};
pub(crate) use sqlite::{Access, Durable, MetaUpdates, Stored};

//! The durable embedded store (SQLite) behind [`crate::Engine::open`]: one transaction per
//! write, row checksums, one writer per store, read-only readers, checkpoints off the writer's
//! path. The engine decides what is written; this module only keeps it safe.

mod checkpoint;
mod checksum;
mod lock;
mod sqlite;
mod wal;

#[cfg(test)]
pub(crate) use sqlite::{fail_store_writes, Step};
pub(crate) use sqlite::{Access, Durable, MetaUpdates, Stored};

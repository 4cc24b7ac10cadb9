//! The durable store as users live with it: opened and closed many times, with matching on and
//! a trained model, damaged, crashed, shared between processes and starved of disk. Whatever
//! happens, a store opens again with every acknowledged touchpoint, or says clearly why not.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;
mod crash;
mod damaged;
mod full_disk;
mod lifecycle;
mod processes;
mod reopen;

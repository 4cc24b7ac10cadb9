//! Checkpoints off the writer's path. SQLite's automatic checkpoint copies the write-ahead log
//! into the database file inside the commit that crosses its threshold, so every thousandth page
//! written made one caller wait for a few megabytes of file writes (a fifth of the store's share
//! of sustained ingest). Here commits wake a thread that holds its own connection and
//! checkpoints passively (never blocking the writer or readers), at most once per half
//! threshold of new pages. The log starts over only when a checkpoint has caught up with it
//! before the next write, which a steady stream of small commits rarely lets happen: once the
//! log holds a few thresholds, the writer checkpoints in its commit as SQLite would, copying
//! only what the thread has not copied yet, and the log starts over.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// Log pages after which a commit wakes the checkpointing thread (SQLite's own default
/// threshold for its automatic checkpoints).
const WAKE_AT: i32 = 1_000;

/// Log pages after which the writer checkpoints in its commit, as SQLite would (16 MiB of log
/// at 4 KiB pages): the log never grows without bound.
const BACKSTOP_AT: i32 = 4 * WAKE_AT;

/// The thread that checkpoints a store's log; stopped (and its connection closed) on drop.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
    /// Set when the store closes (the writer's hook keeps a sender: the channel stays open).
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the store at `path` whose writing connection is `writer`: replaces
    /// the writer's automatic checkpoints (a log hook does both jobs in SQLite).
    pub(crate) fn start(path: &Path, writer: &mut Connection) -> rusqlite::Result<Checkpointer> {
        let (wake, woken) = sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let own =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX);
        let stopped = Arc::clone(&stop);
        let thread = match own {
            Ok(conn) => std::thread::Builder::new()
                .name("omnitwin-checkpoint".into())
                .spawn(move || checkpoint_when_woken(conn, woken, &stopped))
                .ok(),
            Err(_) => None,
        };
        // Without the thread, the writer checkpoints in its commits as SQLite would.
        let waker = thread.as_ref().map(|_| wake.clone());
        // The log's length when the thread was last woken (0: not since the log started over).
        let mut woken_at: i32 = 0;
        writer.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
            if pages < woken_at {
                woken_at = 0;
            }
            if pages >= BACKSTOP_AT || (pages >= WAKE_AT && waker.is_none()) {
                // Whatever fails here, the commit that called the hook has happened.
                let _ = wal.checkpoint();
                woken_at = 0;
            } else if pages >= WAKE_AT && pages - woken_at >= WAKE_AT / 2 {
                if let Some(waker) = &waker {
                    // Full: a checkpoint is already asked for.
                    let _ = waker.try_send(());
                }
                woken_at = pages;
            }
            Ok(())
        }))?;
        Ok(Checkpointer { wake, stop, thread })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // The thread ends its loop at the next wake; its connection closes before the writer's.
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = self.wake.send(());
            let _ = thread.join();
        }
    }
}

/// The thread's loop: a passive checkpoint each time a commit asks, until the store closes.
fn checkpoint_when_woken(conn: Connection, woken: Receiver<()>, stop: &AtomicBool) {
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    while woken.recv().is_ok() && !stop.load(Ordering::Acquire) {
        // A busy or failed checkpoint leaves the log longer; the next wake tries again.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

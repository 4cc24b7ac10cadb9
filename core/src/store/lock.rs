//! What a store keeps beside its SQLite file: the writer's lock, and the checks made before
//! SQLite opens the file.
//!
//! The lock file (`<store>-lock`) is held locked (an advisory lock the system releases when the
//! process ends, however it ends) by the one writer. After each commit the writer notes in it
//! the process id and what the store holds (its highest touchpoint `seq` and its number of
//! changes): if a later writer finds the store holding less, commits were lost after they were
//! acknowledged — the log (`<store>-wal`) was removed or damaged, or a power cut took commits
//! that were not synced yet — and it says so instead of carrying on silently.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::sqlite::{Access, Stored};
use super::wal;
use crate::error::{Error, Result};

/// The path of a store's writer lock: `<store>-lock`, beside SQLite's `-wal` and `-shm`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    sibling(path, "-lock")
}

/// `<store><suffix>`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The writer's lock on a store, held while it is open.
#[derive(Debug)]
pub(crate) struct WriterLock {
    file: std::fs::File,
    /// What the previous writer noted: (highest touchpoint seq, changes).
    noted: Option<(i64, i64)>,
}

impl WriterLock {
    /// Takes the writer's lock of the store at `path`, or says who holds it.
    pub(crate) fn take(path: &Path) -> Result<WriterLock> {
        let lock = lock_path(path);
        let mut file =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock).map_err(
                |e| Error::Store {
                    path: path.to_owned(),
                    message: format!("cannot create its lock file {}: {e}", lock.display()),
                },
            )?;
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        let field =
            |name: &str| -> Option<i64> { text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()) };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = field("pid ").map_or_else(|| "another process".into(), |pid| format!("process {pid}"));
                return Err(Error::Store {
                    path: path.to_owned(),
                    message: format!(
                        "in use by another process ({holder}, or another engine of this one): a store has one writer \
                         at a time; close the other, or open this one read-only (Engine::open_read_only) to read it \
                         meanwhile"
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Store {
                    path: path.to_owned(),
                    message: format!("cannot lock it for writing ({}): {e}", lock.display()),
                })
            }
        }
        let noted = field("touchpoints ").zip(field("changes "));
        Ok(WriterLock { file, noted })
    }

    /// Notes what the store holds after a commit. Best effort: the note only serves to detect
    /// lost commits later, so a failure to write it fails nothing.
    pub(crate) fn note(&self, max_touchpoint_seq: i64, changes: i64) {
        let text = format!(
            "omnitwin store writer lock\npid {}\ntouchpoints {max_touchpoint_seq}\nchanges {changes}\n",
            std::process::id()
        );
        // Fixed length, so a shorter note never leaves the end of a longer one behind.
        let mut bytes = format!("{text:<96}").into_bytes();
        bytes.truncate(96);
        let mut file = &self.file;
        let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.write_all(&bytes));
    }

    /// What to say when the store holds less than the previous writer noted. Every write adds
    /// a touchpoint or a change, and the change feed never shrinks: a store with fewer changes,
    /// or as many changes and a lower highest touchpoint, lost commits.
    pub(crate) fn lost_commits(&self, stored: &Stored) -> Option<String> {
        let (seq, changes) = self.noted?;
        let held = (super::sqlite::last_change_seq(stored), stored.max_touchpoint_seq);
        if held.0 > changes || (held.0 == changes && held.1 >= seq) {
            return None;
        }
        Some(format!(
            "the store holds fewer commits than its last writer acknowledged ({} changes and touchpoints up to {} \
             where it noted {changes} and {seq}): its log (-wal file) was removed or damaged, or a power cut took \
             the last commits; what they held is lost unless a backup has it",
            held.0, held.1
        ))
    }
}

/// Before SQLite opens a store: scans its log for commits SQLite would drop (see [`wal`]). A
/// writer first keeps a copy of such a log beside it (`<store>-wal.damaged-<ms>`), since
/// SQLite starts the log over at its next checkpoint. Returns what to say, if anything.
pub(crate) fn scan_log(path: &Path, access: Access) -> Option<String> {
    let log_path = sibling(path, "-wal");
    let log = std::fs::read(&log_path).ok()?;
    let found = wal::scan(&log);
    if !found.loses_commits() {
        return None;
    }
    let kept = match access {
        Access::Write => {
            let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let copy = sibling(path, &format!("-wal.damaged-{at}"));
            std::fs::write(&copy, &log).ok().map(|()| format!(" (the log was kept as {})", copy.display()))
        }
        Access::ReadOnly => None,
    };
    Some(format!(
        "its log (-wal file) is damaged: {} the store opens with what was committed before the damage; \
         restore it from a backup if what was lost matters{}",
        if found.bad_header {
            "its header fails its checksum, so none of its commits can be replayed;".to_owned()
        } else {
            format!("{} commit(s) after a damaged frame cannot be replayed;", found.lost_commits)
        },
        kept.unwrap_or_default()
    ))
}

//! The durable embedded store: one SQLite file (bundled SQLite, write-ahead log) holding what
//! an engine needs to come back after a restart or a crash — its config, its matching model,
//! every touchpoint in the order it was acknowledged, and the change feed. Profiles are not
//! stored: reopening resolves the stored touchpoints with the stored model, which gives exactly
//! the profiles (and ids) the engine had.
//!
//! A write is one transaction: the touchpoints of a call and the changes they caused are
//! committed together or not at all, and a call returns only after its commit. The log is
//! synced at checkpoints (`synchronous = NORMAL`): a killed process loses nothing it
//! acknowledged; a power cut may lose the last commits, never leaving half of one.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::engine::Change;
use crate::error::{Error, Result};
use crate::model::Touchpoint;

/// The store format this version writes and reads; a store written by a newer format is
/// refused rather than misread.
pub(crate) const FORMAT_VERSION: i64 = 1;

/// An open store.
#[derive(Debug)]
pub(crate) struct Durable {
    /// One connection; the engine serializes writes, the mutex makes the engine shareable
    /// between threads.
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// What a store holds when opened.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// The config (JSON), absent in a new store.
    pub config: Option<String>,
    /// The matching model (JSON), once one was fixed.
    pub model: Option<String>,
    /// The RFM scale (JSON), once one was fixed.
    pub rfm_scale: Option<String>,
    /// Every touchpoint, in the order acknowledged.
    pub touchpoints: Vec<Touchpoint>,
    /// The change feed.
    pub changes: Vec<Change>,
    /// The salt of the suppression list's digests.
    pub salt: Option<String>,
    /// The suppression list: salted digests of forgotten identifiers.
    pub suppressed: Vec<[u8; 32]>,
}

impl Durable {
    /// Opens (or creates) the store at `path` and reads what it holds.
    pub(crate) fn open(path: &Path) -> Result<(Durable, Stored)> {
        let fail = |e: rusqlite::Error| store_error(path, e);
        let conn = Connection::open(path).map_err(fail)?;
        // WAL: readers never wait for the writer; NORMAL: commits are not synced one by one.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(fail)?;
        // Deleted rows are overwritten, not left in free pages: what `forget` erases is gone.
        conn.pragma_update(None, "secure_delete", "ON").map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(fail)?;
        let found: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |r| r.get(0))
            .optional()
            .map_err(fail)?;
        if found.is_none() {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE touchpoints (seq INTEGER PRIMARY KEY, touchpoint_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
                 CREATE TABLE changes (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
                 COMMIT;",
            )
            .map_err(fail)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('format_version', ?1)",
                params![FORMAT_VERSION.to_string()],
            )
            .map_err(fail)?;
        }
        conn.execute_batch("CREATE TABLE IF NOT EXISTS suppressed (digest BLOB PRIMARY KEY);").map_err(fail)?;
        let meta = |key: &str| -> Result<Option<String>> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional().map_err(fail)
        };
        let version: i64 = meta("format_version")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        if version > FORMAT_VERSION {
            return Err(Error::Store {
                path: path.to_owned(),
                message: format!(
                    "written in store format {version} by a newer omnitwin; this version reads format {FORMAT_VERSION} \
                     (upgrade omnitwin to open it)"
                ),
            });
        }
        let mut stored = Stored {
            config: meta("config")?,
            model: meta("model")?,
            rfm_scale: meta("rfm_scale")?,
            salt: meta("salt")?,
            ..Stored::default()
        };
        stored.touchpoints = read_rows(&conn, path, "touchpoints", "touchpoint")?;
        stored.changes = read_rows(&conn, path, "changes", "change")?;
        {
            let mut rows = conn.prepare("SELECT digest FROM suppressed").map_err(fail)?;
            let mut rows = rows.query([]).map_err(fail)?;
            while let Some(row) = rows.next().map_err(fail)? {
                let digest: Vec<u8> = row.get(0).map_err(fail)?;
                if let Ok(digest) = <[u8; 32]>::try_from(digest.as_slice()) {
                    stored.suppressed.push(digest);
                }
            }
        }
        Ok((Durable { conn: Mutex::new(conn), path: path.to_owned() }, stored))
    }

    /// Stores a meta value (the config, the model).
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let conn = self.lock();
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])
            .map_err(|e| store_error(&self.path, e))?;
        Ok(())
    }

    /// Commits touchpoints and the changes they caused, in one transaction.
    pub(crate) fn append(&self, touchpoints: &[Touchpoint], changes: &[Change]) -> Result<()> {
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(fail)?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO touchpoints (touchpoint_id, data) VALUES (?1, ?2)").map_err(fail)?;
            for tp in touchpoints {
                let data = serde_json::to_string(tp)?;
                insert.execute(params![tp.touchpoint_id.as_str(), data]).map_err(fail)?;
            }
            insert_changes(&tx, changes, &self.path)?;
        }
        tx.commit().map_err(fail)
    }

    /// Deletes forgotten touchpoints and records the changes, then compacts the file (the log
    /// folded in and truncated, the database rewritten), so the erased values are nowhere in it.
    pub(crate) fn forget(&self, touchpoints: &[Touchpoint], changes: &[Change]) -> Result<()> {
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        {
            let mut conn = self.lock();
            let tx = conn.transaction().map_err(fail)?;
            {
                let mut delete = tx.prepare_cached("DELETE FROM touchpoints WHERE touchpoint_id = ?1").map_err(fail)?;
                for tp in touchpoints {
                    delete.execute(params![tp.touchpoint_id.as_str()]).map_err(fail)?;
                }
            }
            insert_changes(&tx, changes, &self.path)?;
            tx.commit().map_err(fail)?;
        }
        self.compact()
    }

    /// Adds digests to the suppression list.
    pub(crate) fn suppress(&self, digests: &[[u8; 32]]) -> Result<()> {
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(fail)?;
        {
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO suppressed (digest) VALUES (?1)").map_err(fail)?;
            for digest in digests {
                insert.execute(params![&digest[..]]).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Folds the log into the database, rewrites it without free pages and truncates the log.
    pub(crate) fn compact(&self) -> Result<()> {
        let conn = self.lock();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| store_error(&self.path, e))
    }

    /// The store's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves it usable: SQLite rolls back what the
        // transaction did not commit.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Adds changes to the feed table, within a transaction.
fn insert_changes(tx: &rusqlite::Transaction<'_>, changes: &[Change], path: &Path) -> Result<()> {
    let mut insert =
        tx.prepare_cached("INSERT INTO changes (seq, data) VALUES (?1, ?2)").map_err(|e| store_error(path, e))?;
    for change in changes {
        insert.execute(params![change.seq as i64, serde_json::to_string(change)?]).map_err(|e| store_error(path, e))?;
    }
    Ok(())
}

/// Every row of a `(seq, data)` table, read from its JSON in `seq` order; `what` names a
/// damaged row in the error.
fn read_rows<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    path: &Path,
    table: &str,
    what: &str,
) -> Result<Vec<T>> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    let mut statement = conn.prepare(&format!("SELECT seq, data FROM {table} ORDER BY seq")).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        let seq: i64 = row.get(0).map_err(fail)?;
        let data: String = row.get(1).map_err(fail)?;
        out.push(
            serde_json::from_str(&data).map_err(|e| Error::Store {
                path: path.to_owned(),
                message: format!("{what} {seq} is damaged: {e}"),
            })?,
        );
    }
    Ok(out)
}

/// An SQLite failure as the crate's error, naming the file.
fn store_error(path: &Path, e: rusqlite::Error) -> Error {
    let message = match &e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::ReadOnly => {
            format!("the file is read-only: {e}")
        }
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::DiskFull => {
            format!("the disk is full: {e}")
        }
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::NotADatabase => {
            format!("not an omnitwin store (or damaged): {e}")
        }
        _ => e.to_string(),
    };
    Error::Store { path: path.to_owned(), message }
}

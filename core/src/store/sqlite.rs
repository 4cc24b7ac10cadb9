//! The durable embedded store: one SQLite file (bundled SQLite, write-ahead log) holding what
//! an engine needs to come back after a restart or a crash — its config, its matching model,
//! every touchpoint in the order it was acknowledged (and when), and the change feed. Profiles are not
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
    /// Checkpoints the log off the writer's path; declared first, so that it stops (closing
    /// its connection) before the writer's connection closes.
    _checkpointer: super::checkpoint::Checkpointer,
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
    /// Per touchpoint: when it was acknowledged (ms since the Unix epoch; `i64::MIN` for
    /// touchpoints stored before these times were kept).
    pub acknowledged: Vec<i64>,
    /// The change feed.
    pub changes: Vec<Change>,
    /// Per change: when it was recorded (`i64::MIN` for changes stored before these times were
    /// kept).
    pub change_times: Vec<i64>,
    /// The salt of the suppression list's digests.
    pub salt: Option<String>,
    /// The suppression list: salted digests of forgotten identifiers.
    pub suppressed: Vec<[u8; 32]>,
}

impl Durable {
    /// Opens (or creates) the store at `path` and reads what it holds.
    pub(crate) fn open(path: &Path) -> Result<(Durable, Stored)> {
        let fail = |e: rusqlite::Error| store_error(path, e);
        let mut conn = Connection::open(path).map_err(fail)?;
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
                 CREATE TABLE touchpoints (seq INTEGER PRIMARY KEY, touchpoint_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL,
                                           acknowledged_at INTEGER);
                 CREATE TABLE changes (seq INTEGER PRIMARY KEY, data TEXT NOT NULL, recorded_at INTEGER);
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
        // Stores written before these times were kept gain the columns (empty for their rows);
        // older versions of omnitwin read and write such stores unchanged.
        add_column(&conn, path, "touchpoints", "acknowledged_at")?;
        add_column(&conn, path, "changes", "recorded_at")?;
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
        stored.acknowledged = read_times(&conn, path, "touchpoints", "acknowledged_at")?;
        stored.change_times = read_times(&conn, path, "changes", "recorded_at")?;
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
        let checkpointer = super::checkpoint::Checkpointer::start(path, &mut conn).map_err(fail)?;
        Ok((Durable { _checkpointer: checkpointer, conn: Mutex::new(conn), path: path.to_owned() }, stored))
    }

    /// Stores a meta value (the config, the model).
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let conn = self.lock();
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])
            .map_err(|e| store_error(&self.path, e))?;
        Ok(())
    }

    /// Commits touchpoints (with when they were acknowledged) and the changes they caused, in
    /// one transaction.
    pub(crate) fn append(
        &self,
        touchpoints: &[Touchpoint],
        acknowledged: &[i64],
        changes: &[Change],
        change_times: &[i64],
    ) -> Result<()> {
        self.write_touchpoints(touchpoints, acknowledged)?;
        self.finish_write(changes, change_times)
    }

    /// Begins a write: opens a transaction and inserts touchpoints (with when they were
    /// acknowledged) in it, leaving it open for [`Durable::finish_write`] to add the changes
    /// they caused and commit — so that the inserts can run while the engine works the changes
    /// out. Nothing else may use the store in between. On failure nothing stays written.
    pub(crate) fn write_touchpoints(&self, touchpoints: &[Touchpoint], acknowledged: &[i64]) -> Result<()> {
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let conn = self.lock();
        conn.execute_batch("BEGIN").map_err(fail)?;
        let inserted = (|| -> Result<()> {
            let mut insert = conn
                .prepare_cached("INSERT INTO touchpoints (touchpoint_id, data, acknowledged_at) VALUES (?1, ?2, ?3)")
                .map_err(fail)?;
            for (tp, at) in touchpoints.iter().zip(acknowledged) {
                let data = serde_json::to_string(tp)?;
                insert.execute(params![tp.touchpoint_id.as_str(), data, at]).map_err(fail)?;
            }
            Ok(())
        })();
        if inserted.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        inserted
    }

    /// Ends a write begun by [`Durable::write_touchpoints`]: adds the changes (with when they
    /// were recorded) and commits; on failure rolls the whole write back.
    pub(crate) fn finish_write(&self, changes: &[Change], change_times: &[i64]) -> Result<()> {
        let conn = self.lock_open_write();
        let committed = insert_changes(&conn, changes, change_times, &self.path)
            .and_then(|()| conn.execute_batch("COMMIT").map_err(|e| store_error(&self.path, e)));
        if committed.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        committed
    }

    /// Rolls back a write begun by [`Durable::write_touchpoints`] that is not to be finished.
    pub(crate) fn abandon_write(&self) {
        let conn = self.lock_open_write();
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }

    /// Deletes forgotten touchpoints and records the changes, then compacts the file (the log
    /// folded in and truncated, the database rewritten), so the erased values are nowhere in it.
    pub(crate) fn forget(&self, touchpoints: &[Touchpoint], changes: &[Change], change_times: &[i64]) -> Result<()> {
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
            insert_changes(&tx, changes, change_times, &self.path)?;
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

    /// The connection, with no write in progress: a write begun by
    /// [`Durable::write_touchpoints`] and never finished (its caller panicked) did not happen.
    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        let conn = self.lock_open_write();
        if !conn.is_autocommit() {
            // If this fails, the next statement's error says why.
            let _ = conn.execute_batch("ROLLBACK");
        }
        conn
    }

    /// The connection as it is, in the middle of a write begun by
    /// [`Durable::write_touchpoints`].
    fn lock_open_write(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves it usable: SQLite rolls back what an
        // unfinished transaction did not commit.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Adds changes (with when they were recorded) to the feed table, within a transaction.
fn insert_changes(tx: &Connection, changes: &[Change], times: &[i64], path: &Path) -> Result<()> {
    if changes.len() != times.len() {
        let message =
            format!("{} changes with {} times (a bug in omnitwin: nothing was written)", changes.len(), times.len());
        return Err(Error::Store { path: path.to_owned(), message });
    }
    let mut insert = tx
        .prepare_cached("INSERT INTO changes (seq, data, recorded_at) VALUES (?1, ?2, ?3)")
        .map_err(|e| store_error(path, e))?;
    for (change, at) in changes.iter().zip(times) {
        insert
            .execute(params![change.seq as i64, serde_json::to_string(change)?, at])
            .map_err(|e| store_error(path, e))?;
    }
    Ok(())
}

/// Adds an integer column to a table of a store written before it existed.
fn add_column(conn: &Connection, path: &Path, table: &str, column: &str) -> Result<()> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    let found: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"), [column], |r| {
            r.get(0)
        })
        .map_err(fail)?;
    if found == 0 {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} INTEGER;")).map_err(fail)?;
    }
    Ok(())
}

/// A time column of a `seq` table in `seq` order, never decreasing (a missing time counts as
/// `i64::MIN`: from the start).
fn read_times(conn: &Connection, path: &Path, table: &str, column: &str) -> Result<Vec<i64>> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    let mut statement = conn.prepare(&format!("SELECT {column} FROM {table} ORDER BY seq")).map_err(fail)?;
    let times = statement.query_map([], |r| r.get::<_, Option<i64>>(0)).map_err(fail)?;
    let mut last = i64::MIN;
    let mut out = Vec::new();
    for at in times {
        last = last.max(at.map_err(fail)?.unwrap_or(i64::MIN));
        out.push(last);
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_written_before_times_were_kept_opens_with_its_rows_held_from_the_start() {
        let dir = std::env::temp_dir().join(format!("omnitwin-old-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        let _ = std::fs::remove_file(&path);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                r#"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                   CREATE TABLE touchpoints (seq INTEGER PRIMARY KEY, touchpoint_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
                   CREATE TABLE changes (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
                   INSERT INTO meta VALUES ('format_version', '1');
                   INSERT INTO touchpoints (touchpoint_id, data) VALUES ('t1', '{"touchpoint_id": "t1"}');
                   INSERT INTO changes (seq, data) VALUES (1, '{"seq": 1, "change": "created", "profile_id": "P1"}');"#,
            )
            .unwrap();
        }
        let (store, stored) = Durable::open(&path).unwrap();
        assert_eq!(stored.touchpoints.len(), 1);
        assert_eq!(stored.acknowledged, [i64::MIN]);
        assert_eq!(stored.change_times, [i64::MIN]);
        store.append(&[Touchpoint::new("t2")], &[42], &[], &[]).unwrap();
        drop(store);
        let (_, stored) = Durable::open(&path).unwrap();
        assert_eq!(stored.acknowledged, [i64::MIN, 42]);
        std::fs::remove_dir_all(&dir).ok();
    }
}

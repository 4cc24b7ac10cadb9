//! The durable embedded store: one SQLite file (bundled SQLite, write-ahead log) holding what
//! an engine needs to come back after a restart or a crash — its config, its matching model,
//! every touchpoint in the order it was acknowledged (and when), and the change feed. Profiles are not
//! stored: reopening resolves the stored touchpoints with the stored model, which gives exactly
//! the profiles (and ids) the engine had.
//!
//! A write is one transaction: the touchpoints of a call, the changes they caused and whatever
//! the call changed of the model, config or scale are committed together or not at all, and a
//! call returns only after its commit. The log is synced at checkpoints (`synchronous =
//! NORMAL`): a killed process loses nothing it acknowledged; a power cut may lose the last
//! commits, never leaving half of one.
//!
//! One process writes a store at a time: the writer holds an advisory lock on `<store>-lock`
//! for as long as the store is open (the system releases it when the process ends, however it
//! ends). Readers open the store read-only and see what was committed when they opened it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::checksum::row_checksum;
use super::lock::{scan_log, WriterLock};
use crate::error::{Error, Result};
use crate::model::Change;
use crate::model::Touchpoint;

/// The store format this version writes and reads; a store written by a newer format is
/// refused rather than misread. Stores of format 0 (before the version was written) are
/// migrated when opened for writing.
pub(crate) const FORMAT_VERSION: i64 = 1;

/// The meta keys omnitwin writes.
const META_KEYS: [&str; 6] = ["format_version", "config", "model", "model_origin", "rfm_scale", "salt"];

/// Meta values a write sets (`Some`) or removes (`None`), by key.
pub(crate) type MetaUpdates = Vec<(&'static str, Option<String>)>;

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The one writer: created if missing, locked against other writers.
    Write,
    /// A reader: never written, not locked; sees what was committed when it opened.
    ReadOnly,
}

/// An open store.
#[derive(Debug)]
pub(crate) struct Durable {
    /// Checkpoints the log off the writer's path (none for a reader); declared first, so that
    /// it stops (closing its connection) before the writer's connection closes.
    _checkpointer: Option<super::checkpoint::Checkpointer>,
    /// One connection; the engine serializes writes, the mutex makes the engine shareable
    /// between threads.
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The writer's lock, held while the store is open (none for a reader); declared after
    /// the connection, so that the lock outlives it.
    lock: Option<WriterLock>,
    /// What the lock file notes: the highest touchpoint seq and the last change's seq, kept
    /// here so that a commit notes them without asking SQLite (two queries at every
    /// `ingest_one` cost a third of its time).
    noted: Mutex<(i64, i64)>,
    /// The seq of the last touchpoint the write in progress inserted (0: none).
    inserted_up_to: AtomicI64,
}

/// What a store holds when opened.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// The config (JSON), absent in a new store.
    pub config: Option<String>,
    /// The matching model (JSON), once one was fixed.
    pub model: Option<String>,
    /// Where the model came from and what its value counts cover (JSON), once one was fixed
    /// by a version that noted it.
    pub model_origin: Option<String>,
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
    /// Suppression entries that are not 32-byte digests or fail their checksum (damaged
    /// rows), left out.
    pub bad_digests: usize,
    /// Meta values that fail their checksum (damaged), by key: read as absent.
    pub damaged_meta: Vec<&'static str>,
    /// The highest touchpoint `seq` (0 for none).
    pub max_touchpoint_seq: i64,
    /// What the store found while opening that the engine should say (commits a damaged log
    /// loses, fewer commits than the last writer acknowledged).
    pub warnings: Vec<String>,
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Durable {
    /// Opens the store at `path` (for writing: created if missing) and reads what it holds.
    pub(crate) fn open(path: &Path, access: Access) -> Result<(Durable, Stored)> {
        let fail = |e: rusqlite::Error| store_error(path, e);
        check_file(path, access)?;
        let lock = match access {
            Access::Write => Some(WriterLock::take(path)?),
            Access::ReadOnly => None,
        };
        let wal_warning = scan_log(path, access);
        let flags = match access {
            Access::Write => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(fail)?;
        let tables = table_names(&conn, path)?;
        if access == Access::Write {
            // WAL: readers never wait for the writer; NORMAL: commits are not synced one by one.
            conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
            conn.pragma_update(None, "synchronous", "NORMAL").map_err(fail)?;
            // Deleted rows are overwritten, not left in free pages: what `forget` erases is gone.
            conn.pragma_update(None, "secure_delete", "ON").map_err(fail)?;
            if tables.is_empty() {
                conn.execute_batch(&format!(
                    "BEGIN;
                     CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, checksum INTEGER);
                     CREATE TABLE touchpoints (seq INTEGER PRIMARY KEY, touchpoint_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL,
                                               acknowledged_at INTEGER, checksum INTEGER);
                     CREATE TABLE changes (seq INTEGER PRIMARY KEY, data TEXT NOT NULL, recorded_at INTEGER, checksum INTEGER);
                     CREATE TABLE suppressed (digest BLOB PRIMARY KEY, checksum INTEGER);
                     INSERT INTO meta (key, value) VALUES ('format_version', '{FORMAT_VERSION}');
                     COMMIT;"
                ))
                .map_err(fail)?;
            }
        }
        let tables = if access == Access::Write && tables.is_empty() { table_names(&conn, path)? } else { tables };
        if !tables.iter().any(|t| t == "meta") || !tables.iter().any(|t| t == "touchpoints") {
            let message = if tables.is_empty() {
                "no such store (the file holds no tables; create one with Engine::open_or_create)".to_owned()
            } else {
                format!(
                    "not an omnitwin store: the database holds tables {} but not omnitwin's (meta, touchpoints); \
                     give the path of a store, or a new file to create one",
                    tables.join(", ")
                )
            };
            return Err(Error::Store { path: path.to_owned(), message });
        }
        let version = match read_meta(&conn, path, "format_version")? {
            Meta::Missing => 0,
            Meta::Value(v) if v.trim().parse::<i64>().is_ok() => v.trim().parse::<i64>().unwrap_or(0),
            _ => {
                return Err(Error::Store {
                    path: path.to_owned(),
                    message: "damaged: its format version cannot be read (restore the file from a backup, or run \
                              `omnitwin store check` on it to see what else is damaged)"
                        .into(),
                })
            }
        };
        if version > FORMAT_VERSION {
            return Err(Error::Store {
                path: path.to_owned(),
                message: format!(
                    "written in store format {version} by a newer omnitwin; this version reads format {FORMAT_VERSION} \
                     (upgrade omnitwin to open it)"
                ),
            });
        }
        // Every store has had a change feed; a store with a suppression salt has a suppression
        // list. Without them the schema is damaged: making them again, empty, would lose history
        // and erasures without a word.
        let has_salt = !matches!(read_meta(&conn, path, "salt")?, Meta::Missing);
        for (table, required) in [("changes", true), ("suppressed", has_salt)] {
            if required && !tables.iter().any(|t| t == table) {
                return Err(Error::Store {
                    path: path.to_owned(),
                    message: format!(
                        "damaged: its `{table}` table is missing from the schema; restore the file from a backup \
                         (`omnitwin store check` shows what SQLite finds)"
                    ),
                });
            }
        }
        if access == Access::Write {
            migrate(&conn, path, version)?;
        }
        let mut stored = read_all(&conn, path)?;
        stored.warnings.extend(wal_warning);
        if let Some(lock) = &lock {
            if let Some(warning) = lock.lost_commits(&stored) {
                stored.warnings.push(warning);
            }
        }
        let checkpointer = match access {
            Access::Write => Some(super::checkpoint::Checkpointer::start(path, &mut conn).map_err(fail)?),
            Access::ReadOnly => None,
        };
        let durable = Durable {
            _checkpointer: checkpointer,
            conn: Mutex::new(conn),
            path: path.to_owned(),
            lock,
            noted: Mutex::new((0, 0)),
            inserted_up_to: AtomicI64::new(0),
        };
        durable.note_commit(&stored);
        Ok((durable, stored))
    }

    /// Whether the store was opened read-only.
    pub(crate) fn read_only(&self) -> bool {
        self.lock.is_none()
    }

    /// Notes, in the lock file, what the store holds after a commit (what the next writer
    /// checks the store against; see [`WriterLock::lost_commits`]).
    fn note_commit(&self, stored: &Stored) {
        self.note((stored.max_touchpoint_seq, last_change_seq(stored)));
    }

    /// Notes `held` (highest touchpoint seq, last change seq) in the lock file when it moved.
    fn note(&self, held: (i64, i64)) {
        if let Some(lock) = &self.lock {
            let mut noted = self.noted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *noted != held {
                lock.note(held.0, held.1);
                *noted = held;
            }
        }
    }

    /// [`Durable::note_commit`] from the connection, after a write that deleted rows. Both are
    /// the last row of a table keyed by its rowid, found without a scan (counting the feed's
    /// rows scanned it whole: 13 ms per commit at a million touchpoints).
    fn note_commit_of(&self, conn: &Connection) {
        if self.lock.is_some() {
            let last = |sql: &str| -> i64 {
                conn.prepare_cached(sql).and_then(|mut s| s.query_row([], |r| r.get(0))).unwrap_or(0)
            };
            self.note((
                last("SELECT COALESCE(MAX(seq), 0) FROM touchpoints"),
                last("SELECT COALESCE(MAX(seq), 0) FROM changes"),
            ));
        }
    }

    /// Refuses a write to a store opened read-only, naming how to open it for writing.
    fn writable(&self) -> Result<()> {
        if self.read_only() {
            return Err(Error::Store {
                path: self.path.clone(),
                message: "opened read-only: nothing is written (open it with Engine::open to write, once no other \
                          process has it open for writing)"
                    .into(),
            });
        }
        Ok(())
    }

    /// Sets or removes meta values in one transaction.
    pub(crate) fn set_meta(&self, updates: &[(&'static str, Option<String>)]) -> Result<()> {
        self.writable()?;
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(fail)?;
        write_meta(&tx, updates, &self.path)?;
        tx.commit().map_err(fail)
    }

    /// Commits touchpoints (with when they were acknowledged), the changes they caused and meta
    /// updates, in one transaction.
    pub(crate) fn append(
        &self,
        touchpoints: &[Touchpoint],
        acknowledged: &[i64],
        changes: &[Change],
        change_times: &[i64],
        meta: &[(&'static str, Option<String>)],
    ) -> Result<()> {
        self.write_touchpoints(touchpoints, acknowledged)?;
        self.finish_write(changes, change_times, meta)
    }

    /// Begins a write: opens a transaction and inserts touchpoints (with when they were
    /// acknowledged) in it, leaving it open for [`Durable::finish_write`] to add the changes
    /// they caused and commit — so that the inserts can run while the engine works the changes
    /// out. Nothing else may use the store in between. On failure nothing stays written.
    pub(crate) fn write_touchpoints(&self, touchpoints: &[Touchpoint], acknowledged: &[i64]) -> Result<()> {
        self.writable()?;
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let conn = self.lock();
        conn.execute_batch("BEGIN").map_err(fail)?;
        let inserted = (|| -> Result<()> {
            injected_failure(&self.path, Step::Touchpoints)?;
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO touchpoints (touchpoint_id, data, acknowledged_at, checksum) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(fail)?;
            for (tp, at) in touchpoints.iter().zip(acknowledged) {
                let data = serde_json::to_string(tp)?;
                let sum = touchpoint_checksum(&tp.touchpoint_id, &data, Some(*at));
                insert.execute(params![tp.touchpoint_id.as_str(), data, at, sum]).map_err(fail)?;
            }
            let last = if touchpoints.is_empty() { 0 } else { conn.last_insert_rowid() };
            self.inserted_up_to.store(last, Ordering::Relaxed);
            Ok(())
        })();
        if inserted.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        inserted
    }

    /// Ends a write begun by [`Durable::write_touchpoints`]: adds the changes (with when they
    /// were recorded) and the meta updates, and commits; on failure rolls the whole write back.
    pub(crate) fn finish_write(
        &self,
        changes: &[Change],
        change_times: &[i64],
        meta: &[(&'static str, Option<String>)],
    ) -> Result<()> {
        let conn = self.lock_open_write();
        let committed = insert_changes(&conn, changes, change_times, &self.path)
            .and_then(|()| write_meta(&conn, meta, &self.path))
            .and_then(|()| injected_failure(&self.path, Step::Commit))
            .and_then(|()| conn.execute_batch("COMMIT").map_err(|e| store_error(&self.path, e)));
        if committed.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let inserted = self.inserted_up_to.swap(0, Ordering::Relaxed);
        if committed.is_ok() {
            // The feed only grows and touchpoints only get higher seqs here: the new highs are
            // what this write added, when it added any.
            let noted = *self.noted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let changes = changes.last().map_or(noted.1, |c| noted.1.max(c.seq as i64));
            self.note((noted.0.max(inserted), changes));
        }
        committed
    }

    /// Rolls back a write begun by [`Durable::write_touchpoints`] that is not to be finished.
    pub(crate) fn abandon_write(&self) {
        self.inserted_up_to.store(0, Ordering::Relaxed);
        let conn = self.lock_open_write();
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }

    /// Forgets: in one transaction, adds digests to the suppression list, deletes the
    /// forgotten touchpoints, records the changes and applies the meta updates (the model's
    /// value counts without them). Nothing of it happens if any of it fails. The file is not
    /// compacted here (see [`Durable::compact`]).
    pub(crate) fn forget(
        &self,
        touchpoints: &[Touchpoint],
        suppressed: &[[u8; 32]],
        changes: &[Change],
        change_times: &[i64],
        meta: &[(&'static str, Option<String>)],
    ) -> Result<()> {
        self.writable()?;
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT OR IGNORE INTO suppressed (digest, checksum) VALUES (?1, ?2)")
                .map_err(fail)?;
            for digest in suppressed {
                insert.execute(params![&digest[..], row_checksum(&[&digest[..]])]).map_err(fail)?;
            }
            let mut delete = tx.prepare_cached("DELETE FROM touchpoints WHERE touchpoint_id = ?1").map_err(fail)?;
            for tp in touchpoints {
                delete.execute(params![tp.touchpoint_id.as_str()]).map_err(fail)?;
            }
        }
        injected_failure(&self.path, Step::Touchpoints)?;
        insert_changes(&tx, changes, change_times, &self.path)?;
        write_meta(&tx, meta, &self.path)?;
        injected_failure(&self.path, Step::Commit)?;
        tx.commit().map_err(fail)?;
        self.note_commit_of(&conn);
        Ok(())
    }

    /// Folds the log into the database, rewrites it without free pages and truncates the log.
    pub(crate) fn compact(&self) -> Result<()> {
        self.writable()?;
        let conn = self.lock();
        injected_failure(&self.path, Step::Compact)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| store_error(&self.path, e))
    }

    /// Removes meta rows that fail their checksum or that omnitwin does not write (left aside
    /// when the store opened, with a warning); returns how many.
    pub(crate) fn drop_unsound_meta(&self) -> Result<usize> {
        self.writable()?;
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let conn = self.lock();
        let mut unsound = Vec::new();
        {
            let mut statement = conn.prepare("SELECT rowid, key, value, checksum FROM meta").map_err(fail)?;
            let rows = statement
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })
                .map_err(fail)?;
            for row in rows {
                let (rowid, key, value, sum) = row.map_err(fail)?;
                let sound = sum.is_none_or(|s| s == row_checksum(&[key.as_bytes(), value.as_bytes()]));
                if !sound || !META_KEYS.contains(&key.as_str()) {
                    unsound.push(rowid);
                }
            }
        }
        for rowid in &unsound {
            conn.execute("DELETE FROM meta WHERE rowid = ?1", params![rowid]).map_err(fail)?;
        }
        Ok(unsound.len())
    }

    /// What SQLite's own check of the file finds wrong (empty when the file is sound).
    pub(crate) fn integrity_problems(&self) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut statement = conn.prepare("PRAGMA integrity_check").map_err(|e| store_error(&self.path, e))?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0)).map_err(|e| store_error(&self.path, e))?;
        let mut problems = Vec::new();
        for row in rows {
            let row = row.map_err(|e| store_error(&self.path, e))?;
            if row != "ok" {
                problems.push(row);
            }
        }
        Ok(problems)
    }

    /// Reads back what the store holds now (for checking it against the engine).
    pub(crate) fn read_back(&self) -> Result<Stored> {
        let conn = self.lock();
        read_all(&conn, &self.path)
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

/// Refuses, before SQLite sees it, a path that cannot be a store: a directory, a file that is
/// not an SQLite database, a missing file opened read-only.
fn check_file(path: &Path, access: Access) -> Result<()> {
    let refuse = |message: String| Err(Error::Store { path: path.to_owned(), message });
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match access {
                Access::ReadOnly => refuse("no such store".into()),
                Access::Write => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    Some(dir) if !dir.is_dir() => refuse(format!(
                        "its folder {} does not exist (create it first, or give another path)",
                        dir.display()
                    )),
                    _ => Ok(()),
                },
            }
        }
        Err(e) => return Err(Error::Io { path: path.to_owned(), source: e }),
    };
    if meta.is_dir() {
        return refuse("is a directory, not a store file (give the path of the store's file, e.g. …/cdp.db)".into());
    }
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        let mut n = 0;
        while n < header.len() {
            match f.read(&mut header[n..])? {
                0 => break,
                k => n += k,
            }
        }
        Ok(n)
    });
    let n = match read {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return refuse(format!("permission denied reading the file ({e}): give this user read access to it"))
        }
        Err(e) => return Err(Error::Io { path: path.to_owned(), source: e }),
    };
    if n == 0 {
        // An empty file: a new store (opening for writing creates its tables).
        return Ok(());
    }
    if n < SQLITE_HEADER.len() || &header[..SQLITE_HEADER.len()] != SQLITE_HEADER {
        return refuse(
            "not an omnitwin store: the file is not an SQLite database (or its first page is damaged; restore it \
             from a backup)"
                .into(),
        );
    }
    if n < header.len() {
        return refuse(format!(
            "damaged: the file is cut short ({n} bytes, less than its own header); restore it from a backup"
        ));
    }
    // The header's page count is valid when its two change counters agree; a file shorter than
    // that many pages was cut short (its last pages, and what they held, are gone).
    let be32 = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    let pages = u64::from(be32(28));
    // With a log to replay, the file may be shorter: a checkpoint writes the first page (and
    // its page count) before the pages after it, and a crash can stop it in between; the log
    // still holds them, and SQLite finishes the job.
    let log = std::fs::metadata(format!("{}-wal", path.display())).map_or(0, |m| m.len());
    if log <= 32 && be32(24) == be32(92) && pages > 0 && meta.len() < pages * page_size {
        return refuse(format!(
            "damaged: the file is cut short ({} bytes where its header counts {pages} pages of {page_size}); restore it \
             from a backup",
            meta.len()
        ));
    }
    Ok(())
}

/// The tables of a database.
fn table_names(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    let mut statement =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map_err(fail)?;
    let names = statement.query_map([], |r| r.get::<_, String>(0)).map_err(fail)?;
    names.collect::<rusqlite::Result<Vec<String>>>().map_err(fail)
}

/// Brings a store written by an older version up to this one's layout: the suppression table,
/// the time columns (empty for existing rows: older versions read and write such stores
/// unchanged) and the format version.
fn migrate(conn: &Connection, path: &Path, version: i64) -> Result<()> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    conn.execute_batch("CREATE TABLE IF NOT EXISTS suppressed (digest BLOB PRIMARY KEY);").map_err(fail)?;
    add_column(conn, path, "touchpoints", "acknowledged_at")?;
    add_column(conn, path, "changes", "recorded_at")?;
    for table in ["meta", "touchpoints", "changes", "suppressed"] {
        add_column(conn, path, table, "checksum")?;
    }
    if version < FORMAT_VERSION {
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('format_version', ?1)",
            params![FORMAT_VERSION.to_string()],
        )
        .map_err(fail)?;
    }
    Ok(())
}

/// Sets or removes meta values, within a transaction.
fn write_meta(conn: &Connection, updates: &[(&'static str, Option<String>)], path: &Path) -> Result<()> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    for (key, value) in updates {
        match value {
            Some(value) => conn
                .prepare_cached("INSERT OR REPLACE INTO meta (key, value, checksum) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![key, value, row_checksum(&[key.as_bytes(), value.as_bytes()])]))
                .map_err(fail)?,
            None => conn
                .prepare_cached("DELETE FROM meta WHERE key = ?1")
                .and_then(|mut s| s.execute(params![key]))
                .map_err(fail)?,
        };
    }
    Ok(())
}

/// A step of a write where a test can make the store fail (see [`fail_store_writes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Inserting or deleting touchpoints.
    Touchpoints,
    /// Just before the commit.
    Commit,
    /// Compacting the file.
    Compact,
}

/// The store (by path) whose writes fail, and where: set by tests only.
#[cfg(test)]
static FAIL_AT: Mutex<Option<(PathBuf, Step)>> = Mutex::new(None);

/// Makes writes to the store at `path` fail at `step` (as an I/O error would), from any
/// thread, until called with `None`: for tests of what a failed write leaves behind.
#[cfg(test)]
pub(crate) fn fail_store_writes(path: &Path, step: Option<Step>) {
    *FAIL_AT.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = step.map(|s| (path.to_owned(), s));
}

/// The failure a test asked for at this step; `Ok` otherwise.
fn injected_failure(path: &Path, step: Step) -> Result<()> {
    #[cfg(test)]
    if FAIL_AT.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref() == Some(&(path.to_owned(), step)) {
        return Err(Error::Store { path: path.to_owned(), message: format!("disk I/O error (injected at {step:?})") });
    }
    let _ = (path, step);
    Ok(())
}

/// Adds changes (with when they were recorded) to the feed table, within a transaction.
fn insert_changes(tx: &Connection, changes: &[Change], times: &[i64], path: &Path) -> Result<()> {
    if changes.len() != times.len() {
        let message =
            format!("{} changes with {} times (a bug in omnitwin: nothing was written)", changes.len(), times.len());
        return Err(Error::Store { path: path.to_owned(), message });
    }
    let mut insert = tx
        .prepare_cached("INSERT INTO changes (seq, data, recorded_at, checksum) VALUES (?1, ?2, ?3, ?4)")
        .map_err(|e| store_error(path, e))?;
    for (change, at) in changes.iter().zip(times) {
        let data = serde_json::to_string(change)?;
        let sum = change_checksum(change.seq as i64, &data, Some(*at));
        insert.execute(params![change.seq as i64, data, at, sum]).map_err(|e| store_error(path, e))?;
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

/// Whether a table has a column (stores written before it existed, opened read-only, lack it).
fn has_column(conn: &Connection, path: &Path, table: &str, column: &str) -> Result<bool> {
    let found: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"), [column], |r| {
            r.get(0)
        })
        .map_err(|e| store_error(path, e))?;
    Ok(found > 0)
}

/// A column, or NULL when the table lacks it.
fn column_or_null(conn: &Connection, path: &Path, table: &str, column: &str) -> Result<String> {
    Ok(if has_column(conn, path, table, column)? { column.to_owned() } else { "NULL".to_owned() })
}

/// A meta value as read: absent, present, or failing its checksum.
enum Meta {
    Missing,
    Value(String),
    Damaged,
}

/// Reads a meta value, checking its checksum.
fn read_meta(conn: &Connection, path: &Path, key: &str) -> Result<Meta> {
    let checksum = column_or_null(conn, path, "meta", "checksum")?;
    let row: Option<(String, Option<i64>)> = conn
        .query_row(&format!("SELECT value, {checksum} FROM meta WHERE key = ?1"), params![key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(|e| store_error(path, e))?;
    Ok(match row {
        None => Meta::Missing,
        Some((value, Some(sum))) if sum != row_checksum(&[key.as_bytes(), value.as_bytes()]) => Meta::Damaged,
        Some((value, _)) => Meta::Value(value),
    })
}

/// The checksum of a touchpoint row.
fn touchpoint_checksum(id: &str, data: &str, acknowledged: Option<i64>) -> i64 {
    let at = acknowledged.map_or([0xff; 8], i64::to_le_bytes);
    row_checksum(&[id.as_bytes(), data.as_bytes(), &at])
}

/// The checksum of a change row.
fn change_checksum(seq: i64, data: &str, recorded: Option<i64>) -> i64 {
    let at = recorded.map_or([0xff; 8], i64::to_le_bytes);
    row_checksum(&[&seq.to_le_bytes(), data.as_bytes(), &at])
}

/// Everything a store holds, every row checked against its checksum.
fn read_all(conn: &Connection, path: &Path) -> Result<Stored> {
    let fail = |e: rusqlite::Error| store_error(path, e);
    let mut stored = Stored::default();
    for (key, slot) in [
        ("config", &mut stored.config),
        ("model", &mut stored.model),
        ("model_origin", &mut stored.model_origin),
        ("rfm_scale", &mut stored.rfm_scale),
        ("salt", &mut stored.salt),
    ] {
        match read_meta(conn, path, key)? {
            Meta::Missing => {}
            Meta::Value(value) => *slot = Some(value),
            Meta::Damaged => stored.damaged_meta.push(key),
        }
    }
    // Every meta row is checked, not only those read by key: a flipped byte in a key hides its
    // row from the reads above.
    let sum = column_or_null(conn, path, "meta", "checksum")?;
    let mut statement = conn.prepare(&format!("SELECT key, value, {sum} FROM meta")).map_err(fail)?;
    let rows = statement
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?)))
        .map_err(fail)?;
    for row in rows {
        let (key, value, sum) = row.map_err(fail)?;
        let sound = sum.is_none_or(|s| s == row_checksum(&[key.as_bytes(), value.as_bytes()]));
        if !sound || !META_KEYS.contains(&key.as_str()) {
            stored.warnings.push(format!(
                "a stored setting filed as `{}` {}; it was left aside",
                key.escape_debug(),
                if sound { "is not one omnitwin writes" } else { "does not match its checksum (damaged)" }
            ));
        }
    }
    drop(statement);
    let damaged = |what: String| Error::Store {
        path: path.to_owned(),
        message: format!(
            "damaged: {what}; restore the file from a backup (`omnitwin store check` lists what else is damaged)"
        ),
    };
    // Touchpoints, in the order acknowledged; a missing time counts as from the start, and
    // times never decrease.
    let (at, sum) = (
        column_or_null(conn, path, "touchpoints", "acknowledged_at")?,
        column_or_null(conn, path, "touchpoints", "checksum")?,
    );
    let mut statement = conn
        .prepare(&format!("SELECT seq, touchpoint_id, data, {at}, {sum} FROM touchpoints ORDER BY seq"))
        .map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut last = i64::MIN;
    let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    stored.max_touchpoint_seq = i64::MIN;
    while let Some(row) = rows.next().map_err(fail)? {
        let seq: i64 = row.get(0).map_err(fail)?;
        let id: String = row.get(1).map_err(fail)?;
        let data: String = row.get(2).map_err(fail)?;
        let acknowledged: Option<i64> = row.get(3).map_err(fail)?;
        if let Some(sum) = row.get::<_, Option<i64>>(4).map_err(fail)? {
            if sum != touchpoint_checksum(&id, &data, acknowledged) {
                return Err(damaged(format!("touchpoint {seq} (`{id}`) does not match its checksum")));
            }
        }
        let tp: Touchpoint = serde_json::from_str(&data)
            .map_err(|e| damaged(format!("touchpoint {seq} (`{id}`) cannot be read ({e})")))?;
        if tp.touchpoint_id != id.as_str() {
            return Err(damaged(format!("touchpoint {seq} is filed as `{id}` but holds `{}`", tp.touchpoint_id)));
        }
        // A damaged page of SQLite's tree of rows sends a read to the wrong pages: rows out of
        // order, some twice and others never, each sound on its own.
        if seq <= stored.max_touchpoint_seq {
            return Err(damaged(format!(
                "touchpoint {seq} (`{id}`) comes after touchpoint {} (the table's tree is damaged)",
                stored.max_touchpoint_seq
            )));
        }
        if !seen.insert(id.clone()) {
            return Err(damaged(format!("touchpoint `{id}` is stored twice (the table's tree is damaged)")));
        }
        last = last.max(acknowledged.unwrap_or(i64::MIN));
        stored.touchpoints.push(tp);
        stored.acknowledged.push(last);
        stored.max_touchpoint_seq = seq;
    }
    drop(rows);
    drop(statement);
    stored.max_touchpoint_seq = stored.max_touchpoint_seq.max(0);
    // A damaged page can also hide whole branches of the tree, every row read still in order:
    // the index of touchpoint ids, a tree of its own, still counts them all.
    let indexed: Option<i64> = conn
        .query_row("SELECT COUNT(*) FROM touchpoints INDEXED BY sqlite_autoindex_touchpoints_1", [], |r| r.get(0))
        .ok();
    if let Some(indexed) = indexed.filter(|&n| n != stored.touchpoints.len() as i64) {
        return Err(damaged(format!(
            "{} touchpoints could be read but its index lists {indexed} (the table's tree is damaged)",
            stored.touchpoints.len()
        )));
    }
    let tables = table_names(conn, path)?;
    if !tables.iter().any(|t| t == "changes") {
        return Ok(stored);
    }
    // The change feed, numbered from 1 without gaps.
    let (at, sum) =
        (column_or_null(conn, path, "changes", "recorded_at")?, column_or_null(conn, path, "changes", "checksum")?);
    let mut statement =
        conn.prepare(&format!("SELECT seq, data, {at}, {sum} FROM changes ORDER BY seq")).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut last = i64::MIN;
    while let Some(row) = rows.next().map_err(fail)? {
        let seq: i64 = row.get(0).map_err(fail)?;
        let data: String = row.get(1).map_err(fail)?;
        let recorded: Option<i64> = row.get(2).map_err(fail)?;
        if let Some(sum) = row.get::<_, Option<i64>>(3).map_err(fail)? {
            if sum != change_checksum(seq, &data, recorded) {
                return Err(damaged(format!("change {seq} does not match its checksum")));
            }
        }
        let change: Change =
            serde_json::from_str(&data).map_err(|e| damaged(format!("change {seq} cannot be read ({e})")))?;
        if change.seq != seq as u64 || seq != stored.changes.len() as i64 + 1 {
            return Err(damaged(format!(
                "change {seq} is out of place (the feed is numbered from 1 without gaps; this is entry {})",
                stored.changes.len() + 1
            )));
        }
        last = last.max(recorded.unwrap_or(i64::MIN));
        stored.changes.push(change);
        stored.change_times.push(last);
    }
    drop(rows);
    drop(statement);
    if !tables.iter().any(|t| t == "suppressed") {
        return Ok(stored);
    }
    if stored.changes.is_empty() && !stored.touchpoints.is_empty() {
        // A store is live from its first open: every profile it holds was recorded as created.
        return Err(damaged(format!(
            "it holds {} touchpoints but its change feed is empty (the feed's table is damaged)",
            stored.touchpoints.len()
        )));
    }
    let sum = column_or_null(conn, path, "suppressed", "checksum")?;
    let mut statement = conn.prepare(&format!("SELECT digest, {sum} FROM suppressed")).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let digest: Option<Vec<u8>> = row.get(0).ok();
        let sum: Option<i64> = row.get(1).map_err(fail)?;
        match digest.as_deref().and_then(|d| <[u8; 32]>::try_from(d).ok()) {
            Some(digest) if sum.is_none_or(|s| s == row_checksum(&[&digest[..]])) => stored.suppressed.push(digest),
            _ => stored.bad_digests += 1,
        }
    }
    Ok(stored)
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
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::DatabaseCorrupt => {
            format!(
                "damaged: SQLite finds the file malformed ({e}); restore it from a backup (`omnitwin store check` \
                 shows what SQLite finds)"
            )
        }
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::NotADatabase => {
            format!("not an omnitwin store (or damaged): {e}")
        }
        _ => e.to_string(),
    };
    Error::Store { path: path.to_owned(), message }
}

/// The sequence number of the last entry of the change feed a store holds (0 when empty): the
/// feed only grows, numbered from 1, so this is also how many entries it has.
pub(crate) fn last_change_seq(stored: &Stored) -> i64 {
    stored.changes.last().map_or(0, |c| c.seq as i64)
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
        let (store, stored) = Durable::open(&path, Access::Write).unwrap();
        assert_eq!(stored.touchpoints.len(), 1);
        assert_eq!(stored.acknowledged, [i64::MIN]);
        assert_eq!(stored.change_times, [i64::MIN]);
        store.append(&[Touchpoint::new("t2")], &[42], &[], &[], &[]).unwrap();
        drop(store);
        let (_, stored) = Durable::open(&path, Access::Write).unwrap();
        assert_eq!(stored.acknowledged, [i64::MIN, 42]);
        std::fs::remove_dir_all(&dir).ok();
    }
}

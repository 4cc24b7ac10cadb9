//! Damaged and foreign files: a store cut short, bytes flipped anywhere in the database or its
//! log, a log that went missing, a file that is not a store (text, another application's
//! SQLite database, a directory, a newer format), an old format. Each opens with every
//! touchpoint it held, or says what is wrong (a typed error naming the file, or a warning when
//! what is left is usable) — never a panic, never a silently different or empty store.

use std::path::{Path, PathBuf};

use omnitwin::{Config, Engine, ErrorKind, Touchpoint};

use crate::common::{env_number, scratch, sorted_assignments, synthetic, Rng};

/// A closed store with matching on and a trained model: 1,300 touchpoints in one batch, then
/// 40 one at a time and a forget.
fn sound_store(dir: &Path) -> (PathBuf, Vec<(String, String)>) {
    let path = dir.join("sound.db");
    let pool = synthetic::generate(400, 3).touchpoints;
    let mut engine = Engine::open_or_create(&path, Config::default()).unwrap();
    engine.ingest(pool[..1_300.min(pool.len() - 40)].to_vec()).unwrap();
    for tp in &pool[pool.len() - 40..] {
        engine.ingest_one(tp.clone()).unwrap();
    }
    let someone = engine.profile_of(&pool[0].touchpoint_id).unwrap().profile_id.clone();
    engine.forget(omnitwin::ForgetTarget::Profile(someone)).unwrap();
    assert!(engine.model().is_some());
    let held = sorted_assignments(&engine);
    drop(engine);
    (path, held)
}

/// A copy of a store's files (database, log, lock notes) under a new name.
fn copy_store(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-lock"] {
        let source = format!("{}{suffix}", from.display());
        let target = format!("{}{suffix}", to.display());
        let _ = std::fs::remove_file(&target);
        if Path::new(&source).exists() {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

/// How opening a damaged copy went.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// A typed error naming the file.
    Refused,
    /// Opened with a warning saying what was rebuilt or lost.
    Warned,
    /// Opened holding exactly what the store held (the damage hit nothing in use).
    Intact,
}

/// Opens a damaged copy: an error must be typed and name the file; a store that opens without
/// a warning must hold exactly what the sound one held.
fn open_damaged(path: &Path, held: &[(String, String)], what: &str) -> Outcome {
    match Engine::open_existing(path) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Io, "{what}: {e}");
            assert!(e.to_string().contains(&path.display().to_string()), "{what}: the error names the file: {e}");
            Outcome::Refused
        }
        Ok(mut engine) if !engine.warnings().is_empty() => {
            assert!(!engine.is_empty() || held.is_empty(), "{what}: opened empty ({:?})", engine.warnings());
            // What was left aside is cleared by a rebuild, and the next open is clean; or the
            // rebuild reads a page SQLite finds malformed, and says so.
            match engine.rebuild() {
                Ok(check) => {
                    assert!(check.is_ok(), "{what}: {check}");
                    drop(engine);
                    let again = Engine::open_existing(path).unwrap();
                    assert_eq!(again.warnings(), [] as [String; 0], "{what}: after a rebuild");
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Io, "{what}: rebuild: {e}");
                    assert!(e.to_string().contains("restore it from a backup"), "{what}: rebuild: {e}");
                }
            }
            Outcome::Warned
        }
        Ok(engine) => {
            let now = sorted_assignments(&engine);
            assert!(
                now == held,
                "{what}: opened without a warning but holds {} touchpoints, not the {}",
                now.len(),
                held.len()
            );
            Outcome::Intact
        }
    }
}

#[test]
fn a_store_cut_short_is_refused_and_an_emptied_one_says_what_it_lost() {
    let dir = scratch("truncated");
    let (sound, held) = sound_store(&dir);
    let len = std::fs::metadata(&sound).unwrap().len();
    let copy = dir.join("cut.db");
    for keep in [10, 99, 100, 4_096, len / 2, len - 4_096, len - 1] {
        copy_store(&sound, &copy);
        std::fs::OpenOptions::new().write(true).open(&copy).unwrap().set_len(keep).unwrap();
        let what = format!("cut to {keep} of {len} bytes");
        assert_eq!(open_damaged(&copy, &held, &what), Outcome::Refused, "{what}");
        let err = Engine::open_read_only(&copy).unwrap_err();
        assert!(err.to_string().contains("cut short") || err.to_string().contains("not an SQLite"), "{what}: {err}");
    }
    // Emptied: SQLite would take it for a new database. The writer's notes say it held more.
    copy_store(&sound, &copy);
    std::fs::OpenOptions::new().write(true).open(&copy).unwrap().set_len(0).unwrap();
    let engine = Engine::open_or_create(&copy, Config::default()).unwrap();
    assert!(engine.warnings().iter().any(|w| w.contains("fewer commits")), "{:?}", engine.warnings());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_flipped_byte_anywhere_in_the_database_is_caught_or_harmless() {
    let flips = env_number("OMNITWIN_FLIPS", 160);
    let dir = scratch("flipped");
    let (sound, held) = sound_store(&dir);
    let bytes = std::fs::read(&sound).unwrap();
    let copy = dir.join("flipped.db");
    let mut rng = Rng::new(99);
    let mut outcomes = std::collections::BTreeMap::new();
    for n in 0..flips {
        copy_store(&sound, &copy);
        let mut damaged = bytes.clone();
        // Half the flips in the first pages (header, schema, meta: model and config), half
        // anywhere.
        let at = if n % 2 == 0 { rng.below(damaged.len().min(5 * 4_096)) } else { rng.below(damaged.len()) };
        damaged[at] ^= 1 << rng.below(8);
        std::fs::write(&copy, &damaged).unwrap();
        let outcome = open_damaged(&copy, &held, &format!("byte {at} flipped"));
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    eprintln!("{flips} flipped bytes in the database: {outcomes:?}");
    assert!(outcomes.get(&Outcome::Refused).copied().unwrap_or(0) > 0, "{outcomes:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A store whose last commits are still in its log: copied while its writer has it open.
fn store_with_a_log(dir: &Path) -> (PathBuf, Vec<(String, String)>) {
    let path = dir.join("live.db");
    let pool = synthetic::generate(400, 5).touchpoints;
    let mut engine = Engine::open_or_create(&path, Config::default()).unwrap();
    engine.ingest(pool[..1_200].to_vec()).unwrap();
    drop(engine);
    let mut engine = Engine::open_or_create(&path, Config::default()).unwrap();
    for tp in &pool[1_200..1_260] {
        engine.ingest_one(tp.clone()).unwrap();
    }
    let held = sorted_assignments(&engine);
    let frozen = dir.join("frozen.db");
    copy_store(&path, &frozen);
    drop(engine);
    assert!(std::fs::metadata(format!("{}-wal", frozen.display())).unwrap().len() > 100_000, "the log holds commits");
    (frozen, held)
}

#[test]
fn a_damaged_or_missing_log_is_said_not_silently_dropped() {
    let dir = scratch("log");
    let (frozen, held) = store_with_a_log(&dir);
    let copy = dir.join("copy.db");
    // The copy as it is: every commit replayed.
    copy_store(&frozen, &copy);
    assert_eq!(open_damaged(&copy, &held, "the log intact"), Outcome::Intact);
    // A byte flipped in the middle of the log: the commits after it cannot be replayed.
    let log = std::fs::read(format!("{}-wal", frozen.display())).unwrap();
    for at in [log.len() / 4, log.len() / 2] {
        copy_store(&frozen, &copy);
        let mut damaged = log.clone();
        damaged[at] ^= 0x20;
        std::fs::write(format!("{}-wal", copy.display()), &damaged).unwrap();
        let engine = Engine::open_existing(&copy).unwrap();
        assert!(engine.warnings().iter().any(|w| w.contains("log (-wal file) is damaged")), "{:?}", engine.warnings());
        assert!(engine.len() < held.len() && !engine.is_empty());
        let kept = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("copy.db-wal.damaged-"));
        assert!(kept, "the damaged log is kept beside the store");
    }
    // The log removed: the writer's notes say commits are missing.
    copy_store(&frozen, &copy);
    std::fs::remove_file(format!("{}-wal", copy.display())).unwrap();
    let engine = Engine::open_existing(&copy).unwrap();
    assert!(engine.warnings().iter().any(|w| w.contains("fewer commits")), "{:?}", engine.warnings());
    assert!(engine.len() < held.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn files_that_are_not_stores_are_refused_with_the_next_step() {
    let dir = scratch("foreign");
    let refused = |path: &Path, needle: &str| {
        for result in [Engine::open_or_create(path, Config::default()), Engine::open_existing(path)] {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io, "{err}");
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
            assert!(err.to_string().contains(needle), "expected `{needle}`: {err}");
        }
    };
    let text = dir.join("notes.txt");
    std::fs::write(&text, "touchpoint_id,email\nt1,an@x.vn\n".repeat(10)).unwrap();
    refused(&text, "not an SQLite database");
    let other = dir.join("other-app.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE orders (id INTEGER);").unwrap();
    refused(&other, "not an omnitwin store: the database holds tables orders");
    refused(&dir, "is a directory");
    refused(&text.join("cdp.db"), "");
    let newer = dir.join("newer.db");
    drop(Engine::open_or_create(&newer, Config::default()).unwrap());
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.execute("UPDATE meta SET value = '9', checksum = NULL WHERE key = 'format_version'", []).unwrap();
    drop(conn);
    refused(&newer, "newer omnitwin");
    // Unreadable (only meaningful when not running as root, who reads anything).
    let locked = dir.join("locked.db");
    drop(Engine::open_or_create(&locked, Config::default()).unwrap());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        refused(&locked, "permission denied");
    } else {
        eprintln!("running as root: the unreadable-file case is not exercised");
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Nothing at the path: refused when it must exist.
    assert!(Engine::open_existing(dir.join("none.db")).unwrap_err().to_string().contains("no such store"));
    assert!(Engine::open_read_only(dir.join("none.db")).unwrap_err().to_string().contains("no such store"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_store_of_the_first_format_is_migrated_and_keeps_every_row() {
    let dir = scratch("old-format");
    let path = dir.join("v0.db");
    {
        // As the first omnitwin wrote stores: no version row, no times, no suppression list,
        // no checksums.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            r#"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
               CREATE TABLE touchpoints (seq INTEGER PRIMARY KEY, touchpoint_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
               CREATE TABLE changes (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
               INSERT INTO touchpoints (touchpoint_id, data) VALUES ('t1', '{"touchpoint_id": "t1", "email": "an@x.vn"}');
               INSERT INTO touchpoints (touchpoint_id, data) VALUES ('t2', '{"touchpoint_id": "t2", "email": "AN@x.vn"}');
               INSERT INTO changes (seq, data) VALUES (1, '{"seq": 1, "change": "created", "profile_id": "Pa"}');"#,
        )
        .unwrap();
        let config = serde_json::to_string(&Config::default()).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('config', ?1)", [config]).unwrap();
    }
    // Read-only first: nothing is migrated, everything is read.
    let reader = Engine::open_read_only(&path).unwrap();
    assert_eq!(reader.len(), 2);
    drop(reader);
    let mut engine = Engine::open_existing(&path).unwrap();
    assert_eq!(engine.len(), 2);
    assert_eq!(engine.profile_of("t1").unwrap().profile_id, engine.profile_of("t2").unwrap().profile_id);
    engine.ingest_one(Touchpoint { email: Some("binh@x.vn".into()), ..Touchpoint::new("t3") }).unwrap();
    drop(engine);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'format_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, "1");
    drop(conn);
    let engine = Engine::open_existing(&path).unwrap();
    assert_eq!(engine.len(), 3);
    assert!(engine.check().unwrap().problems.iter().all(|p| !p.contains("integrity")));
    std::fs::remove_dir_all(&dir).ok();
}

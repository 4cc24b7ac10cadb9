//! Two processes, one store: the second writer is refused with the first one's process id
//! (nothing is corrupted, the feed's numbering is never shared); readers in another process
//! open the store read-only and see what was committed when they opened; once the writer
//! ends, however it ends, the store opens for writing again.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use omnitwin::{Config, Engine, ErrorKind, Touchpoint};

use crate::common::scratch;

fn touchpoint(i: usize) -> Touchpoint {
    Touchpoint {
        email: Some(format!("buyer{}@shop.vn", i % 13).into()),
        full_name: Some(["Nguyễn An", "Trần Bình", "Lê Cường"][i % 3].into()),
        ..Touchpoint::new(format!("w{i}"))
    }
}

/// Not a test on its own: a writer in another process. Opens the store, then for each line
/// `n` on its input ingests `n` more touchpoints and answers `held <len>`; ends when its input
/// closes.
#[test]
#[ignore = "run by a_second_writer_is_refused_and_readers_see_what_was_committed as a child process"]
fn writer_process() {
    let Some(path) = std::env::var_os("OMNITWIN_WRITER_STORE") else { return };
    let mut engine = Engine::open_or_create(std::path::Path::new(&path), Config::default()).unwrap();
    // The test harness writes its own words before ours on the first line.
    println!();
    println!("held {}", engine.len());
    for line in std::io::stdin().lines() {
        let n: usize = line.unwrap().trim().parse().unwrap();
        let from = engine.len();
        for i in from..from + n {
            engine.ingest_one(touchpoint(i)).unwrap();
        }
        println!("held {}", engine.len());
    }
}

#[test]
fn a_second_writer_is_refused_and_readers_see_what_was_committed() {
    let dir = scratch("processes");
    let path = dir.join("cdp.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["processes::writer_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("OMNITWIN_WRITER_STORE", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut held = || -> usize {
        loop {
            let line = output.next().expect("the writer answers").unwrap();
            if let Some(n) = line.strip_prefix("held ") {
                return n.parse().unwrap();
            }
        }
    };
    assert_eq!(held(), 0);
    writeln!(input, "30").unwrap();
    assert_eq!(held(), 30);

    // A second writer, here: refused, naming the writer's process.
    let err = Engine::open_or_create(&path, Config::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains(&format!("in use by another process (process {}", child.id())), "{err}");
    assert!(Engine::open_existing(&path).is_err());

    // A reader sees what was committed when it opened, and no later commit.
    let reader = Engine::open_read_only(&path).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.len(), 30);
    writeln!(input, "25").unwrap();
    assert_eq!(held(), 55);
    assert_eq!(reader.len(), 30, "a reader holds what it opened");
    assert_eq!(Engine::open_read_only(&path).unwrap().len(), 55, "a new reader sees the new commits");
    let check = reader.check().unwrap();
    assert!(check.problems.iter().any(|p| p.contains("the store holds 55 touchpoints, the engine 30")), "{check}");
    let mut reader = reader;
    let err = reader.ingest_one(touchpoint(999)).unwrap_err();
    assert!(err.to_string().contains("opened read-only"), "{err}");
    assert_eq!(reader.retrain().unwrap_err().kind(), ErrorKind::Io);

    // The writer ends: the store opens for writing, with everything it committed.
    drop(input);
    assert!(child.wait().unwrap().success());
    let engine = Engine::open_or_create(&path, Config::default()).unwrap();
    assert_eq!(engine.len(), 55);
    assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    let check = engine.check().unwrap();
    assert!(check.is_ok(), "{check}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_writer_per_store_within_a_process_too_until_it_closes() {
    let dir = scratch("one-writer");
    let path = dir.join("cdp.db");
    let mut first = Engine::open_or_create(&path, Config::default()).unwrap();
    first.ingest_one(touchpoint(0)).unwrap();
    assert!(Engine::open_or_create(&path, Config::default()).unwrap_err().to_string().contains("in use"));
    first.close();
    assert!(first.ingest_one(touchpoint(1)).unwrap_err().to_string().contains("closed"));
    assert_eq!(first.len(), 1, "a closed engine still reads what it holds");
    let second = Engine::open_or_create(&path, Config::default()).unwrap();
    assert_eq!(second.len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

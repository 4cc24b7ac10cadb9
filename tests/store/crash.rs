//! Crashes anywhere: a child process writes to a store with matching on and a trained model —
//! every kind of write in a random order — and is killed with SIGKILL at a random moment. The
//! store must reopen every time, hold every write the child acknowledged, and nothing
//! half-done: the engine's own check (the store against itself and a resolution from scratch)
//! holds. `OMNITWIN_CRASH_ROUNDS` sets the number of kills (CI runs a bounded number).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use omnitwin::{Engine, ForgetTarget, Touchpoint};

use crate::common::{env_number, scratch, synthetic, Rng};

/// The kinds of write the child makes.
const KINDS: [&str; 9] = [
    "ingest_one",
    "batch",
    "batch_alongside",
    "large_batch",
    "forget",
    "retrain",
    "set_model",
    "apply_config",
    "compact",
];

/// The touchpoints the writer draws from (the same in parent and child).
fn pool() -> Vec<Touchpoint> {
    synthetic::generate(9_000, 23).touchpoints
}

/// Not a test on its own: the writer process of the crash test. Opens the store, then makes
/// random writes until killed, printing `begin <kind>` before each and `ack <kind> <ids>`
/// after it returns (the ids it added, or `-ids` it forgot).
#[test]
#[ignore = "run by a_store_killed_during_any_write_reopens_with_every_acknowledged_write as a child process"]
fn crash_writer_child() {
    let Some(path) = std::env::var_os("OMNITWIN_CRASH_STORE") else { return };
    let seed: u64 = std::env::var("OMNITWIN_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let pool = pool();
    let mut rng = Rng::new(seed);
    // The test harness writes its own words before ours on the first line.
    println!();
    // The default config: matching on, its model trained by the engine.
    let mut engine = Engine::open_or_create(Path::new(&path), None).unwrap();
    let mut cursor = 0;
    // The next `n` touchpoints of the pool the engine does not hold; past the end of the pool,
    // its touchpoints again under new ids (`~1`, `~2`, …), so a long run never runs dry.
    let mut fresh = |engine: &Engine, n: usize| -> Vec<Touchpoint> {
        let mut out: Vec<Touchpoint> = Vec::with_capacity(n);
        while out.len() < n {
            let mut tp = pool[cursor % pool.len()].clone();
            let round = cursor / pool.len();
            cursor += 1;
            if round > 0 {
                tp.touchpoint_id = format!("{}~{round}", tp.touchpoint_id).into();
            }
            if engine.touchpoint(&tp.touchpoint_id).is_none()
                && !out.iter().any(|t| t.touchpoint_id == tp.touchpoint_id)
            {
                out.push(tp);
            }
        }
        out
    };
    if engine.len() < 1_200 {
        // A first batch large enough to train a model on.
        let batch = fresh(&engine, 1_200);
        println!("begin large_batch");
        engine.ingest(batch.clone()).unwrap();
        println!("ack large_batch {}", ids(&batch));
    }
    loop {
        let mut kind = KINDS[rng.below(KINDS.len())];
        // A large batch adds an eighth of the store (what makes it large): past 16,000
        // touchpoints a long run would grow the store geometrically; smaller batches instead.
        if kind == "large_batch" && engine.len() > 16_000 {
            kind = "batch_alongside";
        }
        println!("begin {kind}");
        let added = |batch: &[Touchpoint]| ids(batch);
        let line = match kind {
            "ingest_one" => {
                let tp = fresh(&engine, 1).pop().unwrap();
                engine.ingest_one(tp.clone()).unwrap();
                added(&[tp])
            }
            "batch" | "batch_alongside" | "large_batch" => {
                let n = match kind {
                    "batch" => 5,
                    "batch_alongside" => 60,
                    _ => 1_100.max(engine.len() / 8 + 1),
                };
                let batch = fresh(&engine, n);
                engine.ingest(batch.clone()).unwrap();
                added(&batch)
            }
            "forget" => {
                let pick = &pool[rng.below(pool.len())];
                match engine.profile_of(&pick.touchpoint_id).map(|p| p.profile_id.clone()) {
                    Some(profile) => {
                        let report = engine.forget(ForgetTarget::Profile(profile)).unwrap();
                        report.touchpoints.iter().map(|t| format!("-{t}")).collect::<Vec<_>>().join(" ")
                    }
                    None => String::new(),
                }
            }
            "retrain" => {
                engine.retrain().unwrap();
                String::new()
            }
            "set_model" => {
                if let Some(mut model) = engine.model().cloned() {
                    model.prior = (model.prior * 1.5).min(0.4);
                    engine.set_model(model).unwrap();
                }
                String::new()
            }
            "apply_config" => {
                let mut config = engine.config().clone();
                config.matching.threshold = if config.matching.threshold > 0.9 { 0.85 } else { 0.95 };
                engine.apply_config(config).unwrap();
                String::new()
            }
            _ => {
                engine.compact().unwrap();
                String::new()
            }
        };
        println!("ack {kind} {line}");
    }
}

/// Touchpoint ids joined by spaces.
fn ids(batch: &[Touchpoint]) -> String {
    batch.iter().map(|t| t.touchpoint_id.as_str()).collect::<Vec<_>>().join(" ")
}

#[test]
fn a_store_killed_during_any_write_reopens_with_every_acknowledged_write() {
    let rounds = env_number("OMNITWIN_CRASH_ROUNDS", 24);
    let dir = scratch("crash");
    let path = dir.join("cdp.db");
    let mut rng = Rng::new(0x5eed);
    // Touchpoints the store must hold: every acknowledged ingest, less acknowledged forgets.
    let mut must_hold: BTreeSet<String> = BTreeSet::new();
    let mut killed_in: BTreeMap<&str, usize> = BTreeMap::new();
    let mut acknowledged = 0usize;
    for round in 0..rounds {
        let kill_after = 1 + rng.below(12);
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash::crash_writer_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("OMNITWIN_CRASH_STORE", &path)
            .env("OMNITWIN_CRASH_SEED", (rng.next_u64() | 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acks = 0;
        let mut doing = "open";
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(kind) = line.strip_prefix("begin ") {
                doing = KINDS.iter().find(|k| **k == kind).copied().unwrap_or("large_batch");
            } else if let Some(rest) = line.strip_prefix("ack ") {
                acknowledged += 1;
                for id in rest.split(' ').skip(1).filter(|s| !s.is_empty()) {
                    match id.strip_prefix('-') {
                        Some(gone) => must_hold.remove(gone),
                        None => must_hold.insert(id.to_owned()),
                    };
                }
                acks += 1;
                if acks == kill_after {
                    // Let the next write get under way, for a random moment.
                    std::thread::sleep(std::time::Duration::from_micros(rng.below(4_000) as u64));
                    child.kill().unwrap(); // SIGKILL: no destructors, no flush
                    break;
                }
            }
        }
        let status = child.wait().unwrap();
        if acks < kill_after {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).ok();
            panic!("round {round}: the writer stopped by itself ({status}) after {acks} writes:\n{err}");
        }
        *killed_in.entry(doing).or_default() += 1;
        let engine = Engine::open_existing(&path).unwrap_or_else(|e| panic!("round {round}, killed in {doing}: {e}"));
        assert_eq!(engine.warnings(), [] as [String; 0], "round {round}, killed in {doing}");
        for id in &must_hold {
            assert!(engine.touchpoint(id).is_some(), "round {round}, killed in {doing}: acknowledged {id} lost");
        }
        let check = engine.check().unwrap();
        assert!(check.is_ok(), "round {round}, killed in {doing}: {check}");
        // What the store holds now is what the next writer starts from (the write in flight
        // may or may not have landed, whole).
        must_hold.clear();
        must_hold.extend(engine.assignments().into_iter().map(|a| a.touchpoint_id));
    }
    eprintln!("crash test: {rounds} kills after {acknowledged} acknowledged writes; killed during: {killed_in:?}");
    std::fs::remove_dir_all(&dir).ok();
}

//! Reopening, again and again: the store a new user makes with the default config (matching
//! on, a model trained by the engine) opens every time, with the same profiles and model.

use omnitwin::{Config, Engine, Touchpoint};

use crate::common::{scratch, sorted_assignments};

/// Touchpoints that carry only an email and a cookie id: no names, so the name comparison of
/// the default matching settings has no values at all.
fn email_and_cookie(i: usize) -> Touchpoint {
    Touchpoint {
        email: Some(format!("buyer{}@shop.vn", i % 7).into()),
        cookie_id: Some(format!("ck-{i}").into()),
        ..Touchpoint::new(format!("t{i}"))
    }
}

#[test]
fn a_default_store_fed_identifiers_only_opens_again_and_again() {
    let dir = scratch("reopen-ids-only");
    let path = dir.join("cdp.db");
    let mut expected = Vec::new();
    for round in 0..6 {
        let mut engine = Engine::open_or_create(&path, Config::default())
            .unwrap_or_else(|e| panic!("open number {}: {e}", round + 1));
        assert_eq!(sorted_assignments(&engine), expected, "open number {}: the profiles held", round + 1);
        assert_eq!(engine.warnings(), [] as [String; 0], "open number {}: nothing was rebuilt", round + 1);
        for i in round * 2..round * 2 + 2 {
            engine.ingest_one(email_and_cookie(i)).unwrap();
        }
        expected = sorted_assignments(&engine);
    }
    std::fs::remove_dir_all(&dir).ok();
}

//! The command-line tool, run as a user would: outputs, exit codes and messages.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

use std::path::{Path, PathBuf};
use std::process::Command;

fn omnitwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_omnitwin"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/touchpoints.csv")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("omnitwin-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn resolve_writes_assignments_profiles_and_report() {
    let out = temp_dir("resolve");
    let status = omnitwin().args(["resolve", "--input"]).arg(sample()).arg("--out").arg(&out).status().unwrap();
    assert!(status.success());
    let assignments = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
    let input_rows = std::fs::read_to_string(sample()).unwrap().lines().count() - 1;
    assert_eq!(assignments.lines().count() - 1, input_rows, "every touchpoint exactly once");
    assert!(assignments.starts_with("touchpoint_id,profile_id\n"));
    assert!(out.join("profiles.parquet").metadata().unwrap().len() > 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["resolve"]["touchpoints"], input_rows);
    assert!(report["resolve"]["links"]["refused_shared_identifier"].as_u64().unwrap() > 0);
}

#[test]
fn resolve_matches_by_default_saves_the_model_and_reuses_it() {
    let dir = temp_dir("resolve-model");
    let run = |out: &str, extra: &[&str]| {
        let out = dir.join(out);
        let status = omnitwin()
            .args(["resolve", "-q", "--format", "csv", "--input"])
            .arg(sample())
            .arg("--out")
            .arg(&out)
            .args(extra)
            .status()
            .unwrap();
        assert!(status.success());
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        (out, report)
    };
    let (trained, report) = run("trained", &[]);
    let matching = &report["resolve"]["matching"];
    assert_eq!(matching["model"], "trained");
    assert!(matching["matches_made"].as_u64().unwrap() > 0, "{matching}");
    let model = trained.join("model.json");
    assert!(model.exists());
    let (reused, report) = run("reused", &["--model", model.to_str().unwrap()]);
    assert_eq!(report["resolve"]["matching"]["model"], "given");
    let read = |dir: &Path| std::fs::read_to_string(dir.join("assignments.csv")).unwrap();
    assert_eq!(read(&trained), read(&reused), "the saved model gives the same profiles");
    let (plain, report) = run("plain", &["--deterministic-only"]);
    assert!(report["resolve"]["matching"].is_null());
    assert!(!plain.join("model.json").exists());
    let profiles = |r: &serde_json::Value| r["resolve"]["profiles"].as_u64().unwrap();
    let (_, trained_report) = run("again", &[]);
    assert!(profiles(&report) > profiles(&trained_report), "matching joins profiles");
}

#[test]
fn csv_and_json_profile_formats() {
    for format in ["csv", "json"] {
        let out = temp_dir(format);
        let status = omnitwin()
            .args(["resolve", "-q", "--format", format, "--input"])
            .arg(sample())
            .arg("--out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{format}");
        let text = std::fs::read_to_string(out.join(format!("profiles.{format}"))).unwrap();
        assert!(text.contains("profile_id"), "{format}");
    }
}

#[test]
fn bad_input_exits_non_zero_with_a_clear_message() {
    let dir = temp_dir("bad");
    let input = dir.join("bad.csv");
    std::fs::write(&input, "touchpoint_id,timestamp\nt1,2024-01-01\nt2,someday\n").unwrap();
    let output =
        omnitwin().args(["resolve", "--input"]).arg(&input).arg("--out").arg(dir.join("out")).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("row 2, column `timestamp`") && stderr.contains("someday"), "{stderr}");
}

#[test]
fn skip_mode_writes_rejected_rows() {
    let dir = temp_dir("skip");
    let input = dir.join("mixed.csv");
    std::fs::write(&input, "touchpoint_id,timestamp,email\nt1,2024-01-01,a@x.vn\nt2,someday,a@x.vn\nt3,,a@x.vn\n")
        .unwrap();
    let out = dir.join("out");
    let status = omnitwin()
        .args(["resolve", "--on-error", "skip", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let rejected = std::fs::read_to_string(out.join("rejected.csv")).unwrap();
    assert!(rejected.contains(",2,\"t2\",") && rejected.contains("someday"), "{rejected}");
    let assignments = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
    assert_eq!(assignments.lines().count(), 3);
}

#[test]
fn explain_prints_the_chain() {
    let dir = temp_dir("explain");
    let input = dir.join("tp.csv");
    std::fs::write(
        &input,
        "touchpoint_id,email,phone\na,an@gmail.com,\nb,an@gmail.com,0912345678\nc,,+84912345678\nd,x@y.vn,\n",
    )
    .unwrap();
    let output = omnitwin().args(["explain", "--input"]).arg(&input).args(["a", "c"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("are in one profile")
            && stdout.contains("email:an@gmail.com")
            && stdout.contains("phone:+84912345678"),
        "{stdout}"
    );
    let output = omnitwin().args(["explain", "--json", "--input"]).arg(&input).args(["a", "zzz"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown touchpoint `zzz`"));
}

#[test]
fn link_dedupes_a_table_and_reuses_its_model() {
    let dir = temp_dir("link");
    let input = dir.join("people.csv");
    let mut csv = String::from("rec_id, given_name, surname, dob\n");
    for p in 0..60 {
        let given = ["an", "binh", "chau", "dung", "giang", "hoa"][p % 6];
        let surname = ["nguyen", "tran", "le", "pham", "vu"][p % 5];
        let dob = format!("19{:02}-0{}-1{}", 40 + p, 1 + p % 9, p % 10);
        csv.push_str(&format!("r{p}a, {given}, {surname}, {dob}\n"));
        if p % 2 == 0 {
            csv.push_str(&format!("r{p}b, {given}h, {surname}, {dob}\n"));
        }
    }
    std::fs::write(&input, csv).unwrap();
    let settings = dir.join("settings.json");
    std::fs::write(
        &settings,
        r#"{"unique_id_column": "rec_id",
            "comparisons": [
                {"column": "given_name", "levels": ["exact", {"jaro_winkler": 0.85}]},
                {"column": "dob", "levels": ["exact", {"within_years": 2}]}
            ],
            "blocking_rules": [["surname"]], "training": {"u_sample_pairs": 2000}}"#,
    )
    .unwrap();
    // `omnitwin link` on the input, writing into `out`.
    let link = |out: &Path| {
        let mut command = omnitwin();
        command.arg("link").arg("--settings").arg(&settings).arg("--input").arg(&input).arg("--out").arg(out);
        command
    };
    let out = dir.join("out");
    assert!(link(&out).status().unwrap().success());
    let assignments = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
    assert!(assignments.starts_with("record_id,cluster_id\n"));
    assert_eq!(assignments.lines().count() - 1, 90, "every record once");
    assert!(assignments.contains("r0b,r0a\n"), "a record and its duplicate share a cluster");
    let pairs = std::fs::read_to_string(out.join("pairs.csv")).unwrap();
    assert!(pairs.starts_with("left_id,right_id,match_weight,match_probability,blocking_rule\n"));
    let again = dir.join("again");
    assert!(link(&again).arg("--model").arg(out.join("model.json")).status().unwrap().success());
    assert_eq!(std::fs::read_to_string(again.join("assignments.csv")).unwrap(), assignments);
    let bad =
        omnitwin().arg("link").arg("--settings").arg(&input).arg("--input").arg(&input).arg("--out").arg(&out).output();
    let bad = bad.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("config `settings`"));
}

#[test]
fn report_writes_one_self_contained_page_and_its_tables() {
    let dir = temp_dir("report");
    let (page, tables) = (dir.join("out/report.html"), dir.join("report.json"));
    let output = omnitwin()
        .args(["report", "--quiet", "--input"])
        .arg(sample())
        .arg("--out")
        .arg(&page)
        .arg("--json")
        .arg(&tables)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    for part in [
        "<!DOCTYPE html>",
        "Customers by number of channels",
        "Journey funnel",
        "Channel to channel",
        "Revenue by first touch",
        "Identity health",
        "<svg",
    ] {
        assert!(html.contains(part), "{part}");
    }
    assert!(!html.contains("src=") && !html.contains("http"), "the page fetches nothing");
    let tables: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&tables).unwrap()).unwrap();
    let profiles = tables["profiles"].as_u64().unwrap();
    let by_count: u64 =
        tables["customers_by_channel_count"].as_array().unwrap().iter().map(|r| r["profiles"].as_u64().unwrap()).sum();
    assert_eq!(by_count, profiles, "every customer is counted once");
    assert_eq!(tables["identity"]["profiles"].as_u64(), Some(profiles));
}

//! Writes a synthetic omnichannel touchpoint file and its ground truth.
//!
//! ```text
//! cargo run --release --example generate -- [PEOPLE] [OUT_DIR] [SEED]
//! ```
//! writes `OUT_DIR/touchpoints.csv` (the standard touchpoint schema) and `OUT_DIR/truth.csv`
//! (`touchpoint_id,person_id`). Defaults: 1,000 people into `examples/data`, seed 42.

#[path = "synthetic/mod.rs"]
mod synthetic;

use std::io::{BufWriter, Write};

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let people: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "examples/data".into()));
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    std::fs::create_dir_all(&out)?;
    let data = synthetic::generate(people, seed);
    let mut tps = BufWriter::new(std::fs::File::create(out.join("touchpoints.csv"))?);
    writeln!(tps, "{}", omnitwin::model::STANDARD_COLUMNS.join(","))?;
    for tp in &data.touchpoints {
        let row: Vec<String> = omnitwin::model::STANDARD_COLUMNS
            .iter()
            .map(|&column| match column {
                "channel" => tp.channel.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                "timestamp" => tp
                    .timestamp
                    .map(|ms| {
                        // Written in Vietnam time, as a retailer's export would be.
                        let secs = ms / 1000 + 7 * 3600;
                        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
                        let (y, m, d) = civil_from_days(days);
                        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+07:00", rem / 3600, rem % 3600 / 60, rem % 60)
                    })
                    .unwrap_or_default(),
                "amount" => tp.amount.map(|a| format!("{a:.0}")).unwrap_or_default(),
                other => tp.text(other).map(csv_field).unwrap_or_default(),
            })
            .collect();
        writeln!(tps, "{}", row.join(","))?;
    }
    tps.flush()?;
    let mut truth = BufWriter::new(std::fs::File::create(out.join("truth.csv"))?);
    writeln!(truth, "touchpoint_id,person_id")?;
    for (tp, person) in data.touchpoints.iter().zip(&data.person_of) {
        writeln!(truth, "{},person-{person}", tp.touchpoint_id)?;
    }
    truth.flush()?;
    eprintln!("wrote {} touchpoints of {people} people to {}", data.touchpoints.len(), out.display());
    Ok(())
}

/// Days since 1970-01-01 to a (year, month, day) civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

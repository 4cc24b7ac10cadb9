//! `omnitwin`: resolve touchpoint files into profiles from the command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use omnitwin::io::{read_frame, write_frame, InputFormat, OutputFormat};
use omnitwin::progress::Progress;
use omnitwin::{Config, Engine, OnError, RejectedRow};

// The engine allocates many small strings from several threads; mimalloc handles that pattern
// far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resolve customer touchpoints from every channel into one profile per real person.
#[derive(Parser)]
#[command(name = "omnitwin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve touchpoints into profiles and write assignments, profiles and a report.
    Resolve {
        #[command(flatten)]
        input: InputArgs,
        /// Folder to write assignments.csv, profiles.<format> and report.json into.
        #[arg(long)]
        out: PathBuf,
        /// Format of the profiles file.
        #[arg(long, value_enum, default_value_t = ProfilesFormat::Parquet)]
        format: ProfilesFormat,
        /// What to do with bad rows: stop with an error, or skip them into rejected.csv.
        #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
        on_error: OnErrorArg,
    },
    /// Probabilistic record linkage of any table(s): dedupe one table, or link two or more,
    /// with comparisons and blocking rules from a settings file; writes assignments.csv
    /// (record id → cluster id), pairs.csv (the scored pairs that link), model.json and
    /// report.json.
    Link {
        /// The settings (JSON): comparisons, blocking rules, link type, threshold.
        #[arg(long)]
        settings: PathBuf,
        /// Input table(s): CSV, Parquet or JSON Lines.
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Folder to write the results into.
        #[arg(long)]
        out: PathBuf,
        /// A model saved by an earlier run, used instead of training on this input.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Write the omnichannel report: one self-contained HTML page with charts (customers by
    /// number of channels, channel-to-channel journeys, the journey funnel, revenue by channel
    /// and by first/last touch, identity health) that opens offline.
    Report {
        #[command(flatten)]
        input: InputArgs,
        /// The HTML file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also write the report's tables as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Maintain a durable store (the SQLite file behind `Engine::open`).
    Store {
        #[command(subcommand)]
        action: StoreCommand,
    },
    /// Explain why two touchpoints are, or are not, in one profile.
    Explain {
        #[command(flatten)]
        input: InputArgs,
        /// The first touchpoint id.
        a: String,
        /// The second touchpoint id.
        b: String,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Check a store without changing it: SQLite's integrity check of the file, the stored
    /// touchpoints, feed, model and config against each other, every invariant of the derived
    /// state, and the profiles against a resolution from scratch. Exits with 1 when something
    /// is wrong. Works while another process has the store open for writing.
    Check {
        /// The store's file.
        path: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild a store's derived state from its touchpoints: a model the engine trained is
    /// trained again (one set by the user is kept), profiles are resolved again and what moved
    /// is recorded in the change feed; then the file is compacted and checked.
    Rebuild {
        /// The store's file.
        path: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct InputArgs {
    /// Touchpoint file(s): CSV, Parquet or JSON Lines (by extension, or --input-format).
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// The format of the input files, when their names don't say.
    #[arg(long, value_enum)]
    input_format: Option<InputFormatArg>,
    /// A JSON config file (column mapping, identifier rules, blocked values, survivorship,
    /// matching).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A matching model saved by an earlier run (model.json), used instead of training one on
    /// this input.
    #[arg(long, conflicts_with = "deterministic_only")]
    model: Option<PathBuf>,
    /// Link on strong identifiers only: no probabilistic matching.
    #[arg(long)]
    deterministic_only: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProfilesFormat {
    Parquet,
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormatArg {
    Csv,
    Parquet,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum OnErrorArg {
    Fail,
    Skip,
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(quiet: bool) -> Bar {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar)
    }
}

impl Progress for Bar {
    fn stage(&self, name: &str, total: Option<u64>) {
        let template = match total {
            Some(_) => "{spinner} {msg:<12} [{bar:30}] {pos}/{len} ({elapsed})",
            None => "{spinner} {msg:<12} ({elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(0);
        self.0.set_message(name.to_owned());
    }

    fn advance(&self, done: u64) {
        self.0.inc(done);
    }
}

/// Rows rejected from one input file.
struct Rejected {
    file: PathBuf,
    rows: Vec<RejectedRow>,
}

/// Reads every input into one engine.
fn load(args: &InputArgs, on_error: OnError, bar: &Bar) -> omnitwin::Result<(Engine, Vec<Rejected>)> {
    let mut config = match &args.config {
        Some(path) => Config::from_json_file(path)?,
        None => Config::default(),
    };
    if args.deterministic_only {
        config.matching.enabled = false;
    }
    let mut engine = Engine::new(config)?;
    if let Some(path) = &args.model {
        let text = std::fs::read_to_string(path).map_err(|e| omnitwin::Error::Io { path: path.clone(), source: e })?;
        engine.set_model(omnitwin::matching::Model::from_json(&text)?)?;
    }
    let mut rejected = Vec::new();
    let format = args.input_format.map(|f| match f {
        InputFormatArg::Csv => InputFormat::Csv,
        InputFormatArg::Parquet => InputFormat::Parquet,
        InputFormatArg::Jsonl => InputFormat::Jsonl,
    });
    for path in &args.input {
        let bad_rows = engine.ingest_file(path, format, on_error, bar)?.rejected;
        if !bad_rows.is_empty() {
            rejected.push(Rejected { file: path.clone(), rows: bad_rows });
        }
    }
    Ok((engine, rejected))
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> omnitwin::Result<()> {
    let file = std::fs::File::create(path).map_err(|e| omnitwin::Error::Io { path: path.into(), source: e })?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, value)?;
    writer.flush().map_err(|e| omnitwin::Error::Io { path: path.into(), source: e })
}

fn write_rejected(path: &Path, rejected: &[Rejected]) -> omnitwin::Result<()> {
    let io = |e| omnitwin::Error::Io { path: path.into(), source: e };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(out, "file,row,touchpoint_id,reasons").map_err(io)?;
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for group in rejected {
        for row in &group.rows {
            writeln!(
                out,
                "{},{},{},{}",
                quote(&group.file.display().to_string()),
                row.row,
                quote(row.touchpoint_id.as_deref().unwrap_or("")),
                quote(&row.reasons.join("; "))
            )
            .map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn resolve(input: &InputArgs, out: &Path, format: ProfilesFormat, on_error: OnError) -> omnitwin::Result<()> {
    let started = Instant::now();
    let bar = Bar::new(input.quiet);
    let (engine, rejected) = load(input, on_error, &bar)?;
    let loaded = started.elapsed();
    let report = engine.resolve_with_progress(&bar).clone();
    let resolved = started.elapsed();
    bar.stage("writing", None);
    std::fs::create_dir_all(out).map_err(|e| omnitwin::Error::Io { path: out.into(), source: e })?;
    write_frame(&mut engine.assignments_frame()?, &out.join("assignments.csv"), OutputFormat::Csv)?;
    match format {
        ProfilesFormat::Parquet => engine.write_profiles(&out.join("profiles.parquet"), OutputFormat::Parquet)?,
        ProfilesFormat::Csv => engine.write_profiles(&out.join("profiles.csv"), OutputFormat::Csv)?,
        ProfilesFormat::Json => write_json(&out.join("profiles.json"), &engine.profiles())?,
    }
    let rejected_rows: usize = rejected.iter().map(|r| r.rows.len()).sum();
    if rejected_rows > 0 {
        write_rejected(&out.join("rejected.csv"), &rejected)?;
    }
    if let Some(model) = engine.model().filter(|_| input.model.is_none()) {
        let path = out.join("model.json");
        std::fs::write(&path, model.to_json()).map_err(|e| omnitwin::Error::Io { path, source: e })?;
    }
    let summary = serde_json::json!({
        "inputs": input.input.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "rejected_rows": rejected_rows,
        "resolve": report,
        "seconds": {
            "read_and_ingest": loaded.as_secs_f64(),
            "resolve": (resolved - loaded).as_secs_f64(),
            "write": (started.elapsed() - resolved).as_secs_f64(),
        },
    });
    write_json(&out.join("report.json"), &summary)?;
    bar.0.finish_and_clear();
    eprintln!(
        "{} touchpoints → {} profiles ({} merged, {} quarantined); {} links made, {} refused (blocked {}, shared {}, limits {}); {}{}; wrote {}",
        report.touchpoints,
        report.profiles,
        report.merged_profiles,
        report.quarantined_profiles,
        report.links.links_made,
        report.links.refused_blocked_value + report.links.refused_shared_identifier + report.links.refused_limit,
        report.links.refused_blocked_value,
        report.links.refused_shared_identifier,
        report.links.refused_limit,
        match &report.matching {
            None => "matching off".to_owned(),
            Some(m) => match &m.skipped {
                Some(why) => format!("matching skipped: {why}"),
                None => format!("{} profiles joined by matching, {} matches refused by limits", m.matches_made, m.refused_limit),
            },
        },
        if rejected_rows > 0 { format!("; {rejected_rows} rows rejected (see rejected.csv)") } else { String::new() },
        out.display()
    );
    Ok(())
}

fn report(input: &InputArgs, out: &Path, json: Option<&Path>) -> omnitwin::Result<()> {
    let started = Instant::now();
    let bar = Bar::new(input.quiet);
    let (engine, _) = load(input, OnError::Fail, &bar)?;
    engine.resolve_with_progress(&bar);
    engine.build_profiles_with_progress(&bar);
    bar.0.finish_and_clear();
    let report = engine.report();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| omnitwin::Error::Io { path: parent.into(), source: e })?;
    }
    std::fs::write(out, omnitwin::html::report(&report))
        .map_err(|e| omnitwin::Error::Io { path: out.into(), source: e })?;
    if let Some(json) = json {
        write_json(json, &report)?;
    }
    if !input.quiet {
        eprintln!(
            "{} customers, {} touchpoints: report written to {} in {:.1} s",
            report.profiles,
            report.identity.touchpoints,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn explain(input: &InputArgs, a: &str, b: &str, json: bool) -> omnitwin::Result<()> {
    let bar = Bar::new(input.quiet);
    let (engine, _) = load(input, OnError::Fail, &bar)?;
    engine.resolve_with_progress(&bar);
    bar.0.finish_and_clear();
    let explanation = engine.explain(a, b)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{explanation}");
    }
    Ok(())
}

fn link(settings: &Path, inputs: &[PathBuf], out: &Path, model: Option<&Path>) -> omnitwin::Result<()> {
    use omnitwin::matching::{Linker, Model, Settings};
    use polars::prelude::*;
    let started = Instant::now();
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| omnitwin::Error::Io { path: path.into(), source: e });
    let settings = Settings::from_json(&read(settings)?)?;
    let frames = inputs
        .iter()
        .map(|path| read_frame(path, None, OnError::Fail).map(|(df, _)| df))
        .collect::<omnitwin::Result<Vec<_>>>()?;
    let read_at = started.elapsed();
    let mut linker = Linker::new(settings, &frames)?;
    drop(frames);
    let prepared_at = started.elapsed();
    let training = match model {
        Some(path) => {
            linker.set_model(Model::from_json(&read(path)?)?)?;
            None
        }
        None => Some(linker.train()?),
    };
    let trained = started.elapsed();
    let pairs = linker.predict()?;
    let clusters = linker.cluster(&pairs)?;
    let clustered_at = started.elapsed();
    std::fs::create_dir_all(out).map_err(|e| omnitwin::Error::Io { path: out.into(), source: e })?;
    let mut assignments = df!(
        "record_id" => clusters.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        "cluster_id" => clusters.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>()
    )?;
    write_frame(&mut assignments, &out.join("assignments.csv"), OutputFormat::Csv)?;
    let mut scored = df!(
        "left_id" => pairs.iter().map(|p| p.left.as_str()).collect::<Vec<_>>(),
        "right_id" => pairs.iter().map(|p| p.right.as_str()).collect::<Vec<_>>(),
        "match_weight" => pairs.iter().map(|p| p.match_weight).collect::<Vec<_>>(),
        "match_probability" => pairs.iter().map(|p| p.match_probability).collect::<Vec<_>>(),
        "blocking_rule" => pairs.iter().map(|p| p.blocking_rule as u32).collect::<Vec<_>>()
    )?;
    write_frame(&mut scored, &out.join("pairs.csv"), OutputFormat::Csv)?;
    if let Some(model) = linker.model() {
        let path = out.join("model.json");
        std::fs::write(&path, model.to_json()).map_err(|e| omnitwin::Error::Io { path, source: e })?;
    }
    let mut distinct: Vec<&str> = clusters.iter().map(|(_, c)| c.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let summary = serde_json::json!({
        "inputs": inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "records": linker.records(),
        "candidate_pairs": linker.candidate_pairs(),
        "oversize_blocks": linker.oversize_blocks(),
        "linked_pairs": pairs.len(),
        "clusters": distinct.len(),
        "training": training,
        "seconds": {
            "read": read_at.as_secs_f64(),
            "prepare": (prepared_at - read_at).as_secs_f64(),
            "train": (trained - prepared_at).as_secs_f64(),
            "predict_and_cluster": (clustered_at - trained).as_secs_f64(),
            "read_and_train": trained.as_secs_f64(),
            "total": started.elapsed().as_secs_f64(),
        },
    });
    write_json(&out.join("report.json"), &summary)?;
    eprintln!(
        "{} records → {} clusters; {} pairs linked at probability ≥ {}; wrote {}",
        linker.records(),
        distinct.len(),
        pairs.len(),
        linker.settings().threshold,
        out.display()
    );
    Ok(())
}

/// `omnitwin store check|rebuild`.
fn store(action: &StoreCommand) -> omnitwin::Result<()> {
    let (check, json) = match action {
        StoreCommand::Check { path, json } => (Engine::open_read_only(path)?.check()?, *json),
        StoreCommand::Rebuild { path, json } => (Engine::open_existing(path)?.rebuild()?, *json),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&check)?);
    } else {
        println!("{check}");
    }
    if check.is_ok() {
        Ok(())
    } else {
        Err(omnitwin::Error::Store {
            path: check.path.clone().unwrap_or_default().into(),
            message: format!("{} problem(s) found", check.problems.len()),
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Resolve { input, out, format, on_error } => {
            let on_error = match on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            };
            resolve(input, out, *format, on_error)
        }
        Command::Explain { input, a, b, json } => explain(input, a, b, *json),
        Command::Report { input, out, json } => report(input, out, json.as_deref()),
        Command::Link { settings, input, out, model } => link(settings, input, out, model.as_deref()),
        Command::Store { action } => store(action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

//! The `reseclear` command line: parses flags into plain options and hands off to the
//! library. No logic lives here beyond printing a summary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use reseclear::config::{Config, CsvEncoding};
use reseclear::domain::YearMonth;
use reseclear::generate::{generate, GenerateOptions};
use reseclear::manifest::Manifest;
use reseclear::resolve::matcher::MatchModel;

/// Claims clearinghouse engine for receipts whose eligibility could not be confirmed.
#[derive(Parser, Debug)]
#[command(name = "reseclear", version, about, long_about = None)]
struct Cli {
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    /// Logs never carry names, kana, addresses or phone numbers.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one claim month: ingest and validate every input, write the quarantine file
    /// and the manifest.
    Run {
        /// Directory holding *.UKE files (any depth), roster.parquet or roster.csv,
        /// insurers.csv and optionally declarations.csv.
        #[arg(long)]
        input: PathBuf,
        /// Directory to write the outputs to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// TOML configuration; every key has a default (see schemas/config.md).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Encoding of the CSV inputs, overriding the configuration.
        #[arg(long, value_enum)]
        csv_encoding: Option<CsvEncoding>,
        /// Match tier 3 with this saved model (an earlier run's match_model.json)
        /// instead of training one on this month.
        #[arg(long)]
        match_model: Option<PathBuf>,
    },
    /// Score a finished run against a generated month's truth.parquet (synthetic
    /// months only): precision and recall of tier-3 matches, re-routing, pending.
    Evaluate {
        /// The generator's truth.parquet.
        #[arg(long)]
        truth: PathBuf,
        /// The run's output directory.
        #[arg(long)]
        run: PathBuf,
    },
    /// Write a synthetic claim month in the input contracts, with its truth file.
    Generate {
        /// Persons on the roster.
        #[arg(long)]
        persons: usize,
        /// Receipts in the month.
        #[arg(long)]
        receipts: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of receipts filed under a past insurer number.
        #[arg(long, default_value_t = 0.05)]
        tier2: f64,
        /// Fraction of receipts filed with insurer and insured numbers unknown.
        #[arg(long, default_value_t = 0.05)]
        tier3: f64,
        /// Write roster.csv instead of roster.parquet.
        #[arg(long)]
        roster_csv: bool,
        /// Add deliberately broken UKE files (for the quarantine to show).
        #[arg(long)]
        broken_files: bool,
        /// The month the files are billed (YYYY-MM); care is the month before.
        #[arg(long, default_value = "2026-06")]
        billing_month: String,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            input,
            out,
            config,
            csv_encoding,
            match_model,
        } => {
            let mut cfg = match &config {
                Some(p) => Config::load(p)?,
                None => Config::default(),
            };
            if let Some(e) = csv_encoding {
                cfg.ingest.csv_encoding = e;
            }
            let model = match &match_model {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    Some(
                        MatchModel::from_json(&text)
                            .with_context(|| format!("{} is not a match model", path.display()))?,
                    )
                }
                None => None,
            };
            let outcome = reseclear::run::run_with_model(&input, &out, &cfg, model.as_ref())?;
            print_summary(&outcome.manifest, &out);
            let stages: Vec<String> = outcome
                .timings
                .stages
                .iter()
                .map(|(stage, s)| format!("{stage} {s:.2} s"))
                .collect();
            println!("  time             {}", stages.join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate { truth, run } => {
            let evaluation = reseclear::evaluate::evaluate(&truth, &run)?;
            print!("{evaluation}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            persons,
            receipts,
            seed,
            tier2,
            tier3,
            roster_csv,
            broken_files,
            billing_month,
            out,
        } => {
            let billing_month = YearMonth::parse_iso(&billing_month)
                .with_context(|| format!("--billing-month {billing_month}"))?;
            let summary = generate(&GenerateOptions {
                persons,
                receipts,
                seed,
                tier2,
                tier3,
                out: out.clone(),
                roster_csv,
                broken_files,
                billing_month,
            })?;
            println!("wrote a synthetic month to {}", out.display());
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_summary(m: &Manifest, out: &std::path::Path) {
    let c = &m.conservation;
    println!(
        "reseclear {} — run written to {}",
        m.engine.version,
        out.display()
    );
    println!(
        "  UKE files        {:>10}  ({} quarantined whole)",
        m.uke.files, m.uke.files_quarantined
    );
    println!("  receipts read    {:>10}", c.receipts.receipts_in);
    println!("    accepted       {:>10}", c.receipts.accepted);
    println!("    quarantined    {:>10}", c.receipts.quarantined);
    for (status, n) in &c.receipts.by_status {
        let yen = c.yen.by_status.get(status).copied().unwrap_or_default();
        println!("    {status:<14} {n:>10}  {yen:>14} yen");
    }
    println!("  yen read         {:>10}", c.yen.yen_in);
    println!("    accepted       {:>10}", c.yen.accepted);
    println!("    quarantined    {:>10}", c.yen.quarantined);
    println!(
        "  roster rows      {:>10}  ({} quarantined)",
        m.roster.rows_accepted, m.roster.rows_quarantined
    );
    println!(
        "  insurers         {:>10}  ({} quarantined)",
        m.insurers.rows_accepted, m.insurers.rows_quarantined
    );
    if let Some(d) = &m.declarations {
        println!(
            "  declarations     {:>10}  ({} quarantined)",
            d.rows_accepted, d.rows_quarantined
        );
    }
    println!("  quarantine rows  {:>10}", m.quarantine.rows);
    println!(
        "  accounts         {:>10}",
        if c.balanced {
            "balanced"
        } else {
            "NOT BALANCED"
        }
    );
}

//! The `reseclear` command line: parses flags into plain options and hands off to the
//! library. No logic lives here beyond printing a summary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use reseclear::apportion::{Basis, BasisUsed, Scope};
use reseclear::config::{Config, CsvEncoding};
use reseclear::domain::YearMonth;
use reseclear::generate::{generate, GenerateOptions};
use reseclear::manifest::Manifest;
use reseclear::reapportion::{reapportion, Overrides};
use reseclear::resolve::matcher::MatchModel;
use reseclear::run::RunOptions;

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
    /// Run one claim month: ingest and validate every input, resolve, carry open claims
    /// on the pending ledger, apportion final-unresolved ones, write the statements,
    /// the quarantine file and the manifest.
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
        /// The previous month's pending ledger (its run's pending.parquet): its claims
        /// are retried against this month's roster, and apportioned after the hold.
        #[arg(long)]
        pending: Option<PathBuf>,
        /// Replace --out if it already holds a run (or anything else).
        #[arg(long)]
        force: bool,
    },
    /// Re-run apportionment alone from a finished run's outputs (no UKE re-read, no
    /// re-matching), with another basis or scope; writes apportionment.parquet and the
    /// statements to --out.
    Apportion {
        /// The finished run's output directory.
        #[arg(long)]
        run: PathBuf,
        /// What shares are proportional to (default: the run's configuration).
        #[arg(long, value_enum)]
        basis: Option<Basis>,
        /// Which insurers share (default: the run's configuration).
        #[arg(long, value_enum)]
        scope: Option<Scope>,
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it already holds outputs.
        #[arg(long)]
        force: bool,
    },
    /// Print per-insurer differences in yen between two apportionments (run or
    /// `apportion` output directories, or apportionment.parquet files).
    Compare { a: PathBuf, b: PathBuf },
    /// Recompute a finished run's accounts from its files (receipts, apportionment,
    /// statements, ledger) and check them against its manifest.
    Verify {
        #[arg(long)]
        run: PathBuf,
    },
    /// Remove declaration-derived personal data (names, kana, addresses, phone,
    /// employer, free-text comments) from a settled run's outputs; money and
    /// decisions stay. Logged in the run's purge_log.csv.
    Purge {
        #[arg(long)]
        run: PathBuf,
        /// The next month's run, which read this run's pending ledger (required while
        /// the ledger holds open claims).
        #[arg(long)]
        superseded_by: Option<PathBuf>,
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
            pending,
            force,
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
            let options = RunOptions {
                model: model.as_ref(),
                pending: pending.as_deref(),
                force,
            };
            let outcome = reseclear::run::run_with(&input, &out, &cfg, options)?;
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
        Command::Apportion {
            run,
            basis,
            scope,
            out,
            force,
        } => {
            let m = reapportion(
                &run,
                &out,
                Overrides {
                    basis,
                    scope,
                    force,
                },
            )?;
            println!(
                "apportioned {} receipts, {} yen, among {} parts (basis {}, scope {}) — written to {}",
                m.receipts,
                m.apportioned_yen,
                m.parts,
                BasisUsed::from(m.apportion.basis).as_str(),
                m.apportion.scope.as_str(),
                out.display()
            );
            if m.unapportionable > 0 {
                println!("  {} receipts could not be apportioned (no insurer of their organization's kinds)", m.unapportionable);
            }
            println!(
                "  owed {} yen = routed {} + apportioned {}: balanced",
                m.owed_yen, m.routed_yen, m.apportioned_yen
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { a, b } => {
            print!("{}", reseclear::compare::compare(&a, &b)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { run } => {
            let v = reseclear::verify::verify(&run)?;
            print!("{v}");
            Ok(if v.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Purge { run, superseded_by } => {
            for p in reseclear::purge::purge(&run, superseded_by.as_deref())? {
                println!(
                    "{}: {} values blanked in {} rows (logged in {})",
                    p.file,
                    p.values,
                    p.rows,
                    reseclear::purge::PURGE_LOG_FILE
                );
            }
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
    if let Some(month) = m.run_month {
        println!("  run month        {month:>10}");
    }
    println!(
        "  receipts in      {:>10}  ({} read, {} carried in from the pending ledger)",
        c.receipts.receipts_in, c.receipts.read, c.receipts.carried_in
    );
    println!("    accepted       {:>10}", c.receipts.accepted);
    println!("    quarantined    {:>10}", c.receipts.quarantined);
    println!(
        "  {:<16} {:>10}  {:>14}  {:>14}",
        "status", "receipts", "cost yen", "insurer share"
    );
    for (status, n) in &c.receipts.by_status {
        let yen = c.yen.by_status.get(status).copied().unwrap_or_default().0;
        let share = c
            .insurer_share
            .by_status
            .get(status)
            .copied()
            .unwrap_or_default()
            .0;
        println!("    {status:<14} {n:>10}  {yen:>14}  {share:>14}");
    }
    println!("  yen in           {:>10}", c.yen.yen_in.0);
    println!(
        "  insurers owe     {:>10}  (routed {} + apportioned {}), {} insurers",
        c.insurer_share.owed.0,
        c.insurer_share.routed,
        c.insurer_share.apportioned,
        c.insurer_share.by_insurer.len()
    );
    println!(
        "  apportioned      {:>10}  ({} parts, {} widened to national, {} not apportionable)",
        m.apportionment.receipts,
        m.apportionment.parts,
        m.apportionment.widened,
        m.apportionment.unapportionable
    );
    println!(
        "  pending ledger   {:>10}  carried out ({} new, {} carried in resolved, hold {} months)",
        m.pending.carried_out,
        m.pending.new_open,
        m.pending.carried_in_resolved,
        m.pending.hold_months
    );
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

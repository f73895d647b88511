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
use reseclear::ingest::uke::ReceiptKind;
use reseclear::manifest::Manifest;
use reseclear::progress::Progress;
use reseclear::report::html::{write_report_html, HtmlOptions, REPORT_HTML_FILE};
use reseclear::resolve::matcher::MatchModel;
use reseclear::run::RunOptions;
use reseclear::tools::reapportion::{reapportion, Overrides};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc rather than the system allocator: the run makes millions of small, short
/// allocations on two threads, and glibc's per-thread arenas hold on to freed memory
/// (peak RSS well above the live heap).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Claims clearinghouse engine for receipts whose eligibility could not be confirmed.
#[derive(Parser, Debug)]
#[command(name = "reseclear", version, about, long_about = None)]
struct Cli {
    /// Log level for diagnostics on stderr.
    /// Logs never carry names, kana, addresses or phone numbers.
    #[arg(long, global = true, value_enum, default_value = "warn")]
    log_level: LogLevel,
    /// Log lines as text or as JSON objects (one per line), for nightly runs.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// No progress bars and no summary on stdout; errors still go to stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn filter(self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter;
        match self {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Progress bars on stderr (indicatif): drawn only when stderr is a terminal.
struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl Bars {
    fn new(quiet: bool) -> Self {
        Bars {
            bar: Mutex::new(None),
            quiet,
        }
    }

    fn with(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut bar) = self.bar.lock() {
            f(&mut bar);
        }
    }
}

impl Progress for Bars {
    fn start(&self, stage: &'static str, total: Option<u64>) {
        if self.quiet {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => {
                let b = ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{msg:40} {spinner} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.enable_steady_tick(std::time::Duration::from_millis(120));
                b
            }
        };
        bar.set_message(stage);
        self.with(|b| *b = Some(bar));
    }

    fn advance(&self, n: u64) {
        self.with(|b| {
            if let Some(b) = b {
                b.inc(n);
            }
        });
    }

    fn finish(&self) {
        self.with(|b| {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        });
    }
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
        /// Replace --out if it holds an earlier run (never anything else).
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
        /// Replace --out if it holds an earlier `apportion` output.
        #[arg(long)]
        force: bool,
    },
    /// Print per-insurer differences in yen between two apportionments (run or
    /// `apportion` output directories, or apportionment.parquet files).
    Compare { a: PathBuf, b: PathBuf },
    /// Explain one receipt of a finished run: tier, status, candidates with every
    /// field's level and weight, the copay check, the ledger, the apportioned parts.
    Explain {
        #[arg(long)]
        run: PathBuf,
        /// CLINIC:YYYY-MM:NUMBER, e.g. 1312345:2026-06:17 (add @1 or @2 when both
        /// organizations have the key).
        key: String,
        /// Show person ids and declared personal data unmasked.
        #[arg(long)]
        show_pii: bool,
    },
    /// Write report.html for a finished run: accounts, match weights, the review
    /// queue with per-field evidence, apportionment, statements, quarantine reasons.
    Report {
        #[arg(long)]
        run: PathBuf,
        /// Show person ids unmasked.
        #[arg(long)]
        show_pii: bool,
        /// Where to write the page (default: RUN/report.html).
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
        /// Replace --out if it holds an earlier generated month.
        #[arg(long)]
        force: bool,
        /// The kinds of claim billed, comma-separated: ika (医科), dpc, shika (歯科),
        /// chozai (調剤). Default: all four, in a realistic mix of clinics, hospitals,
        /// dental clinics and pharmacies. dpc makes DPC hospitals: their stays are DPC
        /// receipts, their outpatients' 医科 ones (with dpc but not ika, stays only).
        #[arg(long, value_delimiter = ',', default_value = "ika,dpc,shika,chozai")]
        kinds: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    private_files();
    use std::io::IsTerminal;
    let logs = tracing_subscriber::fmt()
        .with_max_level(cli.log_level.filter())
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let format = cli.log_format;
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match dispatch(cli.command, cli.quiet) {
        Ok(code) => code,
        Err(e) => {
            match format {
                LogFormat::Text => eprintln!("error: {}", message(&e)),
                LogFormat::Json => eprintln!(
                    "{}",
                    serde_json::json!({
                        "level": "ERROR",
                        "code": error_code(&e),
                        "message": message(&e),
                    })
                ),
            }
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause once: many library errors already quote their
/// source in their own text (`{path}: {source}`), which `{:#}` would print again.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Every file and directory a command creates is private from the start (0600 / 0700):
/// the outputs hold personal data, and a staging file must not be readable while it is
/// written.
fn private_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// A stable code for a fatal error, for machines reading `--log-format json`
/// (documented in the README).
fn error_code(e: &anyhow::Error) -> &'static str {
    use reseclear::output_dir::OutputError;
    use reseclear::run::RunError;
    use reseclear::tools::reapportion::ReapportionError;
    for cause in e.chain() {
        if let Some(e) = cause.downcast_ref::<OutputError>() {
            return e.code();
        }
        match cause.downcast_ref::<RunError>() {
            Some(RunError::Output(e)) => return e.code(),
            Some(RunError::Unbalanced(_)) => return "unbalanced",
            Some(RunError::Inputs { .. }) => return "input_missing",
            Some(RunError::Ledger { .. }) => return "ledger_refused",
            _ => {}
        }
        match cause.downcast_ref::<ReapportionError>() {
            Some(ReapportionError::Output(e)) => return e.code(),
            Some(ReapportionError::Unbalanced(_)) => return "unbalanced",
            _ => {}
        }
        if let Some(reseclear::generate::GenerateError::Output(e)) = cause.downcast_ref() {
            return e.code();
        }
        if cause.is::<reseclear::ingest::IngestError>() {
            return "input_invalid";
        }
    }
    "error"
}

fn dispatch(command: Command, quiet: bool) -> anyhow::Result<ExitCode> {
    // Everything a command prints on stdout goes through `say`, silenced by --quiet.
    let say = |text: &str| {
        if !quiet {
            print!("{text}");
        }
    };
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
            let bars = Bars::new(quiet);
            let options = RunOptions {
                model: model.as_ref(),
                pending: pending.as_deref(),
                force,
                progress: Some(&bars),
            };
            let outcome = reseclear::run::run_with(&input, &out, &cfg, options)?;
            let stages: Vec<String> = outcome
                .timings
                .stages
                .iter()
                .map(|(stage, s)| format!("{stage} {s:.2} s"))
                .collect();
            say(&format!(
                "{}  time             {}\n",
                summary(&outcome.manifest, &out),
                stages.join(", ")
            ));
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
            say(&format!(
                "apportioned {} receipts, {} yen, among {} parts (basis {}, scope {}) — written to {}\n",
                m.receipts,
                m.apportioned_yen,
                m.parts,
                BasisUsed::from(m.apportion.basis).as_str(),
                m.apportion.scope.as_str(),
                out.display()
            ));
            if m.unapportionable > 0 {
                say(&format!("  {} receipts could not be apportioned (no insurer of their organization's kinds)\n", m.unapportionable));
            }
            say(&format!(
                "  owed {} yen = routed {} + apportioned {}: balanced\n",
                m.owed_yen, m.routed_yen, m.apportioned_yen
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { a, b } => {
            say(&reseclear::tools::compare::compare(&a, &b)?.to_string());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { run, key, show_pii } => {
            let options = reseclear::tools::explain::ExplainOptions { show_pii };
            say(&reseclear::tools::explain::explain(&run, &key, options)?.to_string());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { run, show_pii, out } => {
            let out = out.unwrap_or_else(|| run.join(REPORT_HTML_FILE));
            let options = HtmlOptions {
                show_pii,
                ..HtmlOptions::default()
            };
            let s = write_report_html(&run, &out, &options)?;
            say(&format!(
                "wrote {} ({} bytes): {} receipts, review queue {} of {}, accounts {}\n",
                out.display(),
                s.bytes,
                s.receipts,
                s.review_shown,
                s.review_receipts,
                if s.balanced {
                    "balanced"
                } else {
                    "NOT BALANCED"
                }
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { run } => {
            let v = reseclear::tools::verify::verify(&run)?;
            say(&v.to_string());
            Ok(if v.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Purge { run, superseded_by } => {
            for p in reseclear::tools::purge::purge(&run, superseded_by.as_deref())? {
                say(&format!(
                    "{}: {} values blanked in {} rows (logged in {})\n",
                    p.file,
                    p.values,
                    p.rows,
                    reseclear::tools::purge::PURGE_LOG_FILE
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate { truth, run } => {
            let evaluation = reseclear::tools::evaluate::evaluate(&truth, &run)?;
            say(&evaluation.to_string());
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
            force,
            kinds,
        } => {
            let billing_month = YearMonth::parse_iso(&billing_month)
                .with_context(|| format!("--billing-month {billing_month}"))?;
            let kinds = kinds
                .iter()
                .map(|k| {
                    ReceiptKind::from_name(k.trim())
                        .with_context(|| format!("--kinds {k}: expected ika, dpc, shika or chozai"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
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
                force,
                kinds,
            })?;
            say(&format!(
                "wrote a synthetic month to {}\n{summary}\n",
                out.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The end-of-run summary table.
fn summary(m: &Manifest, out: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let c = &m.conservation;
    let _ = writeln!(
        s,
        "reseclear {} — run written to {}",
        m.engine.version,
        out.display()
    );
    let _ = writeln!(
        s,
        "  UKE files        {:>10}  ({} quarantined whole)",
        m.uke.files, m.uke.files_quarantined
    );
    if let Some(month) = m.run_month {
        let _ = writeln!(s, "  run month        {month:>10}");
    }
    let _ = writeln!(
        s,
        "  receipts in      {:>10}  ({} read, {} carried in from the pending ledger)",
        c.receipts.receipts_in, c.receipts.read, c.receipts.carried_in
    );
    let _ = writeln!(s, "    accepted       {:>10}", c.receipts.accepted);
    let _ = writeln!(s, "    quarantined    {:>10}", c.receipts.quarantined);
    let _ = writeln!(
        s,
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
        let _ = writeln!(s, "    {status:<14} {n:>10}  {yen:>14}  {share:>14}");
    }
    let _ = writeln!(s, "  yen in           {:>10}", c.yen.yen_in.0);
    let paid = c.yen.paid_by;
    let _ = writeln!(
        s,
        "  accepted paid by {:>10}  insurers + {} 公費 + {} patients",
        paid.insurers.0, paid.public_expense.0, paid.patients.0
    );
    let kinds: Vec<String> = c
        .by_kind
        .iter()
        .map(|(kind, k)| format!("{kind} {}", k.receipts_in))
        .collect();
    let _ = writeln!(s, "  receipts by kind {}", kinds.join(", "));
    let _ = writeln!(
        s,
        "  insurers owe     {:>10}  (routed {} + apportioned {}), {} insurers",
        c.insurer_share.owed.0,
        c.insurer_share.routed,
        c.insurer_share.apportioned,
        c.insurer_share.by_insurer.len()
    );
    let _ = writeln!(
        s,
        "  apportioned      {:>10}  ({} parts, {} widened to national, {} not apportionable)",
        m.apportionment.receipts,
        m.apportionment.parts,
        m.apportionment.widened,
        m.apportionment.unapportionable
    );
    let _ = writeln!(
        s,
        "  pending ledger   {:>10}  carried out ({} new, {} carried in resolved, hold {} months)",
        m.pending.carried_out,
        m.pending.new_open,
        m.pending.carried_in_resolved,
        m.pending.hold_months
    );
    let _ = writeln!(
        s,
        "  roster rows      {:>10}  ({} quarantined)",
        m.roster.rows_accepted, m.roster.rows_quarantined
    );
    let _ = writeln!(
        s,
        "  insurers         {:>10}  ({} quarantined)",
        m.insurers.rows_accepted, m.insurers.rows_quarantined
    );
    if let Some(d) = &m.declarations {
        let _ = writeln!(
            s,
            "  declarations     {:>10}  ({} quarantined)",
            d.rows_accepted, d.rows_quarantined
        );
    }
    let _ = writeln!(s, "  quarantine rows  {:>10}", m.quarantine.rows);
    let _ = writeln!(
        s,
        "  accounts         {:>10}",
        if c.balanced {
            "balanced"
        } else {
            "NOT BALANCED"
        }
    );
    s
}

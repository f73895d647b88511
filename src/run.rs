//! `reseclear run`: one claim month from input directory to output directory.
//!
//! Stages: discover inputs → ingest (UKE files in parallel with the roster,
//! declarations, insurer master and the previous run's pending ledger) → validate
//! across files → resolve (tiers 1–3, the ledger's receipts retried with the month's)
//! → pending (age the open receipts; those past the hold are final-unresolved) →
//! apportion → statements → write the outputs and the manifest. The manifest's accounts
//! must balance, or the run fails and says which equation does not hold.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::apportion::{apportion_month, MonthApportionment, ShareRow};
use crate::config::Config;
use crate::domain::{ReceiptKey, YearMonth, Yen};
use crate::ingest::declarations::Declaration;
use crate::ingest::declarations::{read_declarations, DeclarationRead};
use crate::ingest::discover;
use crate::ingest::insurers::{read_insurers, InsurerRead};
use crate::ingest::roster::{read_roster, Roster, RosterRead};
use crate::ingest::text::EncodingInfo;
use crate::ingest::uke::writer::UkeWriteError;
use crate::ingest::uke::{read_uke_files, ClinicHeader, ReceiptKind};
use crate::ingest::IngestError;
use crate::manifest::{
    sha256_file, ApportionmentCounts, Conservation, Engine, InputFile, InsurerAccount, KindAccount,
    Manifest, MatchingCounts, PaidBy, PendingCounts, QuarantineCounts, ReceiptAccount,
    ShareAccount, TableCounts, UkeCounts, YenAccount, MANIFEST_VERSION,
};
use crate::output_dir::{OutputError, OutputKind, Signature, Staging};
use crate::pending::{read_ledger, uke_text, write_ledger, Age, LedgerEntry, LedgerRead};
use crate::progress::{Progress, Silent};
use crate::report::html::{write_report_html, HtmlOptions, HtmlReportError, REPORT_HTML_FILE};
use crate::report::{
    statements, write_apportionment, write_match_report, write_receipts_parquet,
    write_statements_csv, write_statements_parquet, MatchEntry, ReceiptRow, Statement,
};
use crate::resolve::claim::{Claim, ClaimFile};
use crate::resolve::matcher::{MatchModel, PatientResult};
use crate::resolve::outcome::Status;
use crate::resolve::tier3::MatchContext;
use crate::resolve::tiers::{resolve_receipts, Declarations, Resolved};
use crate::validate::{quarantine_duplicate_keys, write_quarantine_csv, QuarantineRow, Scope};

mod rows;
use rows::{share_row, Reasons, RowBook, RowTotals};

/// Names of the files a run writes.
pub const QUARANTINE_FILE: &str = "quarantine.csv";
pub const MANIFEST_FILE: &str = "manifest.json";

/// A run's output directory: complete when its manifest (written last) is there.
pub const RUN_OUTPUT: OutputKind = OutputKind {
    command: "run",
    marker: MANIFEST_FILE,
    signature: Signature::JsonKey("engine"),
};
pub const RECEIPTS_FILE: &str = "receipts.parquet";
pub const MATCH_REPORT_FILE: &str = "match_report.parquet";
pub const MATCH_MODEL_FILE: &str = "match_model.json";
pub const APPORTIONMENT_FILE: &str = "apportionment.parquet";
pub const STATEMENTS_CSV: &str = "statements.csv";
pub const STATEMENTS_PARQUET: &str = "statements.parquet";
/// The insurer master the run used, copied so that apportionment can be re-run from
/// the outputs alone.
pub const INSURERS_FILE: &str = "insurers.csv";
pub use crate::pending::LEDGER_FILE;
/// Wall-clock seconds per stage: the one output that differs between runs, kept out
/// of the manifest so that the manifest is byte-identical.
pub const TIMINGS_FILE: &str = "timings.json";

/// Seconds per stage, in the order the stages ran.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timings {
    pub stages: Vec<(String, f64)>,
}

impl Timings {
    fn lap(&mut self, stage: &str, since: std::time::Instant) {
        let seconds = since.elapsed().as_secs_f64();
        tracing::info!(stage, seconds, "stage done");
        self.stages.push((stage.to_string(), seconds));
    }
}

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("input directory {path}: {message}")]
    Inputs { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error("the accounts do not balance: {0}")]
    Unbalanced(String),
    #[error("pending ledger {path}: {message}")]
    Ledger { path: PathBuf, message: String },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Html(#[from] HtmlReportError),
}

/// The files of a claim month found in an input directory (DOMAIN §3).
#[derive(Debug, Clone)]
pub struct Inputs {
    pub dir: PathBuf,
    /// UKE files, sorted by path relative to `dir` (absolute path, display path).
    pub uke: Vec<(PathBuf, String)>,
    pub declarations: Option<PathBuf>,
    pub roster: PathBuf,
    pub insurers: PathBuf,
    /// Files that are none of the above (at the top, or below it and not `*.UKE`),
    /// reported as ignored.
    pub ignored: Vec<PathBuf>,
    /// Paths the walk did not read (links out or in a loop, FIFOs, devices, copies).
    pub notices: Vec<QuarantineRow>,
}

impl Inputs {
    /// Finds the inputs: every `*.UKE` file below `dir` (any depth, any case of the
    /// extension), `declarations.csv` (optional), `roster.parquet` or `roster.csv`,
    /// and `insurers.csv`. What is missing is named in the error. The walk
    /// ([`crate::ingest::discover`]) follows no link out of `dir` or into a loop, reads
    /// no FIFO, socket or device, and reads a byte-identical UKE file once; each path
    /// it passes over is a notice.
    pub fn discover(dir: &Path) -> Result<Inputs, RunError> {
        let fail = |message: String| RunError::Inputs {
            path: dir.to_path_buf(),
            message,
        };
        if !dir.is_dir() {
            return Err(fail("not a directory".into()));
        }
        let walk = discover::walk(dir).map_err(|e| fail(format!("cannot list: {e}")))?;
        let mut notices = walk.notices;
        let (mut uke, others): (Vec<_>, Vec<_>) =
            walk.files.into_iter().partition(discover::is_uke);
        notices.extend(
            discover::drop_identical(&mut uke).map_err(|e| fail(format!("cannot read: {e}")))?,
        );
        let (top, nested): (Vec<_>, Vec<_>) = others.into_iter().partition(|f| f.top_level);
        let top: Vec<PathBuf> = top.into_iter().map(|f| f.path).collect();
        let take = |name: &str| {
            top.iter()
                .find(|p| p.file_name() == Some(name.as_ref()))
                .cloned()
        };
        let declarations = take("declarations.csv");
        let roster = match (take("roster.parquet"), take("roster.csv")) {
            (Some(_), Some(_)) => {
                return Err(fail(
                    "holds both roster.parquet and roster.csv: keep one".into(),
                ))
            }
            (parquet, csv) => parquet.or(csv),
        };
        let insurers = take("insurers.csv");
        let mut missing = Vec::new();
        if uke.is_empty() {
            missing.push("receipt files (*.UKE, *.CYO, or any file opening with IR, UK or YK)");
        }
        if roster.is_none() {
            missing.push("the roster (roster.parquet or roster.csv)");
        }
        if insurers.is_none() {
            missing.push("the insurer master (insurers.csv)");
        }
        match (roster, insurers) {
            (Some(roster), Some(insurers)) if missing.is_empty() => {
                let known = [
                    declarations.as_deref(),
                    Some(roster.as_path()),
                    Some(insurers.as_path()),
                ];
                // A file that is not a receipt file (neither named nor opening like
                // one) is not read, and said so, never skipped silently.
                let ignored: Vec<PathBuf> = top
                    .iter()
                    .filter(|p| !known.contains(&Some(p.as_path())))
                    .cloned()
                    .chain(nested.into_iter().map(|f| f.path))
                    .collect();
                Ok(Inputs {
                    dir: dir.to_path_buf(),
                    uke: uke.into_iter().map(|f| (f.path, f.display)).collect(),
                    declarations,
                    roster,
                    insurers,
                    ignored,
                    notices,
                })
            }
            _ => {
                // A roster or master behind a link out of the directory (or a FIFO) is
                // missing because it was not read: say so.
                let passed_over: Vec<String> = notices
                    .iter()
                    .filter(|n| !n.file.contains('/'))
                    .map(|n| format!("{}: {}", n.file, n.reason))
                    .collect();
                let also = if passed_over.is_empty() {
                    String::new()
                } else {
                    format!(" (not read: {})", passed_over.join("; "))
                };
                Err(fail(format!("missing {}{also}", missing.join(", "))))
            }
        }
    }

    fn display(&self, path: &Path) -> String {
        discover::relative(&self.dir, path)
    }
}

/// What a finished run reports back to the CLI.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub manifest: Manifest,
    pub timings: Timings,
    pub out_dir: PathBuf,
}

/// Options of a run beyond its configuration.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Match tier 3 with this saved model (an earlier run's `match_model.json`) instead
    /// of training one on this month.
    pub model: Option<&'a MatchModel>,
    /// The previous run's `pending.parquet`, whose receipts are retried.
    pub pending: Option<&'a Path>,
    /// Replace an `--out` that already holds a run (or anything else).
    pub force: bool,
    /// Told of each stage as the run goes (the CLI draws it).
    pub progress: Option<&'a dyn Progress>,
}

/// Everything ingested for a month, ready for resolution.
pub struct Ingested {
    /// The month's UKE files, their receipts as claims.
    pub files: Vec<ClaimFile>,
    pub declarations: Option<DeclarationRead>,
    pub roster: RosterRead,
    pub insurers: InsurerRead,
    /// The previous run's pending ledger, its receipts read back.
    pub ledger: Option<CarriedLedger>,
    /// Inputs the run does not read (reported, never silently skipped).
    pub notices: Vec<QuarantineRow>,
    /// Set by resolution: tier-3 receipts, and those without a declaration form.
    pub tier3_receipts: u64,
    pub tier3_without_declaration: u64,
    /// Roster rows accepted: counted before resolution releases the roster.
    pub roster_accepted: u64,
}

/// The previous run's pending ledger: its entries, and its receipts as claims.
pub struct CarriedLedger {
    /// As read; its receipts are in `claims` (`read.file.receipts` is empty).
    pub read: LedgerRead,
    /// The receipts, in the order of `read.entries`.
    pub claims: ClaimFile,
}

impl Ingested {
    /// The month's UKE files, then the ledger (as a file of receipts).
    fn receipt_files(&self) -> impl Iterator<Item = &ClaimFile> {
        self.files
            .iter()
            .chain(self.ledger.as_ref().map(|l| &l.claims))
    }

    /// The entries of the ledger carried in (none without one).
    fn carried_entries(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.ledger.iter().flat_map(|l| &l.read.entries)
    }
}

/// How the ledger is named in outputs: its file name (the path given may differ
/// between machines; outputs must not).
fn ledger_display(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Refuses a month of more receipts than [`Yen::MAX_RECEIPTS_PER_RUN`]: below it every
/// sum of the run's yen fits in `i64` (each receipt is bounded at reading).
fn check_run_size(receipts: u64, dir: &Path) -> Result<(), RunError> {
    if receipts > Yen::MAX_RECEIPTS_PER_RUN {
        return Err(RunError::Inputs {
            path: dir.to_path_buf(),
            message: format!(
                "{receipts} receipts (with the ledger carried in), more than the {} one run may hold: split the month by organization or prefecture",
                Yen::MAX_RECEIPTS_PER_RUN
            ),
        });
    }
    Ok(())
}

/// Reads every input; UKE files are parsed in parallel while the roster is read.
pub fn ingest(
    inputs: &Inputs,
    config: &Config,
    pending: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Ingested, RunError> {
    let encoding = config.ingest.csv_encoding;
    let (files, tables) = rayon::join(
        || -> Result<Vec<ClaimFile>, IngestError> {
            read_uke_files(&inputs.uke, &config.ingest, progress, |file, path| {
                ClaimFile::new(file, Some(path.to_path_buf()), &config.ingest)
            })
            .into_iter()
            .collect()
        },
        || -> Result<_, IngestError> {
            let roster = read_roster(&inputs.roster, &inputs.display(&inputs.roster), encoding)?;
            let insurers = read_insurers(
                &inputs.insurers,
                &inputs.display(&inputs.insurers),
                encoding,
            )?;
            let declarations = inputs
                .declarations
                .as_ref()
                .map(|p| read_declarations(p, &inputs.display(p), encoding))
                .transpose()?;
            let ledger = pending
                .map(|p| read_ledger(p, &ledger_display(p), &config.ingest))
                .transpose()?;
            Ok((roster, insurers, declarations, ledger))
        },
    );
    let mut files = files?;
    let (roster, insurers, declarations, ledger) = tables?;
    quarantine_duplicate_keys(&mut files);
    let ledger = ledger.map(|mut read| {
        let mut claims = ClaimFile::new(std::mem::take(&mut read.file), None, &config.ingest);
        // Each receipt on the ledger is its own one-receipt file: its kind is the one
        // its row carries (a DPC receipt's text keeps no DPC record to tell it by).
        for (c, e) in claims.claims.iter_mut().zip(&read.entries) {
            c.kind = e.kind.or(e.header.as_ref().map(|h| h.kind));
        }
        CarriedLedger { claims, read }
    });
    let receipts: u64 = files
        .iter()
        .chain(ledger.as_ref().map(|l| &l.claims))
        .map(|f| (f.claims.len() + f.file.quarantined.len()) as u64)
        .sum();
    check_run_size(receipts, &inputs.dir)?;
    let roster_accepted = roster.roster.num_rows() as u64;
    Ok(Ingested {
        roster_accepted,
        files,
        declarations,
        roster,
        insurers,
        ledger,
        notices: inputs
            .ignored
            .iter()
            .map(|p| ignored_notice(&inputs.display(p)))
            .chain(inputs.notices.iter().cloned())
            .collect(),
        tier3_receipts: 0,
        tier3_without_declaration: 0,
    })
}

/// Runs the month with the default options.
pub fn run(input: &Path, out: &Path, config: &Config) -> Result<RunOutcome, RunError> {
    run_with(input, out, config, RunOptions::default())
}

/// Runs the month: ingest, validate, resolve, age the open receipts, apportion the
/// final-unresolved ones, and write every output with the manifest.
pub fn run_with(
    input: &Path,
    out: &Path,
    config: &Config,
    options: RunOptions<'_>,
) -> Result<RunOutcome, RunError> {
    let inputs = Inputs::discover(input)?;
    tracing::info!(uke_files = inputs.uke.len(), "inputs found");
    let mut reads = vec![input];
    reads.extend(options.pending);
    let staging = Staging::begin(out, RUN_OUTPUT, options.force, &reads)?;
    let dir = staging.path();
    let progress = options.progress.unwrap_or(&Silent);
    let mut timings = Timings::default();
    let clock = std::time::Instant::now();
    progress.start("read inputs (UKE files)", Some(inputs.uke.len() as u64));
    let mut ingested = ingest(&inputs, config, options.pending, progress)?;
    let run_month = crate::pending::run_month(&ingested.files);
    check_ledger(&ingested, run_month, options.pending)?;
    progress.finish();
    timings.lap("ingest", clock);

    let clock = std::time::Instant::now();
    progress.start("resolve (verify, re-route, match)", None);
    let (mut resolved, forms) = resolve(&mut ingested, &inputs, config, options.model);
    progress.finish();
    timings.lap("resolve", clock);

    let clock = std::time::Instant::now();
    progress.start("pending ledger and apportionment", None);
    let ages = hold(&mut resolved, &ingested, run_month, config);
    let mut book = RowBook::new(&ingested, &resolved.resolutions, &ages);
    tracing::info!(rows = book.len(), "receipt rows");
    let shares: Vec<ShareRow> = book
        .map_files(Reasons::None, |rows| {
            rows.iter().filter_map(share_row).collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    let month = apportion_month(&shares, &ingested.insurers.master, &config.apportion);
    let statements = statements(&shares, &month, &ingested.insurers.master);
    drop(shares);
    tracing::info!(apportioned = month.receipts.len(), "apportioned");
    book.mark(&month);
    let carried: HashSet<ReceiptKey> = ingested.carried_entries().map(|e| e.key).collect();
    let (totals, open, unapportionable) = row_totals(&book, &carried);
    let ledger = ledger_entries(&ingested, &open, &ages, &forms, run_month, config)?;
    drop(open);
    progress.finish();
    timings.lap("pending and apportion", clock);

    let clock = std::time::Instant::now();
    progress.start("write outputs", None);
    let manifest = build_manifest(
        &inputs,
        &ingested,
        &resolved,
        config,
        &MonthFacts {
            run_month,
            pending: options.pending,
            totals: &totals,
            month: &month,
            statements: &statements,
            ledger: &ledger,
            unapportionable: &unapportionable,
        },
    )?;
    write_receipts_parquet(&dir.join(RECEIPTS_FILE), book.len(), |range| {
        book.rows(range)
    })?;
    drop(book);
    tracing::info!(file = RECEIPTS_FILE, "written");
    // The match report tells the status of the receipts apportionment could not split,
    // as the rows did.
    let failed: HashSet<ReceiptKey> = month.failed.iter().map(|(k, _)| *k).collect();
    for r in &mut resolved.resolutions {
        if failed.contains(&r.key) {
            r.status = Status::FinalUnresolved;
        }
    }
    write_match_report(&dir.join(MATCH_REPORT_FILE), &match_entries(&resolved))?;
    tracing::info!(file = MATCH_REPORT_FILE, "written");
    write_json(&dir.join(MATCH_MODEL_FILE), &resolved.match_run.model)?;
    write_apportionment(&dir.join(APPORTIONMENT_FILE), &month)?;
    tracing::info!(file = APPORTIONMENT_FILE, "written");
    write_statements_csv(&dir.join(STATEMENTS_CSV), &statements)?;
    write_statements_parquet(&dir.join(STATEMENTS_PARQUET), &statements)?;
    write_ledger(&dir.join(LEDGER_FILE), &ledger)?;
    tracing::info!(file = LEDGER_FILE, "written");
    let copy = dir.join(INSURERS_FILE);
    // Read and written, not `fs::copy`, which would carry the input's permissions over.
    std::fs::read(&inputs.insurers)
        .and_then(|bytes| std::fs::write(&copy, bytes))
        .map_err(|source| RunError::Write {
            path: copy.clone(),
            source,
        })?;
    let mut quarantine = all_quarantine_rows(&ingested, &unapportionable);
    let qpath = dir.join(QUARANTINE_FILE);
    write_quarantine_csv(&qpath, &mut quarantine).map_err(|source| RunError::Write {
        path: qpath.clone(),
        source,
    })?;
    write_json(&dir.join(MANIFEST_FILE), &manifest)?;
    write_report_html(&dir, &dir.join(REPORT_HTML_FILE), &HtmlOptions::default())?;
    // The page was drawn from the manifest without the hashes; the manifest is written
    // again with the hash of every output, the page's included.
    let mut manifest = manifest;
    manifest.outputs = crate::manifest::output_files(&dir).map_err(|source| RunError::Write {
        path: dir.clone(),
        source,
    })?;
    write_json(&dir.join(MANIFEST_FILE), &manifest)?;
    progress.finish();
    timings.lap("report", clock);
    write_json(&dir.join(TIMINGS_FILE), &timings)?;
    if !manifest.conservation.balanced {
        let kept = staging.set_aside()?;
        return Err(RunError::Unbalanced(format!(
            "{}; the outputs were not put in place and are kept in {}",
            manifest.conservation.problems.join("; "),
            kept.display()
        )));
    }
    staging.commit()?;
    Ok(RunOutcome {
        manifest,
        timings,
        out_dir: out.to_path_buf(),
    })
}

/// The ledger must come from an earlier month than this run's, and none of its
/// receipts may be in this month's files too (a ledger given to the run of its own
/// month would count its claims twice).
fn check_ledger(
    ingested: &Ingested,
    run_month: Option<YearMonth>,
    path: Option<&Path>,
) -> Result<(), RunError> {
    let (Some(ledger), Some(path)) = (&ingested.ledger, path) else {
        return Ok(());
    };
    let fail = |message: String| RunError::Ledger {
        path: path.to_path_buf(),
        message,
    };
    let Some(run_month) = run_month else {
        return Err(fail(
            "no UKE file of this month gives its 請求年月, so the ledger's claims cannot be aged"
                .into(),
        ));
    };
    if let Some(written) = ledger.read.ledger_month.filter(|&m| m >= run_month) {
        return Err(fail(format!(
            "it was written by the {written} run, and this run's month is {run_month}: give the ledger of an earlier month"
        )));
    }
    let month_keys: HashSet<ReceiptKey> = ingested
        .files
        .iter()
        .flat_map(|f| {
            f.claims
                .iter()
                .map(|r| r.key)
                .chain(f.file.quarantined.iter().filter_map(|q| q.key))
        })
        .collect();
    // Rows that cannot be retried count too: quarantined, they would still be counted
    // beside the month's own receipt.
    if let Some((key, line)) = ledger
        .claims
        .claims
        .iter()
        .map(|r| (r.key, r.line))
        .chain(
            ledger
                .claims
                .file
                .quarantined
                .iter()
                .filter_map(|q| q.key.map(|k| (k, q.line))),
        )
        .find(|(key, _)| month_keys.contains(key))
    {
        return Err(fail(format!(
            "receipt {key} (row {line}) is also in this month's files: a receipt is either new or carried, not both"
        )));
    }
    Ok(())
}

/// Pretty JSON with a final line end.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let json = serde_json::to_string_pretty(value).map_err(|e| RunError::Write {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    std::fs::write(path, json + "\n").map_err(|source| RunError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Resolves the month's accepted receipts and the ledger's together. Declarations that
/// fit no receipt join the declarations' rows; the tier-3 counts are kept for the
/// manifest. Returns, with the resolution, the form joined to each tier-3 receipt
/// left open (the ledger carries it).
fn resolve(
    ingested: &mut Ingested,
    inputs: &Inputs,
    config: &Config,
    model: Option<&MatchModel>,
) -> (Resolved, HashMap<ReceiptKey, Declaration>) {
    let declarations_file = inputs
        .declarations
        .as_ref()
        .map(|p| inputs.display(p))
        .unwrap_or_default();
    let (resolved, forms) = {
        let accepted: Vec<&Claim> = ingested.receipt_files().flat_map(|f| &f.claims).collect();
        let rows = all_declarations(ingested);
        let declarations = Declarations {
            rows: &rows,
            file: &declarations_file,
        };
        let matching = MatchContext {
            roster: &ingested.roster.roster,
            insurers: &ingested.insurers.master,
            config: &config.matching,
            model,
        };
        let resolved = resolve_receipts(&accepted, declarations, matching);
        let open: HashSet<ReceiptKey> = resolved
            .resolutions
            .iter()
            .filter(|r| r.status.is_open())
            .map(|r| r.key)
            .collect();
        let forms: HashMap<ReceiptKey, Declaration> = resolved
            .tier3_keys
            .iter()
            .zip(&resolved.tier3_forms)
            .filter(|(key, _)| open.contains(key))
            .filter_map(|(key, form)| form.map(|f| (*key, rows[f].clone())))
            .collect();
        (resolved, forms)
    };
    if let Some(d) = ingested.declarations.as_mut() {
        d.quarantine.extend(resolved.notices.iter().cloned());
    }
    ingested.tier3_receipts = resolved.tier3_receipts;
    ingested.tier3_without_declaration = resolved.tier3_without_declaration;
    // Nothing after resolution reads the roster: a national roster is gigabytes.
    ingested.roster.roster = Roster::default();
    (resolved, forms)
}

/// The month's declarations, and the forms the ledger carries for its receipts — unless
/// this month's file has a form for the same receipt (a form sent late): the newer one
/// is used.
fn all_declarations(ingested: &Ingested) -> Cow<'_, [Declaration]> {
    let month: &[Declaration] = ingested
        .declarations
        .as_ref()
        .map(|d| d.declarations.as_slice())
        .unwrap_or_default();
    let Some(ledger) = ingested
        .ledger
        .as_ref()
        .map(|l| &l.read)
        .filter(|l| l.declarations().next().is_some())
    else {
        return Cow::Borrowed(month);
    };
    let given: HashSet<_> = month
        .iter()
        .map(|d| (d.clinic_code, d.billing_month, d.receipt_number))
        .collect();
    let mut all = month.to_vec();
    all.extend(
        ledger
            .declarations()
            .filter(|d| !given.contains(&(d.clinic_code, d.billing_month, d.receipt_number)))
            .cloned(),
    );
    Cow::Owned(all)
}

/// Ages every open receipt (and every ledger receipt, resolved or not) in run months;
/// an open receipt whose hold is over becomes final-unresolved (`apportioned` until
/// apportionment says otherwise).
fn hold(
    resolved: &mut Resolved,
    ingested: &Ingested,
    run_month: Option<YearMonth>,
    config: &Config,
) -> HashMap<ReceiptKey, Age> {
    let first: HashMap<ReceiptKey, YearMonth> = ingested
        .carried_entries()
        .map(|e| (e.key, e.first_pending_month))
        .collect();
    let mut ages = HashMap::new();
    for r in &mut resolved.resolutions {
        let carried = first.get(&r.key).copied();
        if !r.status.is_open() && carried.is_none() {
            continue;
        }
        // A run month is known whenever a receipt was accepted.
        let now = run_month.unwrap_or(r.key.billing_month);
        let age = crate::pending::age(carried.unwrap_or(now), now, &config.apportion);
        ages.insert(r.key, age);
        if r.status.is_open() && age.is_final {
            r.reason = format!(
                "final-unresolved: open since {} ({} month(s), hold {}); last {}: {}",
                age.first_pending_month,
                age.months,
                config.apportion.hold_months,
                r.status,
                r.reason
            )
            .into();
            r.status = Status::Apportioned;
        }
    }
    ages
}

/// The manifest's totals of the rows, the rows still open (with their reasons, for the
/// ledger), and a notice for each final-unresolved receipt no insurer can share in; in
/// one pass over the rows.
fn row_totals(
    book: &RowBook<'_>,
    carried: &HashSet<ReceiptKey>,
) -> (RowTotals, Vec<ReceiptRow>, Vec<QuarantineRow>) {
    let per_file = book.map_files(Reasons::Open, |rows| {
        let totals = RowTotals::of(&rows, carried);
        let notices: Vec<QuarantineRow> = rows
            .iter()
            .filter_map(|r| {
                let key = r.key?;
                let why = book.unapportionable(key)?;
                Some(
                    QuarantineRow::new(
                        &r.file,
                        r.line,
                        "apportionment",
                        "-",
                        "",
                        format!("final-unresolved receipt cannot be apportioned: {why}"),
                        Scope::Notice,
                    )
                    .with_receipt(key),
                )
            })
            .collect();
        let open: Vec<ReceiptRow> = rows.into_iter().filter(|r| r.status.is_open()).collect();
        (totals, open, notices)
    });
    let mut all = (RowTotals::default(), Vec::new(), Vec::new());
    for (totals, open, notices) in per_file {
        all.0 = all.0.merge(totals);
        all.1.extend(open);
        all.2.extend(notices);
    }
    all
}

/// The ledger for the next run: every receipt still open, in receipt-key order, with
/// its receipt as UKE text and its form.
fn ledger_entries(
    ingested: &Ingested,
    rows: &[ReceiptRow],
    ages: &HashMap<ReceiptKey, Age>,
    forms: &HashMap<ReceiptKey, Declaration>,
    run_month: Option<YearMonth>,
    config: &Config,
) -> Result<Vec<LedgerEntry>, RunError> {
    let open: Vec<&ReceiptRow> = rows.iter().filter(|r| r.status.is_open()).collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let keys: HashSet<ReceiptKey> = open.iter().filter_map(|r| r.key).collect();
    let mut texts = open_receipt_texts(ingested, &keys, config)?;
    let mut entries = Vec::with_capacity(open.len());
    for row in open {
        let fail = |message: String| RunError::Ledger {
            path: PathBuf::from(LEDGER_FILE),
            message,
        };
        let key = row
            .key
            .ok_or_else(|| fail("an open receipt without a key".into()))?;
        let (uke, Some(age)) = (
            texts
                .remove(&key)
                .ok_or_else(|| fail(format!("open receipt {key} not found")))?,
            ages.get(&key),
        ) else {
            return Err(fail(format!("open receipt {key} has no age")));
        };
        entries.push(LedgerEntry {
            key,
            tier: row.tier,
            last_status: row.status,
            first_pending_month: age.first_pending_month,
            age_months: age.months,
            ledger_month: run_month.unwrap_or(key.billing_month),
            cost_yen: row.cost_yen.unwrap_or_default(),
            insurer_share_yen: row.insurer_share_yen.unwrap_or_default(),
            reason: row.reason.clone(),
            uke: uke.map_err(|e| fail(format!("receipt {key} cannot be written as UKE: {e}")))?,
            declaration: forms.get(&key).cloned(),
            kind: row.kind,
            header: None,
        });
    }
    entries.sort_by_key(|e| e.key);
    Ok(entries)
}

/// An open receipt as the ledger's UKE text, or why it cannot be written.
type UkeText = Result<String, UkeWriteError>;

/// The receipts with these keys written as the ledger's UKE text (or why one cannot
/// be), with the IR of their file (the ledger's receipts with their own). Held receipts
/// are read again from their files, file by file in parallel, and each file's are
/// written as soon as read: a month with millions of open receipts never holds them
/// all parsed.
fn open_receipt_texts(
    ingested: &Ingested,
    keys: &HashSet<ReceiptKey>,
    config: &Config,
) -> Result<HashMap<ReceiptKey, UkeText>, RunError> {
    let month: Vec<Vec<(ReceiptKey, UkeText)>> = ingested
        .files
        .par_iter()
        .filter_map(|f| f.file.header.as_ref().map(|h| (f, h)))
        .map(|(f, h)| {
            let receipts = f.receipts(|c| keys.contains(&c.key), &config.ingest)?;
            Ok(receipts.iter().map(|r| (r.key, uke_text(h, r))).collect())
        })
        .collect::<Result<_, IngestError>>()?;
    let carried: Vec<(&Claim, &ClinicHeader)> = ledger_headers(ingested)
        .filter(|(c, _)| keys.contains(&c.key))
        .collect();
    let carried: Vec<(ReceiptKey, UkeText)> = carried
        .par_iter()
        .filter_map(|&(c, h)| c.parsed().map(|r| (c.key, uke_text(h, r))))
        .collect();
    Ok(month.into_iter().flatten().chain(carried).collect())
}

/// The ledger's receipts with the IR each carries.
fn ledger_headers(ingested: &Ingested) -> impl Iterator<Item = (&Claim, &ClinicHeader)> {
    ingested
        .ledger
        .iter()
        .flat_map(|l| l.claims.claims.iter().zip(&l.read.entries))
        .filter_map(|(c, e)| e.header.as_ref().map(|h| (c, h)))
}

/// The match report's entries: tier-3 receipts with their candidates, tier-2 card
/// decisions.
fn match_entries(resolved: &Resolved) -> Vec<MatchEntry<'_>> {
    let results: BTreeMap<ReceiptKey, &PatientResult> = resolved
        .tier3_keys
        .iter()
        .copied()
        .zip(&resolved.match_run.results)
        .collect();
    resolved
        .resolutions
        .iter()
        .filter(|r| r.tier >= 2)
        .map(|r| match results.get(&r.key) {
            Some(result) => MatchEntry {
                key: r.key,
                tier: r.tier,
                status: r.status,
                decision: result.decision.as_str(),
                reason: Cow::Borrowed(&result.reason),
                candidates: &result.candidates,
            },
            None => MatchEntry {
                key: r.key,
                tier: r.tier,
                status: r.status,
                decision: "card",
                reason: Cow::Owned(r.reason.to_string()),
                candidates: &[],
            },
        })
        .collect()
}

/// A top-level file that is no input of a month. A pending ledger (`pending.parquet`)
/// lying in the input directory is not taken silently: it is given with `--pending`.
fn ignored_notice(display: &str) -> QuarantineRow {
    let reason = if display.eq_ignore_ascii_case("pending.parquet") {
        "a pending ledger in the input directory is not read: give it with --pending to retry its claims"
    } else {
        "not an input of a claim month (a receipt file: *.UKE, *.CYO or opening with IR, UK or YK; roster.parquet/csv, insurers.csv, declarations.csv): ignored"
    };
    QuarantineRow::new(display, 0, "-", "-", "", reason, Scope::Notice)
}

/// Every quarantine row and notice of the run; `unapportionable` are apportionment's
/// notices.
fn all_quarantine_rows(
    ingested: &Ingested,
    unapportionable: &[QuarantineRow],
) -> Vec<QuarantineRow> {
    let mut rows: Vec<QuarantineRow> = ingested
        .receipt_files()
        .flat_map(|f| f.file.quarantine.iter().cloned())
        .collect();
    rows.extend(ingested.notices.iter().cloned());
    rows.extend(unapportionable.iter().cloned());
    rows.extend(ingested.roster.quarantine.iter().cloned());
    rows.extend(ingested.insurers.quarantine.iter().cloned());
    if let Some(d) = &ingested.declarations {
        rows.extend(d.quarantine.iter().cloned());
    }
    rows
}

fn encoding_text(e: &EncodingInfo) -> String {
    if e.detected {
        format!("{} (detected)", e.encoding.as_str())
    } else {
        e.encoding.as_str().to_string()
    }
}

fn table_counts(rows_read: u64, accepted: u64, quarantine: &[QuarantineRow]) -> TableCounts {
    TableCounts {
        rows_read,
        rows_accepted: accepted,
        rows_quarantined: quarantine.iter().filter(|r| r.scope == Scope::Row).count() as u64,
        field_problems: quarantine
            .iter()
            .filter(|r| r.scope == Scope::Field)
            .count() as u64,
        other: BTreeMap::new(),
    }
}

/// What the run decided beyond resolution, for the manifest.
struct MonthFacts<'a> {
    run_month: Option<YearMonth>,
    pending: Option<&'a Path>,
    totals: &'a RowTotals,
    month: &'a MonthApportionment,
    statements: &'a [Statement],
    ledger: &'a [LedgerEntry],
    unapportionable: &'a [QuarantineRow],
}

fn build_manifest(
    inputs: &Inputs,
    ingested: &Ingested,
    resolved: &Resolved,
    config: &Config,
    facts: &MonthFacts<'_>,
) -> Result<Manifest, RunError> {
    let hash = |path: &Path| {
        sha256_file(path).map_err(|source| RunError::Ingest(IngestError::io(path, source)))
    };
    let mut input_files = Vec::new();
    for f in ingested.files.iter().map(|f| &f.file) {
        input_files.push(InputFile {
            path: f.path.clone(),
            kind: "uke",
            bytes: f.bytes,
            sha256: f.sha256.clone(),
            encoding: Some("shift_jis".into()),
        });
    }
    let table_input = |path: &Path, kind: &'static str, enc: Option<&EncodingInfo>| {
        Ok::<_, RunError>(InputFile {
            path: inputs.display(path),
            kind,
            bytes: std::fs::metadata(path)
                .map_err(|e| IngestError::io(path, e))?
                .len(),
            sha256: hash(path)?,
            encoding: enc.map(encoding_text),
        })
    };
    if let (Some(p), Some(d)) = (&inputs.declarations, &ingested.declarations) {
        input_files.push(table_input(p, "declarations", Some(&d.encoding))?);
    }
    input_files.push(table_input(
        &inputs.roster,
        "roster",
        ingested.roster.encoding.as_ref(),
    )?);
    input_files.push(table_input(
        &inputs.insurers,
        "insurers",
        Some(&ingested.insurers.encoding),
    )?);
    if let (Some(l), Some(p)) = (&ingested.ledger, facts.pending) {
        input_files.push(InputFile {
            path: ledger_display(p),
            kind: "pending",
            bytes: l.claims.file.bytes,
            sha256: l.claims.file.sha256.clone(),
            encoding: None,
        });
    }

    let mut uke = UkeCounts::default();
    for ClaimFile {
        file: f, claims, ..
    } in &ingested.files
    {
        uke.files += 1;
        uke.files_quarantined += u64::from(f.quarantined_whole());
        uke.lines += f.lines;
        for (id, n) in &f.record_counts {
            *uke.records.entry(id.clone()).or_insert(0) += n;
        }
        uke.receipts_accepted += claims.len() as u64;
        uke.receipts_quarantined += f.quarantined.len() as u64;
        // Files and their quarantined receipts count under the file's kind, accepted
        // receipts under their own (a DPC hospital's file holds 医科 receipts too).
        let kind = uke.by_kind.entry(ReceiptKind::name_of(f.kind)).or_default();
        kind.files += 1;
        kind.files_quarantined += u64::from(f.quarantined_whole());
        kind.receipts_quarantined += f.quarantined.len() as u64;
        for r in claims {
            *uke.accepted_by_insurer_field
                .entry(r.insurer_field().into())
                .or_insert(0) += 1;
            let kind = uke.by_kind.entry(ReceiptKind::name_of(r.kind)).or_default();
            kind.receipts_accepted += 1;
            // Bounded: at most a run's receipts at Points::MAX_PER_RECEIPT each.
            kind.accepted_points += r.points().0;
            kind.accepted_yen += r.points().to_yen().0;
        }
    }
    uke.receipts_read = uke.receipts_accepted + uke.receipts_quarantined;
    for kind in uke.by_kind.values_mut() {
        kind.receipts_read = kind.receipts_accepted + kind.receipts_quarantined;
    }

    let mut yen = YenAccount::default();
    let mut accepted = 0u64;
    let mut quarantined = 0u64;
    // Each kind's receipts and yen as read (the rows count them again).
    let mut by_kind: BTreeMap<&'static str, KindAccount> = BTreeMap::new();
    let name = ReceiptKind::name_of;
    for f in ingested.receipt_files() {
        let from_ledger = ingested
            .ledger
            .as_ref()
            .is_some_and(|l| std::ptr::eq(f, &l.claims));
        accepted += f.claims.len() as u64;
        quarantined += f.file.quarantined.len() as u64;
        for r in &f.claims {
            yen.accepted += r.points().to_yen();
            yen.points_in += r.points();
            if from_ledger {
                yen.carried_in += r.points().to_yen();
            }
            let k = by_kind.entry(name(r.kind)).or_default();
            k.receipts_in += 1;
            k.carried_in += u64::from(from_ledger);
            k.yen_in += r.points().to_yen();
        }
        for q in &f.file.quarantined {
            let k = by_kind.entry(name(f.file.kind)).or_default();
            k.receipts_in += 1;
            k.carried_in += u64::from(from_ledger);
            match q.points {
                Some(p) => {
                    yen.quarantined += p.to_yen();
                    yen.points_in += p;
                    k.yen_in += p.to_yen();
                    if from_ledger {
                        yen.carried_in += p.to_yen();
                    }
                }
                None => yen.quarantined_receipts_without_points += 1,
            }
        }
    }
    for (kind, statuses) in &facts.totals.by_kind {
        let k = by_kind.entry(kind).or_default();
        for (status, (n, y)) in statuses {
            k.by_status.insert(status.to_string(), *n);
            k.yen_by_status.insert(status.to_string(), *y);
        }
    }
    for (kind, k) in &mut by_kind {
        k.read = uke.by_kind.get(*kind).map_or(0, |c| c.receipts_read);
    }
    let by_kind: BTreeMap<String, KindAccount> = by_kind
        .into_iter()
        .map(|(k, a)| (k.to_string(), a))
        .collect();
    yen.yen_in = yen.points_in.to_yen();
    let totals = facts.totals;
    yen.by_status = totals.yen_by_status.clone();
    yen.paid_by = PaidBy {
        insurers: totals.share_in,
        public_expense: totals.public_expense,
        patients: totals.patients,
    };
    let mut share = ShareAccount {
        share_in: totals.share_in,
        by_status: totals.share_by_status.clone(),
        routed: totals.routed,
        ..ShareAccount::default()
    };
    share.apportioned = facts.month.total();
    share.apportioned_parts = facts
        .month
        .receipts
        .iter()
        .flat_map(|r| &r.allocation.parts)
        .map(|p| p.amount)
        .sum();
    for s in facts.statements {
        share.owed += s.owed_yen();
        for (kind, owed) in ReceiptKind::ALL.iter().zip(s.owed_by_kind) {
            if owed != Yen(0) {
                *share.owed_by_kind.entry(kind.as_str().into()).or_default() += owed;
            }
        }
        if s.owed_yen() != Yen(0) || s.routed_yen() != Yen(0) || s.apportioned.yen != Yen(0) {
            share.by_insurer.insert(
                s.insurer.as_str().to_string(),
                InsurerAccount {
                    routed: s.routed_yen(),
                    apportioned: s.apportioned.yen,
                    owed: s.owed_yen(),
                },
            );
        }
    }
    let carried_in = ingested.ledger.as_ref().map_or(0, |l| l.read.rows_read);
    let conservation = Conservation {
        receipts: ReceiptAccount {
            receipts_in: uke.records.get("RE").copied().unwrap_or(0) + carried_in,
            read: uke.records.get("RE").copied().unwrap_or(0),
            carried_in,
            accepted,
            quarantined,
            by_status: totals.by_status.clone(),
            carried_out: facts.ledger.len() as u64,
        },
        yen,
        insurer_share: share,
        by_kind,
        balanced: false,
        problems: Vec::new(),
    }
    .check();

    let mut pending = PendingCounts {
        hold_months: config.apportion.hold_months,
        carried_in,
        carried_in_quarantined: ingested
            .ledger
            .as_ref()
            .map_or(0, |l| l.claims.file.quarantined.len() as u64),
        carried_out: facts.ledger.len() as u64,
        carried_in_resolved: totals.carried_in_resolved,
        new_open: totals.new_open,
        made_final: totals.made_final,
        ..PendingCounts::default()
    };
    for e in facts.ledger {
        *pending.carried_out_by_age.entry(e.age_months).or_insert(0) += 1;
    }
    let mut apportionment = ApportionmentCounts {
        receipts: facts.month.receipts.len() as u64,
        yen: facts.month.total(),
        unapportionable: facts.month.failed.len() as u64,
        ..ApportionmentCounts::default()
    };
    for r in &facts.month.receipts {
        let a = &r.allocation;
        apportionment.parts += a.parts.len() as u64;
        apportionment.widened += u64::from(a.widened);
        apportionment.kind_dropped += u64::from(a.kind_dropped);
        *apportionment
            .by_basis
            .entry(a.basis_used.as_str().to_string())
            .or_insert(0) += 1;
    }

    let mut roster = table_counts(
        ingested.roster.rows_read,
        ingested.roster_accepted,
        &ingested.roster.quarantine,
    );
    roster.other.insert(
        "overlapping_persons".into(),
        ingested.roster.overlapping_persons,
    );
    let insurers = table_counts(
        ingested.insurers.rows_read,
        ingested.insurers.master.len() as u64,
        &ingested.insurers.quarantine,
    );
    let mut declarations = ingested
        .declarations
        .as_ref()
        .map(|d| table_counts(d.rows_read, d.declarations.len() as u64, &d.quarantine));
    if let Some(d) = declarations.as_mut() {
        d.other
            .insert("tier3_receipts".into(), ingested.tier3_receipts);
        d.other.insert(
            "tier3_receipts_without_declaration".into(),
            ingested.tier3_without_declaration,
        );
    }

    let rows = all_quarantine_rows(ingested, facts.unapportionable);
    let mut quarantine = QuarantineCounts {
        rows: rows.len() as u64,
        ..Default::default()
    };
    for r in &rows {
        *quarantine
            .by_scope
            .entry(r.scope.as_str().to_string())
            .or_insert(0) += 1;
    }
    let run = &resolved.match_run;
    let mut decisions = BTreeMap::new();
    for r in &run.results {
        *decisions
            .entry(r.decision.as_str().to_string())
            .or_insert(0) += 1;
    }
    let matching = MatchingCounts {
        patients: run.results.len() as u64,
        blocking: run.blocking.clone(),
        candidate_pairs: run.candidate_pairs,
        em_iterations: run.em_iterations,
        em_converged: run.em_converged,
        decisions,
    };
    Ok(Manifest {
        manifest_version: MANIFEST_VERSION,
        engine: Engine::default(),
        run_month: facts.run_month,
        config: config.clone(),
        inputs: input_files,
        uke,
        declarations,
        roster,
        insurers,
        quarantine,
        matching,
        pending,
        apportionment,
        conservation,
        outputs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_beyond_the_receipts_a_run_holds_is_refused_in_words() {
        let dir = Path::new("/months/2026-06");
        assert!(check_run_size(Yen::MAX_RECEIPTS_PER_RUN, dir).is_ok());
        let err = check_run_size(Yen::MAX_RECEIPTS_PER_RUN + 1, dir)
            .expect_err("one receipt too many")
            .to_string();
        assert_eq!(
            err,
            "input directory /months/2026-06: 1000000001 receipts (with the ledger carried in), more than the 1000000000 one run may hold: split the month by organization or prefecture"
        );
        // The bound is what keeps the sums in i64 with room.
        assert!(Yen::MAX_PER_RUN.checked_mul(9).is_some());
    }
}

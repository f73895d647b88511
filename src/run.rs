//! `reseclear run`: one claim month from input directory to output directory.
//!
//! Stages so far: discover inputs → ingest (UKE files in parallel with the roster,
//! declarations and insurer master) → validate across files → resolve (tiers 1 and 2;
//! tier 3 is being built) → write `receipts.parquet`, `quarantine.csv` and
//! `manifest.json`. The manifest's accounts must balance, or the run fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::domain::ReceiptKey;
use crate::ingest::declarations::{read_declarations, DeclarationRead};
use crate::ingest::insurers::{read_insurers, InsurerRead};
use crate::ingest::roster::{read_roster, RosterRead};
use crate::ingest::text::EncodingInfo;
use crate::ingest::uke::Receipt;
use crate::ingest::uke::{read_uke_files, InsurerField, UkeFile};
use crate::ingest::IngestError;
use crate::manifest::{
    sha256_file, Conservation, Engine, InputFile, Manifest, MatchingCounts, QuarantineCounts,
    ReceiptAccount, TableCounts, UkeCounts, YenAccount, MANIFEST_VERSION,
};
use crate::report::{write_match_report, write_receipts_parquet, MatchEntry, ReceiptRow};
use crate::resolve::copay::receipt_money;
use crate::resolve::matcher::{MatchModel, PatientResult};
use crate::resolve::outcome::{Resolution, Status};
use crate::resolve::tier3::MatchContext;
use crate::resolve::tiers::{resolve_receipts, Declarations, Resolved};
use crate::validate::{quarantine_duplicate_keys, write_quarantine_csv, QuarantineRow, Scope};

/// Names of the files a run writes.
pub const QUARANTINE_FILE: &str = "quarantine.csv";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const RECEIPTS_FILE: &str = "receipts.parquet";
pub const MATCH_REPORT_FILE: &str = "match_report.parquet";
pub const MATCH_MODEL_FILE: &str = "match_model.json";
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
        self.stages
            .push((stage.to_string(), since.elapsed().as_secs_f64()));
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
    /// Top-level files that are none of the above, reported as ignored.
    pub ignored: Vec<PathBuf>,
}

impl Inputs {
    /// Finds the inputs: every `*.UKE` file below `dir` (any depth, any case of the
    /// extension), `declarations.csv` (optional), `roster.parquet` or `roster.csv`,
    /// and `insurers.csv`. What is missing is named in the error.
    pub fn discover(dir: &Path) -> Result<Inputs, RunError> {
        let fail = |message: String| RunError::Inputs {
            path: dir.to_path_buf(),
            message,
        };
        if !dir.is_dir() {
            return Err(fail("not a directory".into()));
        }
        let mut uke = Vec::new();
        collect_uke(dir, dir, &mut uke).map_err(|e| fail(format!("cannot list: {e}")))?;
        uke.sort_by(|a, b| a.1.cmp(&b.1));
        let declarations = Some(dir.join("declarations.csv")).filter(|p| p.is_file());
        let parquet = dir.join("roster.parquet");
        let csv = dir.join("roster.csv");
        let roster = match (parquet.is_file(), csv.is_file()) {
            (true, false) => Some(parquet),
            (false, true) => Some(csv),
            (true, true) => {
                return Err(fail(
                    "holds both roster.parquet and roster.csv: keep one".into(),
                ))
            }
            (false, false) => None,
        };
        let insurers = Some(dir.join("insurers.csv")).filter(|p| p.is_file());
        let mut missing = Vec::new();
        if uke.is_empty() {
            missing.push("receipt files (*.UKE)");
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
                let mut ignored: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(|e| fail(format!("cannot list: {e}")))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .filter(|p| !known.contains(&Some(p.as_path())))
                    .filter(|p| !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("uke")))
                    .collect();
                ignored.sort();
                Ok(Inputs {
                    dir: dir.to_path_buf(),
                    uke,
                    declarations,
                    roster,
                    insurers,
                    ignored,
                })
            }
            _ => Err(fail(format!("missing {}", missing.join(", ")))),
        }
    }

    fn display(&self, path: &Path) -> String {
        relative(&self.dir, path)
    }
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn collect_uke(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_uke(base, &path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("uke"))
        {
            let display = relative(base, &path);
            out.push((path, display));
        }
    }
    Ok(())
}

/// What a finished run reports back to the CLI.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub manifest: Manifest,
    pub timings: Timings,
    pub out_dir: PathBuf,
}

/// Everything ingested for a month, ready for resolution.
pub struct Ingested {
    pub files: Vec<UkeFile>,
    pub declarations: Option<DeclarationRead>,
    pub roster: RosterRead,
    pub insurers: InsurerRead,
    /// Inputs the run does not read (reported, never silently skipped).
    pub notices: Vec<QuarantineRow>,
    /// Set by resolution: tier-3 receipts, and those without a declaration form.
    pub tier3_receipts: u64,
    pub tier3_without_declaration: u64,
}

/// Reads every input; UKE files are parsed in parallel while the roster is read.
pub fn ingest(inputs: &Inputs, config: &Config) -> Result<Ingested, RunError> {
    let encoding = config.ingest.csv_encoding;
    let (files, tables) = rayon::join(
        || -> Result<Vec<UkeFile>, IngestError> {
            read_uke_files(&inputs.uke, &config.ingest)
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
            Ok((roster, insurers, declarations))
        },
    );
    let mut files = files?;
    let (roster, insurers, declarations) = tables?;
    quarantine_duplicate_keys(&mut files);
    Ok(Ingested {
        files,
        declarations,
        roster,
        insurers,
        notices: inputs
            .ignored
            .iter()
            .map(|p| ignored_notice(&inputs.display(p)))
            .collect(),
        tier3_receipts: 0,
        tier3_without_declaration: 0,
    })
}

/// Runs the month: ingest, validate, write the quarantine file and the manifest.
pub fn run(input: &Path, out: &Path, config: &Config) -> Result<RunOutcome, RunError> {
    run_with_model(input, out, config, None)
}

/// As [`run`], matching tier 3 with a saved model (`match_model.json` of an earlier
/// run) instead of training one on this month.
pub fn run_with_model(
    input: &Path,
    out: &Path,
    config: &Config,
    model: Option<&MatchModel>,
) -> Result<RunOutcome, RunError> {
    let inputs = Inputs::discover(input)?;
    tracing::info!(uke_files = inputs.uke.len(), "inputs found");
    let mut timings = Timings::default();
    let clock = std::time::Instant::now();
    let mut ingested = ingest(&inputs, config)?;
    timings.lap("ingest", clock);
    let clock = std::time::Instant::now();
    let resolved = resolve(&mut ingested, &inputs, config, model);
    timings.lap("resolve", clock);
    let clock = std::time::Instant::now();
    let rows = receipt_rows(&ingested, &resolved);
    let manifest = build_manifest(&inputs, &ingested, &rows, &resolved, config)?;

    std::fs::create_dir_all(out).map_err(|source| RunError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    write_receipts_parquet(&out.join(RECEIPTS_FILE), &rows)?;
    let results: BTreeMap<ReceiptKey, &PatientResult> = resolved
        .tier3_keys
        .iter()
        .copied()
        .zip(&resolved.match_run.results)
        .collect();
    let entries: Vec<MatchEntry<'_>> = resolved
        .resolutions
        .iter()
        .filter(|r| r.tier >= 2)
        .map(|r| match results.get(&r.key) {
            Some(result) => MatchEntry {
                key: r.key,
                tier: r.tier,
                status: r.status,
                decision: result.decision.as_str(),
                reason: &result.reason,
                candidates: &result.candidates,
            },
            None => MatchEntry {
                key: r.key,
                tier: r.tier,
                status: r.status,
                decision: "card",
                reason: &r.reason,
                candidates: &[],
            },
        })
        .collect();
    write_match_report(&out.join(MATCH_REPORT_FILE), &entries)?;
    write_json(&out.join(MATCH_MODEL_FILE), &resolved.match_run.model)?;
    let mut quarantine = all_quarantine_rows(&ingested);
    let qpath = out.join(QUARANTINE_FILE);
    write_quarantine_csv(&qpath, &mut quarantine).map_err(|source| RunError::Write {
        path: qpath.clone(),
        source,
    })?;
    write_json(&out.join(MANIFEST_FILE), &manifest)?;
    timings.lap("report", clock);
    write_json(&out.join(TIMINGS_FILE), &timings)?;
    if !manifest.conservation.balanced {
        return Err(RunError::Unbalanced(format!("{:?}", manifest.conservation)));
    }
    Ok(RunOutcome {
        manifest,
        timings,
        out_dir: out.to_path_buf(),
    })
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

/// Resolves the accepted receipts. Declarations that fit no receipt join the
/// declarations' rows; the tier-3 counts are kept for the manifest.
fn resolve(
    ingested: &mut Ingested,
    inputs: &Inputs,
    config: &Config,
    model: Option<&MatchModel>,
) -> Resolved {
    let declarations_file = inputs
        .declarations
        .as_ref()
        .map(|p| inputs.display(p))
        .unwrap_or_default();
    let resolved = {
        let accepted: Vec<&Receipt> = ingested.files.iter().flat_map(|f| &f.receipts).collect();
        let declarations = Declarations {
            rows: ingested
                .declarations
                .as_ref()
                .map(|d| d.declarations.as_slice())
                .unwrap_or_default(),
            file: &declarations_file,
        };
        let matching = MatchContext {
            roster: &ingested.roster.roster,
            insurers: &ingested.insurers.master,
            config: &config.matching,
            model,
        };
        resolve_receipts(&accepted, declarations, matching, &config.ingest)
    };
    if let Some(d) = ingested.declarations.as_mut() {
        d.quarantine.extend(resolved.notices.iter().cloned());
    }
    ingested.tier3_receipts = resolved.tier3_receipts;
    ingested.tier3_without_declaration = resolved.tier3_without_declaration;
    resolved
}

/// One row per receipt read, in file and line order: accepted receipts with their
/// resolution, quarantined ones with their first reason.
fn receipt_rows(ingested: &Ingested, resolved: &Resolved) -> Vec<ReceiptRow> {
    let by_key: BTreeMap<ReceiptKey, &Resolution> =
        resolved.resolutions.iter().map(|r| (r.key, r)).collect();
    let mut rows = Vec::with_capacity(by_key.len());
    for f in &ingested.files {
        let mut file_rows: Vec<ReceiptRow> =
            Vec::with_capacity(f.receipts.len() + f.quarantined.len());
        for r in &f.receipts {
            let Some(res) = by_key.get(&r.key) else {
                continue;
            };
            let money = receipt_money(r, res.care_date, res.copay_percent);
            file_rows.push(ReceiptRow {
                key: Some(r.key),
                receipt_number: Some(r.key.receipt_number),
                file: f.path.clone(),
                line: r.line,
                tier: res.tier,
                status: res.status,
                filed_insurer: res.filed_insurer.clone(),
                resolved_insurer: res.resolved_insurer.map(|i| i.to_string()),
                person_id: res.person_id.clone(),
                match_weight: res.match_weight,
                match_probability: res.match_probability,
                cost_yen: Some(money.cost),
                copay_yen: Some(money.copay),
                insurer_share_yen: Some(money.insurer_share),
                copay_diff_yen: Some(money.copay_diff),
                reason: res.reason.clone(),
            });
        }
        for q in &f.quarantined {
            file_rows.push(ReceiptRow {
                key: q.key,
                receipt_number: q.receipt_number,
                file: f.path.clone(),
                line: q.line,
                tier: 0,
                status: Status::Quarantined,
                filed_insurer: String::new(),
                resolved_insurer: None,
                person_id: None,
                match_weight: None,
                match_probability: None,
                cost_yen: q.points.map(|p| p.to_yen()),
                copay_yen: None,
                insurer_share_yen: None,
                copay_diff_yen: None,
                reason: q.reason.clone(),
            });
        }
        file_rows.sort_by_key(|r| r.line);
        rows.extend(file_rows);
    }
    rows
}

/// A top-level file that is no input of this version. A pending ledger
/// (`pending.parquet`) is said to be one whose claims are not retried here.
fn ignored_notice(display: &str) -> QuarantineRow {
    let reason = if display.eq_ignore_ascii_case("pending.parquet") {
        "a pending ledger: this version does not carry pending claims between runs yet, so its claims are not retried"
    } else {
        "not an input of a claim month (*.UKE, roster.parquet/csv, insurers.csv, declarations.csv): ignored"
    };
    QuarantineRow::new(display, 0, "-", "-", "", reason, Scope::Notice)
}

fn all_quarantine_rows(ingested: &Ingested) -> Vec<QuarantineRow> {
    let mut rows: Vec<QuarantineRow> = ingested
        .files
        .iter()
        .flat_map(|f| f.quarantine.iter().cloned())
        .collect();
    rows.extend(ingested.notices.iter().cloned());
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

fn build_manifest(
    inputs: &Inputs,
    ingested: &Ingested,
    receipts: &[ReceiptRow],
    resolved: &Resolved,
    config: &Config,
) -> Result<Manifest, RunError> {
    let hash = |path: &Path| {
        sha256_file(path).map_err(|source| RunError::Ingest(IngestError::io(path, source)))
    };
    let mut input_files = Vec::new();
    for f in &ingested.files {
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

    let mut uke = UkeCounts::default();
    let mut yen = YenAccount::default();
    for f in &ingested.files {
        uke.files += 1;
        uke.files_quarantined += u64::from(f.quarantined_whole());
        uke.lines += f.lines;
        for (id, n) in &f.record_counts {
            *uke.records.entry(id.clone()).or_insert(0) += n;
        }
        uke.receipts_accepted += f.receipts.len() as u64;
        uke.receipts_quarantined += f.quarantined.len() as u64;
        for r in &f.receipts {
            let field = match r.insurance.as_ref().map(|h| &h.insurer) {
                Some(InsurerField::Known(_)) => "known_insurer",
                Some(InsurerField::Filler(_)) => "filler_insurer",
                None => "no_ho",
            };
            *uke.accepted_by_insurer_field
                .entry(field.into())
                .or_insert(0) += 1;
            yen.accepted += r.points().to_yen();
            yen.points_in += r.points();
        }
        for q in &f.quarantined {
            match q.points {
                Some(p) => {
                    yen.quarantined += p.to_yen();
                    yen.points_in += p;
                }
                None => yen.quarantined_receipts_without_points += 1,
            }
        }
    }
    uke.receipts_read = uke.receipts_accepted + uke.receipts_quarantined;
    yen.yen_in = yen.points_in.to_yen();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for r in receipts {
        let status = r.status.as_str().to_string();
        *by_status.entry(status.clone()).or_insert(0) += 1;
        *yen.by_status.entry(status).or_default() += r.cost_yen.unwrap_or_default();
    }
    let conservation = Conservation {
        receipts: ReceiptAccount {
            receipts_in: uke.records.get("RE").copied().unwrap_or(0),
            accepted: uke.receipts_accepted,
            quarantined: uke.receipts_quarantined,
            by_status,
        },
        yen,
        balanced: false,
    }
    .check();

    let mut roster = table_counts(
        ingested.roster.rows_read,
        ingested.roster.roster.num_rows() as u64,
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

    let rows = all_quarantine_rows(ingested);
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
        config: config.clone(),
        inputs: input_files,
        uke,
        declarations,
        roster,
        insurers,
        quarantine,
        matching,
        conservation,
    })
}

//! `reseclear apportion --run DIR`: apportionment re-run alone from a finished run's
//! outputs, for analysts trying another basis or scope. It reads only the run's
//! `receipts.parquet` (final-unresolved receipts with their insurer shares, and the
//! routed receipts that make the claims basis), the insurer master the run copied
//! (`insurers.csv`) and the run's configuration (from `manifest.json`); no UKE file is
//! re-read and nothing is re-matched. With the run's own basis and scope it writes
//! byte-identical `apportionment.parquet` and statements.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::apportion::{apportion_month, read_share_rows, ApportionConfig, Basis, Scope};
use crate::config::Config;
use crate::domain::Yen;
use crate::ingest::insurers::read_insurers;
use crate::ingest::IngestError;
use crate::manifest::sha256_file;
use crate::output_dir::{OutputError, OutputKind, Signature, Staging};
use crate::report::{
    statements, write_apportionment, write_statements_csv, write_statements_parquet, ReportError,
};
use crate::run::{
    APPORTIONMENT_FILE, INSURERS_FILE, MANIFEST_FILE, RECEIPTS_FILE, STATEMENTS_CSV,
    STATEMENTS_PARQUET,
};

/// The small manifest of a re-run apportionment.
pub const APPORTION_MANIFEST_FILE: &str = "apportion.json";

/// An `apportion` output directory: complete when its apportion.json (written last)
/// is there.
pub const APPORTION_OUTPUT: OutputKind = OutputKind {
    command: "apportion",
    marker: APPORTION_MANIFEST_FILE,
    signature: Signature::JsonKey("source_manifest_sha256"),
};

/// Why apportionment could not be re-run.
#[derive(Debug, thiserror::Error)]
pub enum ReapportionError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{path}: {message}")]
    Run { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the accounts do not balance: {0}")]
    Unbalanced(String),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// The basis and scope to use instead of the run's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub basis: Option<Basis>,
    pub scope: Option<Scope>,
    /// Replace an `--out` that already holds outputs.
    pub force: bool,
}

/// What a re-run apportionment did (`apportion.json`).
#[derive(Debug, Clone, Serialize)]
pub struct ApportionManifest {
    pub engine_version: &'static str,
    /// The run directory as given, and its manifest's sha256.
    pub source_run: String,
    pub source_manifest_sha256: String,
    pub apportion: ApportionConfig,
    pub receipts: u64,
    pub parts: u64,
    /// Σ insurer share of the receipts apportioned = Σ of their parts.
    pub apportioned_yen: Yen,
    pub parts_yen: Yen,
    pub unapportionable: u64,
    pub routed_yen: Yen,
    /// Σ owed over the statements = routed + apportioned.
    pub owed_yen: Yen,
    pub balanced: bool,
}

/// Re-runs apportionment of the run in `run_dir` into `out`.
pub fn reapportion(
    run_dir: &Path,
    out: &Path,
    overrides: Overrides,
) -> Result<ApportionManifest, ReapportionError> {
    let manifest_path = run_dir.join(MANIFEST_FILE);
    let config = run_config(&manifest_path)?;
    let staging = Staging::begin(out, APPORTION_OUTPUT, overrides.force, &[run_dir])?;
    let dir = staging.path();
    let mut apportion = config.apportion.clone();
    apportion.basis = overrides.basis.unwrap_or(apportion.basis);
    apportion.scope = overrides.scope.unwrap_or(apportion.scope);

    let master = read_insurers(
        &run_dir.join(INSURERS_FILE),
        INSURERS_FILE,
        config.ingest.csv_encoding,
    )?
    .master;
    let rows = read_share_rows(&run_dir.join(RECEIPTS_FILE))?;
    let month = apportion_month(&rows, &master, &apportion);
    let statements = statements(&rows, &month, &master);

    let routed: Yen = rows
        .iter()
        .filter(|r| r.status.is_routed())
        .map(|r| r.insurer_share)
        .sum();
    let parts_yen: Yen = month
        .receipts
        .iter()
        .flat_map(|r| &r.allocation.parts)
        .map(|p| p.amount)
        .sum();
    let owed: Yen = statements.iter().map(|s| s.owed_yen()).sum();
    let apportioned_yen = month.total();
    let manifest = ApportionManifest {
        engine_version: env!("CARGO_PKG_VERSION"),
        source_run: run_dir.display().to_string(),
        source_manifest_sha256: sha256_file(&manifest_path)
            .map_err(|e| IngestError::io(&manifest_path, e))?,
        apportion,
        receipts: month.receipts.len() as u64,
        parts: month
            .receipts
            .iter()
            .map(|r| r.allocation.parts.len() as u64)
            .sum(),
        apportioned_yen,
        parts_yen,
        unapportionable: month.failed.len() as u64,
        routed_yen: routed,
        owed_yen: owed,
        balanced: parts_yen == apportioned_yen && owed == routed + apportioned_yen,
    };

    write_apportionment(&dir.join(APPORTIONMENT_FILE), &month)?;
    write_statements_csv(&dir.join(STATEMENTS_CSV), &statements)?;
    write_statements_parquet(&dir.join(STATEMENTS_PARQUET), &statements)?;
    let path = dir.join(APPORTION_MANIFEST_FILE);
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| ReapportionError::Write {
        path: path.clone(),
        source: e.into(),
    })?;
    std::fs::write(&path, json + "\n").map_err(|source| ReapportionError::Write {
        path: path.clone(),
        source,
    })?;
    if !manifest.balanced {
        let kept = staging.set_aside()?;
        return Err(ReapportionError::Unbalanced(format!(
            "parts {parts_yen} yen for {apportioned_yen} yen apportioned; owed {owed} yen for routed {routed} yen; the outputs are kept in {}",
            kept.display()
        )));
    }
    staging.commit()?;
    Ok(manifest)
}

/// The configuration echoed in a run's manifest.
fn run_config(path: &Path) -> Result<Config, ReapportionError> {
    let fail = |message: String| ReapportionError::Run {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read the run's manifest: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("not JSON: {e}")))?;
    let config = value
        .get("config")
        .ok_or_else(|| fail("no config in the manifest: not a reseclear run".into()))?;
    serde_json::from_value(config.clone())
        .map_err(|e| fail(format!("the manifest's config cannot be read: {e}")))
}

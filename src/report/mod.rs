//! Report: the run's outputs for people and for later stages — `receipts.parquet`
//! (one row per receipt with its decision) and `match_report.parquet` (the evidence
//! of every tier-3 decision), alongside `quarantine.csv` and the manifest written by
//! `validate` and `manifest`.

mod apportionment;
pub mod html;
mod match_report;
mod parquet_file;
mod receipts;
mod statements;

pub use apportionment::{
    apportionment_schema, read_apportionment_totals, write_apportionment, ApportionmentTotals,
    InsurerParts,
};
pub use match_report::{match_report_schema, write_match_report, MatchEntry};
pub(crate) use parquet_file::{write_parquet, write_parquet_parallel};
pub use receipts::{receipts_schema, write_receipts_parquet, ReceiptRow};
pub use statements::{
    statements, write_statements_csv, write_statements_parquet, Statement, Tally, OWED_BY_KIND,
};

/// An output that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Parquet {
        path: std::path::PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot build {path}: {source}")]
    Arrow {
        path: std::path::PathBuf,
        source: arrow::error::ArrowError,
    },
}

//! Report: the run's outputs for people and for later stages — `receipts.parquet`
//! (one row per receipt with its decision), alongside `quarantine.csv` and the
//! manifest written by `validate` and `manifest`.

mod receipts;

pub use receipts::{receipts_schema, write_receipts_parquet, ReceiptRow};

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

//! Ingest: reading a claim month's inputs exactly as the data contracts describe
//! (DOMAIN §3–7). Readers turn each field into a domain type or a quarantine row;
//! they never drop a record silently and never panic on input.

pub mod declarations;
pub mod discover;
pub mod insurers;
pub mod parquet_table;
pub mod roster;
pub mod text;
pub mod uke;

use std::path::PathBuf;

/// An input that cannot be read at all (as opposed to a bad record, which is
/// quarantined and the run goes on). The message names the file and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: Arrow: {source}")]
    Arrow {
        path: PathBuf,
        source: arrow::error::ArrowError,
    },
}

impl IngestError {
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        IngestError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Runs a Parquet read, turning a panic inside the parquet or arrow crates into an
/// error naming the file. Those crates can panic on malformed files (fuzzing found
/// out-of-range definition levels and negative column ranges in damaged footers); the
/// engine promises a clear error on any input, never a crash.
pub(crate) fn parquet_guard<T>(
    path: &std::path::Path,
    read: impl FnOnce() -> Result<T, IngestError>,
) -> Result<T, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(IngestError::invalid(
            path,
            format!("not a readable Parquet file: the Parquet reader failed on it ({why})"),
        ))
    })
}

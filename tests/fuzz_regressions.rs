//! Inputs found by fuzzing (`scripts/fuzz.sh`), kept so they stay fixed: each must give
//! a clear error naming the file, never a panic.

use std::path::{Path, PathBuf};

use reseclear::config::{CsvEncoding, IngestConfig};

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(name)
}

/// Copies a crash input to a file with the name the reader expects.
fn as_file(name: &str, file_name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(file_name);
    std::fs::copy(case(name), &path).expect("copy");
    (dir, path)
}

fn assert_clear(err: impl std::fmt::Display, path: &Path) {
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn a_roster_parquet_with_a_negative_column_range_is_an_error() {
    let (_dir, path) = as_file("roster_parquet-negative-column-range", "roster.parquet");
    let err = reseclear::ingest::roster::read_roster(&path, "roster.parquet", CsvEncoding::Auto)
        .expect_err("a damaged file");
    assert_clear(err, &path);
}

#[test]
fn a_ledger_with_out_of_range_definition_levels_is_an_error() {
    let (_dir, path) = as_file("ledger_parquet-def-levels-out-of-bounds", "pending.parquet");
    let err = reseclear::pending::read_ledger(&path, "pending.parquet", &IngestConfig::default())
        .expect_err("a damaged file");
    assert_clear(err, &path);
}

/// A byte-array column whose page declares no values but still holds bytes: parquet
/// 60.1's plain decoder divides by the declared count (array_reader/byte_array.rs:391).
#[test]
fn a_roster_parquet_with_a_page_of_zero_values_is_an_error() {
    let (_dir, path) = as_file("roster_parquet-zero-value-page", "roster.parquet");
    let err = reseclear::ingest::roster::read_roster(&path, "roster.parquet", CsvEncoding::Auto)
        .expect_err("a damaged file");
    assert_clear(err, &path);
}

//! The fuzz targets' checks as ordinary tests: every seed of `fuzz/seeds/<target>/` and
//! every past crash of `tests/data/fuzz/` (found by `scripts/fuzz.sh`, kept so that it
//! stays fixed) through the targets' own entry functions (`fuzz/src/targets.rs`,
//! included by path; `ledger_roundtrip`'s seeds are replayed by `tests/trust_outputs.rs`).
//! A seed must pass the target's checks and read as the input it is; a crash input must
//! give a clear error naming the file, never a panic.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of `dir`, sorted by name, with its bytes; exactly `expected` of them, so
/// that a directory renamed, emptied or grown without this test knowing fails.
fn files(dir: &Path, expected: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    out.sort();
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(out.len(), expected, "{}: {names:?}", dir.display());
    out
}

fn seeds(target: &str, expected: usize) -> Vec<(String, Vec<u8>)> {
    files(&root().join("fuzz/seeds").join(target), expected)
}

/// The error names the file the reader was given.
fn assert_names(err: impl std::fmt::Display, path: &Path) {
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
}

/// The error names the file and says the Parquet reader failed on it.
fn assert_caught(err: impl std::fmt::Display, path: &Path) {
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}: not a readable Parquet file: the Parquet reader failed on it (",
            path.display()
        )),
        "{text}"
    );
}

/// A seed directory for each target and a target for each seed directory: a target
/// added without seeds, or seeds without a replay here, fail.
#[test]
fn every_fuzz_target_has_its_seed_directory() {
    let names = |dir: &str, strip: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(root().join(dir))
            .expect(dir)
            .map(|e| {
                let name = e.expect("entry").file_name().to_string_lossy().into_owned();
                name.strip_suffix(strip).unwrap_or(&name).to_string()
            })
            .collect();
        v.sort();
        v
    };
    let targets = names("fuzz/fuzz_targets", ".rs");
    assert_eq!(
        targets,
        [
            "dates_and_numbers",
            "declarations_csv",
            "insurers_csv",
            "ledger_parquet",
            "ledger_roundtrip",
            "roster_csv",
            "roster_parquet",
            "uke_reader",
        ]
    );
    assert_eq!(names("fuzz/seeds", ""), targets);
}

/// Each UKE seed as (name, receipts accepted, receipts quarantined): two are sample
/// files quarantined whole (their GO totals do not match) and one holds a receipt
/// whose name is not Shift_JIS.
#[test]
fn uke_reader_seeds_read_as_the_files_they_are() {
    let read: Vec<(String, usize, usize)> = seeds("uke_reader", 8)
        .into_iter()
        .map(|(name, data)| {
            let file = targets::uke_reader(&data);
            assert!(file.header.is_some(), "{name}: no IR");
            (name, file.receipts.len(), file.quarantined.len())
        })
        .collect();
    let expected = [
        ("gen-1-0947580.UKE", 6, 0),
        ("gen-1-3626777.UKE", 1, 0),
        ("hand_written_kokuhoren_era.UKE", 2, 0),
        ("hand_written_shiharai.UKE", 3, 0),
        ("sample-1-5093810.UKE", 0, 3),
        ("sample-2-4456240.UKE", 2, 1),
        ("sample-2-5126776.UKE", 10, 0),
        ("sample-2-6314629.UKE", 0, 3),
    ];
    assert_eq!(read, expected.map(|(n, a, q)| (n.to_string(), a, q)));
}

/// Each seed of `dates_and_numbers` with the number of parsers that accept it (an ISO
/// date and an 8-digit Western UKE date are also written dates).
#[test]
fn dates_and_numbers_seeds_are_accepted_where_they_should_be() {
    let accepted: Vec<(String, usize)> = seeds("dates_and_numbers", 10)
        .into_iter()
        .map(|(name, data)| {
            let n = targets::dates_and_numbers(&data);
            (name, n)
        })
        .collect();
    let expected = [
        ("insurer-6-digits-right-aligned", 1),
        ("insurer-6-digits-zero-padded", 1),
        ("insurer-8-digits", 1),
        ("iso-date", 2),
        ("iso-month", 1),
        ("uke-era-date", 1),
        ("uke-era-month", 1),
        ("uke-western-date", 2),
        ("written-era-kanji", 1),
        ("written-full-width", 1),
    ];
    assert_eq!(accepted, expected.map(|(n, k)| (n.to_string(), k)));
}

/// A CSV read with each of auto, utf-8 and shift_jis: the data rows read, or `None`
/// for a refusal, which must name the file.
fn rows_or_refusal<T>(
    reads: [Result<T, reseclear::ingest::IngestError>; 3],
    rows: impl Fn(&T) -> u64,
    path: &Path,
) -> [Option<u64>; 3] {
    reads.map(|read| match read {
        Ok(read) => Some(rows(&read)),
        Err(e) => {
            assert_names(e, path);
            None
        }
    })
}

/// UTF-8 seeds are read by auto and utf-8 and refused by shift_jis; Shift_JIS seeds
/// the other way round; no row is quarantined.
#[test]
fn declarations_csv_seeds_read_in_the_encodings_they_are_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("declarations.csv");
    let read: Vec<(String, [Option<u64>; 3])> = seeds("declarations_csv", 4)
        .into_iter()
        .map(|(name, data)| {
            let reads = targets::declarations_csv(&data, dir.path());
            let rows = rows_or_refusal(
                reads,
                |r| {
                    assert!(r.quarantine.is_empty(), "{:?}", r.quarantine);
                    assert_eq!(r.declarations.len() as u64, r.rows_read);
                    r.rows_read
                },
                &path,
            );
            (name, rows)
        })
        .collect();
    let expected = [
        ("gen-bom.csv", [Some(2), Some(2), None]),
        ("gen-sjis.csv", [Some(2), None, Some(2)]),
        ("gen.csv", [Some(2), Some(2), None]),
        ("sample.csv", [Some(20), Some(20), None]),
    ];
    assert_eq!(read, expected.map(|(n, r)| (n.to_string(), r)));
}

#[test]
fn roster_csv_seeds_read_in_the_encodings_they_are_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("roster.csv");
    let read: Vec<(String, [Option<u64>; 3])> = seeds("roster_csv", 3)
        .into_iter()
        .map(|(name, data)| {
            let reads = targets::roster_csv(&data, dir.path());
            let rows = rows_or_refusal(
                reads,
                |r| {
                    assert!(r.quarantine.is_empty(), "{:?}", r.quarantine);
                    assert_eq!(r.roster.num_rows() as u64, r.rows_read);
                    r.rows_read
                },
                &path,
            );
            (name, rows)
        })
        .collect();
    let expected = [
        ("gen-head-sjis.csv", [Some(3), None, Some(3)]),
        ("gen-head.csv", [Some(3), Some(3), None]),
        ("gen.csv", [Some(86), Some(86), None]),
    ];
    assert_eq!(read, expected.map(|(n, r)| (n.to_string(), r)));
}

#[test]
fn insurers_csv_seeds_read_in_the_encodings_they_are_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("insurers.csv");
    let read: Vec<(String, [Option<u64>; 3])> = seeds("insurers_csv", 3)
        .into_iter()
        .map(|(name, data)| {
            let reads = targets::insurers_csv(&data, dir.path());
            let rows = rows_or_refusal(
                reads,
                |r| {
                    assert!(r.quarantine.is_empty(), "{:?}", r.quarantine);
                    r.rows_read
                },
                &path,
            );
            (name, rows)
        })
        .collect();
    let expected = [
        ("head-sjis.csv", [Some(5), None, Some(5)]),
        ("head.csv", [Some(5), Some(5), None]),
        ("sample.csv", [Some(176), Some(176), None]),
    ];
    assert_eq!(read, expected.map(|(n, r)| (n.to_string(), r)));
}

#[test]
fn roster_parquet_seeds_read_or_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = seeds("roster_parquet", 2);
    // 40 persons, 61 periods.
    assert_eq!(seeds[0].0, "gen-40.parquet");
    let read = targets::roster_parquet(&seeds[0].1, dir.path()).expect("gen-40.parquet");
    assert_eq!((read.rows_read, read.roster.num_rows()), (61, 61));
    assert!(read.quarantine.is_empty(), "{:?}", read.quarantine);
    // An apportionment.parquet.
    assert_eq!(seeds[1].0, "not-a-roster.parquet");
    let err = targets::roster_parquet(&seeds[1].1, dir.path()).expect_err("not a roster");
    let text = err.to_string();
    assert!(
        text.contains("missing required columns person_id"),
        "{text}"
    );
    assert_names(err, &dir.path().join("roster.parquet"));
}

#[test]
fn ledger_parquet_seeds_read_with_their_open_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut open = Vec::new();
    for (name, data) in seeds("ledger_parquet", 3) {
        let read =
            targets::ledger_parquet(&data, dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(read.file.quarantined.is_empty(), "{name}");
        open.push((name, read.entries.len()));
    }
    let expected = [
        ("empty.parquet", 0),
        ("gen-30-open.parquet", 30),
        ("gen-5-open.parquet", 5),
    ];
    assert_eq!(open, expected.map(|(n, k)| (n.to_string(), k)));
}

/// Each past crash, by the target named before the first `-` of its file name, gives
/// an error naming the file: the panic inside the parquet crate caught and reported
/// (`ingest::parquet_guard`), not a crash.
#[test]
fn every_past_crash_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, data) in files(&root().join("tests/data/fuzz"), 3) {
        let (target, _) = name.split_once('-').expect("<target>-<what>");
        match target {
            "roster_parquet" => {
                let err = targets::roster_parquet(&data, dir.path())
                    .err()
                    .unwrap_or_else(|| panic!("{name}: read as a roster"));
                assert_caught(err, &dir.path().join("roster.parquet"));
            }
            "ledger_parquet" => {
                let err = targets::ledger_parquet(&data, dir.path())
                    .err()
                    .unwrap_or_else(|| panic!("{name}: read as a ledger"));
                assert_caught(err, &dir.path().join("pending.parquet"));
            }
            _ => panic!("{name}: no replay for target {target}"),
        }
    }
}

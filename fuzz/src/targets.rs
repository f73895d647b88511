//! The entry function of every fuzz target but `ledger_roundtrip` (which has its own
//! module): each takes the fuzzer's bytes — and, for a reader that takes a path, the
//! directory to write them in — runs the code under test, and panics only where a
//! promise breaks. What the reader returned is handed back so that a caller can say
//! more about it.
//!
//! The targets of `fuzz_targets/` are one call to these; `tests/fuzz_regressions.rs`
//! includes this file by path and replays every seed of `fuzz/seeds/` and every past
//! crash of `tests/data/fuzz/` through the same functions, so CI runs the targets'
//! checks on those inputs without the nightly toolchain.

use std::path::{Path, PathBuf};

use reseclear::config::{CsvEncoding, IngestConfig};
use reseclear::domain::{
    parse_iso_date, parse_uke_date, parse_uke_month, parse_written_date, Era, InsurerNumber,
    YearMonth,
};
use reseclear::ingest::declarations::{read_declarations, DeclarationRead};
use reseclear::ingest::insurers::{read_insurers, InsurerRead};
use reseclear::ingest::roster::{read_roster, RosterRead};
use reseclear::ingest::uke::{parse_uke, UkeFile};
use reseclear::ingest::IngestError;
use reseclear::pending::{read_ledger, LedgerRead};

/// Every encoding a CSV reader can be asked for; each input is read with all three.
pub const CSV_ENCODINGS: [CsvEncoding; 3] =
    [CsvEncoding::Auto, CsvEncoding::Utf8, CsvEncoding::ShiftJis];

/// Writes `data` to `dir/name` (overwriting the previous input) and returns the path.
/// The extension of `name` matters to readers that dispatch on it.
fn write_input(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, data) {
        panic!("cannot write the input {}: {e}", path.display());
    }
    path
}

/// `uke_reader`: the whole UKE reader (Shift_JIS decoding, record splitting, every
/// record's fields, totals). Quarantine rows are fine; a panic is a bug ("never panic
/// on input", src/ingest/mod.rs). The reader accounts for the bytes it was given.
pub fn uke_reader(data: &[u8]) -> UkeFile {
    let file = parse_uke("fuzz.UKE", data, &IngestConfig::default());
    assert_eq!(file.bytes, data.len() as u64, "bytes not accounted for");
    file
}

/// `declarations_csv`: `data` as `dir/declarations.csv`, read with each encoding of
/// [`CSV_ENCODINGS`]. An error or quarantine rows are fine; a panic is a bug.
pub fn declarations_csv(data: &[u8], dir: &Path) -> [Result<DeclarationRead, IngestError>; 3] {
    let path = write_input(dir, "declarations.csv", data);
    CSV_ENCODINGS.map(|encoding| read_declarations(&path, "declarations.csv", encoding))
}

/// `roster_csv`: `data` as `dir/roster.csv`, read with each encoding (CSV columns, row
/// validation, overlap notices). An error or quarantine rows are fine.
pub fn roster_csv(data: &[u8], dir: &Path) -> [Result<RosterRead, IngestError>; 3] {
    let path = write_input(dir, "roster.csv", data);
    CSV_ENCODINGS.map(|encoding| read_roster(&path, "roster.csv", encoding))
}

/// `insurers_csv`: `data` as `dir/insurers.csv`, read with each encoding.
pub fn insurers_csv(data: &[u8], dir: &Path) -> [Result<InsurerRead, IngestError>; 3] {
    let path = write_input(dir, "insurers.csv", data);
    CSV_ENCODINGS.map(|encoding| read_insurers(&path, "insurers.csv", encoding))
}

/// `roster_parquet`: `data` as `dir/roster.parquet` (footer and metadata decoding, page
/// decoding, column types, then row validation). An error is fine; a panic that
/// escapes `read_roster` is a finding (see `no_panic_escapes` for the fuzz target).
pub fn roster_parquet(data: &[u8], dir: &Path) -> Result<RosterRead, IngestError> {
    let path = write_input(dir, "roster.parquet", data);
    read_roster(&path, "roster.parquet", CsvEncoding::Auto)
}

/// `ledger_parquet`: `data` as the pending ledger `dir/pending.parquet`, including its
/// embedded UKE text, which is re-parsed per row. An error or quarantined rows are
/// fine; a panic that escapes `read_ledger` is a finding.
pub fn ledger_parquet(data: &[u8], dir: &Path) -> Result<LedgerRead, IngestError> {
    let path = write_input(dir, "pending.parquet", data);
    read_ledger(&path, "pending.parquet", &IngestConfig::default())
}

/// `dates_and_numbers`: the small parsers every reader leans on, fed `data` as text
/// (lossy UTF-8), with cheap round-trip invariants:
/// - `InsurerNumber::parse`: an accepted number re-parses from `as_str()` to itself, is
///   6 or 8 ASCII digits, never keeps a `00` 法別番号, and is its body plus check digit;
/// - `parse_iso_date` / `YearMonth::parse_iso`: accepted input is canonical, so it
///   formats back to itself, and `parse_written_date` accepts it too;
/// - `parse_uke_date` / `parse_uke_month`: a Western date formats back to the input;
///   an era date lies in the era its code names, in the year it names;
/// - `parse_written_date`: whatever it accepts is a date the ISO parser accepts.
///
/// Returns how many of the six parsers accepted the text.
pub fn dates_and_numbers(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    [
        insurer_number(s),
        iso_date(s),
        iso_month(s),
        uke_date(s),
        uke_month(s),
        written_date(s),
    ]
    .into_iter()
    .filter(|&accepted| accepted)
    .count()
}

fn insurer_number(s: &str) -> bool {
    let Ok(n) = InsurerNumber::parse(s) else {
        return false;
    };
    let digits = n.as_str();
    assert!(
        matches!(digits.len(), 6 | 8) && digits.bytes().all(|b| b.is_ascii_digit()),
        "{s:?} parsed to {digits:?}"
    );
    assert_eq!(
        InsurerNumber::parse(digits),
        Ok(n),
        "{s:?} does not round-trip"
    );
    assert_ne!(n.law_code(), Some("00"), "{s:?}: 法別番号 00 kept");
    assert_eq!(n.is_kokuho(), digits.len() == 6);
    // Any prefecture, or none, is fine: the call must not panic.
    let _ = n.prefecture();
    let body = &digits[..digits.len() - 1];
    assert_eq!(
        InsurerNumber::from_body(body),
        Ok(n),
        "{s:?}: body + check digit"
    );
    true
}

fn iso_date(s: &str) -> bool {
    let Ok(d) = parse_iso_date(s) else {
        return false;
    };
    assert_eq!(d.to_string(), s, "ISO date is not canonical");
    assert_eq!(
        parse_written_date(s),
        Some(d),
        "{s:?}: written form rejects ISO"
    );
    true
}

fn iso_month(s: &str) -> bool {
    let Ok(m) = YearMonth::parse_iso(s) else {
        return false;
    };
    assert_eq!(m.to_string(), s, "ISO month is not canonical");
    assert!(m.first_day() <= m.last_day());
    assert_eq!(m.first_day().to_string()[..7], *s);
    true
}

fn uke_date(s: &str) -> bool {
    let Ok(d) = parse_uke_date(s) else {
        return false;
    };
    match s.len() {
        8 => {
            assert_eq!(d.to_string().replace('-', ""), s, "Western UKE date");
            assert_eq!(
                parse_written_date(s),
                Some(d),
                "{s:?}: written form rejects it"
            );
        }
        7 => {
            let era = Era::from_code(s.as_bytes()[0] - b'0');
            assert_eq!(Era::of(d), era, "{s:?} = {d} is not in its era");
            let era = era.expect("checked above");
            let n: i32 = s[1..3].parse().expect("digits");
            let year_of_era = d.to_string()[..4].parse::<i32>().expect("year")
                - era.first_day().to_string()[..4]
                    .parse::<i32>()
                    .expect("year")
                + 1;
            assert_eq!(year_of_era, n, "{s:?} = {d}: wrong era year");
            assert_eq!(
                d.to_string().replace('-', "")[4..],
                s[3..],
                "{s:?}: month/day"
            );
        }
        _ => panic!("{s:?} accepted as a UKE date"),
    }
    assert_eq!(parse_iso_date(&d.to_string()), Ok(d));
    true
}

fn uke_month(s: &str) -> bool {
    let Ok(m) = parse_uke_month(s) else {
        return false;
    };
    match s.len() {
        6 => assert_eq!(m.to_string().replace('-', ""), s, "Western UKE month"),
        5 => assert_eq!(m.to_string()[5..], s[3..], "{s:?}: month"),
        _ => panic!("{s:?} accepted as a UKE month"),
    }
    assert_eq!(YearMonth::parse_iso(&m.to_string()), Ok(m));
    true
}

fn written_date(s: &str) -> bool {
    let Some(d) = parse_written_date(s) else {
        return false;
    };
    assert_eq!(parse_iso_date(&d.to_string()), Ok(d), "{s:?} gave {d}");
    true
}

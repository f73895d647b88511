//! The insurer master `insurers.csv` (DOMAIN §7, `schemas/insurers.md`): one row per
//! insurer with its 保険者番号, name, kind, prefecture and number of insured.
//!
//! The master is small (about 3,300 rows) and read whole. Rows that cannot be trusted
//! (bad check digit, unknown kind, prefecture outside 01–47, a count that is not an
//! integer, a wrong number of fields, a number already seen) are quarantined with
//! [`Scope::Row`]; an insurer that is not in the master cannot be routed to or share in
//! an apportionment, so every such row needs a person's attention.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::CsvEncoding;
use crate::domain::{InsuranceKind, InsurerNumber};
use crate::validate::{QuarantineRow, Scope};

use super::text::{self, EncodingInfo};
use super::IngestError;

/// `record` of the quarantine rows this reader writes.
pub const RECORD: &str = "insurers";

/// Column names of `insurers.csv`.
pub mod col {
    pub const INSURER_NUMBER: &str = "insurer_number";
    pub const NAME: &str = "name";
    pub const KIND: &str = "kind";
    pub const PREFECTURE: &str = "prefecture";
    pub const INSURED_COUNT: &str = "insured_count";
}

/// One insurer of the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurer {
    pub number: InsurerNumber,
    /// 保険者名 (may be empty; an empty name is reported as a field problem).
    pub name: String,
    /// shaho, kokuho, koki or other; never `Unknown`.
    pub kind: InsuranceKind,
    /// 都道府県 code, 1–47.
    pub prefecture: u8,
    pub insured_count: u64,
}

/// The insurer master, by insurer number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsurerMaster {
    pub insurers: BTreeMap<InsurerNumber, Insurer>,
}

impl InsurerMaster {
    pub fn get(&self, number: &InsurerNumber) -> Option<&Insurer> {
        self.insurers.get(number)
    }

    pub fn len(&self) -> usize {
        self.insurers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insurers.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Insurer> {
        self.insurers.values()
    }
}

/// What reading `insurers.csv` gave.
#[derive(Debug, Clone)]
pub struct InsurerRead {
    pub master: InsurerMaster,
    pub quarantine: Vec<QuarantineRow>,
    /// Data rows in the file (header excluded), accepted or not.
    pub rows_read: u64,
    pub encoding: EncodingInfo,
}

/// Reads the insurer master at `path`; `display` names it in quarantine rows.
pub fn read_insurers(
    path: &Path,
    display: &str,
    encoding: CsvEncoding,
) -> Result<InsurerRead, IngestError> {
    let mut decoded = text::read_csv_text(path, encoding)?;
    let screened = text::screen_rows(path, display, RECORD, &mut decoded.text)?;
    let mut reader = text::csv_reader(&decoded.text);
    let header = text::read_header(path, &mut reader)?;
    let [i_number, i_name, i_kind, i_pref, i_count] = header.require(
        path,
        [
            col::INSURER_NUMBER,
            col::NAME,
            col::KIND,
            col::PREFECTURE,
            col::INSURED_COUNT,
        ],
    )?;

    let mut master = InsurerMaster::default();
    let mut first_line: BTreeMap<InsurerNumber, u64> = BTreeMap::new();
    let mut rows_read = screened.len() as u64;
    let mut quarantine = screened.clone();
    let mut record = csv::StringRecord::new();
    while text::next_record(path, &mut reader, &mut record, rows_read)? {
        let line = text::record_line(&record);
        if text::screened(&screened, line) {
            continue;
        }
        rows_read += 1;
        let row = |field: &str, value: &str, reason: String| {
            QuarantineRow::new(display, line, RECORD, field, value, reason, Scope::Row)
        };
        if let Some(problem) = text::field_count_problem(display, RECORD, &record, &header) {
            quarantine.push(problem);
            continue;
        }
        let get = |i: usize| text::field(record.get(i).unwrap_or(""));

        let raw_number = get(i_number);
        let number = match InsurerNumber::parse(raw_number) {
            Ok(n) => n,
            Err(e) => {
                quarantine.push(row(
                    col::INSURER_NUMBER,
                    raw_number,
                    format!("{e}; row skipped"),
                ));
                continue;
            }
        };
        let raw_kind = get(i_kind);
        let kind = match InsuranceKind::parse(raw_kind) {
            Ok(k) if k != InsuranceKind::Unknown => k,
            _ => {
                quarantine.push(row(
                    col::KIND,
                    raw_kind,
                    "expected shaho, kokuho, koki or other; row skipped".to_string(),
                ));
                continue;
            }
        };
        let raw_pref = get(i_pref);
        let Some(prefecture) = parse_prefecture(raw_pref) else {
            quarantine.push(row(
                col::PREFECTURE,
                raw_pref,
                "expected a prefecture code 01–47; row skipped".to_string(),
            ));
            continue;
        };
        let raw_count = get(i_count);
        let Some(insured_count) = parse_count(raw_count) else {
            quarantine.push(row(
                col::INSURED_COUNT,
                raw_count,
                "expected the number of insured as a non-negative integer; row skipped".to_string(),
            ));
            continue;
        };
        if let Some(first) = first_line.get(&number) {
            quarantine.push(row(
                col::INSURER_NUMBER,
                number.as_str(),
                format!("insurer number already given on line {first}; this row skipped"),
            ));
            continue;
        }
        first_line.insert(number, line);

        let name = get(i_name).to_string();
        if name.is_empty() {
            quarantine.push(QuarantineRow::new(
                display,
                line,
                RECORD,
                col::NAME,
                "",
                "insurer name is empty; the insurer is kept",
                Scope::Field,
            ));
        }
        quarantine.extend(consistency_notices(display, line, number, kind, prefecture));
        master.insurers.insert(
            number,
            Insurer {
                number,
                name,
                kind,
                prefecture,
                insured_count,
            },
        );
    }
    let file = display; // `display` would name tracing's own function inside the macro
    tracing::info!(
        file,
        rows = rows_read,
        insurers = master.len(),
        quarantined = quarantine.len(),
        encoding = %decoded.encoding,
        "insurer master read"
    );
    Ok(InsurerRead {
        master,
        quarantine,
        rows_read,
        encoding: decoded.info(),
    })
}

/// `01`–`47` (a single digit is accepted too).
fn parse_prefecture(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let p: u8 = s.parse().ok()?;
    (1..=47).contains(&p).then_some(p)
}

fn parse_count(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Facts the insurer number itself tells, checked against the row; a disagreement is a
/// notice (the row is kept as the master says).
fn consistency_notices(
    display: &str,
    line: u64,
    number: InsurerNumber,
    kind: InsuranceKind,
    prefecture: u8,
) -> Vec<QuarantineRow> {
    let mut out = Vec::new();
    let notice = |field: &str, value: &str, reason: String| {
        QuarantineRow::new(display, line, RECORD, field, value, reason, Scope::Notice)
    };
    if number.is_kokuho() && kind != InsuranceKind::Kokuho {
        out.push(notice(
            col::KIND,
            kind.as_str(),
            format!("6-digit insurer number {number} is a 国保 number, but kind is {kind}"),
        ));
    }
    if number.law_code() == Some("39") && kind != InsuranceKind::Koki {
        out.push(notice(
            col::KIND,
            kind.as_str(),
            format!("法別番号 39 ({number}) is 後期高齢者医療, but kind is {kind}"),
        ));
    }
    if number.prefecture() != prefecture {
        out.push(notice(
            col::PREFECTURE,
            &format!("{prefecture:02}"),
            format!(
                "insurer number {number} carries 都道府県番号 {:02}",
                number.prefecture()
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefecture_and_count_shapes() {
        assert_eq!(parse_prefecture("01"), Some(1));
        assert_eq!(parse_prefecture("47"), Some(47));
        assert_eq!(parse_prefecture("9"), Some(9));
        for bad in ["00", "48", "", "1a", "013", "-1"] {
            assert_eq!(parse_prefecture(bad), None, "{bad}");
        }
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("1234567"), Some(1_234_567));
        for bad in ["", "-3", "1.5", "1,000", "12a"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }

    #[test]
    fn number_and_row_disagreeing_is_a_notice() {
        let n = InsurerNumber::parse("131045").unwrap();
        let rows = consistency_notices("insurers.csv", 3, n, InsuranceKind::Shaho, 14);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.scope == Scope::Notice));
        let n = InsurerNumber::parse("39280003").unwrap();
        assert!(consistency_notices("f", 2, n, InsuranceKind::Koki, 28).is_empty());
    }
}

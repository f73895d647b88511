//! The quarantine file: one row per problem, naming file, line, record, field, the
//! value (personal data masked) and the reason.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// What a quarantine row takes out of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One record, skipped; its receipt goes on (e.g. an unknown record id).
    Record,
    /// The whole receipt is quarantined.
    Receipt,
    /// Every receipt of the file is quarantined (bad GO totals, no GO, bad IR).
    File,
    /// One row of a CSV or Parquet input (roster, declarations, insurer master).
    Row,
    /// One field of a row is set aside (treated as empty); the row goes on.
    Field,
    /// A warning: nothing is taken out, but a person should look (e.g. a missing EOF byte).
    Notice,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Record => "record",
            Scope::Receipt => "receipt",
            Scope::File => "file",
            Scope::Row => "row",
            Scope::Field => "field",
            Scope::Notice => "notice",
        }
    }
}

/// One problem in one input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct QuarantineRow {
    /// Input file, as given under the run's input directory.
    pub file: String,
    /// 1-based line (UKE, CSV: physical line; Parquet: row number + 1), 0 for the file itself.
    pub line: u64,
    /// Record id (`RE`, `HO` …) or the input kind (`roster`, `declarations`, `insurers`).
    pub record: String,
    /// The field: position and name, e.g. `HO.2 保険者番号`, or `-` for the whole record.
    pub field: String,
    /// The offending value; personal data masked (see [`mask_pii`]).
    pub value: String,
    pub reason: String,
    pub scope: Scope,
    /// `clinic:billing_month:number@organization` for UKE rows tied to a receipt.
    pub receipt_key: String,
}

impl QuarantineRow {
    /// A row with the value shown as is (codes, numbers, dates of no personal kind).
    pub fn new(
        file: &str,
        line: u64,
        record: &str,
        field: &str,
        value: &str,
        reason: impl Into<String>,
        scope: Scope,
    ) -> Self {
        QuarantineRow {
            file: file.to_string(),
            line,
            record: record.to_string(),
            field: field.to_string(),
            value: truncate(value),
            reason: reason.into(),
            scope,
            receipt_key: String::new(),
        }
    }

    /// The same, for a value that is personal data: it is masked, and so is any trace
    /// of it in the reason — the value itself, and every digit (a parser's message may
    /// render a birth date its own way, e.g. 平成32年1月15日).
    pub fn new_pii(
        file: &str,
        line: u64,
        record: &str,
        field: &str,
        value: &str,
        reason: impl Into<String>,
        scope: Scope,
    ) -> Self {
        let mut reason: String = reason.into();
        if !value.trim().is_empty() {
            reason = reason.replace(value, "<masked>");
            reason = reason.replace(value.trim(), "<masked>");
        }
        let reason = reason
            .chars()
            .map(|c| {
                if c.is_ascii_digit() || ('０'..='９').contains(&c) {
                    '#'
                } else {
                    c
                }
            })
            .collect::<String>();
        let mut row = Self::new(file, line, record, field, "", reason, scope);
        row.value = mask_pii(value);
        row
    }

    pub fn with_receipt(mut self, key: impl ToString) -> Self {
        self.receipt_key = key.to_string();
        self
    }
}

/// Masks personal data (names, kana, birth dates, addresses, phone, insured numbers):
/// only its length in characters is kept, so a reviewer sees *that* a value was there.
pub fn mask_pii(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!("<masked:{} chars>", value.chars().count())
    }
}

/// Values are shown up to 80 characters; a longer one says how long it was.
fn truncate(value: &str) -> String {
    const MAX: usize = 80;
    let n = value.chars().count();
    if n <= MAX {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…(+{} chars)", n - MAX)
    }
}

/// Writes `quarantine.csv` (UTF-8, header row), rows sorted so the file is the same
/// whatever order the inputs were read in; a cell a spreadsheet would run as a formula
/// gets a leading apostrophe ([`crate::csv_cell::neutralize`]).
pub fn write_quarantine_csv(path: &Path, rows: &mut [QuarantineRow]) -> std::io::Result<()> {
    rows.sort();
    let file = std::fs::File::create(path)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record([
        "file",
        "line",
        "record",
        "field",
        "value",
        "reason",
        "scope",
        "receipt_key",
    ])?;
    for r in rows.iter() {
        let line = r.line.to_string();
        let cells = [
            r.file.as_str(),
            &line,
            &r.record,
            &r.field,
            &r.value,
            &r.reason,
            r.scope.as_str(),
            &r.receipt_key,
        ];
        w.write_record(
            cells
                .map(crate::csv_cell::neutralize)
                .iter()
                .map(|c| c.as_bytes()),
        )?;
    }
    w.flush()?;
    w.into_inner().map_err(|e| e.into_error())?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_to_its_length() {
        assert_eq!(mask_pii("山田 太郎"), "<masked:5 chars>");
        assert_eq!(mask_pii(""), "");
        let r = QuarantineRow::new_pii(
            "f",
            1,
            "RE",
            "RE.7 生年月日",
            "4320115",
            "4320115: 平成32年1月15日 does not exist (平成 runs 1989-01-08–2019-04-30)",
            Scope::Receipt,
        );
        assert_eq!(r.value, "<masked:7 chars>");
        assert_eq!(
            r.reason,
            "<masked>: 平成##年#月##日 does not exist (平成 runs ####-##-##–####-##-##)"
        );
        let r = QuarantineRow::new_pii("f", 1, "RE", "RE.5 氏名", "山田", "x", Scope::Receipt);
        assert!(!r.value.contains("山田"));
    }

    #[test]
    fn long_values_are_cut() {
        let v = "9".repeat(100);
        let r = QuarantineRow::new("f", 1, "HO", "HO.6", &v, "x", Scope::Receipt);
        assert!(r.value.ends_with("…(+20 chars)"));
    }
}

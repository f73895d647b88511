//! Digitized declaration forms (被保険者資格申立書) `declarations.csv` (DOMAIN §5,
//! `schemas/declarations.md`): one row per tier-3 receipt, keyed by clinic code,
//! billing month and receipt number (and, optionally, the receiving organization).
//!
//! A row whose key cannot be read, whose number of fields differs from the header's,
//! or whose key was already given is set aside ([`Scope::Row`]). Any other field that
//! cannot be read is treated as empty and reported ([`Scope::Field`]); the row goes on,
//! because a declaration with one bad field still says a lot about the patient.
//! Personal data (name, kana, birth date, address, other residence, phone) only ever
//! reaches a quarantine row masked.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::CsvEncoding;
use crate::domain::{
    parse_iso_date, parse_written_date, ClinicCode, InsuranceKind, Organization, ReceiptKey, Sex,
    YearMonth,
};
use crate::validate::{QuarantineRow, Scope};

use super::text::{self, EncodingInfo};
use super::IngestError;

/// `record` of the quarantine rows this reader writes.
pub const RECORD: &str = "declarations";

/// Column names of `declarations.csv`.
pub mod col {
    pub const ORGANIZATION: &str = "organization";
    pub const CLINIC_CODE: &str = "clinic_code";
    pub const BILLING_MONTH: &str = "billing_month";
    pub const RECEIPT_NUMBER: &str = "receipt_number";
    pub const INSURANCE_KIND: &str = "insurance_kind";
    pub const INSURER_NAME: &str = "insurer_name";
    pub const EMPLOYER: &str = "employer";
    pub const CARD_ISSUED: &str = "card_issued";
    pub const DECLARED_COPAY_PERCENT: &str = "declared_copay_percent";
    pub const NAME: &str = "name";
    pub const NAME_KANA: &str = "name_kana";
    pub const BIRTH_DATE: &str = "birth_date";
    pub const SEX: &str = "sex";
    pub const ADDRESS: &str = "address";
    pub const OTHER_RESIDENCE: &str = "other_residence";
    pub const CONFIRMATION_DATE: &str = "confirmation_date";
    pub const PHONE: &str = "phone";
}

/// When the insurance card was issued, as the form asks it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardIssued {
    /// Within the last month.
    WithinMonth,
    /// Earlier than that.
    Earlier,
    #[default]
    Unknown,
}

impl CardIssued {
    /// Parses the contract's codes; an empty field is `Unknown`.
    pub fn parse(s: &str) -> Option<CardIssued> {
        Some(match s {
            "within_month" => CardIssued::WithinMonth,
            "earlier" => CardIssued::Earlier,
            "unknown" | "" => CardIssued::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CardIssued::WithinMonth => "within_month",
            CardIssued::Earlier => "earlier",
            CardIssued::Unknown => "unknown",
        }
    }
}

impl fmt::Display for CardIssued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One digitized declaration form. Text fields are `None` when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Physical line in the file (header = line 1).
    pub line: u64,
    /// Receiving organization, when the optional `organization` column gives it.
    pub organization: Option<Organization>,
    pub clinic_code: ClinicCode,
    pub billing_month: YearMonth,
    pub receipt_number: u32,
    /// `Unknown` when empty or unreadable.
    pub insurance_kind: InsuranceKind,
    pub insurer_name: Option<String>,
    pub employer: Option<String>,
    /// `Unknown` when empty or unreadable.
    pub card_issued: CardIssued,
    /// 30, 20 or 10.
    pub declared_copay_percent: Option<u8>,
    pub name: Option<String>,
    pub name_kana: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub address: Option<String>,
    pub other_residence: Option<String>,
    /// The day care was given and eligibility could not be confirmed.
    pub confirmation_date: Option<NaiveDate>,
    pub phone: Option<String>,
}

impl Declaration {
    /// The receipt key, when the organization is known.
    pub fn receipt_key(&self) -> Option<ReceiptKey> {
        Some(ReceiptKey {
            organization: self.organization?,
            clinic_code: self.clinic_code,
            billing_month: self.billing_month,
            receipt_number: self.receipt_number,
        })
    }

    /// `clinic:billing_month:number` (with `@organization` when known), as quarantine
    /// rows show receipt keys.
    pub fn key_string(&self) -> String {
        key_string(
            self.organization,
            self.clinic_code,
            self.billing_month,
            self.receipt_number,
        )
    }
}

fn key_string(
    organization: Option<Organization>,
    clinic_code: ClinicCode,
    billing_month: YearMonth,
    receipt_number: u32,
) -> String {
    match organization {
        Some(organization) => ReceiptKey {
            organization,
            clinic_code,
            billing_month,
            receipt_number,
        }
        .to_string(),
        None => format!("{clinic_code}:{billing_month}:{receipt_number}"),
    }
}

/// What reading `declarations.csv` gave.
#[derive(Debug, Clone)]
pub struct DeclarationRead {
    /// Accepted declarations, in file order.
    pub declarations: Vec<Declaration>,
    pub quarantine: Vec<QuarantineRow>,
    /// Data rows in the file (header excluded), accepted or not.
    pub rows_read: u64,
    pub encoding: EncodingInfo,
}

/// Column positions. Only `organization` can be `None` (absent from the header); the
/// form's fields are always found, and kept as `Option` so every field is read alike.
struct Columns {
    organization: Option<usize>,
    clinic_code: usize,
    billing_month: usize,
    receipt_number: usize,
    insurance_kind: Option<usize>,
    insurer_name: Option<usize>,
    employer: Option<usize>,
    card_issued: Option<usize>,
    declared_copay_percent: Option<usize>,
    name: Option<usize>,
    name_kana: Option<usize>,
    birth_date: Option<usize>,
    sex: Option<usize>,
    address: Option<usize>,
    other_residence: Option<usize>,
    confirmation_date: Option<usize>,
    phone: Option<usize>,
}

impl Columns {
    /// The key columns are required; so are the form's fields, which the contract
    /// lists (their values may be empty). Only `organization` may be left out.
    fn find(path: &Path, header: &text::Header) -> Result<Columns, IngestError> {
        let [clinic_code, billing_month, receipt_number, insurance_kind, insurer_name, employer, card_issued, declared_copay_percent, name, name_kana, birth_date, sex, address, other_residence, confirmation_date, phone] =
            header.require(
                path,
                [
                    col::CLINIC_CODE,
                    col::BILLING_MONTH,
                    col::RECEIPT_NUMBER,
                    col::INSURANCE_KIND,
                    col::INSURER_NAME,
                    col::EMPLOYER,
                    col::CARD_ISSUED,
                    col::DECLARED_COPAY_PERCENT,
                    col::NAME,
                    col::NAME_KANA,
                    col::BIRTH_DATE,
                    col::SEX,
                    col::ADDRESS,
                    col::OTHER_RESIDENCE,
                    col::CONFIRMATION_DATE,
                    col::PHONE,
                ],
            )?;
        Ok(Columns {
            organization: header.find(col::ORGANIZATION),
            clinic_code,
            billing_month,
            receipt_number,
            insurance_kind: Some(insurance_kind),
            insurer_name: Some(insurer_name),
            employer: Some(employer),
            card_issued: Some(card_issued),
            declared_copay_percent: Some(declared_copay_percent),
            name: Some(name),
            name_kana: Some(name_kana),
            birth_date: Some(birth_date),
            sex: Some(sex),
            address: Some(address),
            other_residence: Some(other_residence),
            confirmation_date: Some(confirmation_date),
            phone: Some(phone),
        })
    }
}

/// (clinic code, billing month, receipt number).
type KeyWithoutOrganization = (ClinicCode, YearMonth, u32);

/// Reads `declarations.csv` at `path`; `display` names it in quarantine rows.
pub fn read_declarations(
    path: &Path,
    display: &str,
    encoding: CsvEncoding,
) -> Result<DeclarationRead, IngestError> {
    let mut decoded = text::read_csv_text(path, encoding)?;
    let screened = text::screen_rows(path, display, RECORD, &mut decoded.text)?;
    let mut reader = text::csv_reader(&decoded.text);
    let header = text::read_header(path, &mut reader)?;
    let cols = Columns::find(path, &header)?;

    let mut declarations = Vec::new();
    let mut rows_read = screened.len() as u64;
    let mut quarantine = screened.clone();
    // (clinic, month, number) → (organization, first line) of accepted rows.
    let mut seen: BTreeMap<KeyWithoutOrganization, Vec<(Option<Organization>, u64)>> =
        BTreeMap::new();
    let mut record = csv::StringRecord::new();
    while text::next_record(path, &mut reader, &mut record, rows_read)? {
        let line = text::record_line(&record);
        if text::screened(&screened, line) {
            continue;
        }
        rows_read += 1;
        if let Some(row) = text::field_count_problem(display, RECORD, &record, &header) {
            quarantine.push(row);
            continue;
        }
        let mut row = RowReader {
            record: &record,
            display,
            line,
            quarantine: &mut quarantine,
        };
        let Some((clinic_code, billing_month, receipt_number)) = row.key(&cols) else {
            continue;
        };
        let organization = row.organization(&cols);
        let key_string = || key_string(organization, clinic_code, billing_month, receipt_number);
        let first = seen
            .entry((clinic_code, billing_month, receipt_number))
            .or_default();
        if let Some((org, first_line)) = first
            .iter()
            .find(|(org, _)| org.is_none() || organization.is_none() || *org == organization)
        {
            let also = if *org != organization {
                " (a row without organization matches either organization)"
            } else {
                ""
            };
            row.quarantine.push(
                QuarantineRow::new(
                    display,
                    line,
                    RECORD,
                    "clinic_code,billing_month,receipt_number",
                    &key_string(),
                    format!(
                        "declaration for this receipt already given on line {first_line}{also}; \
                         this row skipped"
                    ),
                    Scope::Row,
                )
                .with_receipt(key_string()),
            );
            continue;
        }
        first.push((organization, line));
        let decl = row.declaration(
            &cols,
            organization,
            (clinic_code, billing_month, receipt_number),
        );
        declarations.push(decl);
    }
    let file = display; // `display` would name tracing's own function inside the macro
    tracing::info!(
        file,
        rows = rows_read,
        declarations = declarations.len(),
        quarantined = quarantine.len(),
        encoding = %decoded.encoding,
        "declarations read"
    );
    Ok(DeclarationRead {
        declarations,
        quarantine,
        rows_read,
        encoding: decoded.info(),
    })
}

/// Reads the fields of one record, writing quarantine rows as it goes.
struct RowReader<'a> {
    record: &'a csv::StringRecord,
    display: &'a str,
    line: u64,
    quarantine: &'a mut Vec<QuarantineRow>,
}

impl RowReader<'_> {
    fn get(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.record.get(i))
            .map(text::field)
            .unwrap_or("")
    }

    fn text(&self, i: Option<usize>) -> Option<String> {
        let s = self.get(i);
        (!s.is_empty()).then(|| s.to_string())
    }

    /// A non-key field that could not be read: reported, treated as empty.
    fn field_problem(&mut self, field: &str, value: &str, pii: bool, reason: String) {
        let reason = format!("{reason}; treated as empty, the row is kept");
        let make = if pii {
            QuarantineRow::new_pii
        } else {
            QuarantineRow::new
        };
        self.quarantine.push(make(
            self.display,
            self.line,
            RECORD,
            field,
            value,
            reason,
            Scope::Field,
        ));
    }

    /// Parses an optional field with `parse`; an unreadable value is a field problem.
    fn optional<T>(
        &mut self,
        i: Option<usize>,
        field: &str,
        pii: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.get(i).to_string();
        if raw.is_empty() {
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.field_problem(field, &raw, pii, reason);
                None
            }
        }
    }

    /// The optional receiving organization (an unreadable one is unknown).
    fn organization(&mut self, cols: &Columns) -> Option<Organization> {
        self.optional(cols.organization, col::ORGANIZATION, false, |s| {
            Organization::parse(s).map_err(|e| e.to_string())
        })
    }

    /// The rest of a row whose key is read and not a duplicate.
    fn declaration(
        &mut self,
        cols: &Columns,
        organization: Option<Organization>,
        (clinic_code, billing_month, receipt_number): (ClinicCode, YearMonth, u32),
    ) -> Declaration {
        let insurance_kind = self
            .optional(cols.insurance_kind, col::INSURANCE_KIND, false, |s| {
                InsuranceKind::parse(s).map_err(|e| e.to_string())
            })
            .unwrap_or(InsuranceKind::Unknown);
        let card_issued = self
            .optional(cols.card_issued, col::CARD_ISSUED, false, |s| {
                CardIssued::parse(s)
                    .ok_or_else(|| "expected within_month, earlier or unknown".to_string())
            })
            .unwrap_or_default();
        let declared_copay_percent = self.optional(
            cols.declared_copay_percent,
            col::DECLARED_COPAY_PERCENT,
            false,
            |s| match s {
                "30" => Ok(30),
                "20" => Ok(20),
                "10" => Ok(10),
                _ => Err("expected a copay percent of 30, 20 or 10 (or empty)".to_string()),
            },
        );
        let birth_date = self.optional(cols.birth_date, col::BIRTH_DATE, true, |s| {
            declared_date(s).ok_or_else(|| "expected a birth date as YYYY-MM-DD".to_string())
        });
        let sex = self.optional(cols.sex, col::SEX, false, |s| {
            Sex::parse(s).map_err(|e| e.to_string())
        });
        let confirmation_date =
            self.optional(cols.confirmation_date, col::CONFIRMATION_DATE, false, |s| {
                declared_date(s)
                    .ok_or_else(|| format!("expected a date as YYYY-MM-DD, found {s:?}"))
            });
        let birth_date = match (birth_date, confirmation_date) {
            (Some(b), Some(c)) if b > c => {
                let raw = self.get(cols.birth_date).to_string();
                self.field_problem(
                    col::BIRTH_DATE,
                    &raw,
                    true,
                    "birth date is after the confirmation date".to_string(),
                );
                None
            }
            (b, _) => b,
        };
        Declaration {
            line: self.line,
            organization,
            clinic_code,
            billing_month,
            receipt_number,
            insurance_kind,
            insurer_name: self.text(cols.insurer_name),
            employer: self.text(cols.employer),
            card_issued,
            declared_copay_percent,
            name: self.text(cols.name),
            name_kana: self.text(cols.name_kana),
            birth_date,
            sex,
            address: self.text(cols.address),
            other_residence: self.text(cols.other_residence),
            confirmation_date,
            phone: self.text(cols.phone),
        }
    }

    /// The key, or `None` after one [`Scope::Row`] quarantine row naming the first bad
    /// key field (and the others in its reason).
    fn key(&mut self, cols: &Columns) -> Option<(ClinicCode, YearMonth, u32)> {
        let raw_clinic = self.get(Some(cols.clinic_code));
        let raw_month = self.get(Some(cols.billing_month));
        let raw_number = self.get(Some(cols.receipt_number));
        let clinic =
            ClinicCode::parse(raw_clinic).map_err(|_| "expected a clinic code of 7 digits");
        let month = YearMonth::parse_iso(raw_month).map_err(|_| "expected a month as YYYY-MM");
        let number = parse_receipt_number(raw_number)
            .ok_or("expected a receipt number (a positive integer)");
        let mut problems: Vec<(&str, &str, &str)> = Vec::new();
        if let Err(r) = clinic {
            problems.push((col::CLINIC_CODE, raw_clinic, r));
        }
        if let Err(r) = month {
            problems.push((col::BILLING_MONTH, raw_month, r));
        }
        if let Err(r) = number {
            problems.push((col::RECEIPT_NUMBER, raw_number, r));
        }
        match (clinic, month, number, problems.split_first()) {
            (Ok(c), Ok(m), Ok(n), _) => Some((c, m, n)),
            (_, _, _, Some(((field, value, reason), others))) => {
                let mut reason = format!("key field: {reason}");
                for (f, v, r) in others {
                    reason.push_str(&format!("; also {f} {v:?}: {r}"));
                }
                reason.push_str("; row skipped");
                self.quarantine.push(QuarantineRow::new(
                    self.display,
                    self.line,
                    RECORD,
                    field,
                    value,
                    reason,
                    Scope::Row,
                ));
                None
            }
            _ => None,
        }
    }
}

fn parse_receipt_number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n > 0)
}

/// A date of the form: `YYYY-MM-DD` as the contract says, or as people write it on the
/// paper form it was digitized from (昭和55年4月15日, S55.4.15, 1980/4/15).
fn declared_date(s: &str) -> Option<NaiveDate> {
    parse_iso_date(s).ok().or_else(|| parse_written_date(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_issued_codes() {
        assert_eq!(CardIssued::parse(""), Some(CardIssued::Unknown));
        assert_eq!(CardIssued::parse("earlier"), Some(CardIssued::Earlier));
        assert_eq!(
            CardIssued::parse("within_month")
                .map(|c| c.to_string())
                .as_deref(),
            Some("within_month")
        );
        assert_eq!(CardIssued::parse("yes"), None);
    }

    #[test]
    fn receipt_numbers_are_positive_integers() {
        assert_eq!(parse_receipt_number("17"), Some(17));
        assert_eq!(parse_receipt_number("0017"), Some(17));
        for bad in ["0", "", "-1", "1.0", "x", "99999999999"] {
            assert_eq!(parse_receipt_number(bad), None, "{bad}");
        }
    }
}

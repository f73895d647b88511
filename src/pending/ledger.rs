//! `pending.parquet`: the pending ledger as a file. One row per open receipt, carrying
//! everything a later run needs to retry it without the month's original files: the
//! receipt itself as a one-receipt UKE file (IR, its records, GO — the public format,
//! readable by anyone and parsed back by the same reader as any UKE file) and the
//! declaration form joined to it, field by field. Documented in `schemas/pending.md`.
//!
//! The ledger holds personal data (the receipt's RE name and the form) for as long as
//! the claim is open; it leaves the ledger when the claim is resolved or apportioned.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Builder, StringArray, StringBuilder, UInt32Builder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use encoding_rs::SHIFT_JIS;

use crate::config::IngestConfig;
use crate::domain::{
    parse_iso_date, ClinicCode, InsuranceKind, Organization, Points, ReceiptKey, Sex, YearMonth,
    Yen,
};
use crate::ingest::declarations::{CardIssued, Declaration};
use crate::ingest::parquet_table::{opt_str, Batch, Table};
use crate::ingest::uke::writer::{made_up_fields, uke_lines, DateStyle, UkeWriteError};
use crate::ingest::uke::{
    parse_uke, ClinicHeader, QuarantinedReceipt, Receipt, ReceiptKind, UkeFile,
};
use crate::ingest::IngestError;
use crate::report::{write_parquet_parallel, ReportError};
use crate::resolve::outcome::Status;
use crate::validate::{QuarantineRow, Scope};

/// The record name quarantine rows give a ledger row.
const RECORD: &str = "pending";

/// One open receipt on the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub key: ReceiptKey,
    pub tier: u8,
    /// The status of the run that wrote the entry: `pending`, `review` or `no_match`.
    pub last_status: Status,
    /// The run month in which the receipt first went unresolved.
    pub first_pending_month: YearMonth,
    /// Months from `first_pending_month` to `ledger_month`.
    pub age_months: u32,
    /// The run month that wrote the entry.
    pub ledger_month: YearMonth,
    /// 合計点数 × 10 and the insurer share, as the writing run computed them
    /// (informational: the retry recomputes them).
    pub cost_yen: Yen,
    pub insurer_share_yen: Yen,
    /// The writing run's reason, in words (no personal data).
    pub reason: String,
    /// The receipt as a one-receipt UKE file: IR, its records, GO; UTF-8, CR LF.
    pub uke: String,
    /// The declaration form joined to the receipt, if any.
    pub declaration: Option<Declaration>,
    /// The receipt's kind of claim (a DPC receipt's `uke` keeps no DPC record to tell
    /// it by); `None` in ledgers written before the kind was carried, which read as
    /// their text's header says.
    pub kind: Option<ReceiptKind>,
    /// The IR of `uke`, once read back (`None` on an entry being written).
    pub header: Option<ClinicHeader>,
}

/// The receipt as a one-receipt UKE file in UTF-8 (the ledger's `uke` column): IR, the
/// records the engine reads (RE, HO, KO, SN, CO) and GO. Nothing is invented: fields
/// the engine does not keep (IR 10 telephone, RE 22 診療科, which the writer would make
/// up) are left empty, and records it does not keep (SY, SI, IY …) are left out; the
/// receipt's days of care are one JD record (受診日等, 1日 … 31日), so that a retry
/// checks the card on the same days.
///
/// Whatever the reader accepted is written as it was read: Windows-31J characters
/// (髙, ①, ㈱, the user-defined area), and the commas and quotes of a CO free text,
/// which the reader takes whole as the record's last field. Unlike a UKE file written
/// for intake ([`encode_line`](crate::ingest::uke::writer::encode_line)), the text is
/// not narrowed to JIS X 0208. The errors name the record and field, never the text.
pub fn uke_text(header: &ClinicHeader, receipt: &Receipt) -> Result<String, UkeWriteError> {
    let mut receipt = receipt.clone();
    receipt.other_records.clear();
    if !receipt.care_days.is_empty() {
        receipt.other_records.insert("JD", 1);
    }
    let mut lines = uke_lines(
        header,
        std::slice::from_ref(&receipt),
        DateStyle::Western,
        1,
        receipt.points(),
    )?;
    // Field n of a record is at index n − 1.
    for (id, field) in made_up_fields(header.kind) {
        for line in lines.iter_mut().filter(|l| l.id() == id) {
            if let Some(f) = line.fields.get_mut(field - 1) {
                f.clear();
            }
        }
    }
    let mut text = String::new();
    for line in &lines {
        let last = line.fields.len().saturating_sub(1);
        for (i, f) in line.fields.iter().enumerate() {
            // Only a CO text, the record's last field, may hold a comma.
            let comma_ok = line.id() == "CO" && i == last && i == 4;
            if f.contains(['\r', '\n', '\u{1A}']) || (!comma_ok && f.contains(',')) {
                return Err(UkeWriteError::Separator {
                    line: line.line,
                    field: i + 1,
                    text: String::new(),
                });
            }
            if i > 0 {
                text.push(',');
            }
            text.push_str(f);
        }
        text.push_str("\r\n");
    }
    if let Some(line) = lines
        .iter()
        .find(|l| l.fields.iter().any(|f| encode_cp932(f).is_none()))
    {
        return Err(UkeWriteError::Unencodable {
            line: line.line,
            text: String::new(),
        });
    }
    Ok(text)
}

/// `text` as Windows-31J bytes, the inverse of the readers' decoding (encoding_rs's
/// Shift_JIS, which is Windows-31J): every character it decodes, the user-defined area
/// (U+E000–U+E757, lead bytes 0xF0–0xF9) included, which encoding_rs decodes but does
/// not encode. `None` when a character has no Windows-31J form.
pub fn encode_cp932(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
    if !unmappable {
        return Some(bytes.into_owned());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let cp = u32::from(c);
        if (0xE000..=0xE757).contains(&cp) {
            // WHATWG index pointer 8836 + offset; lead and trail as the decoder reads them.
            let pointer = 8836 + (cp - 0xE000);
            let (lead, trail) = (pointer / 188, pointer % 188);
            let lead = lead + if lead < 0x1F { 0x81 } else { 0xC1 };
            let trail = trail + if trail < 0x3F { 0x40 } else { 0x41 };
            out.push(u8::try_from(lead).ok()?);
            out.push(u8::try_from(trail).ok()?);
            continue;
        }
        let (bytes, _, unmappable) = SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if unmappable {
            return None;
        }
        out.extend_from_slice(&bytes);
    }
    Some(out)
}

mod col {
    pub const ORGANIZATION: &str = "organization";
    pub const CLINIC_CODE: &str = "clinic_code";
    pub const BILLING_MONTH: &str = "billing_month";
    pub const RECEIPT_NUMBER: &str = "receipt_number";
    pub const TIER: &str = "tier";
    pub const LAST_STATUS: &str = "last_status";
    pub const FIRST_PENDING_MONTH: &str = "first_pending_month";
    pub const AGE_MONTHS: &str = "age_months";
    pub const LEDGER_MONTH: &str = "ledger_month";
    pub const COST_YEN: &str = "cost_yen";
    pub const INSURER_SHARE_YEN: &str = "insurer_share_yen";
    pub const REASON: &str = "reason";
    pub const UKE: &str = "uke";
    pub const HAS_FORM: &str = "has_form";
    pub const RECEIPT_KIND: &str = "receipt_kind";
    /// The form's fields, as `declarations.csv` names them, prefixed `form_`.
    pub const FORM: [&str; 13] = [
        "form_insurance_kind",
        "form_insurer_name",
        "form_employer",
        "form_card_issued",
        "form_declared_copay_percent",
        "form_name",
        "form_name_kana",
        "form_birth_date",
        "form_sex",
        "form_address",
        "form_other_residence",
        "form_confirmation_date",
        "form_phone",
    ];
}

pub fn ledger_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new(col::ORGANIZATION, DataType::UInt8, false),
        Field::new(col::CLINIC_CODE, DataType::Utf8, false),
        Field::new(col::BILLING_MONTH, DataType::Utf8, false),
        Field::new(col::RECEIPT_NUMBER, DataType::UInt32, false),
        Field::new(col::TIER, DataType::UInt8, false),
        Field::new(col::LAST_STATUS, DataType::Utf8, false),
        Field::new(col::FIRST_PENDING_MONTH, DataType::Utf8, false),
        Field::new(col::AGE_MONTHS, DataType::UInt32, false),
        Field::new(col::LEDGER_MONTH, DataType::Utf8, false),
        Field::new(col::COST_YEN, DataType::Int64, false),
        Field::new(col::INSURER_SHARE_YEN, DataType::Int64, false),
        Field::new(col::REASON, DataType::Utf8, false),
        Field::new(col::UKE, DataType::Utf8, false),
        Field::new(col::HAS_FORM, DataType::Boolean, false),
        Field::new(col::RECEIPT_KIND, DataType::Utf8, true),
    ];
    fields.extend(
        col::FORM
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true)),
    );
    Arc::new(Schema::new(fields))
}

/// The form's fields as text, in the order of `col::FORM`.
fn form_fields(d: &Declaration) -> [Option<String>; 13] {
    [
        Some(d.insurance_kind.as_str().to_string()),
        d.insurer_name.clone(),
        d.employer.clone(),
        Some(d.card_issued.as_str().to_string()),
        d.declared_copay_percent.map(|p| p.to_string()),
        d.name.clone(),
        d.name_kana.clone(),
        d.birth_date.map(|b| b.to_string()),
        d.sex.map(|s| s.code().to_string()),
        d.address.clone(),
        d.other_residence.clone(),
        d.confirmation_date.map(|b| b.to_string()),
        d.phone.clone(),
    ]
}

/// Writes the ledger, rows in the order given (the run gives receipt-key order).
pub fn write_ledger(path: &Path, entries: &[LedgerEntry]) -> Result<(), ReportError> {
    // Built and encoded in chunks, in parallel: a month left largely open puts
    // millions of receipts' UKE text on the ledger.
    write_parquet_parallel(path, ledger_schema(), entries.len(), |range| {
        ledger_columns(&entries[range])
    })
}

/// The columns of `entries`, in [`ledger_schema`] order.
fn ledger_columns(entries: &[LedgerEntry]) -> Vec<ArrayRef> {
    let mut organization = UInt8Builder::new();
    let mut clinic = StringBuilder::new();
    let mut month = StringBuilder::new();
    let mut number = UInt32Builder::new();
    let mut tier = UInt8Builder::new();
    let mut status = StringBuilder::new();
    let mut first = StringBuilder::new();
    let mut age = UInt32Builder::new();
    let mut ledger_month = StringBuilder::new();
    let mut cost = Int64Builder::new();
    let mut share = Int64Builder::new();
    let mut reason = StringBuilder::new();
    let mut uke = StringBuilder::new();
    let mut has_form = arrow::array::BooleanBuilder::new();
    let mut kind = StringBuilder::new();
    let mut form: Vec<StringBuilder> = col::FORM.iter().map(|_| StringBuilder::new()).collect();
    for e in entries {
        organization.append_value(e.key.organization.code());
        clinic.append_value(e.key.clinic_code.as_str());
        month.append_value(e.key.billing_month.to_string());
        number.append_value(e.key.receipt_number);
        tier.append_value(e.tier);
        status.append_value(e.last_status.as_str());
        first.append_value(e.first_pending_month.to_string());
        age.append_value(e.age_months);
        ledger_month.append_value(e.ledger_month.to_string());
        cost.append_value(e.cost_yen.0);
        share.append_value(e.insurer_share_yen.0);
        reason.append_value(&e.reason);
        uke.append_value(&e.uke);
        has_form.append_value(e.declaration.is_some());
        kind.append_option(e.kind.map(ReceiptKind::as_str));
        let values = e.declaration.as_ref().map(form_fields);
        for (i, b) in form.iter_mut().enumerate() {
            b.append_option(values.as_ref().and_then(|v| v[i].as_deref()));
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(organization.finish()),
        Arc::new(clinic.finish()),
        Arc::new(month.finish()),
        Arc::new(number.finish()),
        Arc::new(tier.finish()),
        Arc::new(status.finish()),
        Arc::new(first.finish()),
        Arc::new(age.finish()),
        Arc::new(ledger_month.finish()),
        Arc::new(cost.finish()),
        Arc::new(share.finish()),
        Arc::new(reason.finish()),
        Arc::new(uke.finish()),
        Arc::new(has_form.finish()),
        Arc::new(kind.finish()),
    ];
    columns.extend(form.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns
}

/// A ledger read back: its receipts, parsed as if they were a UKE file named after the
/// ledger (line = the ledger's row, 1-based), the forms, and the entries.
#[derive(Debug, Clone)]
pub struct LedgerRead {
    /// Accepted receipts in `receipts`, bad rows in `quarantined` (with quarantine rows).
    pub file: UkeFile,
    /// Entries of the accepted receipts, in the order of `file.receipts`.
    pub entries: Vec<LedgerEntry>,
    pub rows_read: u64,
    /// The month of the run that wrote the ledger (the latest `ledger_month` of any row,
    /// quarantined rows included).
    pub ledger_month: Option<YearMonth>,
}

impl LedgerRead {
    /// The declaration forms of the ledger's receipts.
    pub fn declarations(&self) -> impl Iterator<Item = &Declaration> {
        self.entries.iter().filter_map(|e| e.declaration.as_ref())
    }
}

/// Reads a ledger written by an earlier run. A row that cannot be read (a damaged key,
/// receipt records that no longer parse under this configuration) is a quarantined
/// receipt of the ledger, with its cost when the row gives it; a file that is not a
/// ledger at all is an error.
pub fn read_ledger(
    path: &Path,
    display: &str,
    config: &IngestConfig,
) -> Result<LedgerRead, IngestError> {
    let required = [
        col::ORGANIZATION,
        col::CLINIC_CODE,
        col::BILLING_MONTH,
        col::RECEIPT_NUMBER,
        col::TIER,
        col::LAST_STATUS,
        col::FIRST_PENDING_MONTH,
        col::AGE_MONTHS,
        col::LEDGER_MONTH,
        col::COST_YEN,
        col::INSURER_SHARE_YEN,
        col::REASON,
        col::UKE,
        col::HAS_FORM,
    ];
    let mut all = required.to_vec();
    all.extend(col::FORM);
    let table = Table::read(path, &all)?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| IngestError::io(path, e))?
        .len();
    let mut out = LedgerRead {
        file: UkeFile {
            path: display.to_string(),
            bytes,
            sha256: crate::manifest::sha256_file(path).map_err(|e| IngestError::io(path, e))?,
            ..UkeFile::default()
        },
        entries: Vec::new(),
        rows_read: 0,
        ledger_month: None,
    };
    let mut seen: std::collections::HashMap<ReceiptKey, u64> = std::collections::HashMap::new();
    for batch in table.batches() {
        let columns = LedgerColumns::of(&batch)?;
        for i in 0..batch.num_rows() {
            out.rows_read += 1;
            let row = out.rows_read;
            // The writing run's month counts even for a row that cannot be retried: a
            // ledger is refused for its own month whatever its rows hold.
            let written =
                opt_str(columns.ledger_month, i).and_then(|s| YearMonth::parse_iso(s).ok());
            out.ledger_month = out.ledger_month.max(written);
            match columns
                .entry(i)
                .and_then(|e| match seen.get(&e.key) {
                    // A receipt carried twice would be retried and paid twice.
                    Some(first) => Err(BadRow {
                        key: Some(e.key),
                        cost: Some(e.cost_yen),
                        field: "organization,clinic_code,billing_month,receipt_number",
                        message: format!("receipt already on the ledger at row {first}"),
                    }),
                    None => {
                        seen.insert(e.key, row);
                        Ok(e)
                    }
                })
                .and_then(|e| {
                    let read = e.receipt(display, row, config)?;
                    Ok((e, read))
                }) {
                Ok((mut entry, (receipt, header))) => {
                    entry.header = Some(header);
                    out.ledger_month = out.ledger_month.max(Some(entry.ledger_month));
                    out.file.receipts.push(receipt);
                    out.entries.push(entry);
                }
                Err(bad) => {
                    out.file.quarantine.push(
                        QuarantineRow::new(
                            display,
                            row,
                            RECORD,
                            bad.field,
                            "",
                            format!("ledger row cannot be retried: {}", bad.message),
                            Scope::Receipt,
                        )
                        .with_receipt(bad.key.map(|k| k.to_string()).unwrap_or_default()),
                    );
                    out.file.quarantined.push(QuarantinedReceipt {
                        key: bad.key,
                        receipt_number: bad.key.map(|k| k.receipt_number),
                        line: row,
                        points: bad.cost.map(|y| Points(y.0 / 10)),
                        reason: bad.message,
                    });
                }
            }
        }
    }
    out.file.lines = out.rows_read;
    out.file
        .record_counts
        .insert(RECORD.to_string(), out.rows_read);
    Ok(out)
}

/// Why a ledger row cannot be used, with what could be read of it.
struct BadRow {
    key: Option<ReceiptKey>,
    cost: Option<Yen>,
    field: &'static str,
    message: String,
}

struct LedgerColumns<'a> {
    organization: &'a arrow::array::UInt8Array,
    clinic: &'a StringArray,
    month: &'a StringArray,
    number: &'a arrow::array::UInt32Array,
    tier: &'a arrow::array::UInt8Array,
    status: &'a StringArray,
    first: &'a StringArray,
    age: &'a arrow::array::UInt32Array,
    ledger_month: &'a StringArray,
    cost: &'a arrow::array::Int64Array,
    share: &'a arrow::array::Int64Array,
    reason: &'a StringArray,
    uke: &'a StringArray,
    has_form: &'a arrow::array::BooleanArray,
    /// Absent in ledgers written before the kind was carried.
    kind: Option<&'a StringArray>,
    form: Vec<&'a StringArray>,
}

impl<'a> LedgerColumns<'a> {
    fn of(b: &Batch<'a>) -> Result<Self, IngestError> {
        Ok(LedgerColumns {
            organization: b.u8(col::ORGANIZATION)?,
            clinic: b.utf8(col::CLINIC_CODE)?,
            month: b.utf8(col::BILLING_MONTH)?,
            number: b.u32(col::RECEIPT_NUMBER)?,
            tier: b.u8(col::TIER)?,
            status: b.utf8(col::LAST_STATUS)?,
            first: b.utf8(col::FIRST_PENDING_MONTH)?,
            age: b.u32(col::AGE_MONTHS)?,
            ledger_month: b.utf8(col::LEDGER_MONTH)?,
            cost: b.i64(col::COST_YEN)?,
            share: b.i64(col::INSURER_SHARE_YEN)?,
            reason: b.utf8(col::REASON)?,
            uke: b.utf8(col::UKE)?,
            has_form: b.boolean(col::HAS_FORM)?,
            kind: b.utf8_if_present(col::RECEIPT_KIND)?,
            form: col::FORM
                .iter()
                .map(|c| b.utf8(c))
                .collect::<Result<_, _>>()?,
        })
    }

    fn entry(&self, i: usize) -> Result<LedgerEntry, BadRow> {
        use arrow::array::Array;
        // An amount beyond any receipt's is not carried even into the quarantine row:
        // the month's yen sums must not overflow on an edited ledger.
        let raw_cost = self.cost.is_valid(i).then(|| self.cost.value(i));
        let cost = raw_cost.filter(|v| Yen::RECEIPT_RANGE.contains(v)).map(Yen);
        let bad = |key: Option<ReceiptKey>, field: &'static str, message: String| BadRow {
            key,
            cost,
            field,
            message,
        };
        let key = (|| {
            Some(ReceiptKey {
                organization: Organization::parse(
                    &self
                        .organization
                        .is_valid(i)
                        .then(|| self.organization.value(i))?
                        .to_string(),
                )
                .ok()?,
                clinic_code: ClinicCode::parse(opt_str(self.clinic, i)?).ok()?,
                billing_month: YearMonth::parse_iso(opt_str(self.month, i)?).ok()?,
                receipt_number: self.number.is_valid(i).then(|| self.number.value(i))?,
            })
        })()
        .ok_or_else(|| {
            bad(
                None,
                "organization,clinic_code,billing_month,receipt_number",
                "the receipt key cannot be read".into(),
            )
        })?;
        let some = Some(key);
        let month = |a: &StringArray, field: &'static str| {
            opt_str(a, i)
                .and_then(|s| YearMonth::parse_iso(s).ok())
                .ok_or_else(|| bad(some, field, format!("{field} is not a month YYYY-MM")))
        };
        let first_pending_month = month(self.first, col::FIRST_PENDING_MONTH)?;
        let ledger_month = month(self.ledger_month, col::LEDGER_MONTH)?;
        let last_status = opt_str(self.status, i)
            .and_then(Status::parse)
            .filter(|s| s.is_open())
            .ok_or_else(|| {
                bad(
                    some,
                    col::LAST_STATUS,
                    "last_status is not pending, review or no_match".into(),
                )
            })?;
        let cost_yen = match raw_cost {
            None => return Err(bad(some, col::COST_YEN, "cost_yen is null".into())),
            Some(v) => cost.ok_or_else(|| {
                bad(
                    some,
                    col::COST_YEN,
                    format!(
                        "cost_yen is {v}, expected 0 to {} yen",
                        Yen::MAX_PER_RECEIPT
                    ),
                )
            })?,
        };
        let insurer_share_yen = Yen(or_zero(self.share, i));
        if !(0..=cost_yen.0).contains(&insurer_share_yen.0) {
            return Err(bad(
                some,
                col::INSURER_SHARE_YEN,
                format!(
                    "insurer_share_yen is {insurer_share_yen}, expected 0 to cost_yen ({cost_yen})"
                ),
            ));
        }
        let declaration = if self.has_form.is_valid(i) && self.has_form.value(i) {
            Some(
                self.form(i, key)
                    .map_err(|(field, message)| bad(some, field, message))?,
            )
        } else {
            None
        };
        Ok(LedgerEntry {
            key,
            tier: or_zero(self.tier, i),
            last_status,
            first_pending_month,
            age_months: or_zero(self.age, i),
            ledger_month,
            cost_yen,
            insurer_share_yen,
            reason: opt_str(self.reason, i).unwrap_or_default().to_string(),
            uke: opt_str(self.uke, i)
                .ok_or_else(|| bad(some, col::UKE, "uke is null".into()))?
                .to_string(),
            declaration,
            kind: match self.kind.and_then(|k| opt_str(k, i)) {
                None => None,
                Some(name) => Some(ReceiptKind::from_name(name).ok_or_else(|| {
                    bad(
                        some,
                        col::RECEIPT_KIND,
                        "receipt_kind is not ika, dpc, shika or chozai".into(),
                    )
                })?),
            },
            header: None,
        })
    }

    /// The form of row `i`: the same checks as `declarations.csv` on the values a run
    /// wrote (text fields are taken as they are).
    fn form(&self, i: usize, key: ReceiptKey) -> Result<Declaration, (&'static str, String)> {
        let v = |c: usize| opt_str(self.form[c], i).filter(|s| !s.is_empty());
        let text = |c: usize| v(c).map(str::to_string);
        let field = |c: usize| col::FORM[c];
        let invalid = |c: usize| (field(c), format!("{} is not valid", field(c)));
        let date = |c: usize| {
            v(c).map(|s| parse_iso_date(s).map_err(|_| invalid(c)))
                .transpose()
        };
        Ok(Declaration {
            line: 0,
            organization: Some(key.organization),
            clinic_code: key.clinic_code,
            billing_month: key.billing_month,
            receipt_number: key.receipt_number,
            insurance_kind: InsuranceKind::parse(v(0).unwrap_or_default())
                .map_err(|_| invalid(0))?,
            insurer_name: text(1),
            employer: text(2),
            card_issued: CardIssued::parse(v(3).unwrap_or_default()).ok_or_else(|| invalid(3))?,
            declared_copay_percent: v(4)
                .map(|s| s.parse::<u8>().map_err(|_| invalid(4)))
                .transpose()?,
            name: text(5),
            name_kana: text(6),
            birth_date: date(7)?,
            sex: v(8)
                .map(|s| Sex::parse(s).map_err(|_| invalid(8)))
                .transpose()?,
            address: text(9),
            other_residence: text(10),
            confirmation_date: date(11)?,
            phone: text(12),
        })
    }
}

/// The value at `i`, 0 when null.
fn or_zero<T: arrow::datatypes::ArrowPrimitiveType>(
    a: &arrow::array::PrimitiveArray<T>,
    i: usize,
) -> T::Native {
    use arrow::array::Array;
    if a.is_valid(i) {
        a.value(i)
    } else {
        T::Native::default()
    }
}

impl LedgerEntry {
    /// The entry's receipt, parsed from its UKE text by the UKE reader, numbered by the
    /// ledger row.
    fn receipt(
        &self,
        display: &str,
        row: u64,
        config: &IngestConfig,
    ) -> Result<(Receipt, ClinicHeader), BadRow> {
        let bad = |message: String| BadRow {
            key: Some(self.key),
            cost: Some(self.cost_yen),
            field: col::UKE,
            message,
        };
        let Some(mut bytes) = encode_cp932(&self.uke) else {
            return Err(bad(
                "the receipt text has characters Windows-31J cannot hold".into(),
            ));
        };
        bytes.push(crate::ingest::uke::writer::EOF_BYTE);
        let file = parse_uke(display, &bytes, config);
        let problem = file
            .quarantine
            .iter()
            .find(|q| q.scope != Scope::Notice)
            .map(|q| q.reason.clone());
        match (file.receipts.as_slice(), problem, &file.header) {
            ([_], None, Some(header)) if self.kind.is_some_and(|k| !k.fits_file(header.kind)) => {
                Err(BadRow {
                    field: col::RECEIPT_KIND,
                    ..bad(format!(
                        "receipt_kind is {}, but the receipt text is a {} file",
                        ReceiptKind::name_of(self.kind),
                        header.kind.as_str()
                    ))
                })
            }
            ([receipt], None, Some(header))
                if receipt.key == self.key
                    && receipt.points().checked_to_yen() == Some(self.cost_yen) =>
            {
                let mut receipt = receipt.clone();
                receipt.line = row;
                Ok((receipt, header.clone()))
            }
            ([receipt], None, Some(_)) if receipt.key == self.key => Err(bad(format!(
                "cost_yen is {}, but the receipt text's 合計点数 is {} points",
                self.cost_yen,
                receipt.points()
            ))),
            ([receipt], None, _) => Err(bad(format!(
                "the receipt text is receipt {}, not {}",
                receipt.key, self.key
            ))),
            (_, Some(reason), _) => Err(bad(format!("the receipt text does not parse: {reason}"))),
            (receipts, None, _) => Err(bad(format!(
                "the receipt text holds {} receipts, expected 1",
                receipts.len()
            ))),
        }
    }
}

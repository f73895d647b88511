//! The roster: eligibility histories of every insurer's subscribers (DOMAIN §6,
//! `schemas/roster.md`), one row per eligibility period, from `roster.parquet` or
//! `roster.csv`.
//!
//! The roster is large (up to ~125 million persons nationally), so it is read column-wise
//! into Arrow record batches of one fixed, validated schema ([`roster_schema`]) and
//! never into a vector of row structs. Parquet is read batch by batch and each input
//! column may use any reasonable physical type (text as Utf8, LargeUtf8, Utf8View or a
//! dictionary; dates as Date32, Date64 or `YYYY-MM-DD` text; codes as integers or text).
//! CSV is decoded (UTF-8 or Shift_JIS, see [`super::text`]) and parsed straight into
//! Arrow builders; the CSV text is held in memory while it is parsed, so a national
//! roster should come as Parquet.
//!
//! Each row is validated as a whole; a row that fails is not put in the batches and
//! becomes one [`Scope::Row`] quarantine row (file, line, field, value — masked when
//! personal — and reason). After reading, persons whose periods overlap are reported
//! as [`Scope::Notice`] rows (both periods are kept). Line numbers are physical CSV
//! lines (header = line 1) or, for Parquet, the 0-based row index + 2, so that they
//! read like the line of the same row written as CSV.
//!
//! This module does not match or resolve anything: it only makes the roster trustworthy.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayAccessor, ArrayRef, AsArray, Date32Array, Date32Builder, Int64Array, RecordBatch,
    StringArray, StringBuilder, StringDictionaryBuilder, TypedDictionaryArray, UInt64Array,
    UInt64Builder, UInt8Builder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Field, Int32Type, Int64Type, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;

use crate::config::CsvEncoding;
use crate::domain::{parse_iso_date, InsurerNumber};
use crate::stable_hash::person_id_hash;
use crate::validate::{QuarantineRow, Scope};

use super::text::{self, EncodingInfo};
use super::IngestError;

/// `record` of the quarantine rows this reader writes.
pub const RECORD: &str = "roster";

/// Rows per record batch, for both Parquet and CSV input.
pub const BATCH_ROWS: usize = 64 * 1024;

/// At most this many overlap notices are written; the rest are counted.
pub const MAX_OVERLAP_NOTICES: usize = 1_000;

/// Column names, of the input files and of the validated schema alike.
pub mod col {
    pub const PERSON_ID: &str = "person_id";
    pub const INSURER_NUMBER: &str = "insurer_number";
    pub const SYMBOL: &str = "symbol";
    pub const NUMBER: &str = "number";
    pub const BRANCH: &str = "branch";
    pub const NAME: &str = "name";
    pub const NAME_KANA: &str = "name_kana";
    pub const BIRTH_DATE: &str = "birth_date";
    pub const SEX: &str = "sex";
    pub const POSTAL_CODE: &str = "postal_code";
    pub const ADDRESS: &str = "address";
    pub const EMPLOYER: &str = "employer";
    pub const VALID_FROM: &str = "valid_from";
    pub const VALID_TO: &str = "valid_to";
    pub const COPAY_PERCENT: &str = "copay_percent";
    /// Only in the validated schema: the input line the row came from.
    pub const SOURCE_LINE: &str = "source_line";
}

/// Input columns the header must have (values of `symbol` and `name_kana` may be empty).
pub const REQUIRED_COLUMNS: [&str; 10] = [
    col::PERSON_ID,
    col::INSURER_NUMBER,
    col::SYMBOL,
    col::NUMBER,
    col::NAME,
    col::NAME_KANA,
    col::BIRTH_DATE,
    col::SEX,
    col::VALID_FROM,
    col::VALID_TO,
];

/// Input columns that may be left out (all null when absent).
pub const OPTIONAL_COLUMNS: [&str; 5] = [
    col::BRANCH,
    col::POSTAL_CODE,
    col::ADDRESS,
    col::EMPLOYER,
    col::COPAY_PERCENT,
];

/// Positions in [`roster_schema`]: the input columns in contract order but
/// `postal_code` (read by no stage, so not kept), then `source_line`.
pub mod idx {
    pub const PERSON_ID: usize = 0;
    pub const INSURER_NUMBER: usize = 1;
    pub const SYMBOL: usize = 2;
    pub const NUMBER: usize = 3;
    pub const BRANCH: usize = 4;
    pub const NAME: usize = 5;
    pub const NAME_KANA: usize = 6;
    pub const BIRTH_DATE: usize = 7;
    pub const SEX: usize = 8;
    pub const ADDRESS: usize = 9;
    pub const EMPLOYER: usize = 10;
    pub const VALID_FROM: usize = 11;
    pub const VALID_TO: usize = 12;
    pub const COPAY_PERCENT: usize = 13;
    pub const SOURCE_LINE: usize = 14;
}

/// The input columns read, in the order of [`roster_schema`] (so a row's values before
/// validation are indexed by [`idx`]). `postal_code` is accepted in the input but not
/// read: no stage uses it (addresses are compared without it).
const INPUT_COLUMNS: [&str; READ] = [
    col::PERSON_ID,
    col::INSURER_NUMBER,
    col::SYMBOL,
    col::NUMBER,
    col::BRANCH,
    col::NAME,
    col::NAME_KANA,
    col::BIRTH_DATE,
    col::SEX,
    col::ADDRESS,
    col::EMPLOYER,
    col::VALID_FROM,
    col::VALID_TO,
    col::COPAY_PERCENT,
];

/// How many input columns are read: the schema's columns but `source_line`.
const READ: usize = idx::SOURCE_LINE;

/// The type of the roster's text columns whose values repeat from row to row (one
/// insurer's rows come together, a family shares its address, a company's employees its
/// name): a dictionary per batch keeps each value once. At 10 M persons (16.7 M rows)
/// this, with `postal_code` no longer kept, took the roster from 4.1 to 2.9 GB.
fn text_dictionary() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The validated roster's schema (documented in `schemas/roster.md`).
pub fn roster_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(col::PERSON_ID, DataType::Utf8, false),
                Field::new(col::INSURER_NUMBER, text_dictionary(), false),
                Field::new(col::SYMBOL, text_dictionary(), false),
                Field::new(col::NUMBER, DataType::Utf8, false),
                Field::new(col::BRANCH, DataType::Utf8, true),
                Field::new(col::NAME, DataType::Utf8, false),
                Field::new(col::NAME_KANA, DataType::Utf8, true),
                Field::new(col::BIRTH_DATE, DataType::Date32, false),
                Field::new(col::SEX, DataType::UInt8, false),
                Field::new(col::ADDRESS, text_dictionary(), true),
                Field::new(col::EMPLOYER, text_dictionary(), true),
                Field::new(col::VALID_FROM, DataType::Date32, false),
                Field::new(col::VALID_TO, DataType::Date32, true),
                Field::new(col::COPAY_PERCENT, DataType::UInt8, true),
                Field::new(col::SOURCE_LINE, DataType::UInt64, false),
            ]))
        })
        .clone()
}

/// The validated roster: record batches of [`roster_schema`].
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub batches: Vec<RecordBatch>,
}

impl Roster {
    pub fn schema(&self) -> SchemaRef {
        roster_schema()
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.num_rows() == 0
    }
}

/// A text column of the validated roster, plain or dictionary-encoded (see
/// [`roster_schema`]), read by row alike.
#[derive(Clone, Copy)]
pub enum TextColumn<'a> {
    Plain(&'a StringArray),
    Dictionary(TypedDictionaryArray<'a, Int32Type, StringArray>),
}

impl<'a> TextColumn<'a> {
    /// Column `column` of `batch`; `None` when there is none or it is not text.
    pub fn of(batch: &'a RecordBatch, column: usize) -> Option<TextColumn<'a>> {
        let array = batch.columns().get(column)?;
        if let Some(plain) = array.as_string_opt::<i32>() {
            return Some(TextColumn::Plain(plain));
        }
        array
            .as_dictionary_opt::<Int32Type>()?
            .downcast_dict::<StringArray>()
            .map(TextColumn::Dictionary)
    }

    pub fn len(&self) -> usize {
        match self {
            TextColumn::Plain(a) => a.len(),
            TextColumn::Dictionary(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `row` (which must be below [`TextColumn::len`]); `None` when null.
    pub fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextColumn::Plain(a) => (!a.is_null(row)).then(|| a.value(row)),
            TextColumn::Dictionary(a) => (!a.is_null(row)).then(|| a.value(row)),
        }
    }
}

/// What reading the roster gave.
#[derive(Debug, Clone)]
pub struct RosterRead {
    pub roster: Roster,
    /// Rejected rows ([`Scope::Row`]) and overlap notices ([`Scope::Notice`]).
    pub quarantine: Vec<QuarantineRow>,
    /// Data rows in the input (CSV header excluded), accepted or not.
    pub rows_read: u64,
    /// Persons with at least one pair of overlapping periods (all of them, including
    /// those beyond the [`MAX_OVERLAP_NOTICES`] written as notices).
    pub overlapping_persons: u64,
    /// How a CSV roster was decoded; `None` for Parquet.
    pub encoding: Option<EncodingInfo>,
}

/// Reads `roster.parquet` or `roster.csv` (told apart by extension); `display` names the
/// file in quarantine rows. `encoding` applies to CSV only.
pub fn read_roster(
    path: &Path,
    display: &str,
    encoding: CsvEncoding,
) -> Result<RosterRead, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let mut read = match ext.as_deref() {
        Some("parquet") => super::parquet_guard(path, || read_parquet(path, display))?,
        Some("csv") => read_csv(path, display, encoding)?,
        _ => {
            return Err(IngestError::invalid(
                path,
                "a roster must be a .parquet or a .csv file",
            ))
        }
    };
    let (notices, overlapping) = overlap_notices(&read.roster, display);
    read.quarantine.extend(notices);
    read.overlapping_persons = overlapping;
    let file = display; // `display` would name tracing's own function inside the macro
    tracing::info!(
        file,
        rows = read.rows_read,
        accepted = read.roster.num_rows(),
        rejected = read
            .quarantine
            .iter()
            .filter(|r| r.scope == Scope::Row)
            .count(),
        overlapping_persons = overlapping,
        "roster read"
    );
    Ok(read)
}

// ---------------------------------------------------------------------------------
// One input value and one row's validation, shared by CSV and Parquet.

/// One input value, before validation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value<'a> {
    /// Null, an empty string, or a column the input does not have.
    Null,
    Text(&'a str),
    Int(i64),
    /// Days since 1970-01-01.
    Date(i32),
}

impl<'a> Value<'a> {
    /// Text with ASCII whitespace trimmed; empty text is `Null`.
    fn text(s: &'a str) -> Value<'a> {
        match text::field(s) {
            "" => Value::Null,
            t => Value::Text(t),
        }
    }

    fn shown(self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Date(d) => show_date(d),
        }
    }

    fn as_str(self) -> Option<&'a str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn show_date(days: i32) -> String {
    Date32Type::to_naive_date_opt(days)
        .map(|d| d.to_string())
        .unwrap_or_else(|| format!("day {days}"))
}

fn to_days(d: NaiveDate) -> i32 {
    Date32Type::from_naive_date(d)
}

/// Why a row was set aside.
struct Rejection {
    field: &'static str,
    value: String,
    pii: bool,
    reason: String,
}

impl Rejection {
    fn new(field: &'static str, value: Value<'_>, reason: impl Into<String>) -> Self {
        Rejection {
            field,
            value: value.shown(),
            pii: is_pii(field),
            reason: reason.into(),
        }
    }

    fn into_row(self, display: &str, line: u64) -> QuarantineRow {
        let reason = format!("{}; row skipped", self.reason);
        if self.pii {
            QuarantineRow::new_pii(
                display,
                line,
                RECORD,
                self.field,
                &self.value,
                reason,
                Scope::Row,
            )
        } else {
            QuarantineRow::new(
                display,
                line,
                RECORD,
                self.field,
                &self.value,
                reason,
                Scope::Row,
            )
        }
    }
}

/// Columns whose values are personal data and are masked in quarantine rows.
fn is_pii(field: &str) -> bool {
    matches!(
        field,
        col::SYMBOL
            | col::NUMBER
            | col::BRANCH
            | col::NAME
            | col::NAME_KANA
            | col::BIRTH_DATE
            | col::ADDRESS
    )
}

/// A row that passed validation, borrowing its text from the input.
struct ValidRow<'a> {
    person_id: &'a str,
    insurer_number: InsurerNumber,
    symbol: &'a str,
    number: &'a str,
    branch: Option<&'a str>,
    name: &'a str,
    name_kana: Option<&'a str>,
    birth_date: i32,
    sex: u8,
    address: Option<&'a str>,
    employer: Option<&'a str>,
    valid_from: i32,
    valid_to: Option<i32>,
    copay_percent: Option<u8>,
}

fn required_text<'a>(v: &[Value<'a>; READ], i: usize) -> Result<&'a str, Rejection> {
    v[i].as_str()
        .ok_or_else(|| Rejection::new(INPUT_COLUMNS[i], v[i], "is empty; a value is required"))
}

/// The dates a roster accepts, as days since 1970-01-01: 1868-01-01 (明治) to
/// 9999-12-31 (constants: three dates a row, tens of millions of rows).
const FIRST_DAY: i32 = -37_255;
const LAST_DAY: i32 = 2_932_896;

fn date(v: &[Value<'_>; READ], i: usize) -> Result<Option<i32>, Rejection> {
    match v[i] {
        Value::Null => Ok(None),
        Value::Date(d) if (FIRST_DAY..=LAST_DAY).contains(&d) => Ok(Some(d)),
        Value::Text(s) => parse_iso_date(s)
            .map(|d| Some(to_days(d)))
            .map_err(|_| Rejection::new(INPUT_COLUMNS[i], v[i], "expected a date as YYYY-MM-DD")),
        other => Err(Rejection::new(
            INPUT_COLUMNS[i],
            other,
            "expected a date between 1868-01-01 and 9999-12-31",
        )),
    }
}

fn small_code(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Int(n) => Some(n),
        Value::Text(s)
            if !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Pads an insurer number stored as an integer: 7 digits → 8 (a leading 0 was lost,
/// e.g. 1130012 → 01130012), 5 digits → 6.
fn insurer_from_int(n: i64) -> String {
    match n {
        1_000_000..=9_999_999 => format!("{n:08}"),
        10_000..=99_999 => format!("{n:06}"),
        _ => n.to_string(),
    }
}

fn validate<'a>(v: &[Value<'a>; READ]) -> Result<ValidRow<'a>, Rejection> {
    let person_id = required_text(v, idx::PERSON_ID)?;
    let insurer_number = match v[idx::INSURER_NUMBER] {
        Value::Text(s) => InsurerNumber::parse(s),
        Value::Int(n) => InsurerNumber::parse(&insurer_from_int(n)),
        other => Err(crate::domain::DomainError::Malformed {
            expected: "an insurer number of 6 or 8 digits",
            found: other.shown(),
        }),
    }
    .map_err(|e| Rejection::new(col::INSURER_NUMBER, v[idx::INSURER_NUMBER], e.to_string()))?;
    let symbol = v[idx::SYMBOL].as_str().unwrap_or("");
    let number = required_text(v, idx::NUMBER)?;
    let name = required_text(v, idx::NAME)?;
    let birth_date = date(v, idx::BIRTH_DATE)?.ok_or_else(|| {
        Rejection::new(
            col::BIRTH_DATE,
            Value::Null,
            "is empty; a birth date is required",
        )
    })?;
    let sex = match small_code(v[idx::SEX]) {
        Some(s @ (1 | 2)) => s as u8,
        _ => {
            return Err(Rejection::new(
                col::SEX,
                v[idx::SEX],
                "expected sex 1 (male) or 2 (female)",
            ))
        }
    };
    let valid_from = date(v, idx::VALID_FROM)?.ok_or_else(|| {
        Rejection::new(
            col::VALID_FROM,
            Value::Null,
            "is empty; the start of the period is required",
        )
    })?;
    let valid_to = date(v, idx::VALID_TO)?;
    if let Some(to) = valid_to.filter(|&to| to < valid_from) {
        return Err(Rejection::new(
            col::VALID_TO,
            v[idx::VALID_TO],
            format!(
                "valid_to {} is before valid_from {}",
                show_date(to),
                show_date(valid_from)
            ),
        ));
    }
    let copay_percent = match v[idx::COPAY_PERCENT] {
        Value::Null => None,
        other => match small_code(other) {
            Some(c @ (10 | 20 | 30)) => Some(c as u8),
            _ => {
                return Err(Rejection::new(
                    col::COPAY_PERCENT,
                    other,
                    "expected a copay percent of 10, 20 or 30 (or empty)",
                ))
            }
        },
    };
    Ok(ValidRow {
        person_id,
        insurer_number,
        symbol,
        number,
        branch: v[idx::BRANCH].as_str(),
        name,
        name_kana: v[idx::NAME_KANA].as_str(),
        birth_date,
        sex,
        address: v[idx::ADDRESS].as_str(),
        employer: v[idx::EMPLOYER].as_str(),
        valid_from,
        valid_to,
        copay_percent,
    })
}

// ---------------------------------------------------------------------------------
// Building the validated batches.

/// Arrow builders for [`roster_schema`], flushed into a batch every [`BATCH_ROWS`] rows.
struct RosterBuilder<'d> {
    display: &'d str,
    /// person_id, number, branch, name, name_kana.
    text: [StringBuilder; 5],
    /// insurer_number, symbol, address, employer.
    repeated: [StringDictionaryBuilder<Int32Type>; 4],
    birth_date: Date32Builder,
    sex: UInt8Builder,
    valid_from: Date32Builder,
    valid_to: Date32Builder,
    copay_percent: UInt8Builder,
    source_line: UInt64Builder,
    pending: usize,
    batches: Vec<RecordBatch>,
    quarantine: Vec<QuarantineRow>,
    rows_read: u64,
}

impl<'d> RosterBuilder<'d> {
    fn new(display: &'d str) -> Self {
        RosterBuilder {
            display,
            text: std::array::from_fn(|_| StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8)),
            repeated: std::array::from_fn(|_| StringDictionaryBuilder::new()),
            birth_date: Date32Builder::with_capacity(BATCH_ROWS),
            sex: UInt8Builder::with_capacity(BATCH_ROWS),
            valid_from: Date32Builder::with_capacity(BATCH_ROWS),
            valid_to: Date32Builder::with_capacity(BATCH_ROWS),
            copay_percent: UInt8Builder::with_capacity(BATCH_ROWS),
            source_line: UInt64Builder::with_capacity(BATCH_ROWS),
            pending: 0,
            batches: Vec::new(),
            quarantine: Vec::new(),
            rows_read: 0,
        }
    }

    /// Validates one input row and appends it, or quarantines it.
    fn push(&mut self, line: u64, values: &[Value<'_>; READ]) -> Result<(), IngestError> {
        self.rows_read += 1;
        let row = match validate(values) {
            Ok(row) => row,
            Err(rejection) => {
                self.quarantine.push(rejection.into_row(self.display, line));
                return Ok(());
            }
        };
        let [person_id, number, branch, name, name_kana] = &mut self.text;
        let [insurer, symbol, address, employer] = &mut self.repeated;
        person_id.append_value(row.person_id);
        insurer.append_value(row.insurer_number.as_str());
        symbol.append_value(row.symbol);
        number.append_value(row.number);
        branch.append_option(row.branch);
        name.append_value(row.name);
        name_kana.append_option(row.name_kana);
        address.append_option(row.address);
        employer.append_option(row.employer);
        self.birth_date.append_value(row.birth_date);
        self.sex.append_value(row.sex);
        self.valid_from.append_value(row.valid_from);
        self.valid_to.append_option(row.valid_to);
        self.copay_percent.append_option(row.copay_percent);
        self.source_line.append_value(line);
        self.pending += 1;
        if self.pending >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IngestError> {
        if self.pending == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(15);
        let [person_id, number, branch, name, name_kana] = &mut self.text;
        let [insurer, symbol, address, employer] = &mut self.repeated;
        // Builders grow by doubling: give back the slack (a national roster is many
        // batches, and the slack would be a third of its memory).
        let text = |b: &mut StringBuilder| -> ArrayRef {
            let mut a = b.finish();
            a.shrink_to_fit();
            Arc::new(a)
        };
        let repeated = |b: &mut StringDictionaryBuilder<Int32Type>| -> ArrayRef {
            let mut a = b.finish();
            a.shrink_to_fit();
            Arc::new(a)
        };
        columns.push(text(person_id));
        columns.push(repeated(insurer));
        columns.push(repeated(symbol));
        columns.push(text(number));
        columns.push(text(branch));
        columns.push(text(name));
        columns.push(text(name_kana));
        columns.push(Arc::new(self.birth_date.finish()));
        columns.push(Arc::new(self.sex.finish()));
        columns.push(repeated(address));
        columns.push(repeated(employer));
        columns.push(Arc::new(self.valid_from.finish()));
        columns.push(Arc::new(self.valid_to.finish()));
        columns.push(Arc::new(self.copay_percent.finish()));
        columns.push(Arc::new(self.source_line.finish()));
        let batch = RecordBatch::try_new(roster_schema(), columns).map_err(|source| {
            IngestError::Arrow {
                path: self.display.into(),
                source,
            }
        })?;
        self.batches.push(batch);
        self.pending = 0;
        Ok(())
    }

    fn finish(mut self, encoding: Option<EncodingInfo>) -> Result<RosterRead, IngestError> {
        self.flush()?;
        Ok(RosterRead {
            roster: Roster {
                batches: self.batches,
            },
            quarantine: self.quarantine,
            rows_read: self.rows_read,
            overlapping_persons: 0,
            encoding,
        })
    }
}

// ---------------------------------------------------------------------------------
// CSV.

fn read_csv(path: &Path, display: &str, encoding: CsvEncoding) -> Result<RosterRead, IngestError> {
    let mut decoded = text::read_csv_text(path, encoding)?;
    let screened = text::screen_rows(path, display, RECORD, &mut decoded.text)?;
    let mut reader = text::csv_reader(&decoded.text);
    let header = text::read_header(path, &mut reader)?;
    header.require(path, REQUIRED_COLUMNS)?;
    let positions: [Option<usize>; READ] = INPUT_COLUMNS.map(|c| header.find(c));

    let mut builder = RosterBuilder::new(display);
    builder.rows_read += screened.len() as u64;
    builder.quarantine.extend(screened.iter().cloned());
    let mut record = csv::StringRecord::new();
    while text::next_record(path, &mut reader, &mut record, builder.rows_read)? {
        let line = text::record_line(&record);
        if text::screened(&screened, line) {
            continue;
        }
        if let Some(problem) = text::field_count_problem(display, RECORD, &record, &header) {
            builder.rows_read += 1;
            builder.quarantine.push(problem);
            continue;
        }
        let values = positions.map(|p| match p.and_then(|i| record.get(i)) {
            Some(s) => Value::text(s),
            None => Value::Null,
        });
        builder.push(line, &values)?;
    }
    builder.finish(Some(decoded.info()))
}

// ---------------------------------------------------------------------------------
// Parquet.

/// What a Parquet column may hold for a roster column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// Text only.
    Text,
    /// Text, or an integer (read as its decimal digits).
    TextOrIntAsText,
    /// The insurer number: text, or an integer padded as [`insurer_from_int`] says.
    InsurerNumber,
    /// Date32, Date64 or `YYYY-MM-DD` text.
    Date,
    /// An integer or its digits as text.
    Code,
}

fn accepts(column: &str) -> Accepts {
    match column {
        // Exports often type digit-only columns as integers: read their decimal digits
        // (leading zeros are lost; cards are compared without them anyway).
        col::PERSON_ID | col::SYMBOL | col::NUMBER | col::BRANCH => Accepts::TextOrIntAsText,
        col::INSURER_NUMBER => Accepts::InsurerNumber,
        col::BIRTH_DATE | col::VALID_FROM | col::VALID_TO => Accepts::Date,
        col::SEX | col::COPAY_PERCENT => Accepts::Code,
        _ => Accepts::Text,
    }
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// How a column of this batch is read, once cast.
enum Column {
    Absent,
    Text(StringArray),
    Int(Int64Array),
    Date(Date32Array),
}

impl Column {
    fn value(&self, i: usize) -> Value<'_> {
        match self {
            Column::Absent => Value::Null,
            Column::Text(a) => {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::text(a.value(i))
                }
            }
            Column::Int(a) => {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Int(a.value(i))
                }
            }
            Column::Date(a) => {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Date(a.value(i))
                }
            }
        }
    }
}

/// Casts one input array to the form [`Column`] reads.
fn prepare(array: &ArrayRef, accepts: Accepts) -> Result<Column, arrow::error::ArrowError> {
    let t = array.data_type();
    if is_text(t) || (accepts == Accepts::TextOrIntAsText && t.is_integer()) {
        let a = cast(array, &DataType::Utf8)?;
        return Ok(Column::Text(a.as_string::<i32>().clone()));
    }
    match accepts {
        Accepts::InsurerNumber | Accepts::Code => {
            let a = cast(array, &DataType::Int64)?;
            Ok(Column::Int(a.as_primitive::<Int64Type>().clone()))
        }
        _ => {
            let a = cast(array, &DataType::Date32)?;
            Ok(Column::Date(a.as_primitive::<Date32Type>().clone()))
        }
    }
}

fn type_ok(t: &DataType, accepts: Accepts) -> bool {
    is_text(t)
        || match accepts {
            Accepts::Text => false,
            Accepts::TextOrIntAsText | Accepts::InsurerNumber | Accepts::Code => t.is_integer(),
            Accepts::Date => matches!(t, DataType::Date32 | DataType::Date64),
        }
}

fn expected_types(accepts: Accepts) -> &'static str {
    match accepts {
        Accepts::Text => "text (Utf8, LargeUtf8, Utf8View or a dictionary of text)",
        Accepts::TextOrIntAsText => "text or an integer",
        Accepts::InsurerNumber => "text, or an integer (leading zeros restored)",
        Accepts::Date => "Date32, Date64 or text YYYY-MM-DD",
        Accepts::Code => "an integer or text",
    }
}

fn read_parquet(path: &Path, display: &str) -> Result<RosterRead, IngestError> {
    let parquet_err = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let reader_metadata =
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(parquet_err)?;
    drop(file);
    let schema = reader_metadata.schema().clone();
    let header = text::Header::new(path, schema.fields().iter().map(|f| f.name().as_str()))?;
    header.require(path, REQUIRED_COLUMNS)?;
    // Input column (contract order) → field index in the file's schema.
    let positions: [Option<usize>; READ] = INPUT_COLUMNS.map(|c| header.find(c));
    let mut bad_types = Vec::new();
    for (name, pos) in INPUT_COLUMNS.iter().zip(positions.iter()) {
        if let Some(p) = pos {
            let t = schema.field(*p).data_type();
            let a = accepts(name);
            if !type_ok(t, a) {
                bad_types.push(format!("{name} is {t}, expected {}", expected_types(a)));
            }
        }
    }
    if !bad_types.is_empty() {
        return Err(IngestError::invalid(
            path,
            format!("unusable column types: {}", bad_types.join("; ")),
        ));
    }
    let names: [Option<String>; READ] =
        positions.map(|p| p.map(|p| schema.field(p).name().clone()));
    let projected = positions.iter().flatten().copied().collect::<Vec<_>>();
    let metadata = reader_metadata.metadata();
    // Row groups are read and validated in parallel, each from its own file handle;
    // their batches and quarantine rows are put back in file order.
    let mut first_row = 0u64;
    let groups: Vec<(usize, u64)> = metadata
        .row_groups()
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let first = first_row;
            first_row += g.num_rows().max(0) as u64;
            (i, first)
        })
        .collect();
    let parts: Vec<RosterRead> = groups
        .par_iter()
        .map(|&(group, first)| {
            let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
            let builder =
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, reader_metadata.clone());
            let mask = ProjectionMask::roots(builder.parquet_schema(), projected.iter().copied());
            let reader = builder
                .with_projection(mask)
                .with_row_groups(vec![group])
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(parquet_err)?;
            read_batches(path, display, reader, &names, first)
        })
        .collect::<Vec<_>>()
        .into_iter()
        // The first failing row group in file order, whatever the threads did first.
        .collect::<Result<_, IngestError>>()?;
    let mut read = RosterRead {
        roster: Roster::default(),
        quarantine: Vec::new(),
        rows_read: 0,
        overlapping_persons: 0,
        encoding: None,
    };
    for part in parts {
        read.roster.batches.extend(part.roster.batches);
        read.quarantine.extend(part.quarantine);
        read.rows_read += part.rows_read;
    }
    Ok(read)
}

/// Validates the batches of one row group, whose first row is the file's row
/// `first_row` (0-based).
fn read_batches(
    path: &Path,
    display: &str,
    reader: impl Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>,
    names: &[Option<String>; READ],
    first_row: u64,
) -> Result<RosterRead, IngestError> {
    let arrow_err = |source| IngestError::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let mut out = RosterBuilder::new(display);
    let mut row_index = first_row;
    for batch in reader {
        let batch = batch.map_err(arrow_err)?;
        let mut columns: Vec<Column> = Vec::with_capacity(READ);
        for (i, name) in names.iter().enumerate() {
            let column = match name.as_deref().and_then(|n| batch.column_by_name(n)) {
                Some(array) => prepare(array, accepts(INPUT_COLUMNS[i])).map_err(arrow_err)?,
                None => Column::Absent,
            };
            columns.push(column);
        }
        for r in 0..batch.num_rows() {
            let values: [Value<'_>; READ] = std::array::from_fn(|c| columns[c].value(r));
            out.push(row_index + 2, &values)?;
            row_index += 1;
        }
    }
    out.finish(None)
}

// ---------------------------------------------------------------------------------
// Overlapping periods.

/// Notices for persons whose periods overlap (at most [`MAX_OVERLAP_NOTICES`], the
/// first by person_id, then one summary row) and the number of such persons.
///
/// Rows are grouped by person through a sort of fixed-size keys (a stable hash of
/// person_id, valid_from and the row's place: 24 bytes a row, no text copied), which a
/// national roster sorts in seconds; rows whose persons differ but share a hash are
/// told apart by their person_id.
fn overlap_notices(roster: &Roster, display: &str) -> (Vec<QuarantineRow>, u64) {
    struct View<'a> {
        person: &'a StringArray,
        insurer: TextColumn<'a>,
        from: &'a Date32Array,
        to: &'a Date32Array,
        line: &'a UInt64Array,
    }
    // The batches are this module's own (`RosterBuilder`), all of `roster_schema`.
    let views: Option<Vec<View<'_>>> = roster
        .batches
        .iter()
        .map(|b| {
            Some(View {
                person: b.column(idx::PERSON_ID).as_string_opt::<i32>()?,
                insurer: TextColumn::of(b, idx::INSURER_NUMBER)?,
                from: b.column(idx::VALID_FROM).as_primitive_opt::<Date32Type>()?,
                to: b.column(idx::VALID_TO).as_primitive_opt::<Date32Type>()?,
                line: b
                    .column(idx::SOURCE_LINE)
                    .as_primitive_opt::<arrow::datatypes::UInt64Type>()?,
            })
        })
        .collect();
    let Some(views) = views else {
        return (Vec::new(), 0);
    };
    /// (hash of person_id, valid_from, batch, row): 24 bytes a roster row, filled in
    /// place (a national roster is hundreds of millions of rows). Batches and their rows
    /// are in input order, so (batch, row) orders as the input lines do.
    type Key = (u64, i32, u32, u32);
    let mut keys: Vec<Key> = vec![(0, 0, 0, 0); roster.num_rows()];
    let mut parts: Vec<&mut [Key]> = Vec::with_capacity(views.len());
    let mut rest = keys.as_mut_slice();
    for v in &views {
        let (part, tail) = rest.split_at_mut(v.person.len());
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(views.par_iter())
        .enumerate()
        .for_each(|(b, (part, v))| {
            for (r, k) in part.iter_mut().enumerate() {
                *k = (
                    person_id_hash(v.person.value(r)),
                    v.from.value(r),
                    b as u32,
                    r as u32,
                );
            }
        });
    keys.par_sort_unstable();
    let person = |k: &Key| views[k.2 as usize].person.value(k.3 as usize);

    // End of a period as a comparable day; an open period never ends.
    let end = |k: &Key| -> i64 {
        let v = &views[k.2 as usize];
        let r = k.3 as usize;
        if v.to.is_null(r) {
            i64::MAX
        } else {
            i64::from(v.to.value(r))
        }
    };
    // One person's periods, by valid_from: the first that starts before an earlier one
    // has ended, with that earlier one.
    let overlap = |group: &[Key]| -> Option<(Key, Key)> {
        let mut latest = group[0];
        let mut latest_end = end(&latest);
        for k in &group[1..] {
            if i64::from(k.1) <= latest_end {
                return Some((*k, latest));
            }
            let e = end(k);
            if e > latest_end {
                latest = *k;
                latest_end = e;
            }
        }
        None
    };
    let mut found: Vec<(&str, Key, Key)> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let hash = keys[i].0;
        let j = i + keys[i..].partition_point(|k| k.0 == hash);
        let run = &mut keys[i..j];
        if run.len() == 1 {
            // One period: nothing to overlap (and no person_id to read).
            i = j;
            continue;
        }
        let first = person(&run[0]);
        if run.iter().all(|k| person(k) == first) {
            found.extend(overlap(run).map(|(a, b)| (first, a, b)));
        } else {
            // Persons sharing a hash: group them by person_id.
            run.sort_unstable_by(|a, b| {
                (person(a), a.1, a.2, a.3).cmp(&(person(b), b.1, b.2, b.3))
            });
            let mut g = 0;
            while g < run.len() {
                let p = person(&run[g]);
                let h = g + run[g..].partition_point(|k| person(k) == p);
                found.extend(overlap(&run[g..h]).map(|(a, b)| (p, a, b)));
                g = h;
            }
        }
        i = j;
    }
    let persons = found.len() as u64;
    found.sort_unstable_by(|a, b| (a.0, a.1 .2, a.1 .3).cmp(&(b.0, b.1 .2, b.1 .3)));
    let describe = |k: &Key| -> String {
        let v = &views[k.2 as usize];
        let r = k.3 as usize;
        let to = if v.to.is_null(r) {
            "open".to_string()
        } else {
            show_date(v.to.value(r))
        };
        format!(
            "{} {}–{}",
            v.insurer.get(r).unwrap_or_default(),
            show_date(v.from.value(r)),
            to
        )
    };
    let line = |k: &Key| views[k.2 as usize].line.value(k.3 as usize);
    let mut notices: Vec<QuarantineRow> = found
        .iter()
        .take(MAX_OVERLAP_NOTICES)
        .map(|(_, row, earlier)| {
            QuarantineRow::new(
                display,
                line(row),
                RECORD,
                "valid_from,valid_to",
                &describe(row),
                format!(
                    "period overlaps the period on line {} ({}) of the same person_id; \
                     both kept",
                    line(earlier),
                    describe(earlier)
                ),
                Scope::Notice,
            )
        })
        .collect();
    if persons > MAX_OVERLAP_NOTICES as u64 {
        notices.push(QuarantineRow::new(
            display,
            0,
            RECORD,
            "valid_from,valid_to",
            "",
            format!(
                "{} more persons with overlapping periods are not listed ({persons} in all)",
                persons - MAX_OVERLAP_NOTICES as u64
            ),
            Scope::Notice,
        ));
    }
    (notices, persons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(pairs: &[(&str, &'a str)]) -> [Value<'a>; READ] {
        let mut v = [Value::Null; READ];
        for (name, value) in pairs {
            let i = INPUT_COLUMNS.iter().position(|c| c == name).unwrap();
            v[i] = Value::text(value);
        }
        v
    }

    fn base<'a>() -> Vec<(&'static str, &'a str)> {
        vec![
            (col::PERSON_ID, "P0001"),
            (col::INSURER_NUMBER, "01130012"),
            (col::SYMBOL, "1234"),
            (col::NUMBER, "567"),
            (col::NAME, "山田 太郎"),
            (col::BIRTH_DATE, "1980-05-12"),
            (col::SEX, "1"),
            (col::VALID_FROM, "2021-04-01"),
        ]
    }

    #[test]
    fn the_accepted_dates_are_1868_to_9999() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(to_days);
        assert_eq!(day(1868, 1, 1), Some(FIRST_DAY));
        assert_eq!(day(9999, 12, 31), Some(LAST_DAY));
    }

    #[test]
    fn a_valid_row_passes() {
        let r = validate(&row(&base())).unwrap_or_else(|e| panic!("{}", e.reason));
        assert_eq!(r.insurer_number.as_str(), "01130012");
        assert_eq!(r.valid_to, None);
        assert_eq!(r.sex, 1);
        assert_eq!(r.branch, None);
    }

    #[test]
    fn valid_to_before_valid_from_is_named() {
        let mut p = base();
        p.push((col::VALID_TO, "2020-01-01"));
        let e = validate(&row(&p)).err().unwrap();
        assert_eq!(e.field, col::VALID_TO);
        assert_eq!(
            e.reason,
            "valid_to 2020-01-01 is before valid_from 2021-04-01"
        );
    }

    #[test]
    fn codes_are_checked() {
        for (field, bad) in [
            (col::SEX, "3"),
            (col::COPAY_PERCENT, "40"),
            (col::INSURER_NUMBER, "01130013"),
            (col::BIRTH_DATE, "1980-02-30"),
        ] {
            let mut p = base();
            p.retain(|(f, _)| *f != field);
            p.push((field, bad));
            let e = validate(&row(&p)).err().unwrap();
            assert_eq!(e.field, field, "{bad}");
        }
    }

    #[test]
    fn personal_values_are_flagged_for_masking() {
        let mut p = base();
        p.retain(|(f, _)| *f != col::BIRTH_DATE);
        p.push((col::BIRTH_DATE, "1980-13-01"));
        let e = validate(&row(&p)).err().unwrap();
        let q = e.into_row("roster.csv", 2);
        assert!(!q.value.contains("1980"));
    }

    #[test]
    fn integer_insurer_numbers_get_their_zeros_back() {
        assert_eq!(insurer_from_int(1_130_012), "01130012");
        assert_eq!(insurer_from_int(131_045), "131045");
        assert_eq!(insurer_from_int(39_280_003), "39280003");
        assert_eq!(insurer_from_int(31_045), "031045");
    }
}

//! `truth.parquet`: what the generator knows and the engine must find out — one row per
//! receipt with the person, the insurer really valid on the date of care, and what the
//! engine is expected to output. Documented in `schemas/truth.md`. Not an engine input.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Int64Builder, RecordBatch, StringBuilder,
    UInt32Builder, UInt8Builder,
};
use arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::GenerateError;

/// What the engine should conclude about a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expected {
    Verified,
    Rerouted,
    Matched,
    Pending,
    NoMatch,
    Quarantined,
}

impl Expected {
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Verified => "verified",
            Expected::Rerouted => "rerouted",
            Expected::Matched => "matched",
            Expected::Pending => "pending",
            Expected::NoMatch => "no_match",
            Expected::Quarantined => "quarantined",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TruthRow {
    pub organization: u8,
    pub clinic_code: String,
    pub billing_month: String,
    pub receipt_number: u32,
    pub file: String,
    pub tier: u8,
    pub care_date: NaiveDate,
    pub true_person_id: String,
    pub true_insurer: Option<String>,
    pub true_period_on_roster: bool,
    pub expected_status: Expected,
    pub expected_insurer: Option<String>,
    pub filed_insurer: String,
    pub points: i64,
    pub true_copay_percent: u8,
    pub declared_kind: Option<&'static str>,
    pub has_declaration: bool,
    pub notes: Vec<String>,
}

pub fn truth_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("organization", DataType::UInt8, false),
        Field::new("clinic_code", DataType::Utf8, false),
        Field::new("billing_month", DataType::Utf8, false),
        Field::new("receipt_number", DataType::UInt32, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("tier", DataType::UInt8, false),
        Field::new("care_date", DataType::Date32, false),
        Field::new("true_person_id", DataType::Utf8, false),
        Field::new("true_insurer", DataType::Utf8, true),
        Field::new("true_period_on_roster", DataType::Boolean, false),
        Field::new("expected_status", DataType::Utf8, false),
        Field::new("expected_insurer", DataType::Utf8, true),
        Field::new("filed_insurer", DataType::Utf8, false),
        Field::new("points", DataType::Int64, false),
        Field::new("true_copay_percent", DataType::UInt8, false),
        Field::new("declared_kind", DataType::Utf8, true),
        Field::new("has_declaration", DataType::Boolean, false),
        Field::new("notes", DataType::Utf8, false),
    ]))
}

const BATCH: usize = 65_536;

/// Streams truth rows into `truth.parquet`, a batch at a time.
pub struct TruthWriter {
    path: PathBuf,
    writer: ArrowWriter<File>,
    rows: Vec<TruthRow>,
    pub written: usize,
}

pub fn parquet_props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("reseclear generate".to_string())
        .build()
}

impl TruthWriter {
    pub fn create(path: &Path) -> Result<TruthWriter, GenerateError> {
        let file = File::create(path).map_err(|e| GenerateError::io(path, e))?;
        let writer = ArrowWriter::try_new(file, truth_schema(), Some(parquet_props()))
            .map_err(|e| GenerateError::parquet(path, e))?;
        Ok(TruthWriter {
            path: path.to_path_buf(),
            writer,
            rows: Vec::with_capacity(BATCH),
            written: 0,
        })
    }

    pub fn push(&mut self, row: TruthRow) -> Result<(), GenerateError> {
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), GenerateError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let n = self.rows.len();
        let mut org = UInt8Builder::with_capacity(n);
        let mut clinic = StringBuilder::new();
        let mut month = StringBuilder::new();
        let mut number = UInt32Builder::with_capacity(n);
        let mut file = StringBuilder::new();
        let mut tier = UInt8Builder::with_capacity(n);
        let mut care = Date32Builder::with_capacity(n);
        let mut person = StringBuilder::new();
        let mut true_ins = StringBuilder::new();
        let mut on_roster = BooleanBuilder::with_capacity(n);
        let mut status = StringBuilder::new();
        let mut expected = StringBuilder::new();
        let mut filed = StringBuilder::new();
        let mut points = Int64Builder::with_capacity(n);
        let mut copay = UInt8Builder::with_capacity(n);
        let mut declared = StringBuilder::new();
        let mut has_decl = BooleanBuilder::with_capacity(n);
        let mut notes = StringBuilder::new();
        for r in self.rows.drain(..) {
            org.append_value(r.organization);
            clinic.append_value(&r.clinic_code);
            month.append_value(&r.billing_month);
            number.append_value(r.receipt_number);
            file.append_value(&r.file);
            tier.append_value(r.tier);
            care.append_value(Date32Type::from_naive_date(r.care_date));
            person.append_value(&r.true_person_id);
            true_ins.append_option(r.true_insurer.as_deref());
            on_roster.append_value(r.true_period_on_roster);
            status.append_value(r.expected_status.as_str());
            expected.append_option(r.expected_insurer.as_deref());
            filed.append_value(&r.filed_insurer);
            points.append_value(r.points);
            copay.append_value(r.true_copay_percent);
            declared.append_option(r.declared_kind);
            has_decl.append_value(r.has_declaration);
            notes.append_value(r.notes.join(";"));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(org.finish()),
            Arc::new(clinic.finish()),
            Arc::new(month.finish()),
            Arc::new(number.finish()),
            Arc::new(file.finish()),
            Arc::new(tier.finish()),
            Arc::new(care.finish()),
            Arc::new(person.finish()),
            Arc::new(true_ins.finish()),
            Arc::new(on_roster.finish()),
            Arc::new(status.finish()),
            Arc::new(expected.finish()),
            Arc::new(filed.finish()),
            Arc::new(points.finish()),
            Arc::new(copay.finish()),
            Arc::new(declared.finish()),
            Arc::new(has_decl.finish()),
            Arc::new(notes.finish()),
        ];
        let batch = RecordBatch::try_new(truth_schema(), columns)
            .map_err(|e| GenerateError::arrow(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| GenerateError::parquet(&self.path, e))?;
        self.written += n;
        Ok(())
    }

    pub fn finish(mut self) -> Result<usize, GenerateError> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| GenerateError::parquet(&self.path, e))?;
        Ok(self.written)
    }
}

//! `receipts.parquet`: one row per receipt read — accepted or quarantined — with its
//! tier, status, insurers, money and the reason in words. Documented in
//! `schemas/receipts.md`.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, StringBuilder, UInt32Builder, UInt64Builder,
    UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use compact_str::CompactString;

use super::parquet_file::write_parquet_parallel;
use super::ReportError;
use crate::domain::{InsuranceKind, InsurerNumber, ReceiptKey, YearMonth, Yen};
use crate::ingest::uke::ReceiptKind;
use crate::resolve::outcome::Status;

/// One row of `receipts.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptRow {
    /// `None` for a quarantined receipt whose key could not be read.
    pub key: Option<ReceiptKey>,
    pub receipt_number: Option<u32>,
    /// The file's path, shared by its rows.
    pub file: Arc<str>,
    pub line: u64,
    /// The receipt's kind (医科, DPC, 歯科, 調剤); `None` when its file's header could
    /// not be read.
    pub kind: Option<ReceiptKind>,
    pub tier: u8,
    pub status: Status,
    pub filed_insurer: CompactString,
    pub resolved_insurer: Option<InsurerNumber>,
    pub person_id: Option<CompactString>,
    pub match_weight: Option<f64>,
    pub match_probability: Option<f64>,
    /// 合計点数 × 10; `None` when the points could not be read.
    pub cost_yen: Option<Yen>,
    /// The copay due, the insurer's share (cost − copay) and the 差額 (billed − due);
    /// `None` for quarantined receipts.
    pub copay_yen: Option<Yen>,
    pub insurer_share_yen: Option<Yen>,
    /// Of the copay, what the receipt's 公費 pay and what the patient pays;
    /// `None` for quarantined receipts.
    pub public_expense_yen: Option<Yen>,
    pub patient_yen: Option<Yen>,
    pub copay_diff_yen: Option<Yen>,
    /// The clinic's 都道府県 (IR 3), when its file's IR could be read.
    pub clinic_prefecture: Option<u8>,
    /// The insurance kind the patient declared (`unknown` when none did).
    pub declared_kind: InsuranceKind,
    /// For a receipt on the pending ledger (carried in, or left open now): the run
    /// month it first went open, and its age in months.
    pub first_pending_month: Option<YearMonth>,
    pub pending_months: Option<u32>,
    pub reason: String,
}

pub fn receipts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("organization", DataType::UInt8, true),
        Field::new("clinic_code", DataType::Utf8, true),
        Field::new("billing_month", DataType::Utf8, true),
        Field::new("receipt_number", DataType::UInt32, true),
        Field::new("file", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("receipt_kind", DataType::Utf8, true),
        Field::new("tier", DataType::UInt8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("filed_insurer", DataType::Utf8, false),
        Field::new("resolved_insurer", DataType::Utf8, true),
        Field::new("person_id", DataType::Utf8, true),
        Field::new("match_weight", DataType::Float64, true),
        Field::new("match_probability", DataType::Float64, true),
        Field::new("cost_yen", DataType::Int64, true),
        Field::new("copay_yen", DataType::Int64, true),
        Field::new("insurer_share_yen", DataType::Int64, true),
        Field::new("public_expense_yen", DataType::Int64, true),
        Field::new("patient_yen", DataType::Int64, true),
        Field::new("copay_diff_yen", DataType::Int64, true),
        Field::new("clinic_prefecture", DataType::UInt8, true),
        Field::new("declared_kind", DataType::Utf8, false),
        Field::new("first_pending_month", DataType::Utf8, true),
        Field::new("pending_months", DataType::UInt32, true),
        Field::new("reason", DataType::Utf8, false),
    ]))
}

/// Writes `rows` rows, those of each range as `rows_of` builds them (the run gives file,
/// then line order): a month's rows are built and encoded a range at a time, in
/// parallel, never all held. The same bytes whatever the number of threads.
pub fn write_receipts_parquet(
    path: &Path,
    rows: usize,
    rows_of: impl Fn(Range<usize>) -> Vec<ReceiptRow> + Sync,
) -> Result<(), ReportError> {
    write_parquet_parallel(path, receipts_schema(), rows, |range| {
        receipt_columns(&rows_of(range))
    })
}

/// The columns of `rows`, in [`receipts_schema`] order.
fn receipt_columns(rows: &[ReceiptRow]) -> Vec<ArrayRef> {
    let n = rows.len();
    let mut organization = UInt8Builder::with_capacity(n);
    let mut clinic = StringBuilder::new();
    let mut month = StringBuilder::new();
    let mut number = UInt32Builder::with_capacity(n);
    let mut file = StringBuilder::new();
    let mut line = UInt64Builder::with_capacity(n);
    let mut receipt_kind = StringBuilder::new();
    let mut tier = UInt8Builder::with_capacity(n);
    let mut status = StringBuilder::new();
    let mut filed = StringBuilder::new();
    let mut resolved = StringBuilder::new();
    let mut person = StringBuilder::new();
    let mut weight = Float64Builder::with_capacity(n);
    let mut probability = Float64Builder::with_capacity(n);
    let mut cost = Int64Builder::with_capacity(n);
    let mut copay = Int64Builder::with_capacity(n);
    let mut share = Int64Builder::with_capacity(n);
    let mut public = Int64Builder::with_capacity(n);
    let mut patient = Int64Builder::with_capacity(n);
    let mut diff = Int64Builder::with_capacity(n);
    let mut prefecture = UInt8Builder::with_capacity(n);
    let mut kind = StringBuilder::new();
    let mut first_pending = StringBuilder::new();
    let mut pending_months = UInt32Builder::with_capacity(n);
    let mut reason = StringBuilder::new();
    for r in rows {
        organization.append_option(r.key.map(|k| k.organization.code()));
        clinic.append_option(r.key.map(|k| k.clinic_code.to_string()));
        month.append_option(r.key.map(|k| k.billing_month.to_string()));
        number.append_option(r.key.map(|k| k.receipt_number).or(r.receipt_number));
        file.append_value(&r.file);
        line.append_value(r.line);
        receipt_kind.append_option(r.kind.map(ReceiptKind::as_str));
        tier.append_value(r.tier);
        status.append_value(r.status.as_str());
        filed.append_value(&r.filed_insurer);
        resolved.append_option(r.resolved_insurer.as_ref().map(InsurerNumber::as_str));
        person.append_option(r.person_id.as_deref());
        weight.append_option(r.match_weight);
        probability.append_option(r.match_probability);
        cost.append_option(r.cost_yen.map(|y| y.0));
        copay.append_option(r.copay_yen.map(|y| y.0));
        share.append_option(r.insurer_share_yen.map(|y| y.0));
        public.append_option(r.public_expense_yen.map(|y| y.0));
        patient.append_option(r.patient_yen.map(|y| y.0));
        diff.append_option(r.copay_diff_yen.map(|y| y.0));
        prefecture.append_option(r.clinic_prefecture);
        kind.append_value(r.declared_kind.as_str());
        first_pending.append_option(r.first_pending_month.map(|m| m.to_string()));
        pending_months.append_option(r.pending_months);
        reason.append_value(&r.reason);
    }
    vec![
        Arc::new(organization.finish()),
        Arc::new(clinic.finish()),
        Arc::new(month.finish()),
        Arc::new(number.finish()),
        Arc::new(file.finish()),
        Arc::new(line.finish()),
        Arc::new(receipt_kind.finish()),
        Arc::new(tier.finish()),
        Arc::new(status.finish()),
        Arc::new(filed.finish()),
        Arc::new(resolved.finish()),
        Arc::new(person.finish()),
        Arc::new(weight.finish()),
        Arc::new(probability.finish()),
        Arc::new(cost.finish()),
        Arc::new(copay.finish()),
        Arc::new(share.finish()),
        Arc::new(public.finish()),
        Arc::new(patient.finish()),
        Arc::new(diff.finish()),
        Arc::new(prefecture.finish()),
        Arc::new(kind.finish()),
        Arc::new(first_pending.finish()),
        Arc::new(pending_months.finish()),
        Arc::new(reason.finish()),
    ]
}

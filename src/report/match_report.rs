//! `match_report.parquet`: the evidence an auditor reads for every tier-2 and tier-3
//! receipt. For tier 3, its ranked candidates (at most 5) with every field's comparison
//! level and log2 Bayes factor, the total weight, the probability and the decision; for
//! tier 2, the card lookup's decision and reason. One row per (receipt, candidate,
//! field); a receipt without candidates has one row with the decision and empty
//! candidate columns. Documented in `schemas/match_report.md`.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, RecordBatch, StringBuilder, UInt32Builder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::receipts::write_parquet;
use super::ReportError;
use crate::domain::ReceiptKey;
use crate::resolve::matcher::Candidate;
use crate::resolve::outcome::Status;

pub fn match_report_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("organization", DataType::UInt8, false),
        Field::new("clinic_code", DataType::Utf8, false),
        Field::new("billing_month", DataType::Utf8, false),
        Field::new("receipt_number", DataType::UInt32, false),
        Field::new("tier", DataType::UInt8, false),
        Field::new("decision", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("rank", DataType::UInt8, true),
        Field::new("person_id", DataType::Utf8, true),
        Field::new("match_weight", DataType::Float64, true),
        Field::new("match_probability", DataType::Float64, true),
        Field::new("field", DataType::Utf8, true),
        Field::new("level", DataType::Utf8, true),
        Field::new("log2_bayes_factor", DataType::Float64, true),
        Field::new("reason", DataType::Utf8, false),
    ]))
}

/// One receipt's entry: its key, tier and final status, and the decision with its
/// evidence — the matcher's for tier 3 (`matched`, `review`, `no_match`), `card` for a
/// tier-2 card lookup.
pub struct MatchEntry<'a> {
    pub key: ReceiptKey,
    pub tier: u8,
    pub status: Status,
    pub decision: &'a str,
    pub reason: &'a str,
    pub candidates: &'a [Candidate],
}

pub fn write_match_report(path: &Path, entries: &[MatchEntry<'_>]) -> Result<(), ReportError> {
    let mut organization = UInt8Builder::new();
    let mut clinic = StringBuilder::new();
    let mut month = StringBuilder::new();
    let mut number = UInt32Builder::new();
    let mut tier = UInt8Builder::new();
    let mut decision = StringBuilder::new();
    let mut status = StringBuilder::new();
    let mut rank = UInt8Builder::new();
    let mut person = StringBuilder::new();
    let mut weight = Float64Builder::new();
    let mut probability = Float64Builder::new();
    let mut field = StringBuilder::new();
    let mut level = StringBuilder::new();
    let mut bf = Float64Builder::new();
    let mut reason = StringBuilder::new();
    let mut row = |e: &MatchEntry<'_>| {
        organization.append_value(e.key.organization.code());
        clinic.append_value(e.key.clinic_code.as_str());
        month.append_value(e.key.billing_month.to_string());
        number.append_value(e.key.receipt_number);
        tier.append_value(e.tier);
        decision.append_value(e.decision);
        status.append_value(e.status.as_str());
        reason.append_value(e.reason);
    };
    for e in entries {
        if e.candidates.is_empty() {
            row(e);
            rank.append_null();
            person.append_null();
            weight.append_null();
            probability.append_null();
            field.append_null();
            level.append_null();
            bf.append_null();
        }
        for (i, c) in e.candidates.iter().enumerate() {
            for f in &c.comparisons {
                row(e);
                rank.append_value(i as u8 + 1);
                person.append_value(&c.person_id);
                weight.append_value(c.match_weight);
                probability.append_value(c.match_probability);
                field.append_value(f.field);
                level.append_value(f.level);
                bf.append_value(f.log2_bayes_factor);
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(organization.finish()),
        Arc::new(clinic.finish()),
        Arc::new(month.finish()),
        Arc::new(number.finish()),
        Arc::new(tier.finish()),
        Arc::new(decision.finish()),
        Arc::new(status.finish()),
        Arc::new(rank.finish()),
        Arc::new(person.finish()),
        Arc::new(weight.finish()),
        Arc::new(probability.finish()),
        Arc::new(field.finish()),
        Arc::new(level.finish()),
        Arc::new(bf.finish()),
        Arc::new(reason.finish()),
    ];
    let batch = RecordBatch::try_new(match_report_schema(), columns).map_err(|source| {
        ReportError::Arrow {
            path: path.to_path_buf(),
            source,
        }
    })?;
    write_parquet(path, &batch)
}

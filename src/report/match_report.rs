//! `match_report.parquet`: the evidence an auditor reads for every tier-2 and tier-3
//! receipt. For tier 3, its ranked candidates (at most 5) with every field's comparison
//! level and log2 Bayes factor, the total weight, the probability and the decision; for
//! tier 2, the card lookup's decision and reason. One row per (receipt, candidate,
//! field); a receipt without candidates has one row with the decision and empty
//! candidate columns. Documented in `schemas/match_report.md`.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, StringBuilder, UInt32Builder, UInt8Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::parquet_file::write_parquet_parallel;
use super::ReportError;
use crate::domain::ReceiptKey;
use crate::resolve::matcher::{Candidate, FieldComparison};
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
    pub reason: Cow<'a, str>,
    pub candidates: &'a [Candidate],
}

/// Writes one row per (entry, candidate, field), or one for an entry without
/// candidates, in the entries' order; built and encoded in parallel, the same bytes
/// whatever the number of threads.
pub fn write_match_report(path: &Path, entries: &[MatchEntry<'_>]) -> Result<(), ReportError> {
    // starts[i]: the first row of entry i.
    let mut starts = Vec::with_capacity(entries.len() + 1);
    let mut rows = 0;
    for e in entries {
        starts.push(rows);
        rows += entry_rows(e).count();
    }
    starts.push(rows);
    write_parquet_parallel(path, match_report_schema(), rows, |range| {
        report_columns(entries, &starts, range)
    })
}

/// A row of the report: the candidate's rank and the field, or `None` for an entry
/// without candidates.
type Evidence<'e> = Option<(u8, &'e Candidate, &'e FieldComparison)>;

fn entry_rows<'e>(e: &'e MatchEntry<'_>) -> impl Iterator<Item = Evidence<'e>> + 'e {
    let decision_only = e.candidates.is_empty().then_some(None);
    let fields = e
        .candidates
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.comparisons.iter().map(move |f| Some((i as u8 + 1, c, f))));
    decision_only.into_iter().chain(fields)
}

/// The columns of rows `range`, in [`match_report_schema`] order.
fn report_columns(
    entries: &[MatchEntry<'_>],
    starts: &[usize],
    range: Range<usize>,
) -> Vec<ArrayRef> {
    let n = range.len();
    let mut organization = UInt8Builder::with_capacity(n);
    let mut clinic = StringBuilder::new();
    let mut month = StringBuilder::new();
    let mut number = UInt32Builder::with_capacity(n);
    let mut tier = UInt8Builder::with_capacity(n);
    let mut decision = StringBuilder::new();
    let mut status = StringBuilder::new();
    let mut rank = UInt8Builder::with_capacity(n);
    let mut person = StringBuilder::new();
    let mut weight = Float64Builder::with_capacity(n);
    let mut probability = Float64Builder::with_capacity(n);
    let mut field = StringBuilder::new();
    let mut level = StringBuilder::new();
    let mut bf = Float64Builder::with_capacity(n);
    let mut reason = StringBuilder::new();
    // The entry holding the range's first row, and that row's place in it.
    let first = starts
        .partition_point(|&s| s <= range.start)
        .saturating_sub(1);
    let skip = range.start - starts.get(first).copied().unwrap_or(0);
    let rows = entries
        .get(first..)
        .unwrap_or_default()
        .iter()
        .flat_map(|e| entry_rows(e).map(move |evidence| (e, evidence)))
        .skip(skip)
        .take(n);
    for (e, evidence) in rows {
        organization.append_value(e.key.organization.code());
        clinic.append_value(e.key.clinic_code.as_str());
        month.append_value(e.key.billing_month.to_string());
        number.append_value(e.key.receipt_number);
        tier.append_value(e.tier);
        decision.append_value(e.decision);
        status.append_value(e.status.as_str());
        reason.append_value(&e.reason);
        rank.append_option(evidence.map(|(r, _, _)| r));
        person.append_option(evidence.map(|(_, c, _)| &c.person_id));
        weight.append_option(evidence.map(|(_, c, _)| c.match_weight));
        probability.append_option(evidence.map(|(_, c, _)| c.match_probability));
        field.append_option(evidence.map(|(_, _, f)| f.field));
        level.append_option(evidence.map(|(_, _, f)| f.level));
        bf.append_option(evidence.map(|(_, _, f)| f.log2_bayes_factor));
    }
    vec![
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
    ]
}

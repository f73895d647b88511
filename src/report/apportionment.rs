//! `apportionment.parquet`: one row per (final-unresolved receipt, insurer given a
//! part), in receipt-key then insurer-number order. Layout in
//! `schemas/apportionment.md`; read back by `reseclear compare`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::parquet_file::write_parquet;
use super::ReportError;
use crate::apportion::MonthApportionment;
use crate::domain::{InsurerNumber, Yen};
use crate::ingest::parquet_table::{opt_str, Table};
use crate::ingest::IngestError;

pub fn apportionment_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("organization", DataType::UInt8, false),
        Field::new("clinic_code", DataType::Utf8, false),
        Field::new("billing_month", DataType::Utf8, false),
        Field::new("receipt_number", DataType::UInt32, false),
        Field::new("claim_amount_yen", DataType::Int64, false),
        Field::new("insurer_number", DataType::Utf8, false),
        Field::new("amount_yen", DataType::Int64, false),
        Field::new("basis", DataType::Utf8, false),
        Field::new("basis_value", DataType::UInt64, false),
        Field::new("basis_total", DataType::UInt64, false),
        Field::new("scope", DataType::Utf8, false),
        Field::new("widened", DataType::Boolean, false),
        Field::new("kind_dropped", DataType::Boolean, false),
        Field::new("kinds", DataType::Utf8, false),
        Field::new("clinic_prefecture", DataType::UInt8, true),
        Field::new("declared_kind", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
    ]))
}

/// Writes the month's apportionment (receipts are already in key order, parts in
/// insurer-number order).
pub fn write_apportionment(path: &Path, month: &MonthApportionment) -> Result<(), ReportError> {
    let mut organization = UInt8Builder::new();
    let mut clinic = StringBuilder::new();
    let mut billing = StringBuilder::new();
    let mut number = UInt32Builder::new();
    let mut claim = Int64Builder::new();
    let mut insurer = StringBuilder::new();
    let mut amount = Int64Builder::new();
    let mut basis = StringBuilder::new();
    let mut value = UInt64Builder::new();
    let mut total = UInt64Builder::new();
    let mut scope = StringBuilder::new();
    let mut widened = BooleanBuilder::new();
    let mut kind_dropped = BooleanBuilder::new();
    let mut kinds = StringBuilder::new();
    let mut prefecture = UInt8Builder::new();
    let mut declared = StringBuilder::new();
    let mut reason = StringBuilder::new();
    for r in &month.receipts {
        let a = &r.allocation;
        let kinds_text = a
            .kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("/");
        for p in &a.parts {
            organization.append_value(r.key.organization.code());
            clinic.append_value(r.key.clinic_code.as_str());
            billing.append_value(r.key.billing_month.to_string());
            number.append_value(r.key.receipt_number);
            claim.append_value(a.amount.0);
            insurer.append_value(p.insurer.as_str());
            amount.append_value(p.amount.0);
            basis.append_value(a.basis_used.as_str());
            value.append_value(p.basis_value);
            total.append_value(a.basis_total);
            scope.append_value(a.scope_used.as_str());
            widened.append_value(a.widened);
            kind_dropped.append_value(a.kind_dropped);
            kinds.append_value(&kinds_text);
            prefecture.append_option(r.context.prefecture);
            declared.append_value(r.context.kind.as_str());
            reason.append_value(&a.reason);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(organization.finish()),
        Arc::new(clinic.finish()),
        Arc::new(billing.finish()),
        Arc::new(number.finish()),
        Arc::new(claim.finish()),
        Arc::new(insurer.finish()),
        Arc::new(amount.finish()),
        Arc::new(basis.finish()),
        Arc::new(value.finish()),
        Arc::new(total.finish()),
        Arc::new(scope.finish()),
        Arc::new(widened.finish()),
        Arc::new(kind_dropped.finish()),
        Arc::new(kinds.finish()),
        Arc::new(prefecture.finish()),
        Arc::new(declared.finish()),
        Arc::new(reason.finish()),
    ];
    let batch = RecordBatch::try_new(apportionment_schema(), columns).map_err(|source| {
        ReportError::Arrow {
            path: path.to_path_buf(),
            source,
        }
    })?;
    write_parquet(path, &batch)
}

/// What an apportionment file gives each insurer: receipts it shares in and yen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsurerParts {
    pub receipts: u64,
    pub yen: Yen,
}

/// Sums an `apportionment.parquet` by insurer, and counts its receipts and yen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApportionmentTotals {
    pub by_insurer: BTreeMap<InsurerNumber, InsurerParts>,
    /// Distinct receipts, and Σ of their claim amounts.
    pub receipts: u64,
    pub claims_yen: Yen,
    /// Receipts whose parts do not sum to their claim amount (0 in any file reseclear
    /// wrote), for `reseclear verify`.
    pub receipts_not_summing: u64,
}

/// Reads an `apportionment.parquet` and sums it by insurer.
pub fn read_apportionment_totals(path: &Path) -> Result<ApportionmentTotals, IngestError> {
    let columns = [
        "organization",
        "clinic_code",
        "billing_month",
        "receipt_number",
        "claim_amount_yen",
        "insurer_number",
        "amount_yen",
    ];
    // A row is one insurer's part of a receipt: a run's file may hold many more rows
    // than a run holds receipts (each apportioned over tens of insurers), so the rows
    // are not bounded; the receipts are, and every sum is checked.
    let table = Table::read(path, &columns)?;
    let mut out = ApportionmentTotals::default();
    let mut last: Option<(u8, String, String, u32)> = None;
    // The current receipt's claim amount and Σ of its parts so far.
    let mut current = (Yen(0), Yen(0));
    let mut row = 0usize;
    for b in table.batches() {
        let organization = b.u8("organization")?;
        let clinic = b.utf8("clinic_code")?;
        let month = b.utf8("billing_month")?;
        let number = b.u32("receipt_number")?;
        let claim = b.yen("claim_amount_yen", Yen::RECEIPT_RANGE)?;
        let insurer = b.utf8("insurer_number")?;
        let amount = b.yen("amount_yen", Yen::RECEIPT_RANGE)?;
        for i in 0..b.num_rows() {
            row += 1;
            let bad = |what: &str| IngestError::invalid(path, format!("row {row}: {what}"));
            let (Some(claim), Some(amount)) = (claim.get(i)?, amount.get(i)?) else {
                return Err(bad("an amount column is null"));
            };
            if organization.is_null(i) || number.is_null(i) {
                return Err(bad("a key column is null"));
            }
            let key = (
                organization.value(i),
                opt_str(clinic, i).unwrap_or_default().to_string(),
                opt_str(month, i).unwrap_or_default().to_string(),
                number.value(i),
            );
            let beyond = || bad("the yen add up beyond what a run can hold: not a run's file");
            if last.as_ref() != Some(&key) {
                if last.is_some() && current.0 != current.1 {
                    out.receipts_not_summing += 1;
                }
                out.receipts += 1;
                if out.receipts > Yen::MAX_RECEIPTS_PER_RUN {
                    return Err(bad("more receipts than one run holds: not a run's file"));
                }
                out.claims_yen = out.claims_yen.checked_add(claim).ok_or_else(beyond)?;
                current = (claim, Yen(0));
                last = Some(key);
            }
            current.1 = current.1.checked_add(amount).ok_or_else(beyond)?;
            let number = opt_str(insurer, i)
                .and_then(|s| InsurerNumber::parse(s).ok())
                .ok_or_else(|| bad("insurer_number is not an insurer number"))?;
            let e = out.by_insurer.entry(number).or_default();
            e.receipts += 1;
            e.yen = e.yen.checked_add(amount).ok_or_else(beyond)?;
        }
    }
    if last.is_some() && current.0 != current.1 {
        out.receipts_not_summing += 1;
    }
    Ok(out)
}

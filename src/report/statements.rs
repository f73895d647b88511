//! Per-insurer statements (`statements.csv` and `statements.parquet`): what each
//! insurer owes for the month — its verified, rerouted and matched receipts' insurer
//! shares, plus its parts of apportioned receipts — and the copay 差額 found on its
//! receipts. Every insurer of the master has a row (zeros included), and so does any
//! insurer the roster routed receipts to that the master lacks (`in_master` false).
//! Layout in `schemas/statements.md`. Both files are written from one set of columns,
//! so they cannot disagree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, UInt64Array, UInt8Array,
};
use arrow::datatypes::{DataType, Field, Schema};

use super::parquet_file::write_parquet;
use super::ReportError;
use crate::apportion::{MonthApportionment, ShareRow};
use crate::domain::{InsurerNumber, ReceiptKey, Yen};
use crate::ingest::insurers::InsurerMaster;
use crate::ingest::uke::ReceiptKind;
use crate::resolve::outcome::Status;

/// Receipts and yen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub receipts: u64,
    pub yen: Yen,
}

impl Tally {
    fn add(&mut self, yen: Yen) {
        self.receipts += 1;
        self.yen += yen;
    }
}

/// One insurer's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub insurer: InsurerNumber,
    pub in_master: bool,
    /// From the master (empty / `None` when not in it).
    pub name: String,
    pub kind: Option<&'static str>,
    pub prefecture: Option<u8>,
    pub verified: Tally,
    pub rerouted: Tally,
    pub matched: Tally,
    /// Receipts this insurer has a part of, and the parts' sum.
    pub apportioned: Tally,
    /// Routed receipts with a copay 差額, and its sum (billed − due).
    pub copay_diff: Tally,
    /// What it owes (routed shares and apportioned parts) by the kind of claim, in
    /// [`ReceiptKind::ALL`] order; together, [`Statement::owed_yen`] when every receipt's
    /// kind is known.
    pub owed_by_kind: [Yen; 4],
}

impl Statement {
    /// Insurer share of the receipts routed to the insurer.
    pub fn routed_yen(&self) -> Yen {
        self.verified.yen + self.rerouted.yen + self.matched.yen
    }

    /// Routed yen plus apportioned parts: what the insurer owes for the month.
    pub fn owed_yen(&self) -> Yen {
        self.routed_yen() + self.apportioned.yen
    }
}

/// The statements of a month, in insurer-number order.
pub fn statements(
    rows: &[ShareRow],
    month: &MonthApportionment,
    master: &InsurerMaster,
) -> Vec<Statement> {
    let mut by: BTreeMap<InsurerNumber, Statement> = master
        .iter()
        .map(|ins| {
            (
                ins.number,
                Statement {
                    insurer: ins.number,
                    in_master: true,
                    name: ins.name.clone(),
                    kind: Some(ins.kind.as_str()),
                    prefecture: Some(ins.prefecture),
                    ..blank(ins.number)
                },
            )
        })
        .collect();
    for r in rows {
        let Some(insurer) = r.resolved_insurer.filter(|_| r.status.is_routed()) else {
            continue;
        };
        let s = by.entry(insurer).or_insert_with(|| blank(insurer));
        if let Some(kind) = r.receipt_kind {
            s.owed_by_kind[kind.index()] += r.insurer_share;
        }
        match r.status {
            Status::Verified => s.verified.add(r.insurer_share),
            Status::Rerouted => s.rerouted.add(r.insurer_share),
            _ => s.matched.add(r.insurer_share),
        }
        if r.copay_diff != Yen(0) {
            s.copay_diff.add(r.copay_diff);
        }
    }
    let kinds: BTreeMap<ReceiptKey, ReceiptKind> = rows
        .iter()
        .filter(|r| r.is_final())
        .filter_map(|r| Some((r.key, r.receipt_kind?)))
        .collect();
    for r in &month.receipts {
        let kind = kinds.get(&r.key);
        for p in &r.allocation.parts {
            let s = by.entry(p.insurer).or_insert_with(|| blank(p.insurer));
            s.apportioned.add(p.amount);
            if let Some(kind) = kind {
                s.owed_by_kind[kind.index()] += p.amount;
            }
        }
    }
    by.into_values().collect()
}

fn blank(insurer: InsurerNumber) -> Statement {
    Statement {
        insurer,
        in_master: false,
        name: String::new(),
        kind: None,
        prefecture: None,
        verified: Tally::default(),
        rerouted: Tally::default(),
        matched: Tally::default(),
        apportioned: Tally::default(),
        copay_diff: Tally::default(),
        owed_by_kind: [Yen(0); 4],
    }
}

/// A column of the statements, shared by the CSV and the Parquet file.
enum Column {
    Text(Vec<Option<String>>),
    Flag(Vec<bool>),
    Small(Vec<Option<u8>>),
    Count(Vec<u64>),
    Yen(Vec<i64>),
}

impl Column {
    fn cell(&self, row: usize) -> String {
        match self {
            Column::Text(v) => v[row].clone().unwrap_or_default(),
            Column::Flag(v) => v[row].to_string(),
            Column::Small(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Column::Count(v) => v[row].to_string(),
            Column::Yen(v) => v[row].to_string(),
        }
    }

    fn field(&self, name: &str) -> (Field, ArrayRef) {
        match self {
            Column::Text(v) => (
                Field::new(name, DataType::Utf8, true),
                Arc::new(StringArray::from(v.clone())),
            ),
            Column::Flag(v) => (
                Field::new(name, DataType::Boolean, false),
                Arc::new(BooleanArray::from(v.clone())),
            ),
            Column::Small(v) => (
                Field::new(name, DataType::UInt8, true),
                Arc::new(UInt8Array::from(v.clone())),
            ),
            Column::Count(v) => (
                Field::new(name, DataType::UInt64, false),
                Arc::new(UInt64Array::from(v.clone())),
            ),
            Column::Yen(v) => (
                Field::new(name, DataType::Int64, false),
                Arc::new(Int64Array::from(v.clone())),
            ),
        }
    }
}

fn columns(s: &[Statement]) -> Vec<(&'static str, Column)> {
    let text = |f: &dyn Fn(&Statement) -> Option<String>| Column::Text(s.iter().map(f).collect());
    let count = |f: &dyn Fn(&Statement) -> u64| Column::Count(s.iter().map(f).collect());
    let yen = |f: &dyn Fn(&Statement) -> Yen| Column::Yen(s.iter().map(|x| f(x).0).collect());
    vec![
        (
            "insurer_number",
            text(&|x| Some(x.insurer.as_str().to_string())),
        ),
        ("insurer_name", text(&|x| Some(x.name.clone()))),
        ("kind", text(&|x| x.kind.map(str::to_string))),
        (
            "prefecture",
            Column::Small(s.iter().map(|x| x.prefecture).collect()),
        ),
        (
            "in_master",
            Column::Flag(s.iter().map(|x| x.in_master).collect()),
        ),
        ("verified_receipts", count(&|x| x.verified.receipts)),
        ("verified_yen", yen(&|x| x.verified.yen)),
        ("rerouted_receipts", count(&|x| x.rerouted.receipts)),
        ("rerouted_yen", yen(&|x| x.rerouted.yen)),
        ("matched_receipts", count(&|x| x.matched.receipts)),
        ("matched_yen", yen(&|x| x.matched.yen)),
        ("routed_yen", yen(&Statement::routed_yen)),
        ("apportioned_receipts", count(&|x| x.apportioned.receipts)),
        ("apportioned_yen", yen(&|x| x.apportioned.yen)),
        ("owed_yen", yen(&Statement::owed_yen)),
    ]
    .into_iter()
    .chain(OWED_BY_KIND.map(|(kind, name)| (name, yen(&move |x| x.owed_by_kind[kind.index()]))))
    .chain([
        ("copay_diff_receipts", count(&|x| x.copay_diff.receipts)),
        ("copay_diff_yen", yen(&|x| x.copay_diff.yen)),
    ])
    .collect()
}

/// The statements' column of what each kind of claim owes (`owed_<kind>_yen`), in
/// [`ReceiptKind::ALL`] order.
pub const OWED_BY_KIND: [(ReceiptKind, &str); 4] = [
    (ReceiptKind::Ika, "owed_ika_yen"),
    (ReceiptKind::Dpc, "owed_dpc_yen"),
    (ReceiptKind::Shika, "owed_shika_yen"),
    (ReceiptKind::Chozai, "owed_chozai_yen"),
];

/// Writes `statements.csv` (UTF-8, header row, one row per insurer).
pub fn write_statements_csv(path: &Path, statements: &[Statement]) -> Result<(), ReportError> {
    let io = |source: std::io::Error| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let cols = columns(statements);
    let mut w = csv::Writer::from_path(path).map_err(|e| io(e.into()))?;
    w.write_record(cols.iter().map(|(name, _)| *name))
        .map_err(|e| io(e.into()))?;
    for row in 0..statements.len() {
        w.write_record(cols.iter().map(|(_, c)| {
            let cell = c.cell(row);
            crate::csv_cell::neutralize(&cell).into_owned()
        }))
        .map_err(|e| io(e.into()))?;
    }
    w.flush().map_err(io)
}

/// Writes `statements.parquet`, the same columns typed.
pub fn write_statements_parquet(path: &Path, statements: &[Statement]) -> Result<(), ReportError> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns(statements)
        .iter()
        .map(|(name, c)| c.field(name))
        .unzip();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|source| {
        ReportError::Arrow {
            path: path.to_path_buf(),
            source,
        }
    })?;
    write_parquet(path, &batch)
}

//! Reading a finished run's outputs for the page. The manifest is read whole (it is
//! small); the Parquet files are streamed batch by batch, only the columns the page
//! needs, into totals, a histogram, per-insurer sums and the first receipts of the
//! review queue; `quarantine.csv` is streamed and grouped by reason. Memory stays
//! bounded by the number of insurers, statuses and reasons, never by receipts.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{
    Array, ArrowPrimitiveType, BooleanArray, Float64Array, Int64Array, PrimitiveArray, RecordBatch,
    StringArray, UInt32Array, UInt64Array, UInt8Array,
};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use serde_json::Value;

use super::{mask_person_id, HtmlOptions, HtmlReportError};
use crate::domain::Yen;

const BATCH_ROWS: usize = 65_536;
/// Match weights are binned by whole bits, clamped to ±this (the outer bins hold the rest).
pub(super) const WEIGHT_CLAMP: i32 = 100;
/// Distinct quarantine reasons kept; further ones are counted in one overflow group.
const MAX_REASON_GROUPS: usize = 2_000;

/// The tier-3 statuses the histogram stacks apart; every other status is `other`.
pub(super) const HISTOGRAM_GROUPS: [&str; 4] = ["matched", "review", "no_match", "other"];

/// A receipt key, ordered as the outputs order receipts: organization, clinic, billing
/// month, receipt number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub organization: Option<u8>,
    pub clinic_code: String,
    pub billing_month: String,
    pub receipt_number: Option<u32>,
}

impl Key {
    /// As `quarantine.csv` writes it: `clinic:YYYY-MM:number@organization`.
    pub fn display(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "?".to_string());
        format!(
            "{}:{}:{}@{}",
            self.clinic_code,
            self.billing_month,
            opt(self.receipt_number.map(|n| n.to_string())),
            opt(self.organization.map(|o| o.to_string())),
        )
    }

    fn is(&self, org: Option<u8>, clinic: &str, month: &str, number: Option<u32>) -> bool {
        self.organization == org
            && self.clinic_code == clinic
            && self.billing_month == month
            && self.receipt_number == number
    }
}

/// Receipts and their money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Money {
    pub receipts: u64,
    pub cost_yen: i64,
    pub share_yen: i64,
    /// Receipts whose cost could not be read (null `cost_yen`).
    pub cost_missing: u64,
}

/// Tier-3 match weights in whole-bit bins, stacked by status group.
#[derive(Debug, Clone, Default)]
pub(super) struct Histogram {
    /// floor(weight), clamped to ±[`WEIGHT_CLAMP`] → counts per [`HISTOGRAM_GROUPS`].
    pub bins: BTreeMap<i32, [u64; 4]>,
    pub tier3: u64,
    /// Tier-3 receipts with no weight (no candidate).
    pub without_weight: u64,
}

/// What `receipts.parquet` adds up to.
#[derive(Debug, Clone, Default)]
pub(super) struct ReceiptAgg {
    pub rows: u64,
    /// status → tier → money.
    pub by_status_tier: BTreeMap<String, BTreeMap<u8, Money>>,
    pub histogram: Histogram,
    pub review_total: u64,
}

/// One candidate of a review receipt, with its evidence.
#[derive(Debug, Clone, Default)]
pub(super) struct Candidate {
    pub rank: u8,
    /// Already masked unless `show_pii`.
    pub person: String,
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    /// (field, level, log2 Bayes factor), in the model's order.
    pub fields: Vec<(String, String, f64)>,
}

impl Candidate {
    /// The prior the candidate's weight started from: its weight less its evidence.
    pub fn prior(&self) -> Option<f64> {
        let evidence: f64 = self.fields.iter().map(|f| f.2).sum();
        self.weight.map(|w| w - evidence)
    }
}

/// One receipt of the review queue.
#[derive(Debug, Clone, Default)]
pub(super) struct ReviewItem {
    pub tier: u8,
    pub file: String,
    pub line: u64,
    pub filed_insurer: String,
    pub cost_yen: Option<i64>,
    pub share_yen: Option<i64>,
    pub declared_kind: String,
    pub first_pending_month: Option<String>,
    pub pending_months: Option<u32>,
    pub reason: String,
    /// From `match_report.parquet`: the matcher's decision and its reason.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Parts {
    pub parts: u64,
    pub yen: i64,
}

/// What `apportionment.parquet` adds up to.
#[derive(Debug, Clone, Default)]
pub(super) struct ApportionmentAgg {
    pub rows: u64,
    pub receipts: u64,
    /// Σ claim_amount_yen over receipts (once each) and Σ amount_yen over rows.
    pub claim_yen: i64,
    pub parts_yen: i64,
    pub by_insurer: BTreeMap<String, Parts>,
    /// Receipts by basis, by scope.
    pub by_basis: BTreeMap<String, u64>,
    pub by_scope: BTreeMap<String, u64>,
    pub widened: u64,
    pub kind_dropped: u64,
}

/// One insurer's statement row.
#[derive(Debug, Clone, Default)]
pub(super) struct StatementRow {
    pub insurer: String,
    pub name: String,
    pub kind: Option<String>,
    pub prefecture: Option<u8>,
    pub in_master: bool,
    pub verified_receipts: u64,
    pub verified_yen: i64,
    pub rerouted_receipts: u64,
    pub rerouted_yen: i64,
    pub matched_receipts: u64,
    pub matched_yen: i64,
    pub routed_yen: i64,
    pub apportioned_receipts: u64,
    pub apportioned_yen: i64,
    pub owed_yen: i64,
    pub copay_diff_receipts: u64,
    pub copay_diff_yen: i64,
}

#[derive(Debug, Clone, Default)]
pub(super) struct StatementsAgg {
    /// The file read: `statements.parquet` or `statements.csv`.
    pub source: &'static str,
    /// In file (insurer number) order.
    pub rows: Vec<StatementRow>,
}

/// One row of `quarantine.csv`, as shown.
#[derive(Debug, Clone, Default)]
pub(super) struct QuarantineRow {
    pub file: String,
    pub line: String,
    pub record: String,
    pub field: String,
    pub value: String,
    pub reason: String,
    pub receipt_key: String,
}

/// Rows sharing one reason (numbers and quoted values folded) and scope.
#[derive(Debug, Clone, Default)]
pub(super) struct ReasonGroup {
    pub count: u64,
    /// Rows by record id (`RE`, `GO`, `roster` …).
    pub records: BTreeMap<String, u64>,
    /// Distinct receipt keys are not kept; rows naming a receipt are counted.
    pub with_receipt_key: u64,
    pub examples: Vec<QuarantineRow>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct QuarantineAgg {
    pub rows: u64,
    pub by_scope: BTreeMap<String, u64>,
    /// (scope, reason pattern) → group.
    pub groups: BTreeMap<(String, String), ReasonGroup>,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub(super) struct RunData {
    pub manifest: Value,
    pub manifest_sha256: String,
    pub receipts: ReceiptAgg,
    pub review: BTreeMap<Key, ReviewItem>,
    pub match_report_present: bool,
    pub apportionment: Option<ApportionmentAgg>,
    pub statements: Option<StatementsAgg>,
    pub quarantine: Option<QuarantineAgg>,
}

impl RunData {
    pub fn balanced(&self) -> bool {
        self.manifest
            .pointer("/conservation/balanced")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// Reads and aggregates the run in `dir`.
pub(super) fn read_run(dir: &Path, options: &HtmlOptions) -> Result<RunData, HtmlReportError> {
    let manifest_path = dir.join(crate::run::MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).map_err(read_err(&manifest_path))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|source| HtmlReportError::Json {
        path: manifest_path.clone(),
        source,
    })?;
    if !manifest.is_object() {
        return Err(HtmlReportError::invalid(
            &manifest_path,
            "expected a JSON object",
        ));
    }
    let manifest_sha256 = crate::manifest::sha256_bytes(text.as_bytes());

    let (receipts, mut review) = read_receipts(&dir.join(crate::run::RECEIPTS_FILE), options)?;
    let match_report_path = dir.join(crate::run::MATCH_REPORT_FILE);
    let match_report_present = match_report_path.is_file();
    if match_report_present {
        read_match_report(&match_report_path, &mut review, options)?;
    }
    let apportionment_path = dir.join(crate::run::APPORTIONMENT_FILE);
    let apportionment = if apportionment_path.is_file() {
        Some(read_apportionment(&apportionment_path)?)
    } else {
        None
    };
    let statements_parquet = dir.join(crate::run::STATEMENTS_PARQUET);
    let statements_csv = dir.join(crate::run::STATEMENTS_CSV);
    let statements = if statements_parquet.is_file() {
        Some(read_statements_parquet(&statements_parquet)?)
    } else if statements_csv.is_file() {
        Some(read_statements_csv(&statements_csv)?)
    } else {
        None
    };
    let quarantine_path = dir.join(crate::run::QUARANTINE_FILE);
    let quarantine = if quarantine_path.is_file() {
        Some(read_quarantine(&quarantine_path, options)?)
    } else {
        None
    };
    Ok(RunData {
        manifest,
        manifest_sha256,
        receipts,
        review,
        match_report_present,
        apportionment,
        statements,
        quarantine,
    })
}

fn read_err(path: &Path) -> impl Fn(std::io::Error) -> HtmlReportError + '_ {
    move |source| HtmlReportError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens a Parquet file for streaming `wanted` columns (those present); every column of
/// `required` must be present.
fn open_parquet(
    path: &Path,
    wanted: &[&str],
    required: &[&str],
) -> Result<ParquetRecordBatchReader, HtmlReportError> {
    let parquet_err = |source| HtmlReportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err(path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let schema = builder.schema().clone();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| schema.field_with_name(c).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(HtmlReportError::invalid(
            path,
            format!("missing column(s): {}", missing.join(", ")),
        ));
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), wanted.iter().copied());
    builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(parquet_err)
}

/// Streams the batches of `reader`, calling `each` on every one.
fn for_each_batch(
    path: &Path,
    reader: ParquetRecordBatchReader,
    mut each: impl FnMut(Cols<'_>) -> Result<(), HtmlReportError>,
) -> Result<(), HtmlReportError> {
    for batch in reader {
        let batch = batch.map_err(|source| HtmlReportError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        each(Cols {
            path,
            batch: &batch,
        })?;
    }
    Ok(())
}

/// Typed access to one batch's columns by name.
#[derive(Clone, Copy)]
struct Cols<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
}

impl<'a> Cols<'a> {
    fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn opt<T: Array + 'static>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<&'a T>, HtmlReportError> {
        let Some(column) = self.batch.column_by_name(name) else {
            return Ok(None);
        };
        column
            .as_any()
            .downcast_ref::<T>()
            .map(Some)
            .ok_or_else(|| {
                HtmlReportError::invalid(
                    self.path,
                    format!(
                        "column {name} is {}, expected {expected}",
                        column.data_type()
                    ),
                )
            })
    }

    fn req<T: Array + 'static>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<&'a T, HtmlReportError> {
        self.opt(name, expected)?
            .ok_or_else(|| HtmlReportError::invalid(self.path, format!("missing column {name}")))
    }

    fn utf8(&self, name: &str) -> Result<&'a StringArray, HtmlReportError> {
        self.req(name, "Utf8")
    }
    fn opt_utf8(&self, name: &str) -> Result<Option<&'a StringArray>, HtmlReportError> {
        self.opt(name, "Utf8")
    }
    fn u8(&self, name: &str) -> Result<&'a UInt8Array, HtmlReportError> {
        self.req(name, "UInt8")
    }
    fn opt_u8(&self, name: &str) -> Result<Option<&'a UInt8Array>, HtmlReportError> {
        self.opt(name, "UInt8")
    }
    fn u32(&self, name: &str) -> Result<&'a UInt32Array, HtmlReportError> {
        self.req(name, "UInt32")
    }
    fn opt_u32(&self, name: &str) -> Result<Option<&'a UInt32Array>, HtmlReportError> {
        self.opt(name, "UInt32")
    }
    fn opt_u64(&self, name: &str) -> Result<Option<&'a UInt64Array>, HtmlReportError> {
        self.opt(name, "UInt64")
    }
    fn i64(&self, name: &str) -> Result<&'a Int64Array, HtmlReportError> {
        self.req(name, "Int64")
    }
    fn opt_i64(&self, name: &str) -> Result<Option<&'a Int64Array>, HtmlReportError> {
        self.opt(name, "Int64")
    }
    fn opt_f64(&self, name: &str) -> Result<Option<&'a Float64Array>, HtmlReportError> {
        self.opt(name, "Float64")
    }
    fn opt_bool(&self, name: &str) -> Result<Option<&'a BooleanArray>, HtmlReportError> {
        self.opt(name, "Boolean")
    }
}

fn num<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>, row: usize) -> Option<T::Native> {
    a.is_valid(row).then(|| a.value(row))
}

fn opt_num<T: ArrowPrimitiveType>(a: Option<&PrimitiveArray<T>>, row: usize) -> Option<T::Native> {
    a.and_then(|a| num(a, row))
}

/// The yen `value` of file row `row`, which must lie in `range`: a file edited after its
/// run may hold any number, and the page's sums over it must not overflow.
fn yen_in(
    path: &Path,
    column: &str,
    row: u64,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, HtmlReportError> {
    value
        .map(|v| Yen::read_back(row, column, v, &range).map(|y| y.0))
        .transpose()
        .map_err(|e| HtmlReportError::invalid(path, e.to_string()))
}

/// More rows than any run holds: refused before the page's counts could overflow.
fn too_many_rows(path: &Path, rows: u64) -> Result<(), HtmlReportError> {
    Yen::check_rows(rows).map_err(|e| HtmlReportError::invalid(path, e.to_string()))
}

fn text(a: &StringArray, row: usize) -> Option<&str> {
    a.is_valid(row).then(|| a.value(row))
}

fn opt_text(a: Option<&StringArray>, row: usize) -> Option<&str> {
    a.and_then(|a| text(a, row))
}

const KEY_COLUMNS: [&str; 4] = [
    "organization",
    "clinic_code",
    "billing_month",
    "receipt_number",
];

/// `receipts.parquet`: accounts by status and tier, the tier-3 weight histogram, and the
/// first `review_limit` review receipts by key.
fn read_receipts(
    path: &Path,
    options: &HtmlOptions,
) -> Result<(ReceiptAgg, BTreeMap<Key, ReviewItem>), HtmlReportError> {
    let wanted = [
        "organization",
        "clinic_code",
        "billing_month",
        "receipt_number",
        "file",
        "line",
        "tier",
        "status",
        "filed_insurer",
        "match_weight",
        "cost_yen",
        "insurer_share_yen",
        "declared_kind",
        "first_pending_month",
        "pending_months",
        "reason",
    ];
    let reader = open_parquet(path, &wanted, &["tier", "status"])?;
    let mut agg = ReceiptAgg::default();
    let mut review: BTreeMap<Key, ReviewItem> = BTreeMap::new();
    for_each_batch(path, reader, |c| {
        let status = c.utf8("status")?;
        let tier = c.u8("tier")?;
        let cost = c.opt_i64("cost_yen")?;
        let share = c.opt_i64("insurer_share_yen")?;
        let weight = c.opt_f64("match_weight")?;
        let org = c.opt_u8("organization")?;
        let clinic = c.opt_utf8("clinic_code")?;
        let month = c.opt_utf8("billing_month")?;
        let number = c.opt_u32("receipt_number")?;
        for row in 0..c.rows() {
            agg.rows += 1;
            too_many_rows(path, agg.rows)?;
            let cost_yen = yen_in(
                path,
                "cost_yen",
                agg.rows,
                opt_num(cost, row),
                Yen::RECEIPT_RANGE,
            )?;
            let share_yen = yen_in(
                path,
                "insurer_share_yen",
                agg.rows,
                opt_num(share, row),
                Yen::RECEIPT_RANGE,
            )?;
            let s = status.value(row);
            let t = num(tier, row).unwrap_or(0);
            let by_tier = match agg.by_status_tier.get_mut(s) {
                Some(m) => m,
                None => agg.by_status_tier.entry(s.to_string()).or_default(),
            };
            let money = by_tier.entry(t).or_default();
            money.receipts += 1;
            match cost_yen {
                Some(y) => money.cost_yen += y,
                None => money.cost_missing += 1,
            }
            money.share_yen += share_yen.unwrap_or(0);
            if t == 3 {
                add_weight(&mut agg.histogram, opt_num(weight, row), s);
            }
            if s != "review" {
                continue;
            }
            agg.review_total += 1;
            if options.review_limit == 0 {
                continue;
            }
            let key = Key {
                organization: opt_num(org, row),
                clinic_code: opt_text(clinic, row).unwrap_or("").to_string(),
                billing_month: opt_text(month, row).unwrap_or("").to_string(),
                receipt_number: opt_num(number, row),
            };
            let full = review.len() >= options.review_limit;
            if full && review.keys().next_back().is_some_and(|last| key >= *last) {
                continue;
            }
            review.insert(key, review_item(&c, row)?);
            if review.len() > options.review_limit {
                review.pop_last();
            }
        }
        Ok(())
    })?;
    Ok((agg, review))
}

fn add_weight(h: &mut Histogram, weight: Option<f64>, status: &str) {
    h.tier3 += 1;
    let Some(w) = weight.filter(|w| w.is_finite()) else {
        h.without_weight += 1;
        return;
    };
    let bin = (w
        .floor()
        .clamp(-(WEIGHT_CLAMP as f64), (WEIGHT_CLAMP - 1) as f64)) as i32;
    let group = HISTOGRAM_GROUPS
        .iter()
        .position(|g| *g == status)
        .unwrap_or(HISTOGRAM_GROUPS.len() - 1);
    h.bins.entry(bin).or_default()[group] += 1;
}

fn review_item(c: &Cols<'_>, row: usize) -> Result<ReviewItem, HtmlReportError> {
    let owned = |a: Option<&StringArray>| opt_text(a, row).map(str::to_string);
    Ok(ReviewItem {
        tier: num(c.u8("tier")?, row).unwrap_or(0),
        file: owned(c.opt_utf8("file")?).unwrap_or_default(),
        line: opt_num(c.opt_u64("line")?, row).unwrap_or(0),
        filed_insurer: owned(c.opt_utf8("filed_insurer")?).unwrap_or_default(),
        cost_yen: opt_num(c.opt_i64("cost_yen")?, row),
        share_yen: opt_num(c.opt_i64("insurer_share_yen")?, row),
        declared_kind: owned(c.opt_utf8("declared_kind")?).unwrap_or_default(),
        first_pending_month: owned(c.opt_utf8("first_pending_month")?),
        pending_months: opt_num(c.opt_u32("pending_months")?, row),
        reason: owned(c.opt_utf8("reason")?).unwrap_or_default(),
        ..ReviewItem::default()
    })
}

/// `match_report.parquet`: the candidates and evidence of the review receipts kept.
fn read_match_report(
    path: &Path,
    review: &mut BTreeMap<Key, ReviewItem>,
    options: &HtmlOptions,
) -> Result<(), HtmlReportError> {
    let wanted = [
        "organization",
        "clinic_code",
        "billing_month",
        "receipt_number",
        "decision",
        "status",
        "rank",
        "person_id",
        "match_weight",
        "match_probability",
        "field",
        "level",
        "log2_bayes_factor",
        "reason",
    ];
    let reader = open_parquet(path, &wanted, &["status"])?;
    if review.is_empty() {
        return Ok(());
    }
    for_each_batch(path, reader, |c| {
        let status = c.utf8("status")?;
        let org = c.u8(KEY_COLUMNS[0])?;
        let clinic = c.utf8(KEY_COLUMNS[1])?;
        let month = c.utf8(KEY_COLUMNS[2])?;
        let number = c.u32(KEY_COLUMNS[3])?;
        let decision = c.opt_utf8("decision")?;
        let reason = c.opt_utf8("reason")?;
        let rank = c.opt_u8("rank")?;
        let person = c.opt_utf8("person_id")?;
        let weight = c.opt_f64("match_weight")?;
        let probability = c.opt_f64("match_probability")?;
        let field = c.opt_utf8("field")?;
        let level = c.opt_utf8("level")?;
        let bf = c.opt_f64("log2_bayes_factor")?;
        for row in 0..c.rows() {
            if status.value(row) != "review" {
                continue;
            }
            let key = Key {
                organization: num(org, row),
                clinic_code: text(clinic, row).unwrap_or("").to_string(),
                billing_month: text(month, row).unwrap_or("").to_string(),
                receipt_number: num(number, row),
            };
            let Some(item) = review.get_mut(&key) else {
                continue;
            };
            if item.decision.is_none() {
                item.decision = opt_text(decision, row).map(str::to_string);
                item.decision_reason = opt_text(reason, row).map(str::to_string);
            }
            let Some(r) = opt_num(rank, row) else {
                continue;
            };
            let at = match item.candidates.iter().position(|k| k.rank == r) {
                Some(at) => at,
                None => {
                    item.candidates.push(Candidate {
                        rank: r,
                        person: opt_text(person, row)
                            .map(|p| mask_person_id(p, options.show_pii))
                            .unwrap_or_default(),
                        weight: opt_num(weight, row),
                        probability: opt_num(probability, row),
                        fields: Vec::new(),
                    });
                    item.candidates.len() - 1
                }
            };
            if let Some(f) = opt_text(field, row) {
                item.candidates[at].fields.push((
                    f.to_string(),
                    opt_text(level, row).unwrap_or("").to_string(),
                    opt_num(bf, row).unwrap_or(0.0),
                ));
            }
        }
        Ok(())
    })?;
    for item in review.values_mut() {
        item.candidates.sort_by_key(|c| c.rank);
    }
    Ok(())
}

/// `apportionment.parquet`: parts and yen by insurer, receipts by basis and scope.
fn read_apportionment(path: &Path) -> Result<ApportionmentAgg, HtmlReportError> {
    let wanted = [
        "organization",
        "clinic_code",
        "billing_month",
        "receipt_number",
        "claim_amount_yen",
        "insurer_number",
        "amount_yen",
        "basis",
        "scope",
        "widened",
        "kind_dropped",
    ];
    let reader = open_parquet(path, &wanted, &["insurer_number", "amount_yen"])?;
    let mut agg = ApportionmentAgg::default();
    let mut last: Option<Key> = None;
    for_each_batch(path, reader, |c| {
        let insurer = c.utf8("insurer_number")?;
        let amount = c.i64("amount_yen")?;
        let claim = c.opt_i64("claim_amount_yen")?;
        let org = c.opt_u8(KEY_COLUMNS[0])?;
        let clinic = c.opt_utf8(KEY_COLUMNS[1])?;
        let month = c.opt_utf8(KEY_COLUMNS[2])?;
        let number = c.opt_u32(KEY_COLUMNS[3])?;
        let basis = c.opt_utf8("basis")?;
        let scope = c.opt_utf8("scope")?;
        let widened = c.opt_bool("widened")?;
        let kind_dropped = c.opt_bool("kind_dropped")?;
        // A row is one insurer's part of a receipt: the receipts are bounded as a run's
        // are (below), the rows are not, and their sums are checked.
        let beyond = || {
            HtmlReportError::invalid(
                path,
                "the yen add up beyond what a run can hold: not a run's file",
            )
        };
        for row in 0..c.rows() {
            agg.rows += 1;
            let yen = yen_in(
                path,
                "amount_yen",
                agg.rows,
                num(amount, row),
                Yen::RECEIPT_RANGE,
            )?
            .unwrap_or(0);
            let claim_yen = yen_in(
                path,
                "claim_amount_yen",
                agg.rows,
                opt_num(claim, row),
                Yen::RECEIPT_RANGE,
            )?;
            agg.parts_yen = agg.parts_yen.checked_add(yen).ok_or_else(beyond)?;
            let i = text(insurer, row).unwrap_or("");
            let parts = match agg.by_insurer.get_mut(i) {
                Some(p) => p,
                None => agg.by_insurer.entry(i.to_string()).or_default(),
            };
            parts.parts += 1;
            parts.yen = parts.yen.checked_add(yen).ok_or_else(beyond)?;
            // Rows are ordered by receipt: a new key starts a new receipt.
            let (o, cl, m, n) = (
                opt_num(org, row),
                opt_text(clinic, row).unwrap_or(""),
                opt_text(month, row).unwrap_or(""),
                opt_num(number, row),
            );
            if last.as_ref().is_some_and(|k| k.is(o, cl, m, n)) {
                continue;
            }
            last = Some(Key {
                organization: o,
                clinic_code: cl.to_string(),
                billing_month: m.to_string(),
                receipt_number: n,
            });
            agg.receipts += 1;
            too_many_rows(path, agg.receipts)?;
            agg.claim_yen += claim_yen.unwrap_or(0);
            *agg.by_basis
                .entry(opt_text(basis, row).unwrap_or("?").to_string())
                .or_default() += 1;
            *agg.by_scope
                .entry(opt_text(scope, row).unwrap_or("?").to_string())
                .or_default() += 1;
            let flag =
                |a: Option<&BooleanArray>| a.is_some_and(|a| a.is_valid(row) && a.value(row));
            agg.widened += u64::from(flag(widened));
            agg.kind_dropped += u64::from(flag(kind_dropped));
        }
        Ok(())
    })?;
    Ok(agg)
}

const STATEMENT_COUNTS: [&str; 5] = [
    "verified_receipts",
    "rerouted_receipts",
    "matched_receipts",
    "apportioned_receipts",
    "copay_diff_receipts",
];
const STATEMENT_YEN: [&str; 7] = [
    "verified_yen",
    "rerouted_yen",
    "matched_yen",
    "routed_yen",
    "apportioned_yen",
    "owed_yen",
    "copay_diff_yen",
];

/// What a statement's yen column may hold: a sum of a run's receipts (差額 either way).
fn statement_range(column: &str) -> std::ops::RangeInclusive<i64> {
    if column == "copay_diff_yen" {
        -Yen::MAX_PER_RUN..=Yen::MAX_PER_RUN
    } else {
        Yen::RUN_RANGE
    }
}

fn statement_row(insurer: &str, counts: [u64; 5], yen: [i64; 7]) -> StatementRow {
    StatementRow {
        insurer: insurer.to_string(),
        verified_receipts: counts[0],
        rerouted_receipts: counts[1],
        matched_receipts: counts[2],
        apportioned_receipts: counts[3],
        copay_diff_receipts: counts[4],
        verified_yen: yen[0],
        rerouted_yen: yen[1],
        matched_yen: yen[2],
        routed_yen: yen[3],
        apportioned_yen: yen[4],
        owed_yen: yen[5],
        copay_diff_yen: yen[6],
        ..StatementRow::default()
    }
}

fn read_statements_parquet(path: &Path) -> Result<StatementsAgg, HtmlReportError> {
    let mut wanted = vec![
        "insurer_number",
        "insurer_name",
        "kind",
        "prefecture",
        "in_master",
    ];
    wanted.extend(STATEMENT_COUNTS);
    wanted.extend(STATEMENT_YEN);
    let reader = open_parquet(path, &wanted, &["insurer_number", "owed_yen"])?;
    let mut rows = Vec::new();
    for_each_batch(path, reader, |c| {
        let insurer = c.utf8("insurer_number")?;
        let name = c.opt_utf8("insurer_name")?;
        let kind = c.opt_utf8("kind")?;
        let prefecture = c.opt_u8("prefecture")?;
        let in_master = c.opt_bool("in_master")?;
        let counts = STATEMENT_COUNTS
            .iter()
            .map(|n| c.opt_u64(n))
            .collect::<Result<Vec<_>, _>>()?;
        let yen = STATEMENT_YEN
            .iter()
            .map(|n| c.opt_i64(n))
            .collect::<Result<Vec<_>, _>>()?;
        c.i64("owed_yen")?; // required, and typed as documented
        for row in 0..c.rows() {
            let line = rows.len() as u64 + 1;
            too_many_rows(path, line)?;
            let mut amounts = [0; STATEMENT_YEN.len()];
            for (i, name) in STATEMENT_YEN.iter().enumerate() {
                amounts[i] = yen_in(
                    path,
                    name,
                    line,
                    opt_num(yen[i], row),
                    statement_range(name),
                )?
                .unwrap_or(0);
            }
            let mut r = statement_row(
                text(insurer, row).unwrap_or(""),
                std::array::from_fn(|i| opt_num(counts[i], row).unwrap_or(0)),
                amounts,
            );
            r.name = opt_text(name, row).unwrap_or("").to_string();
            r.kind = opt_text(kind, row).map(str::to_string);
            r.prefecture = opt_num(prefecture, row);
            r.in_master = in_master.is_none_or(|a| a.is_valid(row) && a.value(row));
            rows.push(r);
        }
        Ok(())
    })?;
    Ok(StatementsAgg {
        source: crate::run::STATEMENTS_PARQUET,
        rows,
    })
}

fn read_statements_csv(path: &Path) -> Result<StatementsAgg, HtmlReportError> {
    let csv_err = |source| HtmlReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let headers = reader.headers().map_err(csv_err)?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(insurer_at) = index("insurer_number") else {
        return Err(HtmlReportError::invalid(
            path,
            "missing column insurer_number",
        ));
    };
    if index("owed_yen").is_none() {
        return Err(HtmlReportError::invalid(path, "missing column owed_yen"));
    }
    let count_at: Vec<Option<usize>> = STATEMENT_COUNTS.iter().map(|n| index(n)).collect();
    let yen_at: Vec<Option<usize>> = STATEMENT_YEN.iter().map(|n| index(n)).collect();
    let (name_at, kind_at, pref_at, master_at) = (
        index("insurer_name"),
        index("kind"),
        index("prefecture"),
        index("in_master"),
    );
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1u64;
    while reader.read_record(&mut record).map_err(csv_err)? {
        line += 1;
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("").trim();
        let bad = |column: &str, value: &str| {
            HtmlReportError::invalid(
                path,
                format!("line {line}: {column} {value:?} is not a number"),
            )
        };
        let mut counts = [0u64; 5];
        for (i, at) in count_at.iter().enumerate() {
            let v = field(*at);
            if !v.is_empty() {
                counts[i] = v.parse().map_err(|_| bad(STATEMENT_COUNTS[i], v))?;
            }
        }
        let mut yen = [0i64; 7];
        for (i, at) in yen_at.iter().enumerate() {
            let v = field(*at);
            if !v.is_empty() {
                yen[i] = v
                    .parse()
                    .ok()
                    .filter(|y| statement_range(STATEMENT_YEN[i]).contains(y))
                    .ok_or_else(|| bad(STATEMENT_YEN[i], v))?;
            }
        }
        let mut r = statement_row(field(Some(insurer_at)), counts, yen);
        r.name = field(name_at).to_string();
        r.kind = Some(field(kind_at))
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        r.prefecture = field(pref_at).parse().ok();
        r.in_master = master_at.is_none() || field(master_at) == "true";
        rows.push(r);
    }
    Ok(StatementsAgg {
        source: crate::run::STATEMENTS_CSV,
        rows,
    })
}

/// A quarantine reason with what varies from row to row folded: quoted values become
/// `"…"` and each run of digits `#`, so `receipt number 2 appears 2 times` and
/// `receipt number 7 appears 3 times` are one reason.
pub(super) fn reason_pattern(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut in_quote = false;
    let mut in_digits = false;
    for ch in reason.chars() {
        if ch == '"' {
            if !in_quote {
                out.push_str("\"…\"");
            }
            in_quote = !in_quote;
            in_digits = false;
            continue;
        }
        if in_quote {
            continue;
        }
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
            continue;
        }
        in_digits = false;
        out.push(ch);
    }
    out
}

/// `quarantine.csv` grouped by (scope, reason pattern).
fn read_quarantine(path: &Path, options: &HtmlOptions) -> Result<QuarantineAgg, HtmlReportError> {
    let csv_err = |source| HtmlReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(csv_err)?;
    let headers = reader.headers().map_err(csv_err)?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let columns = [
        "file",
        "line",
        "record",
        "field",
        "value",
        "reason",
        "scope",
        "receipt_key",
    ];
    let at: Vec<Option<usize>> = columns.iter().map(|c| index(c)).collect();
    if at[5].is_none() || at[6].is_none() {
        return Err(HtmlReportError::invalid(
            path,
            "expected columns reason and scope",
        ));
    }
    let mut agg = QuarantineAgg::default();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_err)? {
        let get = |i: usize| at[i].and_then(|j| record.get(j)).unwrap_or("");
        agg.rows += 1;
        let scope = get(6);
        match agg.by_scope.get_mut(scope) {
            Some(n) => *n += 1,
            None => {
                agg.by_scope.insert(scope.to_string(), 1);
            }
        }
        let mut group_key = (scope.to_string(), reason_pattern(get(5)));
        if !agg.groups.contains_key(&group_key) && agg.groups.len() >= MAX_REASON_GROUPS {
            group_key.1 = format!("(further reasons: more than {MAX_REASON_GROUPS} distinct)");
        }
        let group = agg.groups.entry(group_key).or_default();
        group.count += 1;
        *group.records.entry(get(2).to_string()).or_default() += 1;
        group.with_receipt_key += u64::from(!get(7).is_empty());
        if group.examples.len() < options.quarantine_examples {
            let field = get(3);
            let value = if !options.show_pii && field.contains("person_id") && !get(4).is_empty() {
                mask_person_id(get(4), false)
            } else {
                get(4).to_string()
            };
            // The run masks a personal value, but its reason may quote it (a birth date
            // that does not exist, written out): such a reason is shown folded.
            let reason = if !options.show_pii && get(4).starts_with("<masked:") {
                reason_pattern(get(5))
            } else {
                get(5).to_string()
            };
            group.examples.push(QuarantineRow {
                file: get(0).to_string(),
                line: get(1).to_string(),
                record: get(2).to_string(),
                field: field.to_string(),
                value,
                reason,
                receipt_key: get(7).to_string(),
            });
        }
    }
    Ok(agg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fold_numbers_and_quoted_values() {
        assert_eq!(
            reason_pattern("receipt number 2 appears 2 times in the file (lines 14, 35)"),
            "receipt number # appears # times in the file (lines #, #)"
        );
        assert_eq!(
            reason_pattern(r#"insurer number "210014": check digit is 4, expected 3"#),
            r#"insurer number "…": check digit is #, expected #"#
        );
    }

    #[test]
    fn keys_display_as_quarantine_writes_them() {
        let k = Key {
            organization: Some(1),
            clinic_code: "1312345".into(),
            billing_month: "2026-06".into(),
            receipt_number: Some(3),
        };
        assert_eq!(k.display(), "1312345:2026-06:3@1");
    }
}

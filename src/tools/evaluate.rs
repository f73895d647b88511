//! `reseclear evaluate`: scores a run against a generated month's `truth.parquet`.
//! Only for synthetic months — the engine itself never reads the truth.
//!
//! Receipts are joined on (file, receipt number, occurrence), which also pairs the
//! receipts of broken files whose key could not be read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Why an evaluation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

/// One receipt as the truth or the run sees it.
#[derive(Debug, Clone, Default)]
struct Row {
    status: String,
    insurer: Option<String>,
    person: Option<String>,
    tier: String,
}

/// The scores of one run.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub receipts: u64,
    /// Receipts of the truth the run did not report (or the other way round).
    pub unpaired: u64,
    /// (expected, actual) → count.
    pub confusion: BTreeMap<(String, String), u64>,
    /// Receipts whose status and insurer are both as expected.
    pub correct: u64,
    pub tier2_rerouted_expected: u64,
    pub tier2_rerouted_correct: u64,
    pub tier3_receipts: u64,
    pub tier3_matched: u64,
    pub tier3_matched_correct: u64,
    pub tier3_match_expected: u64,
    pub tier3_review: u64,
    pub pending_expected: u64,
    pub pending_correct: u64,
    pub pending_false: u64,
}

impl Evaluation {
    pub fn tier3_precision(&self) -> f64 {
        ratio(self.tier3_matched_correct, self.tier3_matched)
    }
    pub fn tier3_recall(&self) -> f64 {
        ratio(self.tier3_matched_correct, self.tier3_match_expected)
    }
    pub fn tier3_f1(&self) -> f64 {
        let (p, r) = (self.tier3_precision(), self.tier3_recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn tier3_review_rate(&self) -> f64 {
        ratio(self.tier3_review, self.tier3_receipts)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "receipts               {:>8}  (unpaired {})",
            self.receipts, self.unpaired
        )?;
        writeln!(
            f,
            "status and insurer ok  {:>8}  {:.4}",
            self.correct,
            ratio(self.correct, self.receipts)
        )?;
        writeln!(
            f,
            "tier 2 re-routing      {:>8}  of {} correct  {:.4}",
            self.tier2_rerouted_correct,
            self.tier2_rerouted_expected,
            ratio(self.tier2_rerouted_correct, self.tier2_rerouted_expected)
        )?;
        writeln!(
            f,
            "tier 3 precision       {:>8.4}  ({} of {} auto-matches right)",
            self.tier3_precision(),
            self.tier3_matched_correct,
            self.tier3_matched
        )?;
        writeln!(
            f,
            "tier 3 recall          {:>8.4}  (of {} matchable)",
            self.tier3_recall(),
            self.tier3_match_expected
        )?;
        writeln!(f, "tier 3 F1              {:>8.4}", self.tier3_f1())?;
        writeln!(
            f,
            "tier 3 review rate     {:>8.4}  ({} of {})",
            self.tier3_review_rate(),
            self.tier3_review,
            self.tier3_receipts
        )?;
        writeln!(
            f,
            "pending                {:>8}  of {} expected found, {} pending wrongly",
            self.pending_correct, self.pending_expected, self.pending_false
        )?;
        writeln!(f, "expected → actual:")?;
        for ((e, a), n) in &self.confusion {
            let mark = if e == a { "" } else { "  ✗" };
            writeln!(f, "  {e:<12} → {a:<12} {n:>8}{mark}")?;
        }
        Ok(())
    }
}

fn read_batches(path: &Path) -> Result<Vec<RecordBatch>, EvaluateError> {
    let err = |message: String| EvaluateError::Read {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err(e.to_string()))?
        .build()
        .map_err(|e| err(e.to_string()))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))
}

/// Column `name` of a batch as optional text (any type cast to text).
fn text_column(
    path: &Path,
    batch: &RecordBatch,
    name: &str,
) -> Result<Vec<Option<String>>, EvaluateError> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| EvaluateError::Read {
            path: path.display().to_string(),
            message: format!("no column {name}"),
        })?;
    let col = arrow::compute::cast(col, &DataType::Utf8).map_err(|e| EvaluateError::Read {
        path: path.display().to_string(),
        message: format!("column {name}: {e}"),
    })?;
    let s = col.as_string::<i32>();
    Ok((0..s.len())
        .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
        .collect())
}

type Keyed = BTreeMap<(String, String, usize), Row>;

/// Reads a file's rows keyed by (file, receipt number, occurrence).
fn keyed(path: &Path, status: &str, insurer: &str, person: &str) -> Result<Keyed, EvaluateError> {
    let mut out = Keyed::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for batch in read_batches(path)? {
        let file = text_column(path, &batch, "file")?;
        let number = text_column(path, &batch, "receipt_number")?;
        let st = text_column(path, &batch, status)?;
        let ins = text_column(path, &batch, insurer)?;
        let per = text_column(path, &batch, person)?;
        let tier = text_column(path, &batch, "tier")?;
        for i in 0..batch.num_rows() {
            let base = (
                file[i].clone().unwrap_or_default(),
                number[i].clone().unwrap_or_default(),
            );
            let n = seen.entry(base.clone()).or_insert(0);
            out.insert(
                (base.0, base.1, *n),
                Row {
                    status: st[i].clone().unwrap_or_default(),
                    insurer: ins[i].clone(),
                    person: per[i].clone(),
                    tier: tier[i].clone().unwrap_or_default(),
                },
            );
            *n += 1;
        }
    }
    Ok(out)
}

/// Scores the run in `run_dir` against `truth`.
pub fn evaluate(truth: &Path, run_dir: &Path) -> Result<Evaluation, EvaluateError> {
    let expected = keyed(
        truth,
        "expected_status",
        "expected_insurer",
        "true_person_id",
    )?;
    let actual = keyed(
        &run_dir.join(crate::run::RECEIPTS_FILE),
        "status",
        "resolved_insurer",
        "person_id",
    )?;
    let mut ev = Evaluation {
        unpaired: actual.keys().filter(|k| !expected.contains_key(*k)).count() as u64,
        ..Default::default()
    };
    for (key, e) in &expected {
        ev.receipts += 1;
        let Some(a) = actual.get(key) else {
            ev.unpaired += 1;
            continue;
        };
        *ev.confusion
            .entry((e.status.clone(), a.status.clone()))
            .or_insert(0) += 1;
        let insurer_ok = e.insurer == a.insurer;
        if e.status == a.status && insurer_ok {
            ev.correct += 1;
        }
        if e.status == "rerouted" {
            ev.tier2_rerouted_expected += 1;
            ev.tier2_rerouted_correct += u64::from(a.status == "rerouted" && insurer_ok);
        }
        if e.tier == "3" && e.status != "quarantined" {
            ev.tier3_receipts += 1;
            ev.tier3_match_expected += u64::from(e.status == "matched");
            ev.tier3_review += u64::from(a.status == "review");
            if a.status == "matched" {
                ev.tier3_matched += 1;
                ev.tier3_matched_correct +=
                    u64::from(e.status == "matched" && insurer_ok && a.person == e.person);
            }
        }
        if e.status == "pending" {
            ev.pending_expected += 1;
            ev.pending_correct += u64::from(a.status == "pending");
        } else if a.status == "pending" {
            ev.pending_false += 1;
        }
    }
    Ok(ev)
}

//! The receipts' rows (`receipts.parquet`), built from the claims and their resolutions
//! where they are used, never all at once: a national month is tens of millions of
//! receipts, and a row is a few hundred bytes. Apportionment and the statements take
//! the compact share rows, the manifest the rows' totals, the ledger the open rows,
//! and the Parquet writer the rows of each range it encodes; each builds them anew from
//! the claims and resolutions, which are held anyway.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use compact_str::CompactString;
use rayon::prelude::*;

use super::{ledger_headers, Ingested};
use crate::apportion::{Allocation, MonthApportionment, ShareRow};
use crate::domain::{InsuranceKind, ReceiptKey, Yen};
use crate::ingest::uke::ReceiptKind;
use crate::pending::Age;
use crate::report::ReceiptRow;
use crate::resolve::claim::ClaimFile;
use crate::resolve::copay::receipt_money;
use crate::resolve::outcome::{Resolution, Status};

/// Which rows get their reason text (the text is most of a row's memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reasons {
    All,
    /// Only receipts still open (the ledger carries their reason).
    Open,
    None,
}

/// The month's rows, one per receipt read, in file and line order (the ledger last, in
/// its row order): accepted receipts with their resolution, quarantined ones with their
/// first reason.
pub(super) struct RowBook<'a> {
    files: Vec<&'a ClaimFile>,
    /// One per accepted receipt, in the order of the files' claims.
    resolutions: &'a [Resolution],
    ages: &'a HashMap<ReceiptKey, Age>,
    /// The ledger's receipts carry their clinic's IR in the ledger; a file's, in the file.
    ledger_prefecture: HashMap<ReceiptKey, u8>,
    /// Per file: the index of its first resolution and of its first row.
    starts: Vec<(usize, usize)>,
    rows: usize,
    apportioned: Option<Marks<'a>>,
}

/// Apportionment's outcome, told on the rows it concerns.
struct Marks<'a> {
    split: HashMap<ReceiptKey, &'a Allocation>,
    failed: HashMap<ReceiptKey, String>,
}

impl<'a> RowBook<'a> {
    /// The rows of the month's files and the ledger's; `resolutions` are those of their
    /// accepted receipts, in the same order.
    pub fn new(
        ingested: &'a Ingested,
        resolutions: &'a [Resolution],
        ages: &'a HashMap<ReceiptKey, Age>,
    ) -> RowBook<'a> {
        let files: Vec<&ClaimFile> = ingested.receipt_files().collect();
        let mut starts = Vec::with_capacity(files.len());
        let (mut resolution, mut row) = (0, 0);
        for f in &files {
            starts.push((resolution, row));
            resolution += f.claims.len();
            row += f.claims.len() + f.file.quarantined.len();
        }
        RowBook {
            files,
            resolutions,
            ages,
            ledger_prefecture: ledger_headers(ingested)
                .map(|(r, h)| (r.key, h.prefecture))
                .collect(),
            starts,
            rows: row,
            apportioned: None,
        }
    }

    /// Rows in all.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// From now on, rows tell how their receipt was apportioned, or why it could not be
    /// (its status then `final_unresolved`).
    pub fn mark(&mut self, month: &'a MonthApportionment) {
        self.apportioned = Some(Marks {
            split: month
                .receipts
                .iter()
                .map(|r| (r.key, &r.allocation))
                .collect(),
            failed: month
                .failed
                .iter()
                .map(|(k, e)| (*k, e.to_string()))
                .collect(),
        });
    }

    /// `each` over every file's rows, files in parallel; the results in file order.
    pub fn map_files<T: Send>(
        &self,
        reasons: Reasons,
        each: impl Fn(Vec<ReceiptRow>) -> T + Sync + Send,
    ) -> Vec<T> {
        (0..self.files.len())
            .into_par_iter()
            .map(|i| each(self.file_rows(i, reasons)))
            .collect()
    }

    /// The rows of `range` (of [`RowBook::len`]), with their reasons.
    pub fn rows(&self, range: Range<usize>) -> Vec<ReceiptRow> {
        let first = self.starts.partition_point(|s| s.1 <= range.start).max(1) - 1;
        let mut out = Vec::with_capacity(range.len());
        for i in first..self.files.len() {
            let start = self.starts[i].1;
            if start >= range.end {
                break;
            }
            let rows = self.file_rows(i, Reasons::All);
            let from = range.start.saturating_sub(start);
            let to = (range.end - start).min(rows.len());
            out.extend(rows.into_iter().take(to).skip(from));
        }
        out
    }

    /// File `i`'s rows, in line order.
    fn file_rows(&self, i: usize, reasons: Reasons) -> Vec<ReceiptRow> {
        let f = self.files[i];
        let first = self.starts[i].0;
        let resolutions = self
            .resolutions
            .get(first..first + f.claims.len())
            .unwrap_or_default();
        let mut rows: Vec<ReceiptRow> =
            Vec::with_capacity(f.claims.len() + f.file.quarantined.len());
        let file_prefecture = f.file.header.as_ref().map(|h| h.prefecture);
        let file: Arc<str> = f.file.path.as_str().into();
        for (r, res) in f.claims.iter().zip(resolutions) {
            if res.key != r.key {
                continue;
            }
            let money = receipt_money(&r.billed(), res.care_date, res.copay_percent);
            let age = self.ages.get(&r.key);
            let mut row = ReceiptRow {
                key: Some(r.key),
                receipt_number: Some(r.key.receipt_number),
                file: file.clone(),
                line: r.line,
                kind: r.kind,
                tier: res.tier,
                status: res.status,
                filed_insurer: r.card_patient().filed_insurer.into(),
                resolved_insurer: res.resolved_insurer,
                person_id: res.person_id.clone(),
                match_weight: res.score.as_ref().map(|s| s.weight),
                match_probability: res.score.as_ref().map(|s| s.probability),
                cost_yen: Some(money.cost),
                copay_yen: Some(money.copay),
                insurer_share_yen: Some(money.insurer_share),
                public_expense_yen: Some(money.public_share),
                patient_yen: Some(money.patient_pays),
                copay_diff_yen: Some(money.copay_diff),
                clinic_prefecture: self
                    .ledger_prefecture
                    .get(&r.key)
                    .copied()
                    .or(file_prefecture),
                declared_kind: res.declared_kind,
                first_pending_month: age.map(|a| a.first_pending_month),
                pending_months: age.map(|a| a.months),
                reason: String::new(),
            };
            let text = match reasons {
                Reasons::All => true,
                Reasons::Open => res.status.is_open(),
                Reasons::None => false,
            };
            if text {
                row.reason = res.reason.to_string();
            }
            self.mark_row(&mut row, r.key, text);
            rows.push(row);
        }
        for q in &f.file.quarantined {
            rows.push(ReceiptRow {
                key: q.key,
                receipt_number: q.receipt_number,
                file: file.clone(),
                line: q.line,
                kind: f.file.kind,
                tier: 0,
                status: Status::Quarantined,
                filed_insurer: CompactString::default(),
                resolved_insurer: None,
                person_id: None,
                match_weight: None,
                match_probability: None,
                cost_yen: q.points.map(|p| p.to_yen()),
                copay_yen: None,
                insurer_share_yen: None,
                public_expense_yen: None,
                patient_yen: None,
                copay_diff_yen: None,
                clinic_prefecture: file_prefecture,
                declared_kind: InsuranceKind::Unknown,
                first_pending_month: None,
                pending_months: None,
                reason: if reasons == Reasons::All {
                    q.reason.clone()
                } else {
                    String::new()
                },
            });
        }
        rows.sort_by_key(|r| r.line);
        rows
    }

    /// An apportioned receipt's reason says how it was split; one that no insurer can
    /// share in is final-unresolved, and says why.
    fn mark_row(&self, row: &mut ReceiptRow, key: ReceiptKey, text: bool) {
        let Some(marks) = &self.apportioned else {
            return;
        };
        if let Some(a) = marks.split.get(&key) {
            if text {
                row.reason = format!(
                    "{}; apportioned among {} insurer(s), basis {}, scope {}{}",
                    row.reason,
                    a.parts.len(),
                    a.basis_used.as_str(),
                    a.scope_used.as_str(),
                    if a.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", a.reason)
                    }
                );
            }
        } else if let Some(why) = marks.failed.get(&key) {
            row.status = Status::FinalUnresolved;
            if text {
                row.reason = format!("{}; cannot be apportioned: {why}", row.reason);
            }
        }
    }

    /// Why a final-unresolved receipt cannot be apportioned, when apportionment said so.
    pub fn unapportionable(&self, key: ReceiptKey) -> Option<&str> {
        self.apportioned
            .as_ref()?
            .failed
            .get(&key)
            .map(String::as_str)
    }
}

/// What apportionment and statements need of a receipt's row (rows without a key are
/// quarantined and need nothing).
pub(super) fn share_row(r: &ReceiptRow) -> Option<ShareRow> {
    Some(ShareRow {
        key: r.key?,
        status: r.status,
        resolved_insurer: r.resolved_insurer,
        insurer_share: r.insurer_share_yen.unwrap_or_default(),
        copay_diff: r.copay_diff_yen.unwrap_or_default(),
        prefecture: r.clinic_prefecture,
        declared_kind: r.declared_kind,
        receipt_kind: r.kind,
    })
}

/// What the manifest counts of the rows: receipts and yen by status, the insurer share
/// in, and the pending ledger's flows.
#[derive(Debug, Default)]
pub(super) struct RowTotals {
    pub by_status: BTreeMap<String, u64>,
    /// By kind (`unknown` without one), then status: receipts and yen.
    pub by_kind: BTreeMap<&'static str, BTreeMap<&'static str, (u64, Yen)>>,
    pub yen_by_status: BTreeMap<String, Yen>,
    pub share_in: Yen,
    pub share_by_status: BTreeMap<String, Yen>,
    pub routed: Yen,
    /// Of the accepted receipts' copays: what 公費 pay and what patients pay.
    pub public_expense: Yen,
    pub patients: Yen,
    /// Ledger receipts resolved to an insurer this run.
    pub carried_in_resolved: u64,
    /// This month's receipts left open.
    pub new_open: u64,
    /// Receipts made final-unresolved (apportioned or not).
    pub made_final: u64,
}

impl RowTotals {
    /// The totals of `rows`; `carried` are the keys of the ledger's receipts.
    pub fn of(rows: &[ReceiptRow], carried: &HashSet<ReceiptKey>) -> RowTotals {
        let mut t = RowTotals::default();
        for r in rows {
            let status = r.status.as_str();
            *t.by_status.entry(status.to_string()).or_insert(0) += 1;
            *t.yen_by_status.entry(status.to_string()).or_default() +=
                r.cost_yen.unwrap_or_default();
            let kind = t
                .by_kind
                .entry(ReceiptKind::name_of(r.kind))
                .or_default()
                .entry(status)
                .or_default();
            kind.0 += 1;
            kind.1 += r.cost_yen.unwrap_or_default();
            if r.status != Status::Quarantined {
                let s = r.insurer_share_yen.unwrap_or_default();
                t.share_in += s;
                t.public_expense += r.public_expense_yen.unwrap_or_default();
                t.patients += r.patient_yen.unwrap_or_default();
                *t.share_by_status.entry(status.to_string()).or_default() += s;
                if r.status.is_routed() {
                    t.routed += s;
                }
            }
            let from_ledger = r.key.is_some_and(|k| carried.contains(&k));
            t.carried_in_resolved += u64::from(from_ledger && r.status.is_routed());
            t.new_open += u64::from(!from_ledger && r.status.is_open());
            t.made_final += u64::from(matches!(
                r.status,
                Status::Apportioned | Status::FinalUnresolved
            ));
        }
        t
    }

    /// Both totals together.
    pub fn merge(mut self, other: RowTotals) -> RowTotals {
        for (k, n) in other.by_status {
            *self.by_status.entry(k).or_insert(0) += n;
        }
        for (kind, statuses) in other.by_kind {
            let mine = self.by_kind.entry(kind).or_default();
            for (status, (n, y)) in statuses {
                let m = mine.entry(status).or_default();
                m.0 += n;
                m.1 += y;
            }
        }
        for (k, y) in other.yen_by_status {
            *self.yen_by_status.entry(k).or_default() += y;
        }
        for (k, y) in other.share_by_status {
            *self.share_by_status.entry(k).or_default() += y;
        }
        self.share_in += other.share_in;
        self.routed += other.routed;
        self.public_expense += other.public_expense;
        self.patients += other.patients;
        self.carried_in_resolved += other.carried_in_resolved;
        self.new_open += other.new_open;
        self.made_final += other.made_final;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::progress::Silent;
    use crate::run::{ingest, resolve, Inputs};

    /// The sample month's rows, every one of its files, as the writer asks for them: a
    /// range at a time, ranges cutting files anywhere.
    #[test]
    fn rows_of_any_range_are_those_of_the_files_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
        let inputs = Inputs::discover(&dir).expect("sample inputs");
        let config = Config::default();
        let mut ingested = ingest(&inputs, &config, None, &Silent).expect("ingest");
        let (resolved, _) = resolve(&mut ingested, &inputs, &config, None);
        let ages = HashMap::new();
        let book = RowBook::new(&ingested, &resolved.resolutions, &ages);
        let all: Vec<ReceiptRow> = book
            .map_files(Reasons::All, |rows| rows)
            .into_iter()
            .flatten()
            .collect();
        assert!(book.files.len() > 1, "the sample month has several files");
        assert_eq!(all.len(), book.len());
        assert!(all.iter().all(|r| !r.reason.is_empty()));
        for size in [1, 7, 64, all.len() - 1, all.len(), all.len() + 5] {
            let mut again = Vec::new();
            for start in (0..all.len()).step_by(size) {
                again.extend(book.rows(start..(start + size).min(all.len())));
            }
            assert!(again == all, "ranges of {size} rows");
        }
        assert!(book.rows(3..3).is_empty());

        // Without reasons the rows are the same but for their text; with the open
        // ones', only those have it.
        let bare: Vec<ReceiptRow> = book
            .map_files(Reasons::None, |rows| rows)
            .into_iter()
            .flatten()
            .collect();
        let open: Vec<ReceiptRow> = book
            .map_files(Reasons::Open, |rows| rows)
            .into_iter()
            .flatten()
            .collect();
        assert!(open.iter().any(|r| r.status.is_open()));
        for ((full, bare), open) in all.iter().zip(&bare).zip(&open) {
            assert!(bare.reason.is_empty());
            assert_eq!(
                ReceiptRow {
                    reason: full.reason.clone(),
                    ..bare.clone()
                },
                *full
            );
            let want = if full.status.is_open() {
                full.reason.as_str()
            } else {
                ""
            };
            assert_eq!(open.reason, want);
        }
    }
}

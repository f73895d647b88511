//! Apportionment of a month: every final-unresolved receipt of a run, against the
//! run's own claims basis. The same function serves the full `run` and the analysts'
//! `reseclear apportion --run DIR`, which reads the rows back from `receipts.parquet`:
//! both see the same [`ShareRow`]s, so the same configuration gives the same rows.
//!
//! Pure over its inputs: a partition of receipts (by organization and prefecture, the
//! units apportionment never crosses but for national widening) with the month's
//! claims basis and the master is a self-contained unit of work.

use std::path::Path;

use arrow::array::Array;
use rayon::prelude::*;

use super::{claims_basis, Allocation, ApportionConfig, ApportionError, Apportioner, ClaimContext};
use crate::domain::{
    ClinicCode, InsuranceKind, InsurerNumber, Organization, ReceiptKey, YearMonth, Yen,
};
use crate::ingest::insurers::InsurerMaster;
use crate::ingest::parquet_table::{opt_str, Table};
use crate::ingest::uke::ReceiptKind;
use crate::ingest::IngestError;
use crate::resolve::outcome::Status;

/// What apportionment and the statements need of one receipt (a row of
/// `receipts.parquet` with a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    pub key: ReceiptKey,
    pub status: Status,
    /// The insurer it is routed to (verified, rerouted, matched).
    pub resolved_insurer: Option<InsurerNumber>,
    /// cost − copay: what the insurer pays, or what is apportioned.
    pub insurer_share: Yen,
    /// Copay billed − copay due.
    pub copay_diff: Yen,
    /// The clinic's 都道府県 (IR 3).
    pub prefecture: Option<u8>,
    pub declared_kind: InsuranceKind,
    /// The kind of claim (医科, DPC, 歯科, 調剤): statements show what each insurer owes
    /// per kind. `None` from a run that did not record it.
    pub receipt_kind: Option<ReceiptKind>,
}

impl ShareRow {
    /// Whether the receipt is final-unresolved (apportioned, or found to have no one to
    /// share in it).
    pub fn is_final(&self) -> bool {
        matches!(self.status, Status::Apportioned | Status::FinalUnresolved)
    }

    fn context(&self) -> ClaimContext {
        ClaimContext {
            organization: self.key.organization,
            kind: self.declared_kind,
            prefecture: self.prefecture,
        }
    }
}

/// One final-unresolved receipt and how it was split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApportionedReceipt {
    pub key: ReceiptKey,
    pub context: ClaimContext,
    pub allocation: Allocation,
}

/// The month's apportionment, in receipt-key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthApportionment {
    pub receipts: Vec<ApportionedReceipt>,
    /// Final-unresolved receipts no insurer can share in, with why.
    pub failed: Vec<(ReceiptKey, ApportionError)>,
}

impl MonthApportionment {
    /// Σ over receipts of the amount apportioned.
    pub fn total(&self) -> Yen {
        self.receipts.iter().map(|r| r.allocation.amount).sum()
    }
}

/// Apportions every final-unresolved row ([`ShareRow::is_final`]) among insurers, the
/// claims basis being the routed rows' insurer shares (the month's resolved
/// insurer-paid yen).
pub fn apportion_month(
    rows: &[ShareRow],
    master: &InsurerMaster,
    config: &ApportionConfig,
) -> MonthApportionment {
    let basis = claims_basis(
        rows.iter()
            .filter(|r| r.status.is_routed())
            .filter_map(|r| r.resolved_insurer.map(|insurer| (insurer, r.insurer_share))),
    );
    let apportioner = Apportioner::new(master, &basis, config);
    let mut finals: Vec<&ShareRow> = rows.iter().filter(|r| r.is_final()).collect();
    finals.sort_by_key(|r| r.key);
    let results: Vec<(ReceiptKey, ClaimContext, Result<Allocation, ApportionError>)> = finals
        .par_iter()
        .map(|r| {
            let context = r.context();
            (
                r.key,
                context,
                apportioner.apportion(r.insurer_share, &context),
            )
        })
        .collect();
    let mut out = MonthApportionment::default();
    for (key, context, result) in results {
        match result {
            Ok(allocation) => out.receipts.push(ApportionedReceipt {
                key,
                context,
                allocation,
            }),
            Err(e) => out.failed.push((key, e)),
        }
    }
    out
}

/// Reads the rows with a key from a finished run's `receipts.parquet` (rows without a
/// key are quarantined receipts, which neither apportionment nor statements use).
pub fn read_share_rows(path: &Path) -> Result<Vec<ShareRow>, IngestError> {
    let columns = [
        "organization",
        "clinic_code",
        "billing_month",
        "receipt_number",
        "status",
        "resolved_insurer",
        "insurer_share_yen",
        "copay_diff_yen",
        "clinic_prefecture",
        "declared_kind",
    ];
    let table = Table::read(path, &columns)?;
    table.check_rows_within_a_run()?;
    let mut rows = Vec::with_capacity(table.num_rows());
    let mut line = 0usize;
    for b in table.batches() {
        let organization = b.u8("organization")?;
        let clinic = b.utf8("clinic_code")?;
        let month = b.utf8("billing_month")?;
        let number = b.u32("receipt_number")?;
        let status = b.utf8("status")?;
        let insurer = b.utf8("resolved_insurer")?;
        let share = b.yen("insurer_share_yen", Yen::RECEIPT_RANGE)?;
        let diff = b.yen(
            "copay_diff_yen",
            -Yen::MAX_PER_RECEIPT..=Yen::MAX_PER_RECEIPT,
        )?;
        let prefecture = b.u8("clinic_prefecture")?;
        let kind = b.utf8("declared_kind")?;
        // Written by runs since the kind of claim was carried through; absent before.
        let receipt_kind = b.utf8_if_present("receipt_kind")?;
        for i in 0..b.num_rows() {
            line += 1;
            let bad = |column: &str, what: &str| {
                IngestError::invalid(path, format!("row {line}: {column}: expected {what}"))
            };
            let status = opt_str(status, i)
                .and_then(Status::parse)
                .ok_or_else(|| bad("status", "a status of receipts.parquet"))?;
            if organization.is_null(i) {
                if status == Status::Quarantined {
                    continue;
                }
                return Err(bad("organization", "1 or 2 for a receipt not quarantined"));
            }
            let key = ReceiptKey {
                organization: Organization::parse(&organization.value(i).to_string())
                    .map_err(|_| bad("organization", "1 or 2"))?,
                clinic_code: opt_str(clinic, i)
                    .and_then(|s| ClinicCode::parse(s).ok())
                    .ok_or_else(|| bad("clinic_code", "7 digits"))?,
                billing_month: opt_str(month, i)
                    .and_then(|s| YearMonth::parse_iso(s).ok())
                    .ok_or_else(|| bad("billing_month", "YYYY-MM"))?,
                receipt_number: (!number.is_null(i))
                    .then(|| number.value(i))
                    .ok_or_else(|| bad("receipt_number", "a number"))?,
            };
            rows.push(ShareRow {
                key,
                status,
                resolved_insurer: opt_str(insurer, i)
                    .map(|s| {
                        InsurerNumber::parse(s)
                            .map_err(|_| bad("resolved_insurer", "an insurer number"))
                    })
                    .transpose()?,
                insurer_share: share.or_zero(i)?,
                copay_diff: diff.or_zero(i)?,
                prefecture: (!prefecture.is_null(i)).then(|| prefecture.value(i)),
                declared_kind: opt_str(kind, i)
                    .map(|s| {
                        InsuranceKind::parse(s).map_err(|_| {
                            bad("declared_kind", "shaho, kokuho, koki, other or unknown")
                        })
                    })
                    .transpose()?
                    .unwrap_or(InsuranceKind::Unknown),
                receipt_kind: receipt_kind
                    .and_then(|c| opt_str(c, i))
                    .map(|s| {
                        ReceiptKind::from_name(s)
                            .ok_or_else(|| bad("receipt_kind", "ika, dpc, shika or chozai"))
                    })
                    .transpose()?,
            });
        }
    }
    Ok(rows)
}

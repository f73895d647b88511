//! The pending ledger (DOMAIN §9): tier-2/3 claims that a run could not resolve —
//! `pending` (the patient is known, the new insurer has not registered), `review` (a
//! person must decide) or `no_match` — are carried to the next runs and retried
//! against each new roster. After `apportion.hold_months` months a claim still open is
//! final-unresolved and its insurer share is apportioned.
//!
//! Months are counted between *run months*: the latest 請求年月 among a run's UKE
//! files. A claim first left open in the 2026-05 run is 1 month old in the 2026-06 run,
//! and with the default hold of 3 is apportioned in the 2026-08 run (retried in 06 and
//! 07, and once more in 08 before it is apportioned). A hold of 0 apportions a claim in
//! the run that first finds it unresolved.
//!
//! Any open receipt goes on the ledger, whatever its tier: a tier-1 card the roster
//! does not know is as unresolved as a tier-3 patient, and nothing may be dropped.

mod ledger;

pub use ledger::{ledger_schema, read_ledger, uke_text, write_ledger, LedgerEntry, LedgerRead};

use crate::apportion::ApportionConfig;
use crate::domain::YearMonth;
use crate::resolve::claim::ClaimFile;

/// Name of the ledger a run writes.
pub const LEDGER_FILE: &str = "pending.parquet";

/// How long an open receipt has been open, and whether its hold is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    pub first_pending_month: YearMonth,
    /// Whole months from `first_pending_month` to the run month.
    pub months: u32,
    /// The hold is over: the receipt is final-unresolved and apportioned.
    pub is_final: bool,
}

/// The age of a receipt first open in `first` (the run month itself for a receipt new
/// this run), in the run for `run_month`.
pub fn age(first: YearMonth, run_month: YearMonth, config: &ApportionConfig) -> Age {
    let months = u32::try_from(first.months_until(run_month)).unwrap_or(0);
    Age {
        first_pending_month: first,
        months,
        is_final: config.is_final_unresolved(first, run_month),
    }
}

/// The run's month: the latest 請求年月 among its UKE files (headers, then receipt keys
/// of files whose header could not be read). `None` when no file says.
pub fn run_month(files: &[ClaimFile]) -> Option<YearMonth> {
    files
        .iter()
        .flat_map(|f| {
            f.file
                .header
                .iter()
                .map(|h| h.billing_month)
                .chain(f.claims.iter().map(|r| r.key.billing_month))
                .chain(
                    f.file
                        .quarantined
                        .iter()
                        .filter_map(|q| q.key.map(|k| k.billing_month)),
                )
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(s: &str) -> YearMonth {
        YearMonth::parse_iso(s).unwrap()
    }

    #[test]
    fn default_hold_apportions_in_the_third_month_after() {
        let c = ApportionConfig::default();
        let first = ym("2026-05");
        let ages: Vec<(u32, bool)> = ["2026-05", "2026-06", "2026-07", "2026-08"]
            .iter()
            .map(|m| {
                let a = age(first, ym(m), &c);
                (a.months, a.is_final)
            })
            .collect();
        assert_eq!(ages, vec![(0, false), (1, false), (2, false), (3, true)]);
    }

    #[test]
    fn hold_zero_is_final_at_once() {
        let c = ApportionConfig {
            hold_months: 0,
            ..ApportionConfig::default()
        };
        assert!(age(ym("2026-05"), ym("2026-05"), &c).is_final);
    }
}
